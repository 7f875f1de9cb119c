import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TokenBucket } from "../../src/core/index.js";

describe("TokenBucket", () => {
  it("allows a burst of its capacity, then one token per 1/rate seconds", () => {
    const b = new TokenBucket(10, 3, 0);
    assert.deepEqual([b.take(0), b.take(0), b.take(0)], [0, 0, 0]);
    assert.equal(b.take(0), 100);
    assert.equal(b.take(50), 50);
    assert.equal(b.take(100), 0);
  });

  it("never holds more than its capacity however long it rests", () => {
    const b = new TokenBucket(1000, 2, 0);
    b.take(0);
    b.take(0);
    const waits = [b.take(60_000), b.take(60_000), b.take(60_000)];
    assert.deepEqual(
      waits.map((w) => w > 0),
      [false, false, true],
    );
  });
});
