/**
 * Nodes of a real Parley cluster for client tests: `src/main.ts` processes on 127.0.0.1 (every
 * port 0), sharing rooms over the test's redis-server and history in a fresh PostgreSQL database.
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { spawnServer } from "../../helpers/harness.js";
import type { TestPostgres } from "../../helpers/postgres.js";
import type { TestRedis } from "../../helpers/redis.js";

export interface ClusterNode {
  readonly proc: ChildProcessWithoutNullStreams;
  /** line-delimited TCP port */
  readonly tcp: number;
  /** HTTP port: WebSocket at /ws */
  readonly http: number;
  output(): string;
  /** SIGKILL (kill -9): the node dies with its clients' links; resolves once it is gone */
  kill(): Promise<void>;
  /** SIGTERM, a graceful stop; resolves once it is gone */
  stop(): Promise<void>;
}

let databases = 0;

export async function startNodes(
  count: number,
  deps: { redis: TestRedis; pg: TestPostgres },
): Promise<ClusterNode[]> {
  const db = `client${++databases}`;
  const store = await deps.pg.createDatabase(db);
  const nodes: ClusterNode[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = await spawnServer([
        ...["--host", "127.0.0.1", "--port", "0", "--lp-port", "off", "--http-port", "0"],
        ...["--store", store, "--bus", deps.redis.url, "--node-id", `${db}-node${i}`],
      ]);
      const ports = s.ports as { tcp: number; http: number };
      const end = (signal: NodeJS.Signals) => async (): Promise<void> => {
        if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill(signal);
        await s.exited;
      };
      nodes.push({
        proc: s.proc,
        tcp: ports.tcp,
        http: ports.http,
        output: s.output,
        kill: end("SIGKILL"),
        stop: end("SIGTERM"),
      });
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill()));
    throw err;
  }
  return nodes;
}
