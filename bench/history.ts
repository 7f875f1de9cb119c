#!/usr/bin/env node
/**
 * `npm run bench:history`: what durable history costs. Parley with its store off, on SQLite (a
 * file in a temp dir) and on PostgreSQL (a private server this script starts, with fsync on), each
 * started fresh and pinned to core 0 while the load runs from core 1:
 *
 * - the seed load (48 users, 2 per room, 200 msg/s each) through the stress tool: server CPU per
 *   delivery, p99, loss; the median of `--runs` runs per store, as ratios to the store off;
 * - a room of 20,000 messages: the latency of 100-message history pages (`before` at random);
 * - resume of 10,000 missed messages: time from the join to `user_joined_room`, and the server's
 *   RSS growth meanwhile (sampled every 5 ms from /proc).
 *
 * Compare figures within one run only: the machine's speed moves between sessions.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { StressReport } from "../clients/stress/index.js";
import type { Event } from "../src/protocol/index.js";
import { startPostgres, type TestPostgres } from "../test/helpers/postgres.js";
import { WireClient } from "../test/helpers/harness.js";
import {
  freePort,
  PARLEY_LOAD_FLAGS,
  parleyEntry,
  runPinned,
  startServer,
} from "./server-process.js";

/** The load flags with this run's store instead of the bench's default (off). */
function flagsWith(store: string): string[] {
  const i = PARLEY_LOAD_FLAGS.indexOf("--store");
  const flags = [...PARLEY_LOAD_FLAGS];
  if (i !== -1) flags.splice(i, 2);
  return [...flags, "--store", store];
}

const SERVER_CPU = 0;
const DRIVER_CPU = 1;
const ROOM = "general";

const HELP = `Usage: npm run bench:history -- [--runs N] [--seed-duration S] [--stores off,sqlite,postgres]
  [--fill N] [--resume N] [--pages N] [--quick]
`;

