// Several chat servers in one process as the nodes of one cluster: a MemoryBus hub for the bus,
// one MemoryStore shared as PostgreSQL would be. The same contract runs against Redis and
// PostgreSQL in real processes in test/e2e/cluster.test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryBus, MemoryBusHub } from "../../src/bus/memory-bus.js";
import { MemoryDirectory, MemoryDirectoryHub } from "../../src/bus/memory-directory.js";
import { ChatServer, CounterMetrics } from "../../src/core/index.js";
import type { Event } from "../../src/protocol/index.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { eventually } from "../bus/contract.js";
import { MemoryConnection } from "../helpers/memory-connection.js";

type Msg = Extract<Event, { _et: "user_message" }>;

const ROOMS = [
  { name: "a", description: "room a" },
  { name: "b", description: "room b" },
];

async function cluster(n: number) {
  const hub = new MemoryBusHub();
  const directories = new MemoryDirectoryHub();
  const store = new MemoryStore();
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const bus = new MemoryBus(hub);
    const metrics = new CounterMetrics();
    const chat = new ChatServer({
      rooms: ROOMS,
      store,
      metrics,
      cluster: {
        bus,
        nodeId: `node${i}`,
        directory: new MemoryDirectory(directories, `node${i}`, 300),
        reapEveryMs: 100,
      },
      limits: { ratePerSec: 1_000_000, rateBurst: 1_000_000 },
    });
    await chat.start();
    nodes.push({ chat, bus, metrics, directory: directoryOf(chat) });
  }
  return nodes;
}

/** The node's directory, to kill it (its heartbeat stops, as with kill -9). */
function directoryOf(chat: ChatServer): MemoryDirectory {
  return (chat as unknown as { ctx: { presence: { directory: MemoryDirectory } } }).ctx.presence
    .directory;
}

async function user(chat: ChatServer, ...commands: object[]) {
  const conn = new MemoryConnection();
  const session = (await chat.accept(conn))!;
  conn.input({ _ct: "hello" }, ...commands);
  session.onReadable();
  return {
    conn,
    session,
    send(...cmds: object[]) {
      conn.input(...cmds);
      session.onReadable();
    },
    messages: (room = "a") =>
      conn.sent.filter((e): e is Msg => e._et === "user_message" && e.r === room),
  };
}

const joined = (u: { conn: MemoryConnection }, room = "a") =>
  u.conn.sent.some((e) => e._et === "user_joined_room" && e.r === room);

