import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { ROOMS, startServer, WireClient, type TestServer } from "../helpers/harness.js";
import { ORIGINAL_EVENTS, type Event } from "../../src/protocol/index.js";

describe("TCP line protocol: original commands and events", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it("sends login_successful first, with a 21-char session id, a 5-char user id and the rooms in file order", async () => {
    const c = await WireClient.connect(server.port);
    const e = await c.next(() => true);
    assert.equal(e._et, "login_successful");
    if (e._et !== "login_successful") return;
    assert.match(e.s, /^[A-Za-z0-9_-]{21}$/);
    assert.match(e.u, /^[A-Za-z0-9_-]{5}$/);
    assert.deepEqual(
      e.rs,
      ROOMS.map((r) => ({ n: r.name, d: r.description })),
    );
    assert.equal(e.rs.length, 24);
    c.close();
  });

  it("answers join_room with user_joined_room to the joiner, then room_participation joined to every member", async () => {
    const a = await WireClient.login(server.port);
    const b = await WireClient.login(server.port);
    await a.join("rust");
    b.send({ _ct: "join_room", r: "rust" });
    const reply = await b.next("user_joined_room");
    assert.equal(reply._et === "user_joined_room" && reply.r, "rust");
    assert.deepEqual(
      reply._et === "user_joined_room" && [...reply.us].sort(),
      [a.userId, b.userId].sort(),
    );
    // the reply comes before the broadcast
    const joinedB = await b.next("room_participation");
    assert.deepEqual(pick(joinedB), {
      _et: "room_participation",
      r: "rust",
      u: b.userId,
      s: "joined",
    });
    const seenByA = await a.next((e) => e._et === "room_participation" && e.u === b.userId);
    assert.equal(seenByA._et === "room_participation" && seenByA.s, "joined");
    a.close();
    b.close();
  });

  it("delivers a message to every member of the room, the sender included, and to nobody else", async () => {
    const a = await WireClient.login(server.port);
    const b = await WireClient.login(server.port);
    const outsider = await WireClient.login(server.port);
    await a.join("ml");
    await b.join("ml");
    await outsider.join("ai");
    a.send({ _ct: "send_message", r: "ml", c: "hello ml" });
    for (const c of [a, b]) {
      const m = await c.next("user_message");
      assert.deepEqual(pick(m), { _et: "user_message", r: "ml", u: a.userId, c: "hello ml" });
      if (m._et !== "user_message") return;
      assert.equal(typeof m.id, "number");
      assert.equal(typeof m.ts, "number");
      assert.equal(m.n, a.userId);
    }
    outsider.send({ _ct: "send_message", r: "ai", c: "marker" });
    await outsider.next("user_message");
    assert.equal(outsider.events.filter((e) => e._et === "user_message").length, 1);
    for (const c of [a, b, outsider]) c.close();
  });

  it("numbers messages per room, increasing by one", async () => {
    const a = await WireClient.login(server.port);
    await a.join("hardware");
    for (let i = 0; i < 3; i++) a.send({ _ct: "send_message", r: "hardware", c: `m${i}` });
    const msgs = await a.collect("user_message", 3);
    const ids = msgs.map((m) => (m._et === "user_message" ? m.id! : -1));
    assert.deepEqual(ids, [ids[0]!, ids[0]! + 1, ids[0]! + 2]);
    a.close();
  });

  it("leave_room: members and the leaver see left, and the leaver receives nothing more from that room", async () => {
    const a = await WireClient.login(server.port);
    const b = await WireClient.login(server.port);
    await a.join("gaming");
    await b.join("gaming");
    b.send({ _ct: "leave_room", r: "gaming" });
    for (const c of [a, b]) {
      const left = await c.next((e) => e._et === "room_participation" && e.s === "left");
      assert.deepEqual(pick(left), {
        _et: "room_participation",
        r: "gaming",
        u: b.userId,
        s: "left",
      });
    }
    a.send({ _ct: "send_message", r: "gaming", c: "after" });
    await a.next("user_message");
    b.send({ _ct: "join_room", r: "ai" }); // a round trip proves b's stream is up to date
    await b.next("user_joined_room");
    assert.equal(
      b.events.some((e) => e._et === "user_message"),
      false,
    );
    a.close();
    b.close();
  });

  it("quit closes the connection and every room the user was in sees it leave", async () => {
    const a = await WireClient.login(server.port);
    const b = await WireClient.login(server.port);
    await a.join("design");
    await a.join("security");
    await b.join("design");
    await b.join("security");
    b.send({ _ct: "quit" });
    await b.closed;
    const lefts = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const e = await a.next(
        (x) => x._et === "room_participation" && x.s === "left" && x.u === b.userId,
      );
      if (e._et === "room_participation") lefts.add(e.r);
    }
    assert.deepEqual([...lefts].sort(), ["design", "security"]);
    a.close();
  });

  it("an abrupt disconnect leaves no ghost: members see left and the member list no longer has the user", async () => {
    const a = await WireClient.login(server.port);
    const b = await WireClient.login(server.port);
    await a.join("robotics");
    await b.join("robotics");
    b.close();
    await a.next((e) => e._et === "room_participation" && e.s === "left" && e.u === b.userId);
    const c = await WireClient.login(server.port);
    c.send({ _ct: "join_room", r: "robotics" });
    const reply = await c.next("user_joined_room");
    assert.deepEqual(
      reply._et === "user_joined_room" && [...reply.us].sort(),
      [a.userId, c.userId].sort(),
    );
    a.close();
    c.close();
  });

  it("merges the events of all of a session's rooms into one stream in the order they happened", async () => {
    const reader = await WireClient.login(server.port);
    const writer = await WireClient.login(server.port);
    const onlyFirst = await WireClient.login(server.port);
    for (const r of ["startups", "freelance"]) {
      await reader.join(r);
      await writer.join(r);
    }
    await onlyFirst.join("startups");
    const sent: string[] = [];
    for (let i = 0; i < 200; i++) {
      const room = i % 3 === 0 ? "freelance" : "startups";
      writer.send({ _ct: "send_message", r: room, c: `${room}:${i}` });
      sent.push(`${room}:${i}`);
    }
    const got = await reader.collect("user_message", 200);
    assert.deepEqual(
      got.map((e) => (e._et === "user_message" ? e.c : "")),
      sent,
    );
    const firstOnly = await onlyFirst.collect(
      "user_message",
      sent.filter((s) => s.startsWith("startups")).length,
    );
    assert.ok(firstOnly.every((e) => e._et === "user_message" && e.r === "startups"));
    for (const c of [reader, writer, onlyFirst]) c.close();
  });

  it("never sends an original client an event type it does not know", async () => {
    const a = await WireClient.login(server.port);
    await a.join("networking");
    a.send({ _ct: "join_room", r: "networking" }); // double join: an error, but not for an original client
    a.send({ _ct: "join_room", r: "no-such-room" });
    a.sendRaw("{not json");
    a.send({ _ct: "dance" });
    a.send({ _ct: "send_message", r: "networking", c: "still here" });
    await a.next("user_message");
    assert.ok(
      a.events.every((e) => ORIGINAL_EVENTS.has(e._et)),
      JSON.stringify(a.events.map((e) => e._et)),
    );
    a.close();
  });
});

