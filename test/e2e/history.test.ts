// History and resume over real sockets: offsets, history pages, resume after a drop (exact, gap,
// reset), backlog on join, and replay that neither loses nor repeats while others keep sending.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Event } from "../../src/protocol/index.js";
import { startServer, WireClient, type TestServer } from "../helpers/harness.js";

type Msg = Extract<Event, { _et: "user_message" }>;
type Joined = Extract<Event, { _et: "user_joined_room" }>;
type History = Extract<Event, { _et: "history" }>;

const messages = (c: WireClient, room = "general"): Msg[] =>
  c.events.filter((e): e is Msg => e._et === "user_message" && e.r === room);

/** An extension client in `room`; returns it and the join's user_joined_room. */
async function member(server: TestServer, room = "general", join: object = {}) {
  const c = await WireClient.login(server.port);
  await c.hello();
  c.send({ _ct: "join_room", r: room, ...join });
  const joined = (await c.next((e) => e._et === "user_joined_room" && e.r === room)) as Joined;
  return { c, joined };
}

async function sendAll(c: WireClient, room: string, texts: string[]): Promise<void> {
  c.socket.write(
    texts.map((t) => JSON.stringify({ _ct: "send_message", r: room, c: t })).join("\n") + "\n",
  );
  await c.collect("user_message", messages(c, room).length + texts.length, 20_000);
}

