import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChatServer, CounterMetrics, type Limits } from "../../src/core/index.js";
import type { MessageStore, StoredMessage } from "../../src/core/index.js";
import type { Event } from "../../src/protocol/index.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { MemoryConnection } from "../helpers/memory-connection.js";

/**
 * A real MemoryStore whose appends complete (or fail) only when the test says: the slow or
 * failing database the durability promise is about.
 */
class ControlledStore extends MemoryStore {
  readonly appends: Array<{ batch: readonly StoredMessage[]; done: () => void; fail: () => void }> =
    [];
  override append(batch: readonly StoredMessage[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.appends.push({
        batch,
        done: () => void super.append(batch).then(resolve, reject),
        fail: () => reject(new Error("disk full")),
      });
    });
  }
}

async function setup(store: MessageStore, limits: Partial<Limits> = {}) {
  const clock = new ManualClock();
  const metrics = new CounterMetrics();
  const chat = new ChatServer({
    rooms: [{ name: "a", description: "room a" }],
    limits,
    clock,
    metrics,
    store,
  });
  await chat.start();
  const connect = async (...commands: object[]) => {
    const conn = new MemoryConnection();
    const session = (await chat.accept(conn))!;
    conn.input({ _ct: "hello", k: `key-${Math.random()}` }, ...commands);
    session.onReadable();
    clock.endTurn();
    await flush();
    return { conn, session };
  };
  return { clock, metrics, chat, connect };
}

