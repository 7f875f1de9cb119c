import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChatServer, CounterMetrics, MAX_RETRY_MS, type Session } from "../../src/core/index.js";
import type { Event } from "../../src/protocol/index.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { MemoryConnection } from "../helpers/memory-connection.js";

type Disconnect = Extract<Event, { _et: "disconnect" }>;

async function setup(n: number): Promise<{
  chat: ChatServer;
  clock: ManualClock;
  conns: MemoryConnection[];
  sessions: Session[];
}> {
  const clock = new ManualClock();
  const chat = new ChatServer({
    rooms: [{ name: "a", description: "" }],
    clock,
    metrics: new CounterMetrics(),
  });
  await chat.start();
  const conns: MemoryConnection[] = [];
  const sessions: Session[] = [];
  for (let i = 0; i < n; i++) {
    const conn = new MemoryConnection();
    const session = (await chat.accept(conn))!;
    conn.input({ _ct: "hello" });
    session.onReadable();
    conns.push(conn);
    sessions.push(session);
  }
  clock.endTurn();
  return { chat, clock, conns, sessions };
}

const told = (c: MemoryConnection): Disconnect | undefined =>
  c.sent.find((e): e is Disconnect => e._et === "disconnect");

describe("Drain", () => {
  it("ends one session per slot across the window, each told SERVER_DRAINING with retry_ms within its slot", async () => {
    const { chat, clock, conns } = await setup(10);
    const done = chat.drain({ windowMs: 10_000, timeoutMs: 60_000 });
    assert.equal(chat.readiness().ready, false);
    assert.match(chat.readiness().detail, /chat: draining/);
    const at = new Map<MemoryConnection, number>();
    for (let t = 0; t < 10_000; t += 100) {
      for (const c of conns) if (!at.has(c) && told(c)) at.set(c, t);
      clock.advance(100);
    }
    for (const c of conns) if (!at.has(c) && told(c)) at.set(c, 10_000);
    // slots of 1,000 ms: one session each, at 0, 1,000, ... 9,000
    assert.deepEqual(
      [...at.values()].sort((x, y) => x - y),
      [0, 1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000, 9_000],
    );
    for (const c of conns) {
      const d = told(c)!;
      assert.equal(d.code, "SERVER_DRAINING");
      assert.equal(d.reconnect, true);
      assert.ok(d.retry_ms! >= 0 && d.retry_ms! < 1_000, `retry_ms ${d.retry_ms}`);
      assert.equal(c.closedWith?.code, "SERVER_DRAINING");
    }
    assert.equal(await done, "empty");
  });

  it("caps retry_ms when the slots are long, refuses new connections, and ends early when everyone left", async () => {
    const { chat, clock, conns, sessions } = await setup(2);
    const done = chat.drain({ windowMs: 60_000, timeoutMs: 120_000 });
    const first = conns.find((c) => told(c) !== undefined)!;
    assert.ok(told(first)!.retry_ms! < MAX_RETRY_MS);
    const refused = new MemoryConnection();
    assert.equal(await chat.accept(refused), undefined);
    assert.equal(refused.refusedWith?.code, "SERVER_DRAINING");
    // the other one leaves by itself before its moment (30 s)
    const other = conns.find((c) => c !== first)!;
    clock.advance(1_000);
    assert.equal(told(other), undefined);
    assert.equal(chat.connectionCount, 1);
    sessions[conns.indexOf(other)]!.onTransportClosed();
    assert.equal(await done, "empty");
  });

  it("resolves at the deadline with sessions still open", async () => {
    const { chat, clock } = await setup(3);
    const done = chat.drain({ windowMs: 60_000, timeoutMs: 5_000 });
    clock.advance(5_000);
    assert.equal(await done, "deadline");
    assert.equal(chat.connectionCount, 2);
  });
});
