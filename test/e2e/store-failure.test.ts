// A failing store with a real PostgreSQL taken down under a real Parley process: messages are
// refused to their senders with STORE_UNAVAILABLE and reach nobody, /readyz and /metrics say so,
// the server keeps serving, and once PostgreSQL is back it recovers by itself.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Event } from "../../src/protocol/index.js";
import { delay, runServerToExit, spawnServer, WireClient } from "../helpers/harness.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";

type Msg = Extract<Event, { _et: "user_message" }>;

function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe("a failing message store (PostgreSQL taken down)", () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg.stop();
  });

  it("refuses messages while PostgreSQL is down, says so on /readyz and /metrics, and recovers by itself", async () => {
    const server = await spawnServer([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--lp-port",
      "off",
      "--http-port",
      "0",
      "--store",
      pg.url,
    ]);
    const http = (server.ports as { http: number }).http;
    const get = async (path: string): Promise<{ status: number; text: string }> => {
      const res = await fetch(`http://127.0.0.1:${http}${path}`);
      return { status: res.status, text: await res.text() };
    };
    try {
      const alice = await WireClient.login(server.ports.tcp!);
      const bob = await WireClient.login(server.ports.tcp!);
      for (const c of [alice, bob]) {
        await c.hello();
        await c.join("general");
      }
      alice.send({ _ct: "send_message", r: "general", c: "stored", cid: "1" });
      await bob.next((e) => e._et === "user_message" && e.c === "stored");
      assert.equal((await get("/readyz")).status, 200);

      await pg.takeDown();
      alice.send({ _ct: "send_message", r: "general", c: "while down", cid: "2" });
      const err = await alice.next((e) => e._et === "error" && e.cid === "2", 20_000);
      assert.equal(err._et === "error" && err.code, "STORE_UNAVAILABLE");
      const ready = await get("/readyz");
      assert.equal(ready.status, 503);
      assert.match(ready.text, /store: failing/);
      const metrics = (await get("/metrics")).text;
      assert.equal(sample(metrics, "parley_store_up"), 0);
      assert.ok((sample(metrics, 'parley_store_errors_total{op="append"}') ?? 0) >= 1);
      // the server still serves everything that does not need the store
      bob.send({ _ct: "ping", t: "alive" });
      await bob.next("pong");
      alice.send({ _ct: "send_message", r: "general", c: "still down", cid: "3" });
      const err3 = await alice.next((e) => e._et === "error" && e.cid === "3", 20_000);
      assert.equal(err3._et === "error" && err3.code, "STORE_UNAVAILABLE");

      await pg.bringUp();
      for (let i = 0; i < 100 && (await get("/readyz")).status !== 200; i++) await delay(200);
      assert.equal((await get("/readyz")).status, 200, "ready again once PostgreSQL is back");
      alice.send({ _ct: "send_message", r: "general", c: "after", cid: "4" });
      const afterMsg = (await bob.next(
        (e) => e._et === "user_message" && e.c === "after",
        10_000,
      )) as Msg;
      assert.equal(afterMsg.id, 2, "offsets go on without a gap: the refused ones took none");
      // nobody ever saw the refused messages
      for (const c of [alice, bob]) {
        assert.equal(
          c.events.filter((e) => e._et === "user_message" && /down/.test(e.c)).length,
          0,
        );
      }
      alice.close();
      bob.close();
    } finally {
      server.proc.kill("SIGTERM");
      await server.exited;
    }
  });

  it("stops at start with a clear message when the store cannot be reached", async () => {
    await pg.takeDown();
    try {
      const { code, output } = await runServerToExit([
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--lp-port",
        "off",
        "--store",
        pg.url,
      ]);
      assert.equal(code, 1);
      assert.match(output, /message store .* could not be opened/);
    } finally {
      await pg.bringUp();
    }
  });
});
