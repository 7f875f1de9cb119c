#!/usr/bin/env node
/**
 * `npm run soak -- --minutes N`: the seed load against Parley without a break, one line of server
 * memory and latency per interval, so that a leak or latency creep shows; a summary with the RSS
 * trend and a verdict at the end. See HELP.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import {
  freePort,
  PARLEY_LOAD_FLAGS,
  parleyEntry,
  startServer,
  type ServerProcess,
} from "./server-process.js";
import { intervalHeader, intervalLine, summaryText } from "./soak-report.js";
import { runSoak, type SoakOptions } from "./soak-run.js";
import { fmtDuration, INTERRUPTED, summarizeSoak } from "./soak-summary.js";

const HELP = `Usage: npm run soak -- [options]

Runs the seed load (48 users, 2 per room, 200 msg/s each, over line TCP) against Parley without a
break, prints one line per interval (server RSS and heap, deliveries/s, latency in the interval,
lost and errors so far), then a summary: RSS after the warm-up and at the end, its least-squares
slope, p99 across intervals, loss, and a verdict. By default it starts its own Parley on free
ports (dist/src/main.js if built, else src/main.ts via tsx), pinned to cpu 1 and this load
generator to cpu 0 when there are two cores or more, and stops it at the end.

  --minutes N         minutes of sending, fractions allowed (default 60)
  --interval-s S      one line every S seconds (default 10)
  --users N           simulated users, 2 per room (default 48)
  --rate R            messages/s per user (default 200)
  --port P            soak the Parley already listening on 127.0.0.1:P (line TCP) instead
  --server-pid PID    with --port: the process whose RSS and CPU to read from /proc
  --metrics-url URL   with --port: its Prometheus endpoint, for the V8 heap
                      (e.g. http://127.0.0.1:8081/metrics)
  --json FILE         also write the summary, with every interval, as JSON to FILE

Verdict: FAIL on any loss or error, or when the server exited or closed every connection; WARN when the fitted RSS line rises by
more than 20% of the post-warm-up RSS, or the p99 of the last third of the intervals is more than
twice (and 2 ms above) that of the first third; PASS otherwise.
Exit status: 0 on PASS or WARN, 1 on FAIL or a run that could not start, 2 on a bad command line.
Ctrl-C (or SIGTERM) ends the run early with a summary of what was measured, and exit status 130.
`;

/** Members per room in the seed load. */
const ROOM_SIZE = 2;

interface SoakArgs {
  minutes: number;
  intervalS: number;
  users: number;
  rate: number;
  port?: number;
  serverPid?: number;
  metricsUrl?: string;
  json?: string;
}

function parseSoakArgs(argv: string[]): SoakArgs | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: "boolean" },
      minutes: { type: "string" },
      "interval-s": { type: "string" },
      users: { type: "string" },
      rate: { type: "string" },
      port: { type: "string" },
      "server-pid": { type: "string" },
      "metrics-url": { type: "string" },
      json: { type: "string" },
    },
  });
  if (values.help === true) return "help";
  const args: SoakArgs = {
    minutes: positive(values.minutes ?? "60", "minutes"),
    intervalS: positive(values["interval-s"] ?? "10", "interval-s"),
    users: whole(values.users ?? "48", "users", 1),
    rate: positive(values.rate ?? "200", "rate"),
  };
  if (values.port !== undefined) args.port = whole(values.port, "port", 1);
  if (values["server-pid"] !== undefined)
    args.serverPid = whole(values["server-pid"], "server-pid", 1);
  if (values["metrics-url"] !== undefined) args.metricsUrl = values["metrics-url"];
  if (values.json !== undefined) args.json = values.json;
  if (args.port === undefined && (args.serverPid !== undefined || args.metricsUrl !== undefined)) {
    throw new Error(
      "--server-pid and --metrics-url go with --port (a server started here is read anyway)",
    );
  }
  return args;
}

function positive(raw: string, flag: string): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new Error(`--${flag}: "${raw}" is not a number above 0`);
  }
  return n;
}

function whole(raw: string, flag: string, min: number): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isSafeInteger(n) || n < min) {
    throw new Error(`--${flag}: "${raw}" is not a whole number >= ${min}`);
  }
  return n;
}

/** CPUs this process may run on (Cpus_allowed_list, e.g. `0-3,6`), lowest first. */
function allowedCpus(): number[] {
  const status = readFileSync("/proc/self/status", "latin1");
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? "";
  const cpus: number[] = [];
  for (const part of list.split(",")) {
    const [a, b] = part.split("-").map(Number);
    if (a === undefined || !Number.isInteger(a)) continue;
    for (let c = a; c <= (b ?? a); c++) cpus.push(c);
  }
  return cpus;
}

