#!/usr/bin/env node
/**
 * `npm run bench:cluster`: Parley as a cluster, on this one machine, against itself as one
 * process and against Socket.IO with its Redis adapter. Four configurations, each started fresh
 * for each run (a fresh redis-server, a fresh database on one PostgreSQL with fsync on):
 *
 * - Parley, 1 process: `--bus memory --store postgres://`, on core 0;
 * - Parley, N nodes (2 by default): `--bus redis:// --store postgres://`, all on core 0, the seed's
 *   users spread over them so that the two members of every room are on different nodes (every
 *   delivery to the other member crosses Redis);
 * - Parley `--workers 2`: a supervisor and two workers on the one port, unpinned (both cores);
 * - Socket.IO + `@socket.io/redis-adapter`, N nodes on core 0, users spread the same way.
 *
 * The stress tool drives each from core 1: the seed load (48 users, 2 per room, 200 msg/s each)
 * and the lossless ceiling. Around each run the benchmark reads Redis's INFO (commands, bytes and
 * CPU), PostgreSQL's CPU and the whole machine's from /proc. One table at the end; compare figures
 * within one run only (the machine's speed moves between sessions).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import type { StressReport } from "../clients/stress/index.js";
import { startPostgres, type TestPostgres } from "../test/helpers/postgres.js";
import { startRedis, type TestRedis } from "../test/helpers/redis.js";
import { DRIVER_CPU, SETUPS, type RunningSetup, type SetupDef } from "./cluster-setups.js";
import { clusterTable, type ClusterColumn, type ClusterRun } from "./cluster-table.js";
import { loadMark, othersPercent, waitForQuiet } from "./machine-load.js";
import { loadPeerRooms } from "./peers/peer-rooms.js";
import { machineBusyMs, parentPid, treeCpuMs } from "./process-tree.js";
import { RedisProbe, redisDelta } from "./redis-stats.js";
import { runPinned } from "./server-process.js";

const HELP = `Usage: npm run bench:cluster -- [options]

  --setups LIST           of single, nodes, workers, socketio (default: all)
  --scenarios LIST        of seed, ceiling (default: both)
  --nodes N               nodes of the Parley and Socket.IO clusters (default 2)
  --quick                 short version: seed 5 s, ceiling steps of 2 s
  --seed-duration S       default 20
  --ceiling-step S        default 5
  --ceiling-max-steps N   default 30
  --attempts N            runs disturbed by other processes are repeated, at most N in all (3)
  --max-others PCT        a run during which other processes used more than PCT% of a core is
                          disturbed (10); before each run, wait (up to 10 min) for them to go quiet
  --markdown              print the table as Markdown
  --json FILE             also write every figure to FILE
`;

type Scenario = "seed" | "ceiling";

/** Processes and servers to stop if the benchmark is interrupted. */
const live = new Set<{ stop(): Promise<void> }>();

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      help: { type: "boolean" },
      setups: { type: "string" },
      scenarios: { type: "string" },
      nodes: { type: "string" },
      quick: { type: "boolean" },
      "seed-duration": { type: "string" },
      "ceiling-step": { type: "string" },
      "ceiling-max-steps": { type: "string" },
      attempts: { type: "string" },
      "max-others": { type: "string" },
      markdown: { type: "boolean" },
      json: { type: "string" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const quick = values.quick === true;
  const nodes = Number(values.nodes ?? "2");
  if (!Number.isInteger(nodes) || nodes < 2) throw new Error("--nodes: 2 or more");
  const loads: Record<Scenario, string[]> = {
    seed: ["--scenario", "seed", "--duration", values["seed-duration"] ?? (quick ? "5" : "20")],
    ceiling: [
      "--scenario",
      "ceiling",
      "--step",
      values["ceiling-step"] ?? (quick ? "2" : "5"),
      "--max-steps",
      values["ceiling-max-steps"] ?? "30",
    ],
  };
  const scenarios = (values.scenarios ?? "seed,ceiling").split(",") as Scenario[];
  for (const s of scenarios) if (!(s in loads)) throw new Error(`unknown scenario ${s}`);
  const wanted = (values.setups ?? SETUPS.map((s) => s.id).join(",")).split(",");
  for (const id of wanted) {
    if (!SETUPS.some((s) => s.id === id)) throw new Error(`unknown setup ${id}`);
  }
  const setups = SETUPS.filter((s) => wanted.includes(s.id));
  const attempts = Number(values.attempts ?? "3");
  const maxOthers = Number(values["max-others"] ?? "10");
  const progress = process.stderr.isTTY;

  const notes: string[] = [];
  const columns: ClusterColumn[] = [];
  let postgres: Postgres | undefined;
  try {
    if (setups.some((s) => s.needsPostgres)) {
      log("starting PostgreSQL (fsync on) ...");
      postgres = await Postgres.start();
      live.add(postgres);
    }
    let db = 0;
    for (const def of setups) {
      const column: ClusterColumn = { id: def.id, label: def.label(nodes), runs: {} };
      columns.push(column);
      for (const scenario of scenarios) {
        if (interrupted) break;
        let outcome: ClusterRun | string = "not run";
        for (let attempt = 1; attempt <= attempts && !interrupted; attempt++) {
          const quiet = await waitForQuiet(maxOthers / 2, 10 * 60_000);
          if (quiet >= maxOthers / 2) {
            log(`(other processes still use ${quiet.toFixed(0)}% of a core)`);
          }
          log(`${column.label}: ${scenario} ...`);
          try {
            outcome = await measure(def, scenario, loads[scenario], {
              nodes,
              postgres,
              database: `cbench${++db}`,
              progress,
            });
          } catch (err) {
            outcome = `failed: ${(err as Error).message}`;
          }
          if (typeof outcome === "string" || outcome.othersPct <= maxOthers) break;
          log(
            `${column.label}: ${scenario}: disturbed: other processes used ${outcome.othersPct.toFixed(0)}% of a core${attempt < attempts ? "; again" : ""}`,
          );
        }
        column.runs[scenario] = outcome;
        if (typeof outcome === "string") {
          notes.push(`${column.label} ${scenario}: ${outcome}`);
          log(`${column.label}: ${scenario}: ${outcome}`);
          continue;
        }
        notes.push(...notesOf(column.label, outcome));
        log(`${column.label}: ${scenario}: ${summary(outcome.report)}`);
      }
    }
  } finally {
    if (postgres) {
      live.delete(postgres);
      await postgres.stop();
    }
  }

  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const placement = setups.map((s) => `${s.label(nodes)}: ${s.placement(nodes)}`).join("; ");
  const out = [
    "",
    `Parley cluster benchmark, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} x ${cpu}`,
    `load generator on core ${DRIVER_CPU}; ${placement}; redis-server and PostgreSQL (fsync on) unpinned`,
    "",
    clusterTable(
      columns,
      { subject: "nodes", baseline: "socketio", label: `Parley vs Socket.IO, ${nodes} nodes` },
      values.markdown === true,
    ),
    "",
    "- server CPU: every process of the server under test (all nodes; a supervisor and its workers), from /proc, from the start of sending to the end of the drain; Redis, PostgreSQL and machine CPU, Redis commands and bytes: from just before the stress tool started to just after it ended (connection set-up included), per delivery or per message of the measured window",
    ...notes.map((n) => `- ${n}`),
    "",
  ];
  process.stdout.write(out.join("\n"));
  if (typeof values.json === "string") {
    mkdirSync(dirname(values.json), { recursive: true });
    writeFileSync(
      values.json,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          node: process.version,
          cpus: cpus().length,
          cpu,
          nodes,
          placement,
          columns,
          notes,
        },
        null,
        2,
      ) + "\n",
    );
  }
  return 0;
}

