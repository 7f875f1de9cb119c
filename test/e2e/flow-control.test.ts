import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startServer, WireClient } from "../helpers/harness.js";

describe("flow control", () => {
  it("delivers a 3,000-message burst from one client whole and in order with the default limits", async () => {
    const server = await startServer();
    const sender = await WireClient.login(server.port);
    const reader = await WireClient.login(server.port);
    await sender.join("general");
    await reader.join("general");
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++)
      lines.push(JSON.stringify({ _ct: "send_message", r: "general", c: `burst ${i}` }));
    sender.socket.write(lines.join("\r\n") + "\r\n"); // all at once: coalesced into few segments
    for (const c of [reader, sender]) {
      const got = await c.collect("user_message", 3000, 20_000);
      assert.equal(got.length, 3000);
      got.forEach((e, i) => assert.equal(e._et === "user_message" && e.c, `burst ${i}`));
    }
    assert.equal(server.metrics.slowConsumers, 0);
    sender.close();
    reader.close();
    await server.stop();
  });

  it("disconnects a member that stops reading (SLOW_CONSUMER), counts it, and never slows the others", async () => {
    const server = await startServer({
      limits: { maxOutboundBytes: 512 * 1024, ratePerSec: 1_000_000, rateBurst: 1_000_000 },
    });
    const sender = await WireClient.login(server.port);
    const reader = await WireClient.login(server.port);
    const stuck = await WireClient.login(server.port);
    await stuck.hello();
    for (const c of [sender, reader, stuck]) await c.join("tech-news");
    stuck.socket.pause(); // stops reading: its kernel buffers fill, then the server's queue
    const text = "z".repeat(1000);
    const total = 12_000; // ~12 MB: more than loopback socket buffers hold (~4 MB here)
    const perBatch = 100;
    // The reader keeps up (each batch is read before the next is sent); the stuck one does not.
    for (let sent = 0; sent < total; sent += perBatch) {
      const batch: string[] = [];
      for (let i = sent; i < sent + perBatch; i++) {
        batch.push(JSON.stringify({ _ct: "send_message", r: "tech-news", c: `${i} ${text}` }));
      }
      sender.socket.write(batch.join("\n") + "\n");
      await reader.collect("user_message", sent + perBatch, 10_000);
    }
    const got = reader.events.filter((e) => e._et === "user_message");
    assert.equal(got.length, total);
    assert.ok(got.every((e, i) => e._et === "user_message" && e.c.startsWith(`${i} `)));
    // the stuck member was cut, and the others saw it leave
    await reader.next(
      (e) => e._et === "room_participation" && e.s === "left" && e.u === stuck.userId,
      10_000,
    );
    assert.equal(server.metrics.slowConsumers, 1);
    assert.equal(server.metrics.closedBy.get("SLOW_CONSUMER"), 1);
    stuck.socket.resume();
    await stuck.closed;
    // what it did get is an in-order prefix of the stream, and it was told why it was dropped
    const msgs = stuck.events.filter((e) => e._et === "user_message");
    assert.ok(msgs.length < total);
    msgs.forEach((e, i) => assert.ok(e._et === "user_message" && e.c.startsWith(`${i} `)));
    sender.close();
    reader.close();
    await server.stop();
  });

  it("holds back a client over its rate instead of dropping it: everything arrives, later, and it is told to slow down", async () => {
    const server = await startServer({
      limits: { ratePerSec: 50, rateBurst: 10, floodDisconnectMs: 0 },
    });
    const sender = await WireClient.login(server.port);
    await sender.hello();
    await sender.join("general");
    const reader = await WireClient.login(server.port);
    await reader.join("general");
    const started = Date.now();
    const n = 60;
    sender.socket.write(
      Array.from({ length: n }, (_, i) =>
        JSON.stringify({ _ct: "send_message", r: "general", c: `r${i}` }),
      ).join("\n") + "\n",
    );
    const slow = await sender.next("slow_down");
    assert.ok(slow._et === "slow_down" && slow.retry_ms > 0);
    const got = await reader.collect("user_message", n, 10_000);
    const elapsed = Date.now() - started;
    got.forEach((e, i) => assert.equal(e._et === "user_message" && e.c, `r${i}`));
    // 10 at once, then 50/s for the other 50: about a second, never all at once
    assert.ok(elapsed >= 800, `arrived after ${elapsed} ms; the rate limit did not hold it back`);
    assert.ok(server.metrics.rateLimitHits >= 1);
    assert.equal(sender.isClosed, false);
    sender.close();
    reader.close();
    await server.stop();
  });

  it("disconnects a client that keeps flooding past the hard cap, with FLOODING", async () => {
    const server = await startServer({
      limits: { ratePerSec: 20, rateBurst: 5, floodDisconnectMs: 300 },
    });
    const flooder = await WireClient.login(server.port);
    await flooder.hello();
    await flooder.join("general");
    const other = await WireClient.login(server.port);
    await other.join("general");
    flooder.socket.write(
      Array.from({ length: 500 }, (_, i) =>
        JSON.stringify({ _ct: "send_message", r: "general", c: `f${i}` }),
      ).join("\n") + "\n",
    );
    const bye = await flooder.next("disconnect", 5_000);
    assert.equal(bye._et === "disconnect" && bye.code, "FLOODING");
    assert.equal(bye._et === "disconnect" && bye.reconnect, false);
    await flooder.closed;
    await other.next(
      (e) => e._et === "room_participation" && e.s === "left" && e.u === flooder.userId,
    );
    // what got through before the cut is in order
    other.events
      .filter((e) => e._et === "user_message")
      .forEach((e, i) => assert.equal(e._et === "user_message" && e.c, `f${i}`));
    other.close();
    await server.stop();
  });
});