/** Moves every thread of this process to `cpu`; false when taskset is missing or refuses. */
function pinSelf(cpu: number): boolean {
  try {
    execFileSync("taskset", ["-a", "-p", "-c", String(cpu), String(process.pid)], {
      stdio: "ignore",
    });
    return true;
  } catch {
    return false;
  }
}

/** Two distinct free ports. */
async function freePorts(): Promise<[number, number]> {
  const a = await freePort();
  for (;;) {
    const b = await freePort();
    if (b !== a) return [a, b];
  }
}

function mibOrDash(x: number | undefined): string {
  return x === undefined ? "-" : `${x} MiB`;
}

function out(line: string): void {
  process.stdout.write(line + "\n");
}

async function main(): Promise<number> {
  let args: SoakArgs | "help";
  try {
    args = parseSoakArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (args === "help") {
    process.stdout.write(HELP);
    return 0;
  }

  const abort = new AbortController();
  let server: ServerProcess | undefined;
  const onSignal = (): void => {
    if (!abort.signal.aborted) return abort.abort();
    // a second signal: stop now
    void (server?.stop() ?? Promise.resolve()).then(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const durationS = args.minutes * 60;
  const o: SoakOptions = {
    target: { kind: "tcp", host: "127.0.0.1", port: args.port ?? 0, path: "/ws" },
    users: args.users,
    roomSize: ROOM_SIZE,
    rate: args.rate,
    durationS,
    intervalS: Math.min(args.intervalS, durationS),
    drainMs: 3000,
    setupTimeoutMs: 60_000,
    signal: abort.signal,
    ...(args.serverPid !== undefined && { serverPid: args.serverPid }),
    ...(args.metricsUrl !== undefined && { metricsUrl: args.metricsUrl }),
  };
  /** where the run happened, for the JSON */
  let setup: Record<string, string | number | boolean> = { port: args.port ?? 0 };
  try {
    if (args.port === undefined) {
      const cpus = allowedCpus();
      const pinned = cpus.length >= 2 && pinSelf(cpus[0]!);
      const [tcpPort, httpPort] = await freePorts();
      const entry = parleyEntry();
      server = await startServer(
        [
          ...entry.args,
          ...PARLEY_LOAD_FLAGS,
          "--port",
          String(tcpPort),
          "--http-port",
          String(httpPort),
        ],
        pinned ? cpus[1] : undefined,
        tcpPort,
      );
      o.target.port = tcpPort;
      o.serverPid = server.pid;
      o.metricsUrl = `http://127.0.0.1:${httpPort}/metrics`;
      setup = {
        server: entry.label,
        serverPid: server.pid,
        port: tcpPort,
        pinned,
        ...(pinned && { serverCpu: cpus[1]!, generatorCpu: cpus[0]! }),
      };
      out(
        `soak: Parley (${entry.label}) pid ${server.pid} on tcp://127.0.0.1:${tcpPort}, ${
          pinned
            ? `server on cpu ${cpus[1]}, load generator on cpu ${cpus[0]}`
            : "not pinned (fewer than 2 cores, or no taskset)"
        }`,
      );
    } else {
      if (args.serverPid !== undefined) setup.serverPid = args.serverPid;
      out(
        `soak: the server at tcp://127.0.0.1:${args.port}${args.serverPid !== undefined ? `, pid ${args.serverPid}` : " (no --server-pid: no RSS figures)"}`,
      );
    }
    const perSec = args.users * args.rate;
    out(
      `load: ${args.users} users, ${ROOM_SIZE} per room, ${args.rate} msg/s each (${perSec.toLocaleString("en-US")} sends/s) for ${fmtDuration(durationS)}, a line every ${o.intervalS} s`,
    );
    const run = await runSoak(o, {
      onStart: (idle) => {
        out(
          `connected; before load: server RSS ${mibOrDash(idle.rssMiB)}, heap ${mibOrDash(idle.heapUsedMiB)}`,
        );
        out(intervalHeader());
      },
      onInterval: (i) => out(intervalLine(i)),
    });
    const summary = summarizeSoak(run, durationS, o.intervalS);
    out(summaryText(summary));
    if (args.json !== undefined) {
      mkdirSync(dirname(args.json), { recursive: true });
      const params = {
        users: args.users,
        roomSize: ROOM_SIZE,
        rate: args.rate,
        minutes: args.minutes,
        intervalS: o.intervalS,
      };
      writeFileSync(
        args.json,
        JSON.stringify({ params, setup, ...summary, intervals: run.intervals }, null, 2) + "\n",
      );
    }
    if (summary.stoppedEarly === INTERRUPTED) return 130;
    return summary.verdict === "FAIL" ? 1 : 0;
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await server?.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // sockets of a failed run may still be closing; do not wait for them
    setTimeout(() => process.exit(code), 100).unref();
  },
  (err: unknown) => {
    process.stderr.write(`soak: fatal: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
