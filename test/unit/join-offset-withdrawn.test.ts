// Server finding (reported by the clients' work): a join's `o` counts an offset whose commit
// then fails. The message is withdrawn and its offset given to the next message, which a client
// resuming from `o` (as docs/protocol.md says it may) takes for one it already has.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChatServer, CounterMetrics } from "../../src/core/index.js";
import type { StoredMessage } from "../../src/core/index.js";
import type { Event } from "../../src/protocol/index.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { MemoryConnection } from "../helpers/memory-connection.js";

class ControlledStore extends MemoryStore {
  readonly appends: Array<{ done: () => void; fail: () => void }> = [];
  override append(batch: readonly StoredMessage[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.appends.push({
        done: () => void super.append(batch).then(resolve, reject),
        fail: () => reject(new Error("disk full")),
      });
    });
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

type Msg = Extract<Event, { _et: "user_message" }>;
type Joined = Extract<Event, { _et: "user_joined_room" }>;

describe("user_joined_room `o` and a failed commit", () => {
  it("never counts an offset whose commit fails (the next message, which takes it, is after `o`)", async () => {
    const store = new ControlledStore();
    const clock = new ManualClock();
    const chat = new ChatServer({
      rooms: [{ name: "a", description: "room a" }],
      limits: {},
      clock,
      metrics: new CounterMetrics(),
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
    const alice = await connect({ _ct: "join_room", r: "a" });
    // alice's message is accepted (offset 1) but not durable yet when carol joins
    alice.conn.input({ _ct: "send_message", r: "a", c: "lost", cid: "1" });
    alice.session.onReadable();
    const carol = await connect({ _ct: "join_room", r: "a" });
    store.appends[0]!.fail();
    await flush();
    clock.advance(1_000); // the store is reopened
    await flush();
    alice.conn.input({ _ct: "send_message", r: "a", c: "next", cid: "2" });
    alice.session.onReadable();
    clock.endTurn();
    await flush();
    store.appends[1]!.done();
    await flush();
    const joined = carol.conn.sent.find((e): e is Joined => e._et === "user_joined_room")!;
    const next = carol.conn.sent.find((e): e is Msg => e._et === "user_message");
    assert.ok(next !== undefined, "carol gets the next message");
    assert.ok(next.id! > joined.o!, `next message id ${next.id} is after the join's o ${joined.o}`);
  });
});
