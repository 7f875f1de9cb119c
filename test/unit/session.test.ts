import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChatServer, CounterMetrics, type Limits } from "../../src/core/index.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { MemoryConnection } from "../helpers/memory-connection.js";

const ROOMS = [
  { name: "a", description: "room a" },
  { name: "b", description: "room b" },
];

function setup(limits: Partial<Limits> = {}) {
  const clock = new ManualClock();
  const metrics = new CounterMetrics();
  const chat = new ChatServer({ rooms: ROOMS, limits, clock, metrics });
  chat.start();
  const connect = async () => {
    const conn = new MemoryConnection();
    const session = (await chat.accept(conn))!;
    return { conn, session };
  };
  return { clock, metrics, chat, connect };
}

describe("Session", () => {
  it("starts with login_successful, a user id as display name, and no rooms", async () => {
    const { connect } = setup();
    const { conn, session } = await connect();
    assert.deepEqual(conn.types(), ["login_successful"]);
    assert.equal(session.name, session.userId);
    assert.equal(session.rooms.size, 0);
    assert.equal(session.authenticated, false);
  });

  it("pulls commands at its rate: out of tokens it pauses reading and resumes when they refill", async () => {
    const { clock, connect, metrics } = setup({
      ratePerSec: 10,
      rateBurst: 2,
      floodDisconnectMs: 0,
    });
    const { conn, session } = await connect();
    conn.input(
      { _ct: "join_room", r: "a" },
      ...Array.from({ length: 4 }, (_, i) => ({ _ct: "send_message", r: "a", c: `m${i}` })),
    );
    session.onReadable();
    assert.equal(conn.paused, true);
    assert.equal(conn.sent.filter((e) => e._et === "user_message").length, 1);
    assert.equal(metrics.rateLimitHits, 1);
    clock.advance(100);
    assert.equal(conn.sent.filter((e) => e._et === "user_message").length, 2);
    clock.advance(200);
    assert.equal(conn.sent.filter((e) => e._et === "user_message").length, 4);
    assert.equal(conn.paused, false, "reading resumes once the backlog is handled");
  });

  it("is disconnected for FLOODING when held back without a break past the hard cap", async () => {
    const { clock, connect } = setup({
      ratePerSec: 10,
      rateBurst: 1,
      floodDisconnectMs: 1_000,
    });
    const { conn, session } = await connect();
    conn.input({ _ct: "join_room", r: "a" });
    session.onReadable();
    // keeps sending 20/s against a 10/s rate
    for (let t = 0; t < 30 && !session.closed; t++) {
      conn.input(...Array.from({ length: 2 }, () => ({ _ct: "send_message", r: "a", c: "x" })));
      session.onReadable();
      clock.advance(100);
    }
    assert.equal(session.closed, true);
    assert.equal(conn.closedWith?.code, "FLOODING");
  });

  it("is disconnected as a SLOW_CONSUMER once its queue passes the bound, after the current fan-out", async () => {
    const { connect, metrics } = setup({ maxOutboundBytes: 2_000 });
    const sender = await connect();
    const slow = await connect();
    const other = await connect();
    for (const s of [sender, slow, other]) {
      s.conn.input({ _ct: "join_room", r: "a" });
      s.session.onReadable();
    }
    for (const s of [sender, other]) s.conn.backlog = 0; // these read everything
    slow.conn.backlog = 1_990;
    sender.conn.input({ _ct: "send_message", r: "a", c: "over the edge" });
    sender.session.onReadable();
    // the message reached everyone, the slow one included...
    for (const s of [sender, slow, other]) assert.equal(s.conn.sent.at(-1)?._et, "user_message");
    await Promise.resolve();
    // ...then the slow one was cut and the others saw it leave
    assert.equal(slow.session.closed, true);
    assert.equal(slow.conn.closedWith?.code, "SLOW_CONSUMER");
    assert.equal(metrics.slowConsumers, 1);
    const last = other.conn.sent.at(-1);
    assert.ok(
      last?._et === "room_participation" && last.s === "left" && last.u === slow.session.userId,
    );
  });

  it("joins, leaves and quits: membership is kept on both sides and released on close", async () => {
    const { chat, connect } = setup();
    const { conn, session } = await connect();
    conn.input(
      { _ct: "join_room", r: "a" },
      { _ct: "join_room", r: "b" },
      { _ct: "leave_room", r: "a" },
    );
    session.onReadable();
    assert.deepEqual(
      [...session.rooms].map((r) => r.name),
      ["b"],
    );
    assert.equal(chat.rooms.get("a").members.size, 0);
    assert.equal(chat.rooms.get("b").members.has(session), true);
    conn.input({ _ct: "quit" });
    session.onReadable();
    assert.equal(chat.rooms.get("b").members.size, 0);
    assert.equal(chat.connectionCount, 0);
    assert.equal(conn.closedWith?.code, "QUIT");
  });

  it("closes sessions idle past the timeout and keeps active ones", async () => {
    const { clock, connect } = setup({ idleTimeoutMs: 1_000 });
    const idle = await connect();
    const active = await connect();
    for (let t = 0; t < 6; t++) {
      active.conn.input({ _ct: "ping" });
      active.session.onReadable();
      clock.advance(300);
    }
    assert.equal(idle.conn.closedWith?.code, "IDLE_TIMEOUT");
    assert.equal(active.session.closed, false);
  });

  it("refuses connections past max-connections", async () => {
    const { chat, metrics } = setup({ maxConnections: 1 });
    await chat.accept(new MemoryConnection());
    const refused = new MemoryConnection();
    assert.equal(await chat.accept(refused), undefined);
    assert.equal(refused.refusedWith?.code, "SERVER_FULL");
    assert.equal(metrics.refused, 1);
  });

  it("on stop ends every session in batches: each sees the others leave, then is told why it goes", async () => {
    const { chat, connect } = setup();
    const all = [];
    for (let i = 0; i < 300; i++) {
      const c = await connect();
      c.conn.input({ _ct: "hello" }, { _ct: "join_room", r: "a" });
      c.session.onReadable();
      all.push(c);
    }
    await chat.stop();
    assert.equal(chat.connectionCount, 0);
    assert.ok(all.every((c) => c.conn.closedWith?.code === "SERVER_SHUTDOWN"));
    const last = all.at(-1)!.conn.sent;
    assert.equal(last.filter((e) => e._et === "room_participation" && e.s === "left").length, 299);
    assert.equal(last.at(-1)?._et, "disconnect");
    assert.equal(chat.ready, false);
  });
});
