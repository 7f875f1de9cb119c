/**
 * A private redis-server for tests: on a free port of 127.0.0.1, no persistence, in a temp dir.
 * `stop()` and `start()` again play an outage (same port); `close()` ends it for good.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** stops the server (an outage); start() brings it back on the same port */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** runs a command with redis-cli and returns its output */
  cli(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.write("PING\r\n");
    });
    s.once("data", (d: Buffer) => {
      s.destroy();
      resolve(d.toString().startsWith("+PONG"));
    });
    s.once("error", () => resolve(false));
  });
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "parley-redis-"));
  let child: ChildProcess | undefined;
  const up = async (): Promise<void> => {
    child = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
      ],
      { stdio: "ignore" },
    );
    const deadline = Date.now() + 10_000;
    while (!(await answers(port))) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill("SIGKILL");
        throw new Error(
          `redis-server did not start on ${port} (is Debian's redis-server installed?)`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const down = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await exited;
  };
  await up();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: down,
    start: up,
    cli: (...args) =>
      new Promise((resolve, reject) => {
        const p = spawn("redis-cli", ["-p", String(port), ...args], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        p.stdout.on("data", (d: Buffer) => (out += d.toString()));
        p.on("close", (code) =>
          code === 0 ? resolve(out) : reject(new Error(`redis-cli exit ${code}`)),
        );
      }),
    close: async () => {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
