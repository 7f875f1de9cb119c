// Drain on SIGUSR2, against a real server process: readiness, spread disconnects, refusals, exit.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Event } from "../../src/protocol/index.js";
import { spawnServer, WireClient } from "../helpers/harness.js";

type Server = Awaited<ReturnType<typeof spawnServer>>;

async function readyz(server: Server): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${server.ports.http}/readyz`);
  return { status: res.status, body: await res.text() };
}

/** Exit code, or a failure if the process is still running after `ms`. */
async function exitWithin(server: Server, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      server.proc.kill("SIGKILL");
      reject(new Error(`still running after ${ms} ms:\n${server.output()}`));
    }, ms);
  });
  try {
    return await Promise.race([server.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `body` with a server process; the process never outlives the test. */
async function withServer(args: string[], body: (server: Server) => Promise<void>): Promise<void> {
  const server = await spawnServer(args);
  try {
    await body(server);
  } finally {
    if (server.proc.exitCode === null && server.proc.signalCode === null) {
      server.proc.kill("SIGKILL");
    }
  }
}

const base = ["--host", "127.0.0.1", "--port", "0", "--lp-port", "0", "--http-port", "0"];

describe("drain (SIGUSR2)", () => {
  it("fails /readyz at once, refuses new connections, tells sessions at moments spread over the window, and exits 0 when the last has gone", async () => {
    const windowMs = 3_000;
    await withServer(
      [...base, "--drain-window-ms", String(windowMs), "--drain-timeout-ms", "60000"],
      async (server) => {
        const ext: WireClient[] = [];
        for (let i = 0; i < 6; i++) {
          const c = await WireClient.login(server.ports.tcp!);
          await c.hello();
          await c.join("general");
          ext.push(c);
        }
        const orig = await WireClient.login(server.ports.tcp!);
        await orig.join("general");
        assert.equal((await readyz(server)).status, 200);

        const told = new Map<WireClient, number>();
        for (const c of ext) {
          void c.next("disconnect", 30_000).then(
            () => told.set(c, Date.now()),
            () => {},
          );
        }
        const started = Date.now();
        server.proc.kill("SIGUSR2");
        // /readyz fails at once (well before the first slot's successors)
        let r = await readyz(server);
        for (let i = 0; i < 100 && r.status === 200; i++) {
          await new Promise((res) => setTimeout(res, 10));
          r = await readyz(server);
        }
        assert.equal(r.status, 503);
        assert.match(r.body, /chat: draining/);

        // a new connection is refused: length-prefixed clients are told why, and get no session
        const late = await WireClient.connect(server.ports.lp!, { lengthPrefixed: true });
        const refusal = await late.next("disconnect");
        await late.closed;
        assert.ok(refusal._et === "disconnect");
        assert.equal(refusal.code, "SERVER_DRAINING");
        assert.equal(refusal.reconnect, true);
        assert.ok(late.events.every((e) => e._et !== "login_successful"));

        // every session is told, then closed, each at its own moment
        await Promise.all([...ext, orig].map((c) => c.closed));
        const slot = windowMs / 7;
        for (const c of ext) {
          const d = c.events.find(
            (e): e is Extract<Event, { _et: "disconnect" }> => e._et === "disconnect",
          );
          assert.ok(d, "an extension client is told");
          assert.equal(d.code, "SERVER_DRAINING");
          assert.equal(d.reconnect, true);
          assert.ok(
            typeof d.retry_ms === "number" && d.retry_ms >= 0 && d.retry_ms < slot,
            `retry_ms ${d.retry_ms} within one slot (${slot} ms)`,
          );
        }
        assert.ok(
          orig.events.every((e) => e._et !== "disconnect"),
          "an original client is only closed",
        );
        const times = [...told.values()].sort((a, b) => a - b);
        assert.equal(times.length, 6);
        // 7 sessions in 7 slots of ~429 ms: the 6 told ones span at least 4 slots (~1.7 s); timers only
        // ever fire late, so only a lower bound is safe
        const spread = times.at(-1)! - times[0]!;
        assert.ok(
          spread >= 1_500,
          `told over ${spread} ms, expected most of the ${windowMs} ms window`,
        );
        assert.equal(await exitWithin(server, 20_000), 0);
        const took = Date.now() - started;
        assert.ok(took < 30_000, `exited ${took} ms after the signal (the deadline is 60 s)`);
        assert.match(server.output(), /"drained: the last session has gone"/);
      },
    );
  });

  it("exits 0 as soon as the clients leave by themselves, long before the window ends", async () => {
    await withServer(
      [...base, "--drain-window-ms", "60000", "--drain-timeout-ms", "120000"],
      async (server) => {
        const clients: WireClient[] = [];
        for (let i = 0; i < 3; i++) {
          const c = await WireClient.login(server.ports.tcp!);
          await c.hello();
          clients.push(c);
        }
        // the admin API is off without a token
        assert.equal(
          (await fetch(`http://127.0.0.1:${server.ports.http}/admin/sessions`)).status,
          404,
        );
        server.proc.kill("SIGUSR2");
        // one of them is told at once (the first slot); all then leave on their own
        await Promise.race(clients.map((c) => c.next("disconnect", 10_000)));
        const started = Date.now();
        for (const c of clients) c.close();
        assert.equal(await exitWithin(server, 15_000), 0);
        assert.ok(Date.now() - started < 15_000);
        assert.match(server.output(), /"drained: the last session has gone"/);
      },
    );
  });

  it("cuts the sessions still open at --drain-timeout-ms and exits 0", async () => {
    await withServer(
      [...base, "--drain-window-ms", "60000", "--drain-timeout-ms", "1500"],
      async (server) => {
        const clients: WireClient[] = [];
        for (let i = 0; i < 3; i++) {
          const c = await WireClient.login(server.ports.tcp!);
          await c.hello();
          clients.push(c);
        }
        const started = Date.now();
        server.proc.kill("SIGUSR2");
        assert.equal(await exitWithin(server, 20_000), 0);
        const took = Date.now() - started;
        assert.ok(took >= 1_400, `exited after ${took} ms, before the deadline`);
        await Promise.all(clients.map((c) => c.closed));
        const codes = clients.map(
          (c) =>
            c.events.find((e): e is Extract<Event, { _et: "disconnect" }> => e._et === "disconnect")
              ?.code,
        );
        // the first slot's session was told to go; the others (slots at 20 s and 40 s) were cut
        assert.deepEqual(codes.sort(), ["SERVER_DRAINING", "SERVER_SHUTDOWN", "SERVER_SHUTDOWN"]);
        assert.match(server.output(), /"drain deadline passed"/);
      },
    );
  });
});