describe("ClusterLog (nodes in one process)", () => {
  it("gives a room one order on every node, offsets gap-free, whoever sends from where", async () => {
    const [a, b] = await cluster(2);
    const alice = await user(a!.chat, { _ct: "join_room", r: "a" });
    const bob = await user(b!.chat, { _ct: "join_room", r: "a" });
    await eventually(() => joined(alice) && joined(bob), 5_000, "both joined");
    for (let i = 0; i < 100; i++) {
      alice.send({ _ct: "send_message", r: "a", c: `alice ${i}` });
      bob.send({ _ct: "send_message", r: "a", c: `bob ${i}` });
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await eventually(
      () => alice.messages().length === 200 && bob.messages().length === 200,
      10_000,
      "200 messages on both nodes",
    );
    const ids = (u: typeof alice) => u.messages().map((m) => m.id);
    assert.deepEqual(
      ids(alice),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    assert.deepEqual(ids(bob), ids(alice));
    assert.deepEqual(
      bob.messages().map((m) => m.c),
      alice.messages().map((m) => m.c),
      "the same order everywhere",
    );
    // each sender's own messages in the order it sent them
    assert.deepEqual(
      alice
        .messages()
        .filter((m) => m.c.startsWith("bob"))
        .map((m) => m.c),
      Array.from({ length: 100 }, (_, i) => `bob ${i}`),
    );
  });

  it("sends a node no traffic for a room it has no member in", async () => {
    const [a, b, c] = await cluster(3);
    const alice = await user(a!.chat, { _ct: "join_room", r: "a" });
    const bob = await user(b!.chat, { _ct: "join_room", r: "a" });
    const carol = await user(c!.chat, { _ct: "join_room", r: "b" });
    await eventually(() => joined(alice) && joined(bob) && joined(carol, "b"));
    const before = c!.metrics.busMessages;
    for (let i = 0; i < 20; i++) alice.send({ _ct: "send_message", r: "a", c: `m${i}` });
    await eventually(() => bob.messages().length === 20);
    assert.equal(c!.metrics.busMessages, before, "node 2 received nothing for room a");
    assert.equal(carol.messages().length, 0);
    // and once its member leaves, a node stops receiving the room
    bob.send({ _ct: "leave_room", r: "a" });
    await new Promise((r) => setTimeout(r, 20));
    const bBefore = b!.metrics.busMessages;
    for (let i = 0; i < 5; i++) alice.send({ _ct: "send_message", r: "a", c: `late ${i}` });
    await eventually(() => alice.messages().length === 25);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(b!.metrics.busMessages, bBefore);
  });

  it("shows a member who joins or leaves on another node", async () => {
    const [a, b] = await cluster(2);
    const alice = await user(a!.chat, { _ct: "join_room", r: "a" });
    await eventually(() => joined(alice));
    const bob = await user(b!.chat, { _ct: "join_room", r: "a" });
    await eventually(() =>
      alice.conn.sent.some(
        (e) => e._et === "room_participation" && e.u === bob.session.userId && e.s === "joined",
      ),
    );
    bob.send({ _ct: "quit" });
    await eventually(() =>
      alice.conn.sent.some(
        (e) => e._et === "room_participation" && e.u === bob.session.userId && e.s === "left",
      ),
    );
  });

  it("repairs from the store what a node missed while the bus was down, in order", async () => {
    const [a, b] = await cluster(2);
    const alice = await user(a!.chat, { _ct: "join_room", r: "a" });
    const bob = await user(b!.chat, { _ct: "join_room", r: "a" });
    await eventually(() => joined(alice) && joined(bob));
    alice.send({ _ct: "send_message", r: "a", c: "before" });
    await eventually(() => bob.messages().length === 1);
    b!.bus.down();
    for (let i = 0; i < 10; i++) alice.send({ _ct: "send_message", r: "a", c: `during ${i}` });
    await eventually(() => alice.messages().length === 11, 5_000, "alice's own node delivers");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(bob.messages().length, 1, "nothing reached bob's node meanwhile");
    b!.bus.upAgain();
    await eventually(() => bob.messages().length === 11, 5_000, "repaired");
    assert.deepEqual(
      bob.messages().map((m) => m.id),
      Array.from({ length: 11 }, (_, i) => i + 1),
    );
    assert.ok(b!.metrics.busRepairs >= 10);
  });

  it("resumes a client on another node from the shared store", async () => {
    const [a, b] = await cluster(2);
    const sender = await user(a!.chat, { _ct: "join_room", r: "a" });
    const reader = await user(a!.chat, { _ct: "join_room", r: "a" });
    await eventually(() => joined(sender) && joined(reader));
    for (let i = 0; i < 30; i++) sender.send({ _ct: "send_message", r: "a", c: `m${i}` });
    await eventually(() => reader.messages().length === 30);
    const epoch = (
      reader.conn.sent.find((e) => e._et === "user_joined_room") as { e: string } | undefined
    )?.e;
    // the reader's node dies after it saw 10; it comes back on node b
    const moved = await user(b!.chat, { _ct: "join_room", r: "a", o: 10, e: epoch });
    await eventually(() => joined(moved));
    const j = moved.conn.sent.find((e) => e._et === "user_joined_room") as Extract<
      Event,
      { _et: "user_joined_room" }
    >;
    assert.equal(j.rs, "exact");
    assert.deepEqual(
      moved.messages().map((m) => m.id),
      Array.from({ length: 20 }, (_, i) => i + 11),
    );
  });

  it("lists members, counts and names over the whole cluster", async () => {
    const [a, b] = await cluster(2);
    const alice = await user(
      a!.chat,
      { _ct: "set_name", n: "alice" },
      { _ct: "join_room", r: "a" },
    );
    await eventually(() => joined(alice));
    const bob = await user(b!.chat, { _ct: "set_name", n: "bob" }, { _ct: "join_room", r: "a" });
    await eventually(() => joined(bob));
    const j = bob.conn.sent.find((e) => e._et === "user_joined_room") as Extract<
      Event,
      { _et: "user_joined_room" }
    >;
    assert.deepEqual(j.ms!.map((m) => m.n).sort(), ["alice", "bob"], "bob sees alice on node 0");
    await eventually(() =>
      alice.conn.sent.some(
        (e) => e._et === "room_participation" && e.n === "bob" && e.s === "joined",
      ),
    );
    alice.send({ _ct: "list_members", r: "a" });
    await eventually(() => alice.conn.sent.some((e) => e._et === "room_members"));
    const rm = alice.conn.sent.find((e) => e._et === "room_members") as Extract<
      Event,
      { _et: "room_members" }
    >;
    assert.deepEqual(rm.ms.map((m) => m.n).sort(), ["alice", "bob"]);
    alice.send({ _ct: "list_rooms" });
    await eventually(() => alice.conn.sent.some((e) => e._et === "room_list"));
    const rl = alice.conn.sent.find((e) => e._et === "room_list") as Extract<
      Event,
      { _et: "room_list" }
    >;
    assert.equal(rl.rs.find((r) => r.n === "a")!.m, 2);
    // a name taken on one node is taken on every node, case-insensitively
    const carol = await user(b!.chat, { _ct: "set_name", n: "ALICE" });
    await eventually(() => carol.conn.sent.some((e) => e._et === "error"));
    assert.equal(
      (carol.conn.sent.find((e) => e._et === "error") as { code: string }).code,
      "NAME_TAKEN",
    );
    // a rename is seen on the other node, and the old name is free again
    alice.send({ _ct: "set_name", n: "alicia" });
    await eventually(() =>
      bob.conn.sent.some((e) => e._et === "user_renamed" && e.n === "alicia" && e.o === "alice"),
    );
    carol.send({ _ct: "set_name", n: "alice" });
    await eventually(() =>
      carol.conn.sent.some((e) => e._et === "user_renamed" && e.n === "alice"),
    );
  });

  it("drops a dead node's users from presence within a bounded time, and their rooms see them leave", async () => {
    const [a, b] = await cluster(2);
    const alice = await user(a!.chat, { _ct: "join_room", r: "a" });
    const bob = await user(b!.chat, { _ct: "set_name", n: "bob" }, { _ct: "join_room", r: "a" });
    await eventually(() => joined(alice) && joined(bob));
    await eventually(() =>
      alice.conn.sent.some((e) => e._et === "room_participation" && e.n === "bob"),
    );
    // node 1 dies: no goodbye, its heartbeat just stops
    b!.directory.kill();
    b!.bus.down();
    const killedAt = Date.now();
    await eventually(
      () =>
        alice.conn.sent.some(
          (e) => e._et === "room_participation" && e.u === bob.session.userId && e.s === "left",
        ),
      5_000,
      "bob seen leaving",
    );
    const took = Date.now() - killedAt;
    assert.ok(took < 2_000, `dropped after ${took} ms (ttl 300 ms, reaping every 100 ms)`);
    alice.send({ _ct: "list_members", r: "a" });
    await eventually(() => alice.conn.sent.some((e) => e._et === "room_members"));
    const rm = alice.conn.sent.find((e) => e._et === "room_members") as Extract<
      Event,
      { _et: "room_members" }
    >;
    assert.deepEqual(
      rm.ms.map((m) => m.u),
      [alice.session.userId],
    );
    // and its name is free again
    const bob2 = await user(a!.chat, { _ct: "set_name", n: "bob" });
    await eventually(() => bob2.conn.sent.some((e) => e._et === "user_renamed" && e.n === "bob"));
  });

  it("catches a lagging node up with the store before a join goes live", async () => {
    const [a, b] = await cluster(2);
    const alice = await user(a!.chat, { _ct: "join_room", r: "a" });
    const bob = await user(b!.chat, { _ct: "join_room", r: "a" });
    await eventually(() => joined(alice) && joined(bob));
    b!.bus.down(); // node 1 lags: what node 0 commits does not reach it
    for (let i = 0; i < 10; i++) alice.send({ _ct: "send_message", r: "a", c: `m${i}` });
    await eventually(() => alice.messages().length === 10);
    assert.equal(bob.messages().length, 0);
    // someone joins on node 1, resuming from the start: it must get all ten before it is live
    const carol = await user(b!.chat, { _ct: "join_room", r: "a", o: 0 });
    await eventually(() => joined(carol), 5_000, "carol live");
    const j = carol.conn.sent.find((e) => e._et === "user_joined_room") as Extract<
      Event,
      { _et: "user_joined_room" }
    >;
    assert.equal(j.o, 10);
    assert.deepEqual(
      carol.messages().map((m) => m.c),
      Array.from({ length: 10 }, (_, i) => `m${i}`),
    );
  });
});
