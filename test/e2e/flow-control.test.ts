import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import type { Event } from "../../src/protocol/index.js";
import { startServer, WireClient, type TestServer } from "../helpers/harness.js";
import { type EventClient, LineClient, LpClient, WsClient } from "./support/chat-clients.js";

const PAD = "x".repeat(2000);

/** `n` send_message lines of about 2 KB, numbered, as one write. */
function burst(room: string, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ _ct: "send_message", r: room, c: `${i} ${PAD}` }));
  }
  return lines.join("\n") + "\n";
}

/** Waits until `client` has `n` user_messages and checks they are 0..n-1 in order. */
async function receivesAllInOrder(client: EventClient, n: number, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  const count = (): number => client.events.filter((e) => e._et === "user_message").length;
  while (count() < n) {
    if (Date.now() > deadline || client.isClosed) {
      throw new Error(`got ${count()} of ${n} messages (closed: ${client.isClosed})`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  client.events
    .filter((e): e is Extract<Event, { _et: "user_message" }> => e._et === "user_message")
    .forEach((e, i) => assert.ok(e.c.startsWith(`${i} `), `message ${i} out of order`));
}

/** Four readers (line TCP, length-prefixed, WebSocket, and the sender itself) in `room`. */
async function readersIn(server: TestServer, room: string) {
  const sender = await LineClient.open(server.port);
  const readers = [
    await LineClient.open(server.port),
    await LpClient.open(server.lpPort),
    await WsClient.open(server.app.ports.http!),
  ];
  for (const c of [sender, ...readers]) await c.join(room);
  return { sender, readers };
}

/** Reads `socket` in sips: one read every `everyMs`, like a reader on a slow link. */
function sipping(socket: Socket, everyMs: number): () => void {
  socket.pause();
  const timer = setInterval(() => {
    socket.resume();
    setImmediate(() => socket.pause());
  }, everyMs);
  return () => {
    clearInterval(timer);
    socket.resume();
  };
}

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

  it("gives every reading member a 1,000 x 2 KB burst whole and in order while one member never reads, and cuts nobody who reads", async () => {
    // The case of the issue, with the default limits: a member that does not read must not cost
    // the others (or the sender) their connection.
    const server = await startServer();
    const { sender, readers } = await readersIn(server, "general");
    const idle = await LineClient.open(server.port);
    await idle.join("general");
    idle.socket.pause();
    sender.socket.write(burst("general", 1000));
    for (const c of [sender, ...readers]) await receivesAllInOrder(c, 1000);
    assert.equal(server.metrics.closedBy.get("SLOW_CONSUMER") ?? 0, 0);
    for (const c of [sender, ...readers]) assert.equal(c.isClosed, false);
    for (const c of [sender, ...readers, idle]) c.close();
    await server.stop();
  });

  it("cuts members that stop reading (line TCP and WebSocket) after the write deadline, holds the sender back until then, and every reader gets everything in order", async () => {
    const server = await startServer({
      limits: { writeDeadlineMs: 1_500, ratePerSec: 1_000_000, rateBurst: 1_000_000 },
    });
    const { sender, readers } = await readersIn(server, "general");
    const stuckLine = await LineClient.open(server.port);
    const stuckWs = await WsClient.open(server.app.ports.http!);
    const stuckIds = [await stuckLine.login(), await stuckWs.login()];
    for (const c of [stuckLine, stuckWs]) await c.join("general");
    stuckLine.socket.pause();
    stuckWs.ws.pause();
    // 12 MB: more than loopback's socket buffers hold for a reader that stopped
    const n = 6_000;
    sender.socket.write(burst("general", n));
    for (const c of [sender, ...readers]) await receivesAllInOrder(c, n);
    for (const id of stuckIds) {
      assert.ok(
        readers[0]!.saw((e) => e._et === "room_participation" && e.s === "left" && e.u === id),
        `stuck member ${String(id)} was seen leaving`,
      );
    }
    assert.equal(server.metrics.slowConsumersBy.get("write_deadline"), 2);
    assert.equal(server.metrics.closedBy.get("SLOW_CONSUMER"), 2);
    assert.ok(server.metrics.sendersHeldBack >= 1, "the sender was held back, not cut");
    assert.equal(sender.isClosed, false);
    // each stuck member got an in-order prefix and, once it reads, is told why it was cut
    stuckLine.socket.resume();
    stuckWs.ws.resume();
    for (const c of [stuckLine, stuckWs]) {
      await c.closed;
      const got = c.events.filter((e) => e._et === "user_message");
      assert.ok(got.length < n);
      got.forEach((e, i) => assert.ok(e._et === "user_message" && e.c.startsWith(`${i} `)));
      assert.ok(c.saw((e) => e._et === "disconnect" && e.code === "SLOW_CONSUMER"));
    }
    sender.close();
    for (const c of readers) c.close();
    await server.stop();
  });

  it("never cuts a member that reads slowly: a 12 MB burst reaches it whole while it reads in sips", async () => {
    const server = await startServer({
      limits: { writeDeadlineMs: 1_000, ratePerSec: 1_000_000, rateBurst: 1_000_000 },
    });
    const sender = await LineClient.open(server.port);
    const slow = await LineClient.open(server.port);
    for (const c of [sender, slow]) await c.join("general");
    const stop = sipping(slow.socket, 20);
    const n = 6_000;
    sender.socket.write(burst("general", n));
    await receivesAllInOrder(slow, n, 60_000);
    stop();
    await receivesAllInOrder(sender, n);
    assert.equal(server.metrics.slowConsumers, 0);
    assert.ok(server.metrics.sendersHeldBack >= 1, "the sender was paced by the slow reader");
    sender.close();
    slow.close();
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
