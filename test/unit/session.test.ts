import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChatServer, CounterMetrics, type Limits } from "../../src/core/index.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { MemoryConnection } from "../helpers/memory-connection.js";

const ROOMS = [
  { name: "a", description: "room a" },
  { name: "b", description: "room b" },
];

async function setup(limits: Partial<Limits> = {}) {
  const clock = new ManualClock();
  const metrics = new CounterMetrics();
  const chat = new ChatServer({ rooms: ROOMS, limits, clock, metrics });
  await chat.start();
  const connect = async () => {
    const conn = new MemoryConnection();
    const session = (await chat.accept(conn))!;
    return { conn, session };
  };
  return { clock, metrics, chat, connect };
}

describe("Session", () => {
  it("starts with login_successful, a user id as display name, and no rooms", async () => {
    const { chat, connect } = await setup();
    const { conn, session } = await connect();
    assert.deepEqual(conn.types(), ["login_successful"]);
    assert.equal(session.name, session.userId);
    assert.equal(chat.membership.roomsOf(session).size, 0);
    assert.equal(session.authenticated, false);
  });

  it("pulls commands at its rate: out of tokens it pauses reading and resumes when they refill", async () => {
    const { clock, connect, metrics } = await setup({
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
    const { clock, connect } = await setup({
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

  /** Three members of room "a"; the `stuck` one has a backlog just under the mark. */
  async function roomOfThree(limits: Partial<Limits>) {
    const t = await setup({ ratePerSec: 1_000_000, rateBurst: 1_000_000, ...limits });
    const sender = await t.connect();
    const stuck = await t.connect();
    const other = await t.connect();
    for (const s of [sender, stuck, other]) {
      s.conn.input({ _ct: "join_room", r: "a" });
      s.session.onReadable();
    }
    for (const s of [sender, stuck, other]) s.conn.backlog = 0;
    return { ...t, sender, stuck, other };
  }
  const send = (c: { conn: MemoryConnection }, ...texts: string[]) =>
    c.conn.input(...texts.map((t) => ({ _ct: "send_message", r: "a", c: t })));
  const messages = (c: { conn: MemoryConnection }) =>
    c.conn.sent.filter((e) => e._et === "user_message").length;

  it("holds a sender back while a member is above the high-water mark, and reads it again once that member drains", async () => {
    const { sender, stuck, other, metrics } = await roomOfThree({ maxOutboundBytes: 2_000 });
    stuck.conn.backlog = 1_990;
    send(sender, "m1", "m2", "m3");
    sender.session.onReadable();
    // m1 crossed the mark on `stuck`: m1 reached everyone, m2 and m3 wait unread
    assert.equal(messages(other), 1);
    assert.equal(messages(stuck), 1);
    assert.equal(sender.conn.paused, true);
    assert.equal(stuck.session.congested, true);
    assert.equal(metrics.sendersHeldBack, 1);
    // a reader that is not congested does not release it...
    other.session.onOutboundProgress();
    await Promise.resolve();
    assert.equal(messages(other), 1);
    // ...the congested one draining below the mark does
    stuck.conn.backlog = 100;
    stuck.session.onOutboundProgress();
    await Promise.resolve();
    assert.equal(stuck.session.congested, false);
    assert.equal(messages(other), 3);
    assert.equal(messages(stuck), 3);
    assert.equal(sender.conn.paused, false);
    assert.equal(metrics.slowConsumers, 0);
  });

  it("cuts a member congested past the write deadline (SLOW_CONSUMER), releases the sender, and the others see it leave", async () => {
    const { sender, stuck, other, metrics, clock } = await roomOfThree({
      maxOutboundBytes: 2_000,
      writeDeadlineMs: 5_000,
    });
    stuck.conn.backlog = 1_990;
    send(sender, "m1", "m2");
    sender.session.onReadable();
    assert.equal(messages(other), 1);
    clock.advance(4_999);
    assert.equal(stuck.session.closed, false, "not before the deadline");
    clock.advance(1);
    assert.equal(stuck.session.closed, true);
    assert.equal(stuck.conn.closedWith?.code, "SLOW_CONSUMER");
    assert.equal(metrics.slowConsumersBy.get("write_deadline"), 1);
    await Promise.resolve();
    assert.equal(messages(other), 2, "the sender is read again once the stuck member is gone");
    assert.ok(
      other.conn.sent.some(
        (e) => e._et === "room_participation" && e.s === "left" && e.u === stuck.session.userId,
      ),
    );
    assert.equal(sender.session.closed, false);
  });

  it("cuts a member that stopped reading long before as soon as it congests, not a deadline later", async () => {
    const { sender, stuck, other, clock } = await roomOfThree({
      maxOutboundBytes: 2_000,
      writeDeadlineMs: 5_000,
    });
    send(sender, "first");
    sender.session.onReadable(); // stuck's queue starts filling at t=0 and never drains
    for (const c of [sender, other]) c.conn.backlog = 0;
    clock.advance(8_000);
    assert.equal(stuck.session.closed, false, "below the mark it is not judged");
    stuck.conn.backlog = 1_990;
    send(sender, "over");
    sender.session.onReadable();
    clock.advance(0);
    assert.equal(stuck.conn.closedWith?.code, "SLOW_CONSUMER");
  });

  it("keeps a member that drains a little before each deadline, however long the burst", async () => {
    const { sender, stuck, clock } = await roomOfThree({
      maxOutboundBytes: 2_000,
      writeDeadlineMs: 1_000,
    });
    for (let i = 0; i < 20; i++) {
      stuck.conn.backlog = 1_990;
      send(sender, `m${i}`);
      sender.session.onReadable();
      clock.advance(900);
      stuck.conn.backlog = 1_500; // it read a little: back under the mark
      stuck.session.onOutboundProgress();
      await Promise.resolve();
    }
    assert.equal(stuck.session.closed, false);
    assert.equal(messages(stuck), 20);
  });

  it("cuts a member at once when its queue passes the hard cap, after the current fan-out", async () => {
    const { sender, stuck, other, metrics } = await roomOfThree({
      maxOutboundBytes: 1_000,
      maxOutboundHardBytes: 2_000,
    });
    stuck.conn.backlog = 1_990;
    send(sender, "over the edge");
    sender.session.onReadable();
    // the message reached everyone, the slow one included...
    for (const s of [sender, stuck, other]) assert.equal(s.conn.sent.at(-1)?._et, "user_message");
    await Promise.resolve();
    // ...then the slow one was cut and the others saw it leave
    assert.equal(stuck.session.closed, true);
    assert.equal(stuck.conn.closedWith?.code, "SLOW_CONSUMER");
    assert.equal(metrics.slowConsumersBy.get("hard_limit"), 1);
    const last = other.conn.sent.at(-1);
    assert.ok(
      last?._et === "room_participation" && last.s === "left" && last.u === stuck.session.userId,
    );
  });

  it("joins, leaves and quits: membership is kept on both sides and released on close", async () => {
    const { chat, connect } = await setup();
    const { conn, session } = await connect();
    conn.input(
      { _ct: "join_room", r: "a" },
      { _ct: "join_room", r: "b" },
      { _ct: "leave_room", r: "a" },
    );
    session.onReadable();
    const m = chat.membership;
    assert.deepEqual(
      [...m.roomsOf(session)].map((r) => r.name),
      ["b"],
    );
    assert.equal(m.membersOf(chat.rooms.get("a")).size, 0);
    assert.equal(m.membersOf(chat.rooms.get("b")).has(session), true);
    conn.input({ _ct: "quit" });
    session.onReadable();
    assert.equal(m.membersOf(chat.rooms.get("b")).size, 0);
    assert.equal(m.roomsOf(session).size, 0);
    assert.equal(chat.connectionCount, 0);
    assert.equal(conn.closedWith?.code, "QUIT");
  });

  it("never closes a quiet member of a room for idleness; closes a connection in no room", async () => {
    const { clock, connect } = await setup({ idleTimeoutMs: 1_000 });
    const reader = await connect();
    reader.conn.input({ _ct: "join_room", r: "a" });
    reader.session.onReadable();
    const lurker = await connect();
    lurker.conn.input({ _ct: "list_rooms" });
    lurker.session.onReadable();
    clock.advance(10_000);
    assert.equal(reader.session.closed, false);
    assert.equal(lurker.conn.closedWith?.code, "IDLE_TIMEOUT");
  });

  it("closes a connection that sends no command within the first-command timeout", async () => {
    const { clock, connect } = await setup({ firstCommandTimeoutMs: 2_000, idleTimeoutMs: 0 });
    const silent = await connect();
    const talker = await connect();
    clock.advance(1_500);
    talker.conn.input({ _ct: "join_room", r: "a" });
    talker.session.onReadable();
    clock.advance(1_000);
    assert.equal(silent.conn.closedWith?.code, "IDLE_TIMEOUT");
    assert.equal(talker.session.closed, false);
  });

  it("closes a connection whose line stays unfinished past the frame timeout (FRAME_TIMEOUT)", async () => {
    const { clock, connect } = await setup({ frameTimeoutMs: 3_000 });
    const slow = await connect();
    const ok = await connect();
    const bytes = (t: string) => new TextEncoder().encode(t);
    slow.conn.framer.push(bytes('{"_ct":"join_room","r":"a"}\n{"_ct":"jo'));
    slow.session.onReadable();
    ok.conn.framer.push(bytes('{"_ct":"join_'));
    ok.session.onReadable();
    clock.advance(2_000);
    // more bytes of the same line do not restart its clock; finishing it does
    slow.conn.framer.push(bytes("in_ro"));
    slow.session.onReadable();
    ok.conn.framer.push(bytes('room","r":"a"}\n'));
    ok.session.onReadable();
    clock.advance(1_500);
    assert.equal(slow.conn.closedWith?.code, "FRAME_TIMEOUT");
    assert.equal(ok.session.closed, false);
  });

  it("closes sessions idle past the timeout and keeps active ones", async () => {
    const { clock, connect } = await setup({ idleTimeoutMs: 1_000 });
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
    const { chat, metrics } = await setup({ maxConnections: 1 });
    await chat.accept(new MemoryConnection());
    const refused = new MemoryConnection();
    assert.equal(await chat.accept(refused), undefined);
    assert.equal(refused.refusedWith?.code, "SERVER_FULL");
    assert.equal(metrics.refused, 1);
  });

  it("on stop ends every session in batches: each sees the others leave, then is told why it goes", async () => {
    const { chat, connect } = await setup();
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
    assert.equal(chat.readiness().ready, false);
  });
});