/** The benchmark's PostgreSQL, and the pid of its postmaster (to read its CPU). */
class Postgres {
  private constructor(
    private readonly server: TestPostgres,
    readonly postmasterPid: number,
  ) {}

  static async start(): Promise<Postgres> {
    const server = await startPostgres({ durable: true });
    try {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const r = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      // read while the backend still runs: it ends with the connection
      const postmaster = parentPid(r.rows[0]!.pid);
      await client.end();
      if (postmaster === undefined) throw new Error("cannot find PostgreSQL's postmaster");
      return new Postgres(server, postmaster);
    } catch (err) {
      await server.stop();
      throw err;
    }
  }

  createDatabase(name: string): Promise<string> {
    return this.server.createDatabase(name);
  }

  cpuMs(): number {
    return treeCpuMs(this.postmasterPid);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

interface MeasureContext {
  nodes: number;
  postgres: Postgres | undefined;
  database: string;
  progress: boolean;
}

/** One fresh configuration (and Redis, and database), one stress run against it. */
async function measure(
  def: SetupDef,
  scenario: Scenario,
  load: string[],
  ctx: MeasureContext,
): Promise<ClusterRun> {
  const mark0 = loadMark();
  const pgStart = ctx.postgres?.cpuMs() ?? 0;
  let redis: TestRedis | undefined;
  let redisHandle: { stop(): Promise<void> } | undefined;
  let running: RunningSetup | undefined;
  try {
    if (def.needsRedis) {
      redis = await startRedis();
      redisHandle = { stop: () => redis!.close() };
      live.add(redisHandle);
    }
    const probe = redis && new RedisProbe(redis);
    const redisStart = await probe?.read();
    const storeUrl = def.needsPostgres
      ? await ctx.postgres!.createDatabase(ctx.database)
      : undefined;
    running = await def.start({
      nodes: ctx.nodes,
      ...(redis && { redisUrl: redis.url }),
      ...(storeUrl !== undefined && { storeUrl }),
    });
    live.add(running);
    const spanning = def.parleyCluster && scenario === "seed" ? new SpanWatch(probe!) : undefined;

    const redis0 = await probe?.read();
    const pg0 = def.needsPostgres ? ctx.postgres!.cpuMs() : undefined;
    const machine0 = machineBusyMs();
    spanning?.start();
    const r = await runPinned(
      [
        "--import",
        "tsx",
        "clients/stress/main.ts",
        ...load,
        "--transport",
        def.transport,
        "--port",
        running.ports.join(","),
        "--server-pid",
        running.pids.join(","),
        "--json",
        ctx.progress ? "--progress" : "--no-progress",
      ],
      DRIVER_CPU,
      ctx.progress,
      30 * 60_000,
    );
    const machineCpuMs = machineBusyMs() - machine0;
    await spanning?.stop();
    const pgCpuMs = pg0 === undefined ? undefined : ctx.postgres!.cpuMs() - pg0;
    const redis1 = await probe?.settled();
    if (r.code !== 0) {
      throw new Error(`stress tool exit ${r.code}: ${r.stderr.trim().slice(-300)}`);
    }
    const report = JSON.parse(r.stdout) as StressReport;

    live.delete(running);
    await running.stop();
    running = undefined;
    // Others: the machine's busy time less ours (reaped children: the nodes, the stress tool),
    // Redis's (still running: not reaped yet) and PostgreSQL's (not our child).
    const redisEnd = await probe?.read();
    const mark1 = loadMark();
    const serviceMs =
      (redisEnd && redisStart ? redisEnd.cpuMs - redisStart.cpuMs : 0) +
      (ctx.postgres ? ctx.postgres.cpuMs() - pgStart : 0);
    const othersPct = Math.max(
      0,
      othersPercent(mark0, mark1) - (serviceMs / (mark1.atMs - mark0.atMs)) * 100,
    );
    return {
      report,
      ...(redis0 && redis1 && { redis: redisDelta(redis0, redis1) }),
      ...(pgCpuMs !== undefined && { postgresCpuMs: pgCpuMs }),
      machineCpuMs,
      ...(spanning?.result && { spanning: spanning.result }),
      othersPct,
    };
  } finally {
    if (running) {
      live.delete(running);
      await running.stop();
    }
    if (redisHandle) {
      live.delete(redisHandle);
      await redisHandle.stop();
    }
  }
}

/**
 * Reads the rooms' members from Redis (`parley:m:{ROOM}`, fields `NODE/USER`) about once a second
 * while the stress tool runs, and keeps the reading that saw the most members: which rooms had
 * their two members on different nodes.
 */
class SpanWatch {
  result: { split: number; rooms: number } | undefined;
  private best = -1;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();
  private readonly keys = loadPeerRooms().map((r) => `parley:m:{${r.name}}`);

  constructor(private readonly probe: RedisProbe) {}

  start(): void {
    this.timer = setInterval(() => {
      this.busy = this.busy.then(() => this.look()).catch(() => undefined);
    }, 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.busy;
  }

  private async look(): Promise<void> {
    const rooms = await this.probe.hashFields(this.keys);
    const members = rooms.reduce((n, r) => n + r.length, 0);
    if (members <= this.best) return;
    this.best = members;
    const pairs = rooms.filter((r) => r.length === 2);
    this.result = {
      rooms: pairs.length,
      split: pairs.filter((r) => r[0]!.split("/")[0] !== r[1]!.split("/")[0]).length,
    };
  }
}

function notesOf(label: string, run: ClusterRun): string[] {
  const r = run.report;
  const notes: string[] = [];
  if (r.ceiling) {
    const good = r.ceiling.lastGood;
    notes.push(
      `${label} ceiling stopped at ${r.ceiling.steps.at(-1)?.ratePerUser} msg/s/user: ${r.ceiling.stopReason}` +
        (good ? ` (last good: ${good.ratePerUser} msg/s/user, p99 ${good.p99Ms} ms)` : ""),
    );
  }
  if (r.errors.total > 0 && r.scenario !== "ceiling") {
    notes.push(
      `${label} ${r.scenario}: ${r.errors.total} errors ${JSON.stringify(r.errors.byKind)}`,
    );
  }
  if (r.connections.failed > 0) {
    notes.push(`${label} ${r.scenario}: ${r.connections.failed} connections failed`);
  }
  if (r.generatorMaxTickLagMs > 50) {
    notes.push(
      `${label} ${r.scenario}: the load generator ran up to ${r.generatorMaxTickLagMs} ms late at least once (its own CPU: ${r.result.client.cpuPct}%); latency there includes that delay`,
    );
  }
  if (run.redis && run.redis.connections > 0) {
    notes.push(
      `${label} ${r.scenario}: the servers opened ${run.redis.connections} new connections to Redis during the run (reconnections)`,
    );
  }
  if (run.othersPct > 10) {
    notes.push(
      `${label} ${r.scenario}: other processes used ${run.othersPct.toFixed(0)}% of a core during the run: figures disturbed`,
    );
  }
  return notes;
}

function summary(r: StressReport): string {
  const m = r.result;
  if (r.ceiling) return `ceiling ${r.ceiling.lastGood?.deliveriesPerSec ?? "-"} deliveries/s`;
  return `${m.deliveriesPerSec} deliveries/s, p99 ${m.latencyMs.p99} ms, lost ${m.lost}, server CPU ${m.server?.cpuUsPerDelivery} µs/delivery`;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`bench:cluster: ${signal}: stopping what it started ...`);
    void Promise.allSettled([...live].map((l) => l.stop())).then(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:cluster: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
