import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { PARLEY_LOAD_FLAGS, freePort, parleyEntry, startServer } from "./server-process.js";

/** Where the servers under test run; the load generator runs on DRIVER_CPU. */
export const SERVER_CPU = 0;
export const DRIVER_CPU = 1;

/** What one configuration needs from the benchmark: a fresh Redis, a fresh database. */
export interface SetupContext {
  redisUrl?: string;
  storeUrl?: string;
  /** cluster nodes (ignored by the single-process and workers setups) */
  nodes: number;
}

/** A configuration started: users spread over `ports`, CPU read from `pids`. */
export interface RunningSetup {
  ports: number[];
  /** every process of the server under test (nodes; a supervisor and its workers) */
  pids: number[];
  stop(): Promise<void>;
}

export interface SetupDef {
  id: string;
  label(nodes: number): string;
  transport: "tcp" | "socketio";
  needsRedis: boolean;
  needsPostgres: boolean;
  /** a cluster whose nodes keep room membership in Redis (parley:m:{ROOM}) */
  parleyCluster: boolean;
  /** how its processes are placed, for the notes */
  placement(nodes: number): string;
  start(ctx: SetupContext): Promise<RunningSetup>;
}

/** The load flags with `store` instead of the bench default (off). */
function parleyFlags(store: string): string[] {
  const flags = [...PARLEY_LOAD_FLAGS];
  const i = flags.indexOf("--store");
  if (i !== -1) flags.splice(i, 2);
  return [...flags, "--store", store, "--http-port", "off"];
}

const need = (v: string | undefined, what: string): string => {
  if (v === undefined) throw new Error(`no ${what}`);
  return v;
};

/** Starts one process per node, each pinned to SERVER_CPU; stops them all if one fails. */
async function startNodes(count: number, args: (port: number, i: number) => string[]) {
  const started: Array<Awaited<ReturnType<typeof startServer>>> = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      started.push(await startServer(args(port, i), SERVER_CPU, port, 60_000));
      ports.push(port);
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
  return {
    ports,
    pids: started.map((s) => s.pid),
    stop: async () => void (await Promise.all(started.map((s) => s.stop()))),
  };
}

export const SETUPS: SetupDef[] = [
  {
    id: "single",
    label: () => "Parley 1 process",
    transport: "tcp",
    needsRedis: false,
    needsPostgres: true,
    parleyCluster: false,
    placement: () => `one process (--bus memory) on core ${SERVER_CPU}`,
    start: (ctx) =>
      startNodes(1, (port) => [
        ...parleyEntry().args,
        "--port",
        String(port),
        ...parleyFlags(need(ctx.storeUrl, "store")),
      ]),
  },
  {
    id: "nodes",
    label: (n) => `Parley ${n} nodes`,
    transport: "tcp",
    needsRedis: true,
    needsPostgres: true,
    parleyCluster: true,
    placement: (n) => `${n} nodes (--bus redis://) all on core ${SERVER_CPU}`,
    start: (ctx) =>
      startNodes(ctx.nodes, (port, i) => [
        ...parleyEntry().args,
        "--port",
        String(port),
        ...parleyFlags(need(ctx.storeUrl, "store")),
        "--bus",
        need(ctx.redisUrl, "redis"),
        "--node-id",
        `cbench-n${i}`,
      ]),
  },
  {
    id: "workers",
    label: () => "Parley 2 workers",
    transport: "tcp",
    needsRedis: true,
    needsPostgres: true,
    parleyCluster: true,
    placement: () =>
      "--workers 2 (--bus redis://): the supervisor and its workers unpinned, on both cores (the load generator's too)",
    start: async (ctx) => {
      const port = await freePort();
      return startWorkers(
        [
          ...parleyEntry().args,
          "--port",
          String(port),
          ...parleyFlags(need(ctx.storeUrl, "store")),
          "--bus",
          need(ctx.redisUrl, "redis"),
          "--node-id",
          "cbench",
          "--workers",
          "2",
          // the supervisor's "worker started" and each worker's "parley listening" tell when
          // both take connections; per-connection lines come only while the users connect
          "--log-level",
          "info",
        ],
        port,
        2,
      );
    },
  },
  {
    id: "socketio",
    label: (n) => `Socket.IO ${n} nodes`,
    transport: "socketio",
    needsRedis: true,
    needsPostgres: false,
    parleyCluster: false,
    placement: (n) =>
      `${n} nodes with @socket.io/redis-adapter (createAdapter on node-redis clients) all on core ${SERVER_CPU}`,
    start: (ctx) =>
      startNodes(ctx.nodes, (port) => [
        "--import",
        "tsx",
        "bench/peers/serve.ts",
        "--peer",
        "socketio-redis",
        "--redis",
        need(ctx.redisUrl, "redis"),
        "--port",
        String(port),
      ]),
  },
];

/**
 * Starts a supervisor (unpinned) and waits until each of its `workers` logged that it listens:
 * before that, the supervisor hands every connection to the workers that do. Stopping it
 * (SIGTERM) stops its workers; any still alive after that is killed by its pid.
 */
async function startWorkers(nodeArgs: string[], port: number, workers: number) {
  const child = spawn(process.execPath, nodeArgs, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let out = "";
  let err = "";
  const workerPids: number[] = [];
  let listening = 0;
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    let nl: number;
    while ((nl = out.indexOf("\n")) !== -1) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line.includes('"worker started"')) {
        const m = /"pid":(\d+)/.exec(line);
        if (m) workerPids.push(Number(m[1]));
      } else if (line.includes('"parley listening"')) listening++;
    }
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    if (err.length < 16_384) err += d;
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
    for (const pid of workerPids) if (isWorkerOf(pid, nodeArgs)) process.kill(pid, "SIGKILL");
  };
  const deadline = Date.now() + 60_000;
  while (listening < workers || !(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`--workers ${workers} did not listen on ${port}: ${err.trim().slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ports: [port], pids: [child.pid!, ...workerPids], stop };
}

/** Whether `pid` still runs a worker of ours (its command line is the supervisor's). */
function isWorkerOf(pid: number, nodeArgs: string[]): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(nodeArgs.join("\0"));
  } catch {
    return false;
  }
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
