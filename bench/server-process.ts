import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { connect, createServer, type AddressInfo } from "node:net";

/** Parley's flags for load runs: past its per-user abuse limits, which are not capacity. */
export const PARLEY_LOAD_FLAGS = [
  "--host",
  "127.0.0.1",
  "--lp-port",
  "off",
  "--max-connections",
  "20000",
  "--rate",
  "1000000",
  "--rate-burst",
  "1000000",
  "--log-level",
  "warn",
  // the figures compare servers' fan-out; history's own cost is measured apart (see README)
  "--store",
  "off",
];

/**
 * Node flags Parley runs with: package.json's start script and the `parley` bin's shebang carry
 * the same (a test checks). --max-semi-space-size=4 (MiB, Node 20's default is 16): V8's young
 * generation otherwise grows to about 48 MB under a burst and stays there; capped, an idle
 * connection costs about 1.2 KiB less RSS (15,000 connections) and the stress_test peak is about
 * 25 MB lower, for a few percent more CPU at the seed load (more frequent scavenges).
 * --v8-pool-size=1 (Node's default is 4): one background thread for V8's concurrent GC and
 * compiling. The heap is tens of MB, so three more threads buy little parallelism and cost their
 * stacks, malloc arenas and wake-ups: the stress_test peak was 4-6.5 MB lower (three pairs of
 * runs), and at the seed load on one core CPU 28.5 against 32.2% and p99 5.1 against 6.3 ms
 * (medians of three alternating runs). See README "Performance".
 */
export const PARLEY_NODE_FLAGS = ["--max-semi-space-size=4", "--v8-pool-size=1"];

let built = false;

/**
 * Node arguments that start Parley for a benchmark: the build (`dist/src/main.js`, what `npm start`
 * runs), compiled afresh (tsc, about 15 s) the first time a bench process asks, so a figure never
 * comes from a stale dist/. The source via tsx would add tsx's loader (a worker thread with its
 * own heap, about 15 MB of RSS) to every memory figure. PARLEY_BENCH_ENTRY=source runs
 * src/main.ts via tsx instead: the test suite's smoke runs, which must not build (several run at
 * once) and measure nothing.
 */
export function parleyEntry(): { args: string[]; label: string } {
  if (process.env.PARLEY_BENCH_ENTRY === "source") {
    return {
      args: [...PARLEY_NODE_FLAGS, "--import", "tsx", "src/main.ts"],
      label: "src/main.ts via tsx",
    };
  }
  if (!built) {
    execFileSync(
      process.execPath,
      ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"],
      {
        stdio: "inherit",
      },
    );
    built = true;
  }
  return {
    args: [...PARLEY_NODE_FLAGS, "dist/src/main.js"],
    label: `node ${PARLEY_NODE_FLAGS.join(" ")} dist/src/main.js (built for this run)`,
  };
}

/** A server under test, run as its own process pinned to one core. */
export interface ServerProcess {
  readonly pid: number;
  /** everything it wrote to stderr (for the note when it fails) */
  readonly stderr: () => string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen({ host: "127.0.0.1", port: 0 }, () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Whether nothing listens on `port` on any address: binding 0.0.0.0:PORT fails while anything
 * (IPv4 or a dual-stack IPv6 socket) holds it. For servers with a fixed port (the Rust original's
 * 8080), checked before starting them so that a busy port is a clear skip, not a measurement of
 * whatever else answers there.
 */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen({ host: "0.0.0.0", port }, () => s.close(() => resolve(true)));
  });
}

/**
 * Starts `node ARGS` under `taskset -c CPU` (taskset execs node, so the child's pid is node's, the
 * pid whose /proc the stress tool reads), or unpinned when `cpu` is undefined, and resolves once
 * `port` accepts connections.
 */
export function startServer(
  nodeArgs: string[],
  cpu: number | undefined,
  port: number,
  timeoutMs = 20_000,
): Promise<ServerProcess> {
  return startCommand([process.execPath, ...nodeArgs], cpu, port, timeoutMs);
}

/**
 * Starts any program (`argv[0]`, e.g. the Rust original's binary) the way startServer starts node:
 * under `taskset -c CPU` (which execs it: the pid is the program's), resolved once `port` accepts
 * connections, stopped with SIGTERM (SIGKILL after 5 s).
 */
export async function startCommand(
  argv: string[],
  cpu: number | undefined,
  port: number,
  timeoutMs = 20_000,
): Promise<ServerProcess> {
  const [command, args] =
    cpu === undefined ? [argv[0]!, argv.slice(1)] : ["taskset", ["-c", String(cpu), ...argv]];
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `server did not listen on ${port}${child.exitCode !== null ? ` (exit ${child.exitCode})` : ""}: ${stderr.trim().slice(-500)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    stderr: () => stderr,
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Runs `node ARGS` under `taskset -c CPU` and collects its stdout. */
export function runPinned(
  nodeArgs: string[],
  cpu: number,
  passStderr: boolean,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("taskset", ["-c", String(cpu), process.execPath, ...nodeArgs], {
      stdio: ["ignore", "pipe", passStderr ? "inherit" : "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
