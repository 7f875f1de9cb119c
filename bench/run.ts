#!/usr/bin/env node
/**
 * `npm run bench`: Parley side by side with the servers a Node developer would otherwise pick,
 * and with the Rust original it is wire-compatible with.
 * Each server (Parley over line TCP and over WebSocket, the plain `ws` peer, the Socket.IO peer,
 * the Rust original's release build, and with `--tls` Parley over line TCP with TLS)
 * is started fresh for each load, pinned to core 0 (`taskset -c 0`); the stress tool drives it
 * from core 1 (`taskset -c 1`) and reads its CPU and RSS from /proc. Scenario rust-stress runs the
 * original's own stress_test instead (see rust-stress.ts). One table, with ratios to Socket.IO and
 * to the Rust original, is printed at the end. A server or transport that cannot be reached, or a
 * scenario a server cannot take part in, is skipped with a note. See `--help` for the options that
 * shorten a run.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import type { StressReport } from "../clients/stress/index.js";
import { comparisonTable, type Column, type ServerResults } from "./bench-table.js";
import { loadMark, othersPercent, waitForQuiet } from "./machine-load.js";
import {
  RUST_PEER_DIR,
  RUST_PORT,
  RUST_STRESS_FULL_S,
  runRustStress,
  type RustStressReport,
} from "./rust-stress.js";
import {
  freePort,
  PARLEY_LOAD_FLAGS as PARLEY_FLAGS,
  parleyEntry,
  portFree,
  runPinned,
  startCommand,
  type ServerProcess,
} from "./server-process.js";
import { type BenchCert, makeBenchCert } from "./tls-cert.js";

const SERVER_CPU = 0;
const DRIVER_CPU = 1;

const HELP = `Usage: npm run bench -- [options]

  --servers LIST          of parley-tcp, parley-ws, ws-peer, net-floor, socketio, rust,
                          parley-tls, parley-auth, parley-tls-auth (default: all but the last
                          three). net-floor: the original protocol on plain net.Socket and
                          nothing else (bench/peers/net-floor-peer.ts), the floor under Node
                          rust: the Rust original's release build, which can only listen on
                          :${RUST_PORT} (skipped with a note while that port is busy), from
                          ${RUST_PEER_DIR}
  --tls                   also run parley-tls: Parley's line TCP over TLS, with a self-signed
                          certificate made with openssl for the run (same as listing parley-tls)
  --auth                  also run parley-auth: Parley's line TCP with --auth required, every
                          user sending an HS256 token in its hello; with --tls also
                          parley-tls-auth (both on)
  --scenarios LIST        of ceiling, seed, idle, fanout, rust-stress (default: all but rust-stress)
                          rust-stress: the Rust original's own stress_test (2,400 users by 180 s)
                          against each server that speaks its protocol over plain line TCP
                          (parley-tcp, rust), each in turn on :${RUST_PORT}; server CPU s, peak RSS
  --quick                 short version: seed 5 s, ceiling 2 s steps, idle 2,000, fanout 1,000 x 5 s,
                          rust-stress 30 s
  --seed-duration S       default 20
  --ceiling-step S        default 5
  --ceiling-max-steps N   default 30
  --idle-users N          default 15000
  --fanout-users N        default 5000
  --fanout-duration S     default 20
  --rust-stress-seconds S default ${RUST_STRESS_FULL_S} (its whole ramp and 20 s at 2,400 users)
  --baselines LIST        servers the ratio columns compare with, in order (socketio,rust)
  --attempts N            runs disturbed by other processes are repeated, at most N in all (3)
  --max-others PCT        a run during which other processes used more than PCT% of a core is
                          disturbed (10); before each run, wait (up to 10 min) for them to go quiet
  --markdown              print the table as Markdown
  --json FILE             also write every report to FILE
`;

interface ServerDef {
  id: string;
  label: string;
  transport: "tcp" | "ws" | "socketio";
  /** node arguments for a server listening on `port`, or why it cannot run */
  args(port: number): string[] | string;
  /** the program to run instead of node (then `args` are its own); default node */
  exec?: string;
  /** the only port it can listen on (checked free before each start); default a free one */
  fixedPort?: number;
  /** it speaks the original protocol over plain line TCP: the Rust stress_test can drive it */
  originalTcp?: boolean;
  /** more arguments for the stress tool (TLS and the CA to trust) */
  stressArgs?: string[];
}

