import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Backoff } from "../../clients/lib/backoff.js";

describe("Backoff", () => {
  it("doubles the delay ceiling per attempt until the cap, then stays there", () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1_000, factor: 2 }, () => 0.999999);
    const delays = Array.from({ length: 8 }, () => b.next());
    assert.deepEqual(delays, [99, 199, 399, 799, 999, 999, 999, 999]);
  });

  it("draws each delay uniformly below the ceiling (full jitter)", () => {
    const draws = [0, 0.25, 0.5];
    const b = new Backoff({ baseMs: 1_000, maxMs: 60_000 }, () => draws.shift()!);
    assert.deepEqual([b.next(), b.next(), b.next()], [0, 500, 2_000]);
  });

  it("never overflows for huge attempt numbers", () => {
    const b = new Backoff({ baseMs: 250, maxMs: 30_000 });
    assert.equal(b.ceiling(10_000), 30_000);
  });

  it("starts over from the base after reset", () => {
    const b = new Backoff({ baseMs: 100, maxMs: 10_000 }, () => 0.5);
    b.next();
    b.next();
    b.reset();
    assert.equal(b.next(), 50);
  });
});