interface StoreDef {
  id: "off" | "sqlite" | "postgres";
  label: string;
  /** the --store value for a fresh, empty store */
  fresh(): Promise<string>;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      help: { type: "boolean" },
      runs: { type: "string" },
      "seed-duration": { type: "string" },
      stores: { type: "string" },
      fill: { type: "string" },
      resume: { type: "string" },
      pages: { type: "string" },
      quick: { type: "boolean" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const quick = values.quick === true;
  const runs = Number(values.runs ?? (quick ? "1" : "3"));
  const seedDuration = values["seed-duration"] ?? (quick ? "5" : "20");
  const fill = Number(values.fill ?? (quick ? "5000" : "20000"));
  const resumeN = Number(values.resume ?? (quick ? "2000" : "10000"));
  const pages = Number(values.pages ?? (quick ? "100" : "500"));
  const wanted = (values.stores ?? "off,sqlite,postgres").split(",");

  const tmp = mkdtempSync(join(tmpdir(), "parley-bench-history-"));
  let pg: TestPostgres | undefined;
  let dbs = 0;
  const stores: StoreDef[] = [
    { id: "off", label: "store off", fresh: () => Promise.resolve("off") },
    {
      id: "sqlite",
      label: "SQLite",
      fresh: () => Promise.resolve(`sqlite:${join(tmp, `bench-${++dbs}.db`)}`),
    },
    {
      id: "postgres",
      label: "PostgreSQL",
      fresh: async () => {
        pg ??= await startPostgres({ durable: true });
        return pg.createDatabase(`bench${++dbs}`);
      },
    },
  ];
  const rows: Array<{ store: StoreDef; seed: StressReport[]; page?: number[]; resume?: Resume }> =
    [];
  try {
    for (const store of stores.filter((s) => wanted.includes(s.id))) {
      const seed: StressReport[] = [];
      for (let i = 0; i < runs; i++) {
        log(`${store.label}: seed load, run ${i + 1} of ${runs} ...`);
        seed.push(await seedRun(await store.fresh(), seedDuration));
        const s = seed.at(-1)!.result;
        log(
          `  ${s.server?.cpuUsPerDelivery?.toFixed(2)} µs/delivery, p99 ${s.latencyMs.p99} ms, lost ${s.lost}`,
        );
      }
      const row: (typeof rows)[number] = { store, seed };
      if (store.id !== "off") {
        log(`${store.label}: history pages and resume ...`);
        Object.assign(row, await historyRun(await store.fresh(), fill, resumeN, pages));
      }
      rows.push(row);
    }
  } finally {
    await pg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  printTable(rows, runs, fill, resumeN);
  return 0;
}

async function seedRun(store: string, duration: string): Promise<StressReport> {
  const port = await freePort();
  const entry = parleyEntry();
  const server = await startServer(
    [...entry.args, "--port", String(port), "--http-port", "off", ...flagsWith(store)],
    SERVER_CPU,
    port,
  );
  try {
    const r = await runPinned(
      [
        "--import",
        "tsx",
        "clients/stress/main.ts",
        "--scenario",
        "seed",
        "--duration",
        duration,
        "--port",
        String(port),
        "--server-pid",
        String(server.pid),
        "--json",
        "--no-progress",
      ],
      DRIVER_CPU,
      false,
      10 * 60_000,
    );
    if (r.code !== 0) throw new Error(`stress tool failed: ${r.stderr.slice(-300)}`);
    return JSON.parse(r.stdout) as StressReport;
  } finally {
    await server.stop();
  }
}

interface Resume {
  ms: number;
  rssGrowthMiB: number;
  replayed: number;
}

async function historyRun(
  store: string,
  fill: number,
  resumeN: number,
  pages: number,
): Promise<{ page: number[]; resume: Resume }> {
  const port = await freePort();
  const entry = parleyEntry();
  const server = await startServer(
    [...entry.args, "--port", String(port), "--http-port", "off", ...flagsWith(store)],
    SERVER_CPU,
    port,
  );
  try {
    // Fill the room: one sender, its echoes read, in chunks the rate limit and queue allow.
    const filler = await WireClient.login(port);
    await filler.hello();
    filler.send({ _ct: "join_room", r: ROOM });
    const joined = (await filler.next("user_joined_room")) as Extract<
      Event,
      { _et: "user_joined_room" }
    >;
    const text = "history bench message ".repeat(8);
    for (let sent = 0; sent < fill;) {
      const n = Math.min(500, fill - sent);
      const lines: string[] = [];
      for (let i = 0; i < n; i++)
        lines.push(JSON.stringify({ _ct: "send_message", r: ROOM, c: `${sent + i} ${text}` }));
      filler.socket.write(lines.join("\n") + "\n");
      sent += n;
      await filler.collect("user_message", n, 60_000);
      filler.forget(); // keeps the bench's own memory flat
    }
    // History pages: `before` at random over the whole room.
    const reader = await WireClient.login(port);
    await reader.hello();
    const page: number[] = [];
    for (let i = 0; i < pages; i++) {
      const before = 101 + Math.floor(Math.random() * (fill - 100));
      const t = performance.now();
      reader.send({ _ct: "history", r: ROOM, before, l: 100 });
      const h = (await reader.next("history", 30_000)) as Extract<Event, { _et: "history" }>;
      page.push(performance.now() - t);
      if (h.ms.length !== 100) throw new Error(`page of ${h.ms.length}`);
      reader.forget();
    }
    // Resume: the last `resumeN` messages missed.
    const rss0 = rssKiB(server.pid);
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(server.pid))), 5);
    const resumer = await WireClient.login(port);
    await resumer.hello();
    const t = performance.now();
    resumer.send({ _ct: "join_room", r: ROOM, o: fill - resumeN, e: joined.e });
    const done = (await resumer.next("user_joined_room", 120_000)) as Extract<
      Event,
      { _et: "user_joined_room" }
    >;
    const ms = performance.now() - t;
    clearInterval(sampler);
    for (const c of [filler, reader, resumer]) c.close();
    return { page, resume: { ms, rssGrowthMiB: (peak - rss0) / 1024, replayed: done.rp ?? 0 } };
  } finally {
    await server.stop();
  }
}

function printTable(
  rows: Array<{ store: StoreDef; seed: StressReport[]; page?: number[]; resume?: Resume }>,
  runs: number,
  fill: number,
  resumeN: number,
): void {
  const base = rows.find((r) => r.store.id === "off");
  const cpu = (r: (typeof rows)[number]): number =>
    median(r.seed.map((s) => s.result.server?.cpuUsPerDelivery ?? NaN));
  const f = (v: number | undefined, d = 2): string =>
    v === undefined || Number.isNaN(v) ? "-" : v.toFixed(d);
  const lines = [
    "",
    `History benchmark, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}; server on core ${SERVER_CPU}, load on core ${DRIVER_CPU}; seed load medians of ${runs} run(s)`,
    "",
    `| store | CPU µs per delivery, seed | vs store off | p99 ms, seed | lost | history page (100) p50 / p99 ms | resume ${resumeN.toLocaleString("en-US")} missed: time ms | RSS growth MiB |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => {
      const ratio = base ? cpu(r) / cpu(base) : NaN;
      const p99 = median(r.seed.map((s) => s.result.latencyMs.p99));
      const lost = r.seed.reduce((a, s) => a + s.result.lost, 0);
      return `| ${r.store.label} | ${f(cpu(r))} | ${f(ratio)}x | ${f(p99)} | ${lost} | ${r.page ? `${f(pct(r.page, 50))} / ${f(pct(r.page, 99))}` : "-"} | ${f(r.resume?.ms, 0)} | ${f(r.resume?.rssGrowthMiB, 1)} |`;
    }),
    "",
    `(history pages and resume on a room of ${fill.toLocaleString("en-US")} messages of ~190 bytes)`,
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

function log(line: string): void {
  process.stderr.write(line + "\n");
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:history: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