/** The Rust original (release build, no flags: port, rooms and threads are compiled in). */
const RUST: ServerDef = {
  id: "rust",
  label: "Rust original",
  transport: "tcp",
  exec: `${RUST_PEER_DIR}/server`,
  args: () =>
    existsSync(`${RUST_PEER_DIR}/server`) ? [] : `no release build at ${RUST_PEER_DIR}/server`,
  fixedPort: RUST_PORT,
  originalTcp: true,
  stressArgs: ["--original-only"],
};

/** Whether this Parley has a WebSocket endpoint yet: its --help lists --http-port. */
function parleyHasHttpPort(): boolean {
  const help = execFileSync(process.execPath, ["--import", "tsx", "src/main.ts", "--help"], {
    encoding: "utf8",
  });
  return help.includes("--http-port");
}

/** The HS256 secret of the auth columns (a benchmark's, not a secret). */
const BENCH_JWT_SECRET = "parley-bench-secret-of-at-least-32-bytes";

/**
 * Parley's line TCP with TLS on (the certificate `cert`, made for the run) and/or token
 * authentication required (every user sends a token in its hello).
 */
function parleySecured(cert: BenchCert | undefined, auth: boolean, httpPort: boolean): ServerDef {
  const id = `parley${cert ? "-tls" : ""}${auth ? "-auth" : ""}`;
  const label = `Parley TCP${cert ? "+TLS" : ""}${auth ? "+auth" : ""}`;
  const tlsArgs = cert ? ["--tls-cert", cert.certPath, "--tls-key", cert.keyPath] : [];
  const authArgs = auth ? ["--auth", "required", "--jwt-secret", BENCH_JWT_SECRET] : [];
  return {
    id,
    label,
    transport: "tcp",
    args: (p) => [
      ...parleyEntry().args,
      "--port",
      String(p),
      ...(httpPort ? ["--http-port", "off"] : []),
      ...tlsArgs,
      ...authArgs,
      ...PARLEY_FLAGS,
    ],
    stressArgs: [
      ...(cert ? ["--tls", "--ca", cert.certPath] : []),
      ...(auth ? ["--jwt-secret", BENCH_JWT_SECRET] : []),
    ],
  };
}

function servers(httpPort: boolean): ServerDef[] {
  return [
    {
      id: "parley-tcp",
      label: "Parley TCP",
      transport: "tcp",
      args: (p) => [
        ...parleyEntry().args,
        "--port",
        String(p),
        ...(httpPort ? ["--http-port", "off"] : []),
        ...PARLEY_FLAGS,
      ],
      originalTcp: true,
    },
    {
      id: "parley-ws",
      label: "Parley WS",
      transport: "ws",
      args: (p) =>
        httpPort
          ? [...parleyEntry().args, "--port", "off", "--http-port", String(p), ...PARLEY_FLAGS]
          : "this branch's Parley has no --http-port (no WebSocket endpoint yet)",
    },
    {
      id: "ws-peer",
      label: "ws",
      transport: "ws",
      args: (p) => ["--import", "tsx", "bench/peers/serve.ts", "--peer", "ws", "--port", String(p)],
    },
    {
      id: "net-floor",
      label: "Node net floor",
      transport: "tcp",
      args: (p) => [
        "--import",
        "tsx",
        "bench/peers/serve.ts",
        "--peer",
        "net-floor",
        "--port",
        String(p),
      ],
      originalTcp: true,
    },
    {
      id: "socketio",
      label: "Socket.IO",
      transport: "socketio",
      args: (p) => [
        "--import",
        "tsx",
        "bench/peers/serve.ts",
        "--peer",
        "socketio",
        "--port",
        String(p),
      ],
    },
    RUST,
  ];
}

