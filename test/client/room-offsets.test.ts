import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RoomOffsets } from "../../clients/lib/room-offsets.js";

describe("RoomOffsets", () => {
  it("drops what was passed on, resumes after the newer of that and the join's o", () => {
    const o = new RoomOffsets();
    assert.equal(o.isNew("r", 1), true, "nothing known: everything is new");
    o.live("r", "E", 10, 0);
    assert.deepEqual(o.get("r"), { epoch: "E", last: 10, seen: 0 });
    o.saw("r", 11);
    o.saw("r", 12);
    assert.equal(o.isNew("r", 12), false);
    assert.equal(o.isNew("r", 13), true);
    assert.equal(o.get("r")!.last, 12);
  });

  it("never takes a message the app did not get for a duplicate, even at or below a join's o", () => {
    // A join's o may count an offset whose message is then withdrawn and given to the next one.
    const o = new RoomOffsets();
    o.live("r", "E", 5, 0);
    assert.equal(o.isNew("r", 5), true);
    o.saw("r", 5);
    assert.equal(o.isNew("r", 5), false);
  });

  it("starts over in a new epoch, and forgets on demand", () => {
    const o = new RoomOffsets();
    o.live("r", "E", 40, 40);
    o.live("r", "F", 3, 0);
    assert.deepEqual(o.get("r"), { epoch: "F", last: 3, seen: 0 });
    assert.equal(o.isNew("r", 1), true);
    o.forget("r");
    assert.equal(o.get("r"), undefined);
  });
});
