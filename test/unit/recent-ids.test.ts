import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RecentIds } from "../../src/core/dedup.js";
import type { UserMessageEvent } from "../../src/protocol/index.js";
import { ManualClock } from "../helpers/manual-clock.js";

const msg = (c: string): UserMessageEvent => ({ _et: "user_message", r: "general", u: "u1", c });

describe("RecentIds", () => {
  it("returns the event remembered for a key and cid, and nothing for another key", () => {
    const ids = new RecentIds(new ManualClock());
    ids.remember("k1", "1", msg("hello"), 10);
    assert.equal(ids.get("k1", "1")?.c, "hello");
    assert.equal(ids.get("k2", "1"), undefined);
    assert.equal(ids.get("k1", "2"), undefined);
  });

  it("forgets an id once its TTL has passed", () => {
    const clock = new ManualClock();
    const ids = new RecentIds(clock, { ttlMs: 1_000 });
    ids.remember("k", "1", msg("a"), 10);
    clock.advance(999);
    assert.ok(ids.get("k", "1"));
    clock.advance(1);
    assert.equal(ids.get("k", "1"), undefined);
    assert.equal(ids.size, 0);
  });

  it("keeps at most maxPerKey ids per key, dropping the oldest", () => {
    const ids = new RecentIds(new ManualClock(), { maxPerKey: 3 });
    for (const cid of ["1", "2", "3", "4"]) ids.remember("k", cid, msg(cid), 10);
    assert.equal(ids.get("k", "1"), undefined);
    assert.deepEqual(
      ["2", "3", "4"].map((c) => ids.get("k", c)?.c),
      ["2", "3", "4"],
    );
  });

  it("bounds all keys together, taking from the least recently active key first", () => {
    const ids = new RecentIds(new ManualClock(), { maxEntries: 3 });
    ids.remember("old", "1", msg("o1"), 10);
    ids.remember("new", "1", msg("n1"), 10);
    ids.remember("old", "2", msg("o2"), 10); // "old" is now the most recently active
    ids.remember("new", "2", msg("n2"), 10);
    assert.equal(ids.size, 3);
    assert.equal(ids.get("old", "1"), undefined);
    assert.ok(ids.get("old", "2") && ids.get("new", "1") && ids.get("new", "2"));
  });

  it("bounds the cached characters whatever the entry count", () => {
    const ids = new RecentIds(new ManualClock(), { maxChars: 250 });
    for (let i = 0; i < 5; i++) ids.remember("k", String(i), msg("x"), 100);
    assert.equal(ids.size, 2);
  });

  it("expires an idle key's ids while other keys are active", () => {
    const clock = new ManualClock();
    const ids = new RecentIds(clock, { ttlMs: 1_000 });
    ids.remember("idle", "1", msg("a"), 10);
    clock.advance(2_000);
    ids.remember("busy", "1", msg("b"), 10);
    assert.equal(ids.size, 1);
  });

  it("does not track ids longer than maxIdChars", () => {
    const ids = new RecentIds(new ManualClock(), { maxIdChars: 4 });
    ids.remember("k", "12345", msg("a"), 10);
    assert.equal(ids.size, 0);
  });

  it("expires ids reloaded out of time order by their own times", () => {
    const clock = new ManualClock();
    clock.advance(10_000);
    const ids = new RecentIds(clock, { ttlMs: 1_000 });
    ids.remember("k", "new", msg("a"), 10); // at 10,000
    ids.remember("k", "old", msg("b"), 10, 9_500); // reloaded: older, but after it
    clock.advance(600); // "old" is 1,100 ms old, "new" 600
    assert.equal(ids.get("k", "old"), undefined);
    assert.ok(ids.get("k", "new"));
    clock.advance(500);
    ids.remember("k2", "x", msg("c"), 10); // the sweep of the idle key "k" drops "new" too
    assert.equal(ids.size, 1);
  });
});
