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
