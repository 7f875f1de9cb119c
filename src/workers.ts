/**
 * `--workers N`: this process becomes a supervisor (node:cluster's primary) running N worker
 * processes of this same program, which share every listening port (the primary accepts and
 * hands connections round-robin) and, as nodes of one cluster, every room (through the Redis bus
 * and the PostgreSQL store, like nodes on separate machines). A worker that dies is started again
 * (with backoff when it keeps dying); SIGTERM or SIGINT stops every worker gracefully, then this
 * process. SIGHUP is passed on to every worker (each reloads its rooms and TLS certificate); SIGUSR2 drains every
 * worker (none is restarted), then this process exits.
 */
import cluster, { type Worker } from "node:cluster";
import type { Logger } from "./core/index.js";
import { randomId } from "./core/ids.js";

/** Set in a worker's environment: its node id. */
export const WORKER_NODE_ID = "PARLEY_WORKER_NODE_ID";

/** A worker that ran at least this long before dying is restarted at once (ms). */
const STABLE_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

export function isWorker(): boolean {
  return cluster.isWorker;
}

/** The node id a worker was given, if this process is one. */
export function workerNodeId(env: NodeJS.ProcessEnv): string | undefined {
  return cluster.isWorker ? env[WORKER_NODE_ID] : undefined;
}

/** Runs and supervises `count` workers until a signal stops them; resolves with the exit code. */
export function superviseWorkers(
  count: number,
  nodeId: string | undefined,
  graceMs: number,
  logger: Logger,
  /** a drained worker is killed if still running this long after SIGUSR2, plus graceMs, ms */
  drainTimeoutMs = 60_000,
): Promise<number> {
  const base = nodeId ?? randomId(8);
  let stopping = false;
  const slots: Array<{ worker: Worker; startedAt: number; delayMs: number }> = [];

  const start = (i: number, delayMs: number): void => {
    const worker = cluster.fork({ [WORKER_NODE_ID]: `${base}-w${i}` });
    slots[i] = { worker, startedAt: Date.now(), delayMs };
    logger.info({ worker: i, pid: worker.process.pid, node: `${base}-w${i}` }, "worker started");
    worker.on("exit", (code, signal) => {
      if (stopping) return;
      const slot = slots[i]!;
      const stable = Date.now() - slot.startedAt >= STABLE_MS;
      const delay = stable ? 0 : Math.min(Math.max(250, slot.delayMs * 2), MAX_RESTART_DELAY_MS);
      logger.error({ worker: i, code, signal, restartInMs: delay }, "worker died: restarting it");
      setTimeout(() => {
        if (!stopping) start(i, delay);
      }, delay).unref();
    });
  };

  for (let i = 0; i < count; i++) start(i, 0);
  logger.info({ workers: count, node: base }, "parley workers started");

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, signal === "SIGUSR2" ? "draining workers" : "stopping workers");
      const alive = slots.map((s) => s.worker).filter((w) => !w.isDead());
      let left = alive.length;
      if (left === 0) return resolve(0);
      const timer = setTimeout(
        () => {
          for (const w of alive) if (!w.isDead()) w.process.kill("SIGKILL");
        },
        graceMs + 10_000 + (signal === "SIGUSR2" ? drainTimeoutMs : 0),
      );
      for (const w of alive) {
        w.once("exit", () => {
          if (--left === 0) {
            clearTimeout(timer);
            resolve(0);
          }
        });
        w.process.kill(signal === "SIGUSR2" ? "SIGUSR2" : "SIGTERM");
      }
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    process.on("SIGUSR2", stop);
    // Reloads (rooms, certificate) happen in the workers, which hold the listeners.
    process.on("SIGHUP", () => {
      logger.info({ signal: "SIGHUP" }, "passing SIGHUP on to the workers");
      for (const s of slots) if (!s.worker.isDead()) s.worker.process.kill("SIGHUP");
    });
  });
}