/** Whether a WebSocket endpoint at /ws completes a handshake and says something. */
function wsAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const timer = setTimeout(() => {
      ws.terminate();
      resolve(false);
    }, 3000);
    ws.once("message", () => {
      clearTimeout(timer);
      ws.terminate();
      resolve(true);
    });
    ws.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      help: { type: "boolean" },
      servers: { type: "string" },
      scenarios: { type: "string" },
      quick: { type: "boolean" },
      "seed-duration": { type: "string" },
      "ceiling-step": { type: "string" },
      "ceiling-max-steps": { type: "string" },
      "idle-users": { type: "string" },
      "fanout-users": { type: "string" },
      "fanout-duration": { type: "string" },
      markdown: { type: "boolean" },
      json: { type: "string" },
      attempts: { type: "string" },
      "max-others": { type: "string" },
      tls: { type: "boolean" },
      auth: { type: "boolean" },
      "rust-stress-seconds": { type: "string" },
      baselines: { type: "string" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const quick = values.quick === true;
  const opt = (name: keyof typeof values, full: string, short: string): string => {
    const v = values[name];
    return typeof v === "string" ? v : quick ? short : full;
  };
  const loads: Record<string, string[]> = {
    ceiling: [
      "--scenario",
      "ceiling",
      "--step",
      opt("ceiling-step", "5", "2"),
      "--max-steps",
      opt("ceiling-max-steps", "30", "30"),
    ],
    seed: ["--scenario", "seed", "--duration", opt("seed-duration", "20", "5")],
    idle: [
      "--scenario",
      "idle",
      "--users",
      opt("idle-users", "15000", "2000"),
      "--settle-ms",
      "3000",
    ],
    fanout: [
      "--scenario",
      "fanout",
      "--users",
      opt("fanout-users", "5000", "1000"),
      "--duration",
      opt("fanout-duration", "20", "5"),
      // Every join is announced to every member (N^2/2 events to set up one room of N): joined
      // slowly enough that the one-core generator keeps up and Socket.IO's heartbeats (stuck
      // behind that backlog) do not time out; the same pace for every server.
      "--connect-concurrency",
      "8",
    ],
  };
  const rustStressS = Number(
    opt(
      "rust-stress-seconds",
      String(RUST_STRESS_FULL_S),
      quick ? "30" : String(RUST_STRESS_FULL_S),
    ),
  );
  if (!(rustStressS > 0)) throw new Error("--rust-stress-seconds must be a positive number");
  const wantedScenarios = (values.scenarios ?? Object.keys(loads).join(",")).split(",");
  for (const s of wantedScenarios) {
    if (!loads[s] && s !== RUST_STRESS) throw new Error(`unknown scenario ${s}`);
  }
  const httpPort = parleyHasHttpPort();
  const all = servers(httpPort);
  const wantedServers = (values.servers ?? all.map((s) => s.id).join(",")).split(",");
  const want = (id: string): void => void (wantedServers.includes(id) || wantedServers.push(id));
  if (values.tls === true) want("parley-tls");
  if (values.auth === true) want("parley-auth");
  if (values.tls === true && values.auth === true) want("parley-tls-auth");
  let cert: BenchCert | undefined;
  if (wantedServers.some((s) => s.startsWith("parley-tls"))) {
    cert = makeBenchCert();
    process.once("exit", () => cert?.remove());
  }
  if (cert && wantedServers.includes("parley-tls")) all.push(parleySecured(cert, false, httpPort));
  if (wantedServers.includes("parley-auth")) all.push(parleySecured(undefined, true, httpPort));
  if (cert && wantedServers.includes("parley-tls-auth")) {
    all.push(parleySecured(cert, true, httpPort));
  }
  for (const s of wantedServers) {
    if (!all.some((d) => d.id === s)) throw new Error(`unknown server ${s}`);
  }

  const notes: string[] = [];
  const columns: Column[] = [];
  const progress = process.stderr.isTTY;
  const attempts = Number(values.attempts ?? "3");
  const maxOthers = Number(values["max-others"] ?? "10");
  for (const def of all.filter((d) => wantedServers.includes(d.id))) {
    const results: ServerResults = {};
    columns.push({ id: def.id, label: def.label, results });
    for (const scenario of wantedScenarios) {
      let outcome: RunOutcome | undefined;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const quiet = await waitForQuiet(maxOthers / 2, 10 * 60_000);
        if (quiet >= maxOthers / 2)
          log(`(other processes still use ${quiet.toFixed(0)}% of a core)`);
        log(`${def.label}: ${scenario} ...`);
        const before = loadMark();
        outcome =
          scenario === RUST_STRESS
            ? await measureRustStress(def, rustStressS)
            : await measure(def, scenario, loads[scenario]!, progress);
        outcome.othersPct = othersPercent(before, loadMark());
        if (outcome.othersPct <= maxOthers || typeof outcome.result === "string") break;
        log(
          `${def.label}: ${scenario}: disturbed: other processes used ${outcome.othersPct.toFixed(0)}% of a core${attempt < attempts ? "; again" : ""}`,
        );
      }
      results[scenario] = outcome!.result;
      if (typeof outcome!.result === "string") {
        notes.push(`${def.label} ${scenario}: ${outcome!.result}`);
        if (outcome!.fatal) break;
        continue;
      }
      notes.push(
        ...("kind" in outcome!.result
          ? rustStressNotes(def.label, outcome!.result, rustStressS)
          : notesOf(def.label, outcome!.result)),
      );
      if (outcome!.othersPct > maxOthers) {
        notes.push(
          `${def.label} ${scenario}: other processes used ${outcome!.othersPct.toFixed(0)}% of a core during the run: figures disturbed`,
        );
      }
      log(
        `${def.label}: ${scenario}: ${"kind" in outcome!.result ? rustStressSummary(outcome!.result) : summary(outcome!.result)}`,
      );
    }
  }

  const baselines = (values.baselines ?? "socketio,rust").split(",");
  const table = comparisonTable(columns, baselines, values.markdown === true);
  const baselineLabels = baselines.map((id) => all.find((d) => d.id === id)?.label ?? id);
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const out = [
    "",
    `Parley benchmark, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} x ${cpu}`,
    `servers pinned to core ${SERVER_CPU}, load generator to core ${DRIVER_CPU}; ratios: times better than ${baselineLabels.join(", than ")}`,
    ...(columns.some((c) => c.id.startsWith("parley"))
      ? [`Parley runs from ${parleyEntry().label}`]
      : []),
    "",
    table,
    "",
    ...notes.map((n) => `- ${n}`),
    "",
  ];
  process.stdout.write(out.join("\n"));
  if (typeof values.json === "string") {
    mkdirSync(dirname(values.json), { recursive: true });
    const data = Object.fromEntries(columns.map((c) => [c.id, c.results]));
    writeFileSync(values.json, JSON.stringify(data, null, 2) + "\n");
  }
  return 0;
}

