import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EncodedEvent } from "../../src/protocol/index.js";
import type { StoredMessage } from "../../src/core/ports.js";
import { type LogEntry, RoomStream } from "../../src/core/room-stream.js";
import { toEvent } from "../../src/core/stored-event.js";

function entry(offset: number, text = `m${offset}`): LogEntry {
  const msg: StoredMessage = {
    room: "general",
    offset,
    ts: 1_000 + offset,
    user: "u1",
    name: "ann",
    text,
  };
  return { msg, event: new EncodedEvent(toEvent(msg)), sender: undefined };
}

describe("RoomStream tail", () => {
  it("keeps committed entries as their message only, replaying the very JSON that was broadcast", () => {
    const s = new RoomStream("general", "e1", 0, 1);
    const sent = [entry(1), entry(2, "héllo \u{1F600}"), entry(3)];
    for (const e of sent) s.push(e);
    s.head = 3;
    s.committed = 2;
    s.evict(10);
    const tail = s.tailFrom(1);
    assert.equal(tail.length, 3);
    // committed: a new, lighter entry (the broadcast objects are no longer held) with the same bytes
    for (const i of [0, 1]) {
      assert.notEqual(tail[i], sent[i]);
      assert.notEqual(tail[i]!.event, sent[i]!.event);
      assert.equal(tail[i]!.event.json, sent[i]!.event.json);
      assert.deepEqual(Buffer.from(tail[i]!.event.line), Buffer.from(sent[i]!.event.line));
      assert.equal(tail[i]!.sender, undefined);
    }
    // not yet committed: the very entry, whose event can still be withdrawn by identity
    assert.equal(tail[2], sent[2]);
    s.committed = 3;
    s.evict(2);
    assert.deepEqual(
      s.tailFrom(2).map((e) => e.msg.offset),
      [2, 3],
    );
    assert.notEqual(s.tailFrom(3)[0], sent[2]);
    assert.equal(s.tailFrom(3)[0]!.event.json, sent[2]!.event.json);
  });

  it("rolls back uncommitted entries after some were retained, and retains again past them", () => {
    const s = new RoomStream("general", "e1", 0, 1);
    s.push(entry(1));
    s.head = s.committed = 1;
    s.evict(10);
    s.push(entry(2));
    s.push(entry(3));
    s.head = 3;
    s.rollback();
    assert.equal(s.head, 1);
    assert.deepEqual(
      s.tailFrom(1).map((e) => e.msg.offset),
      [1],
    );
    const again = entry(2, "again");
    s.push(again);
    s.head = s.committed = 2;
    s.evict(10);
    assert.equal(s.tailFrom(2)[0]!.event.json, again.event.json);
    assert.equal(s.tailFirst, 1);
  });
});
