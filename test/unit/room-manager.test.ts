import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChatError, RoomManager } from "../../src/core/index.js";

describe("RoomManager", () => {
  const specs = [
    { name: "one", description: "first" },
    { name: "two", description: "second" },
  ];

  it("keeps rooms in definition order, with the login room list built once", () => {
    const m = new RoomManager(specs);
    assert.deepEqual(
      [...m.rooms()].map((r) => r.name),
      ["one", "two"],
    );
    assert.deepEqual(m.infos, [
      { n: "one", d: "first" },
      { n: "two", d: "second" },
    ]);
    assert.equal(m.infos, m.infos);
  });

  it("rejects a duplicate room name", () => {
    assert.throws(
      () => new RoomManager([...specs, { name: "one", description: "again" }]),
      /duplicate room name "one"/,
    );
  });

  it("answers an unknown room with ROOM_NOT_FOUND naming the room", () => {
    const m = new RoomManager(specs);
    assert.equal(m.find("three"), undefined);
    assert.throws(
      () => m.get("three"),
      (e: unknown) => e instanceof ChatError && e.code === "ROOM_NOT_FOUND" && e.room === "three",
    );
  });

  it("numbers each room's messages independently, from 1", () => {
    const m = new RoomManager(specs);
    const [a, b] = [m.get("one"), m.get("two")];
    assert.deepEqual([a.nextMessageId(), a.nextMessageId(), b.nextMessageId()], [1, 2, 1]);
  });
});

describe("RoomManager.replace (rooms reload)", () => {
  const specs = [
    { name: "one", description: "first" },
    { name: "two", description: "second" },
    { name: "three", description: "third" },
  ];

  it("keeps the Room objects of kept rooms, adds new ones, reports removed and changed ones", () => {
    const m = new RoomManager(specs);
    const one = m.get("one");
    const two = m.get("two");
    const before = m.infos;
    const change = m.replace([
      { name: "four", description: "fourth" },
      { name: "two", description: "second, renewed" },
      { name: "one", description: "first" },
    ]);
    assert.deepEqual(
      change.added.map((r) => r.name),
      ["four"],
    );
    assert.deepEqual(
      change.removed.map((r) => r.name),
      ["three"],
    );
    assert.deepEqual(change.changed, [two]);
    assert.equal(m.get("one"), one, "the same room: its members stay");
    assert.equal(two.description, "second, renewed");
    assert.equal(m.find("three"), undefined);
    assert.notEqual(m.infos, before, "the login room list is rebuilt");
    assert.deepEqual(m.infos, [
      { n: "four", d: "fourth" },
      { n: "two", d: "second, renewed" },
      { n: "one", d: "first" },
    ]);
  });

  it("changes nothing when the new set repeats a name", () => {
    const m = new RoomManager(specs);
    assert.throws(
      () =>
        m.replace([
          { name: "x", description: "" },
          { name: "x", description: "" },
        ]),
      /duplicate room name "x"/,
    );
    assert.deepEqual(
      [...m.rooms()].map((r) => r.name),
      ["one", "two", "three"],
    );
  });

  it("says which rooms a set would add without changing anything", () => {
    const m = new RoomManager(specs);
    assert.deepEqual(
      m.wouldAdd([
        { name: "two", description: "" },
        { name: "new", description: "" },
      ]),
      ["new"],
    );
    assert.equal(m.size, 3);
  });
});