const RUST_STRESS = "rust-stress";

interface RunOutcome {
  /** the report, or why there is none */
  result: StressReport | RustStressReport | string;
  /** true when the server cannot run at all (skip its other scenarios) */
  fatal: boolean;
  /** CPU used by other processes during the run, % of one core */
  othersPct: number;
}

/** One fresh server process, one stress run against it. */
async function measure(
  def: ServerDef,
  scenario: string,
  load: string[],
  progress: boolean,
): Promise<RunOutcome> {
  const started = await start(def, def.fixedPort);
  if ("result" in started) return started;
  const { server, port } = started;
  try {
    if (def.transport === "ws" && !(await wsAnswers(port))) {
      return {
        result: `skipped: no WebSocket endpoint answered at ws://127.0.0.1:${port}/ws`,
        fatal: true,
        othersPct: 0,
      };
    }
    const r = await runPinned(
      [
        "--max-old-space-size=8192",
        "--import",
        "tsx",
        "clients/stress/main.ts",
        ...load,
        "--transport",
        def.transport,
        "--port",
        String(port),
        "--server-pid",
        String(server.pid),
        ...(def.stressArgs ?? []),
        "--json",
        progress ? "--progress" : "--no-progress",
      ],
      DRIVER_CPU,
      progress,
      30 * 60_000,
    );
    if (r.code !== 0) {
      return {
        result: `stress tool failed (exit ${r.code}): ${r.stderr.trim().slice(-300)}`,
        fatal: false,
        othersPct: 0,
      };
    }
    return { result: JSON.parse(r.stdout) as StressReport, fatal: false, othersPct: 0 };
  } finally {
    await server.stop();
  }
}

/**
 * Starts `def` pinned to the server core, on `port` (else a free one), or says why not. A server
 * that must have a port which is busy is skipped for this scenario only (the port may be free
 * again later), not fatally.
 */