const range = (n: number, prefix: string): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("history and resume", () => {
  it("gives every message an offset (id) increasing by one, and a join tells the epoch and latest offset", async () => {
    const server = await startServer();
    const { c: a, joined } = await member(server);
    assert.equal(typeof joined.e, "string");
    assert.equal(joined.o, 0);
    await sendAll(a, "general", range(5, "m"));
    assert.deepEqual(
      messages(a).map((m) => m.id),
      [1, 2, 3, 4, 5],
    );
    const { joined: later } = await member(server);
    assert.equal(later.e, joined.e);
    assert.equal(later.o, 5);
    a.close();
    await server.stop();
  });

  it("pages history backwards and forwards with exact bounds, and says when there is more", async () => {
    const server = await startServer();
    const { c } = await member(server);
    await sendAll(c, "general", range(120, "h"));
    c.send({ _ct: "history", r: "general", l: 50 });
    const latest = (await c.next("history")) as History;
    assert.deepEqual(
      latest.ms.map((m) => m.id),
      range(50, "").map((_, i) => 71 + i),
    );
    assert.equal(latest.more, true);
    assert.equal(latest.head, 120);
    assert.equal(latest.first, 1);
    c.send({ _ct: "history", r: "general", before: 71, l: 50 });
    const older = (await c.next("history")) as History;
    assert.deepEqual(older.ms.map((m) => m.id).at(0), 21);
    assert.deepEqual(older.ms.map((m) => m.id).at(-1), 70);
    c.send({ _ct: "history", r: "general", before: 21, l: 50 });
    const oldest = (await c.next("history")) as History;
    assert.equal(oldest.ms.length, 20);
    assert.equal(oldest.more, false);
    assert.equal(oldest.ms[0]!.c, "h0");
    c.send({ _ct: "history", r: "general", after: 100, l: 10 });
    const forward = (await c.next("history")) as History;
    assert.deepEqual(
      forward.ms.map((m) => m.id),
      [101, 102, 103, 104, 105, 106, 107, 108, 109, 110],
    );
    assert.equal(forward.more, true);
    c.send({ _ct: "history", r: "general", after: 115, l: 10 });
    const end = (await c.next("history")) as History;
    assert.equal(end.ms.length, 5);
    assert.equal(end.more, false);
    // every field of a message comes back as it was broadcast
    assert.deepEqual(end.ms.at(-1), messages(c).at(-1));
    c.close();
    await server.stop();
  });

  it("answers bad history and resume requests with a clear error and nothing else", async () => {
    const server = await startServer();
    const { c } = await member(server);
    await sendAll(c, "general", range(3, "x"));
    const cases: Array<[object, string]> = [
      [{ _ct: "history", r: "nowhere" }, "ROOM_NOT_FOUND"],
      [{ _ct: "history", r: "general", l: 201 }, "BAD_LIMIT"],
      [{ _ct: "history", r: "general", l: 0 }, "BAD_LIMIT"],
      [{ _ct: "history", r: "general", l: 2.5 }, "BAD_LIMIT"],
      [{ _ct: "history", r: "general", before: -1 }, "BAD_OFFSET"],
      [{ _ct: "history", r: "general", after: 1.5 }, "BAD_OFFSET"],
      [{ _ct: "history", r: "general", after: "3" }, "BAD_OFFSET"],
      [{ _ct: "history", r: "general", after: 4 }, "BAD_OFFSET"],
      [{ _ct: "history", r: "general", before: 5 }, "BAD_OFFSET"],
      [{ _ct: "history", r: "general", before: 2, after: 1 }, "BAD_COMMAND"],
      [{ _ct: "join_room", r: "rust", o: 99 }, "BAD_OFFSET"],
      [{ _ct: "join_room", r: "rust", o: -3 }, "BAD_OFFSET"],
      [{ _ct: "join_room", r: "rust", b: 500 }, "BAD_LIMIT"],
    ];
    for (const [cmd, code] of cases) {
      c.send(cmd);
      const err = await c.next("error");
      assert.equal(err._et === "error" && err.code, code, JSON.stringify(cmd));
    }
    // none of them joined anything or broke the session
    c.send({ _ct: "list_rooms" });
    await c.next("room_list");
    c.send({ _ct: "send_message", r: "rust", c: "not a member" });
    assert.equal(((await c.next("error")) as { code: string }).code, "NOT_IN_ROOM");
    c.close();
    await server.stop();
  });

  it("resumes a dropped client with exactly the messages it missed, then live, with no duplicate", async () => {
    const server = await startServer();
    const { c: sender } = await member(server);
    const { c: reader, joined } = await member(server);
    await sendAll(sender, "general", range(10, "before"));
    await reader.collect("user_message", 10);
    const last = messages(reader).at(-1)!.id!;
    reader.close(); // the network drops
    await sendAll(sender, "general", range(30, "missed"));
    const { c: back, joined: rejoined } = await member(server, "general", {
      o: last,
      e: joined.e,
    });
    assert.equal(rejoined.rs, "exact");
    assert.equal(rejoined.rp, 30);
    assert.equal(rejoined.o, 40);
    assert.deepEqual(
      messages(back).map((m) => m.c),
      range(30, "missed"),
    );
    await sendAll(sender, "general", ["live"]);
    await back.next((e) => e._et === "user_message" && e.c === "live");
    assert.deepEqual(
      messages(back).map((m) => m.id),
      range(31, "").map((_, i) => 11 + i),
    );
    sender.close();
    back.close();
    await server.stop();
  });

  it("replays 5,000 missed messages while others keep sending: the resumed stream has every offset once, in order", async () => {
    const server = await startServer({ limits: { ratePerSec: 1_000_000, rateBurst: 1_000_000 } });
    const { c: sender } = await member(server);
    const { c: other } = await member(server);
    const { joined } = await member(server);
    const pad = "p".repeat(300);
    await sendAll(sender, "general", range(5_000, `${pad} `));
    let sending = true;
    let n = 0;
    const pump = (async () => {
      while (sending) {
        sender.send({ _ct: "send_message", r: "general", c: `during ${n++}` });
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const { c: resumer, joined: rejoined } = await member(server, "general", { o: 0, e: joined.e });
    assert.equal(rejoined.rs, "exact");
    sending = false;
    await pump;
    const final = `after ${n}`;
    sender.send({ _ct: "send_message", r: "general", c: final });
    await resumer.next((e) => e._et === "user_message" && e.c === final, 20_000);
    const ids = messages(resumer).map((m) => m.id!);
    assert.equal(ids[0], 1);
    ids.forEach((id, i) => assert.equal(id, i + 1, `offset ${i + 1} delivered once, in order`));
    assert.equal(ids.length, 5_000 + n + 1);
    assert.equal(server.metrics.slowConsumers, 0);
    for (const c of [sender, other, resumer]) c.close();
    await server.stop();
  });

  it("says `gap` when the offset is older than what is retained, and `reset` for another epoch", async () => {
    const server = await startServer();
    const { c: sender, joined } = await member(server);
    await sendAll(sender, "general", range(10, "g"));
    const { joined: reset } = await member(server, "general", { o: 3, e: "not-this-epoch" });
    assert.equal(reset.rs, "reset");
    assert.equal(reset.rp, undefined);
    const { c: resumed, joined: exact } = await member(server, "general", { o: 7, e: joined.e });
    assert.equal(exact.rs, "exact");
    assert.deepEqual(
      messages(resumed).map((m) => m.id),
      [8, 9, 10],
    );
    sender.close();
    resumed.close();
    await server.stop();
  });

  it("replays the latest messages on a join with a backlog (b), then goes live", async () => {
    const server = await startServer();
    const { c: sender } = await member(server);
    await sendAll(sender, "general", range(30, "b"));
    const { c, joined } = await member(server, "general", { b: 10 });
    assert.equal(joined.rp, 10);
    assert.equal(joined.rs, undefined);
    assert.deepEqual(
      messages(c).map((m) => m.c),
      range(30, "b").slice(20),
    );
    sender.close();
    c.close();
    await server.stop();
  });

  it("an original client's join is unchanged: no replay, no extension fields", async () => {
    const server = await startServer();
    const { c: sender } = await member(server);
    await sendAll(sender, "general", range(3, "o"));
    const original = await WireClient.login(server.port);
    original.send({ _ct: "join_room", r: "general" });
    const joined = (await original.next("user_joined_room")) as Joined;
    assert.deepEqual(Object.keys(joined).sort(), ["_et", "r", "us"]);
    assert.equal(messages(original).length, 0);
    sender.close();
    original.close();
    await server.stop();
  });
});