/** Lets promise callbacks (the store's answers) run. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

const said = (c: { conn: MemoryConnection }, type: string): Event[] =>
  c.conn.sent.filter((e) => e._et === type);

describe("MessageLog (durability through the chat server)", () => {
  it("delivers a message to nobody, its sender included, until the store has it, and then to all in order", async () => {
    const store = new ControlledStore();
    const { clock, connect } = await setup(store);
    const alice = await connect({ _ct: "join_room", r: "a" });
    const bob = await connect({ _ct: "join_room", r: "a" });
    alice.conn.input({ _ct: "send_message", r: "a", c: "one", cid: "1" });
    alice.session.onReadable();
    bob.conn.input({ _ct: "ping", t: "after" });
    bob.session.onReadable();
    clock.endTurn();
    await flush();
    assert.equal(store.appends.length, 1, "one commit for the turn");
    assert.equal(said(alice, "user_message").length, 0);
    assert.equal(said(bob, "user_message").length, 0);
    assert.equal(said(bob, "pong").length, 0, "bob's pong waits behind the message before it");
    store.appends[0]!.done();
    await flush();
    assert.equal(said(alice, "user_message").length, 1);
    const types = bob.conn.types();
    assert.deepEqual(types.slice(-2), ["user_message", "pong"]);
  });

  it("commits everything accepted in one turn in one batch, and what comes during a commit in the next", async () => {
    const store = new ControlledStore();
    const { clock, connect } = await setup(store);
    const alice = await connect({ _ct: "join_room", r: "a" });
    alice.conn.input(...["1", "2", "3"].map((c) => ({ _ct: "send_message", r: "a", c })));
    alice.session.onReadable();
    clock.endTurn();
    await flush();
    alice.conn.input({ _ct: "send_message", r: "a", c: "4" });
    alice.session.onReadable();
    clock.endTurn();
    await flush();
    assert.equal(store.appends.length, 1, "the next batch waits for the commit in flight");
    assert.deepEqual(
      store.appends[0]!.batch.map((m) => m.offset),
      [1, 2, 3],
    );
    store.appends[0]!.done();
    await flush();
    assert.equal(store.appends.length, 2);
    assert.deepEqual(
      store.appends[1]!.batch.map((m) => m.offset),
      [4],
    );
    assert.equal(said(alice, "user_message").length, 3, "4 is not durable yet");
    store.appends[1]!.done();
    await flush();
    assert.equal(said(alice, "user_message").length, 4);
  });

  it("refuses messages the store could not take: nobody sees them, the sender is told, and offsets stay gap-free", async () => {
    const store = new ControlledStore();
    const { clock, connect, chat, metrics } = await setup(store);
    const alice = await connect({ _ct: "join_room", r: "a" });
    const bob = await connect({ _ct: "join_room", r: "a" });
    alice.conn.input({ _ct: "send_message", r: "a", c: "lost", cid: "7" });
    alice.session.onReadable();
    clock.endTurn();
    await flush();
    store.appends[0]!.fail();
    await flush();
    assert.equal(said(bob, "user_message").length, 0);
    assert.equal(said(alice, "user_message").length, 0);
    const err = said(alice, "error").at(-1) as Extract<Event, { _et: "error" }>;
    assert.equal(err.code, "STORE_UNAVAILABLE");
    assert.equal(err.cid, "7");
    assert.equal(metrics.storeErrors.get("append"), 1);
    assert.equal(chat.readiness().ready, false);
    // while the store fails, a message is refused at once (no offset given)...
    alice.conn.input({ _ct: "send_message", r: "a", c: "too soon", cid: "8" });
    alice.session.onReadable();
    clock.endTurn();
    await flush();
    assert.equal(store.appends.length, 1);
    assert.equal((said(alice, "error").at(-1) as { code: string; cid?: string }).cid, "8");
    // ...until the store has been reopened
    clock.advance(1_000);
    await flush();
    assert.equal(chat.readiness().ready, true);
    // the resend (same cid) is a new message now, and takes the offset the failed one had
    alice.conn.input({ _ct: "send_message", r: "a", c: "lost", cid: "7" });
    alice.session.onReadable();
    clock.endTurn();
    await flush();
    store.appends[1]!.done();
    await flush();
    const got = said(bob, "user_message") as Array<Extract<Event, { _et: "user_message" }>>;
    assert.equal(got.length, 1);
    assert.equal(got[0]!.id, 1);
  });

  it("closes a quitting sender only after its held echo went out", async () => {
    const store = new ControlledStore();
    const { clock, connect } = await setup(store);
    const alice = await connect({ _ct: "join_room", r: "a" });
    alice.conn.input({ _ct: "send_message", r: "a", c: "bye" }, { _ct: "quit" });
    alice.session.onReadable();
    clock.endTurn();
    await flush();
    const closedEarly = alice.conn.closedWith;
    assert.equal(closedEarly, undefined, "not closed before its echo went out");
    store.appends[0]!.done();
    await flush();
    assert.equal(said(alice, "user_message").length, 1);
    assert.equal(alice.conn.closedWith?.code, "QUIT");
  });

  it("resumes with `gap` once retention dropped what the client missed, replaying from the oldest kept", async () => {
    const store = new MemoryStore();
    const clock = new ManualClock();
    const chat = new ChatServer({
      rooms: [{ name: "a", description: "room a" }],
      clock,
      store,
      retention: { maxMessages: 5, maxAgeMs: 0 },
      tailSize: 2,
    });
    await chat.start();
    const conn = new MemoryConnection();
    const s = (await chat.accept(conn))!;
    conn.input(
      { _ct: "hello" },
      { _ct: "join_room", r: "a" },
      ...Array.from({ length: 12 }, (_, i) => ({ _ct: "send_message", r: "a", c: `m${i}` })),
    );
    s.onReadable();
    clock.endTurn();
    await flush();
    clock.advance(10_000); // a retention step
    await flush();
    const r = new MemoryConnection();
    const resumer = (await chat.accept(r))!;
    r.input({ _ct: "hello" }, { _ct: "join_room", r: "a", o: 2 });
    resumer.onReadable();
    for (let i = 0; i < 5; i++) {
      clock.endTurn();
      await flush();
    }
    const joined = r.sent.find((e) => e._et === "user_joined_room") as Extract<
      Event,
      { _et: "user_joined_room" }
    >;
    assert.equal(joined.rs, "gap");
    assert.deepEqual(
      r.sent.filter((e) => e._et === "user_message").map((e) => (e as { id: number }).id),
      [8, 9, 10, 11, 12],
    );
  });
});