async function start(
  def: ServerDef,
  port: number | undefined,
): Promise<{ server: ServerProcess; port: number } | RunOutcome> {
  if (port !== undefined && !(await portFree(port))) {
    return {
      result: `skipped: port ${port} is in use by another process (this run needs it)`,
      fatal: false,
      othersPct: 0,
    };
  }
  const p = port ?? (await freePort());
  const args = def.args(p);
  if (typeof args === "string") return { result: `skipped: ${args}`, fatal: true, othersPct: 0 };
  try {
    const argv = def.exec ? [def.exec, ...args] : [process.execPath, ...args];
    return { server: await startCommand(argv, SERVER_CPU, p), port: p };
  } catch (err) {
    return {
      result: `skipped: did not start: ${(err as Error).message}`,
      fatal: true,
      othersPct: 0,
    };
  }
}

/** One fresh server process on :8080, the Rust original's stress_test against it for `seconds`. */
async function measureRustStress(def: ServerDef, seconds: number): Promise<RunOutcome> {
  if (!def.originalTcp) {
    return {
      result: "skipped: stress_test speaks only the original protocol over plain line TCP",
      fatal: false,
      othersPct: 0,
    };
  }
  if (!existsSync(`${RUST_PEER_DIR}/stress_test`)) {
    return {
      result: `skipped: no stress_test build at ${RUST_PEER_DIR}`,
      fatal: false,
      othersPct: 0,
    };
  }
  const started = await start(def, RUST_PORT);
  if ("result" in started) return started;
  try {
    return {
      result: await runRustStress(started.server.pid, seconds, DRIVER_CPU),
      fatal: false,
      othersPct: 0,
    };
  } catch (err) {
    return { result: `stress_test failed: ${(err as Error).message}`, fatal: false, othersPct: 0 };
  } finally {
    await started.server.stop();
  }
}

function rustStressNotes(label: string, r: RustStressReport, seconds: number): string[] {
  const notes = [
    `${label} rust-stress: stress_test for ${r.durationS} s${seconds < RUST_STRESS_FULL_S ? ` (shortened from ${RUST_STRESS_FULL_S} s)` : ""}, ${r.usersReached} users reached; server RSS ${r.serverStartRssMB} MB before the first user`,
  ];
  if (r.errors > 0)
    notes.push(`${label} rust-stress: ${r.errors} error lines, first: ${r.firstError}`);
  if (r.exitedClean > 0) {
    notes.push(`${label} rust-stress: the server closed ${r.exitedClean} users' connections`);
  }
  return notes;
}

function rustStressSummary(r: RustStressReport): string {
  return `${r.usersReached} users, server CPU ${r.serverCpuS} s, peak RSS ${r.serverPeakRssMB} MB, ${r.errors} errors`;
}

function notesOf(label: string, r: StressReport): string[] {
  const notes: string[] = [];
  if (r.ceiling) {
    const last = r.ceiling.steps.at(-1);
    notes.push(
      `${label} ceiling stopped at ${last?.ratePerUser} msg/s/user: ${r.ceiling.stopReason}` +
        (r.ceiling.lastGood
          ? ` (last good: ${r.ceiling.lastGood.ratePerUser} msg/s/user, p99 ${r.ceiling.lastGood.p99Ms} ms, generator ${
              r.ceiling.steps.find((s) => s.ratePerUser === r.ceiling!.lastGood!.ratePerUser)
                ?.measurement.client.cpuPct
            }% CPU)`
          : ""),
    );
  }
  if (r.errors.total > 0 && r.scenario !== "ceiling") {
    notes.push(
      `${label} ${r.scenario}: ${r.errors.total} errors ${JSON.stringify(r.errors.byKind)}`,
    );
  }
  if (r.generatorMaxTickLagMs > 50 && r.scenario !== "idle") {
    notes.push(
      `${label} ${r.scenario}: the load generator ran up to ${r.generatorMaxTickLagMs} ms late at least once (its own CPU: ${r.result.client.cpuPct}%); latency there includes that delay`,
    );
  }
  if (r.connections.failed > 0) {
    notes.push(`${label} ${r.scenario}: ${r.connections.failed} connections failed`);
  }
  return notes;
}

function summary(r: StressReport): string {
  const m = r.result;
  if (r.idle) return `${r.idle.connections} connections, ${r.idle.rssPerConnectionKiB} KiB each`;
  if (r.ceiling) return `ceiling ${r.ceiling.lastGood?.deliveriesPerSec ?? "-"} deliveries/s`;
  return `${m.deliveriesPerSec} deliveries/s, p99 ${m.latencyMs.p99} ms, lost ${m.lost}, server CPU ${m.server?.cpuPct}%`;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