describe("TCP line protocol: extensions", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it("hello opts in and chooses a display name, carried on later events", async () => {
    const a = await WireClient.login(server.port);
    const welcome = await a.hello("alice");
    assert.equal(welcome._et === "welcome" && welcome.n, "alice");
    assert.equal(welcome._et === "welcome" && welcome.u, a.userId);
    await a.join("general");
    a.send({ _ct: "send_message", r: "general", c: "hi" });
    const m = await a.next("user_message");
    assert.equal(m._et === "user_message" && m.n, "alice");
    a.close();
  });

  it("refuses a display name another connected user holds, case-insensitively", async () => {
    const a = await WireClient.login(server.port);
    await a.hello("bob");
    const b = await WireClient.login(server.port);
    await b.hello();
    b.send({ _ct: "set_name", n: "BOB" });
    const err = await b.next("error");
    assert.equal(err._et === "error" && err.code, "NAME_TAKEN");
    b.send({ _ct: "set_name", n: "has space" });
    const bad = await b.next("error");
    assert.equal(bad._et === "error" && bad.code, "NAME_INVALID");
    a.close();
    await a.closed;
    // once bob disconnects, the name is free again
    await waitFor(async () => {
      b.send({ _ct: "set_name", n: "bob" });
      const e = await b.next((x) => x._et === "user_renamed" || x._et === "error");
      return e._et === "user_renamed";
    });
    b.close();
  });

  it("tells room mates about a rename with user_renamed", async () => {
    const a = await WireClient.login(server.port);
    const b = await WireClient.login(server.port);
    await a.hello();
    await b.hello();
    await a.join("os-dev");
    await b.join("os-dev");
    b.send({ _ct: "set_name", n: "carol" });
    const e = await a.next("user_renamed");
    assert.deepEqual(e, { _et: "user_renamed", u: b.userId, n: "carol", o: b.userId });
    a.close();
    b.close();
  });

  it("answers list_rooms with member counts and list_members with ids and names", async () => {
    const a = await WireClient.login(server.port);
    await a.hello("dora");
    await a.join("databases");
    a.send({ _ct: "list_rooms" });
    const list = await a.next("room_list");
    assert.equal(list._et === "room_list" && list.rs.length, 24);
    assert.deepEqual(list._et === "room_list" && list.rs.find((r) => r.n === "databases"), {
      n: "databases",
      d: "Database management and SQL",
      m: 1,
    });
    a.send({ _ct: "list_members", r: "databases" });
    const members = await a.next("room_members");
    assert.deepEqual(members, {
      _et: "room_members",
      r: "databases",
      ms: [{ u: a.userId, n: "dora" }],
    });
    a.close();
  });

  it("answers ping with pong echoing the token", async () => {
    const a = await WireClient.login(server.port);
    a.send({ _ct: "ping", t: "abc" });
    const pong = await a.next("pong");
    assert.equal(pong._et === "pong" && pong.t, "abc");
    assert.equal(pong._et === "pong" && typeof pong.ts, "number");
    a.close();
  });

  it("echoes the client message id on the message", async () => {
    const a = await WireClient.login(server.port);
    await a.hello();
    await a.join("ai");
    a.send({ _ct: "send_message", r: "ai", c: "x", cid: "c-1" });
    const m = await a.next("user_message");
    assert.equal(m._et === "user_message" && m.cid, "c-1");
    a.close();
  });
});

function pick(e: Event): Record<string, unknown> {
  const { _et } = e;
  const o = e as unknown as Record<string, unknown>;
  const keys =
    _et === "user_message" ? ["r", "u", "c"] : _et === "room_participation" ? ["r", "u", "s"] : [];
  return Object.fromEntries([["_et", _et], ...keys.map((k) => [k, o[k]])]) as Record<
    string,
    unknown
  >;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
