/**
 * A private mosquitto broker for tests: on a free port of 127.0.0.1, anonymous, with its own
 * config and persistence in a temp dir (so that a persistent session and its queued QoS 1
 * messages survive a stop and start). `stop()` and `start()` again play an outage on the same
 * port; `close()` ends it for good.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MOSQUITTO = "/usr/sbin/mosquitto";

export interface TestMosquitto {
  readonly url: string;
  readonly port: number;
  /** stops the broker (SIGTERM: it saves its persistence); start() brings it back on the same port */
  stop(): Promise<void>;
  start(): Promise<void>;
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

export async function startMosquitto(): Promise<TestMosquitto> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "parley-mosquitto-"));
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence true",
      `persistence_location ${dir}/`,
      "autosave_interval 0",
      "log_dest none",
      "max_queued_messages 100000",
      "",
    ].join("\n"),
  );
  let child: ChildProcess | undefined;
  const up = async (): Promise<void> => {
    const c = spawn(MOSQUITTO, ["-c", conf], { stdio: "ignore" });
    child = c;
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (Date.now() > deadline || c.exitCode !== null) {
        c.kill("SIGKILL");
        throw new Error(`mosquitto did not start on ${port} (is Debian's mosquitto installed?)`);
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
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: down,
    start: up,
    close: async () => {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
