/**
 * The MessageStore contract: one suite that every backend passes (memory, SQLite, PostgreSQL).
 * Each backend's test file calls `messageStoreContract` with a factory for fresh stores.
 */
import { afterEach, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { MessageStore, StoredMessage } from "../../src/core/index.js";

export interface StoreFactory {
  /** a new store on new, empty data */
  create(): Promise<MessageStore>;
  /** another store on the data of the last `create()`, as after a restart (durable backends) */
  reopen?(): Promise<MessageStore>;
}

const T0 = 1_700_000_000_000;

function msg(room: string, offset: number, extra: Partial<StoredMessage> = {}): StoredMessage {
  return {
    room,
    offset,
    ts: T0 + offset * 1000,
    user: `u${offset % 7}`,
    name: `User ${offset % 7}`,
    text: `message ${offset} of ${room}`,
    ...extra,
  };
}

/** messages `from`..`to` (inclusive) of `room` */
function run(room: string, from: number, to: number): StoredMessage[] {
  const out: StoredMessage[] = [];
  for (let o = from; o <= to; o++) out.push(msg(room, o));
  return out;
}

async function appendInBatches(
  store: MessageStore,
  messages: StoredMessage[],
  size: number,
): Promise<void> {
  for (let i = 0; i < messages.length; i += size) await store.append(messages.slice(i, i + size));
}

const offsets = (ms: readonly StoredMessage[]): number[] => ms.map((m) => m.offset);
const span = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

const badBatch = { name: "StoreError", code: "STORE_BAD_BATCH" };

export function messageStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name} (MessageStore contract)`, () => {
    const live: MessageStore[] = [];
    const create = async (): Promise<MessageStore> => {
      const store = await factory.create();
      live.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of live.splice(0)) await store.close();
    });

    describe("streams", () => {
      it("creates each new room's stream with its own epoch, head 0 and first 1", async () => {
        const store = await create();
        const states = await store.open(["a", "b"]);
        assert.deepEqual([...states.keys()], ["a", "b"]);
        const a = states.get("a")!;
        const b = states.get("b")!;
        assert.equal(typeof a.epoch, "string");
        assert.ok(a.epoch.length >= 16, `epoch "${a.epoch}" is at least 16 characters`);
        assert.notEqual(a.epoch, b.epoch);
        assert.deepEqual({ head: a.head, first: a.first }, { head: 0, first: 1 });
        assert.deepEqual({ head: b.head, first: b.first }, { head: 0, first: 1 });
      });

      it("returns the same streams when opened again, and creates rooms added later", async () => {
        const store = await create();
        const before = await store.open(["a"]);
        await store.append(run("a", 1, 3));
        const after = await store.open(["a", "c"]);
        assert.deepEqual(after.get("a"), { epoch: before.get("a")!.epoch, head: 3, first: 1 });
        const c = after.get("c")!;
        assert.notEqual(c.epoch, before.get("a")!.epoch);
        assert.deepEqual({ head: c.head, first: c.first }, { head: 0, first: 1 });
        assert.equal((await store.open([])).size, 0);
      });

      it("agrees on one epoch when a room is opened by concurrent calls", async () => {
        const store = await create();
        const [x, y] = await Promise.all([store.open(["a", "b"]), store.open(["b", "a"])]);
        assert.equal(x.get("a")!.epoch, y.get("a")!.epoch);
        assert.equal(x.get("b")!.epoch, y.get("b")!.epoch);
      });

      it("gives a new store new epochs", async () => {
        const one = await (await create()).open(["a"]);
        const two = await (await create()).open(["a"]);
        assert.notEqual(one.get("a")!.epoch, two.get("a")!.epoch);
      });

      const reopen = factory.reopen?.bind(factory);
      if (reopen !== undefined) {
        const reopened = async (): Promise<MessageStore> => {
          const store = await reopen();
          live.push(store);
          return store;
        };

        it("keeps epochs and heads when reopened, and offsets continue", async () => {
          const first = await create();
          const states = await first.open(["a", "b"]);
          await first.append(run("a", 1, 5));
          await first.close();
          const second = await reopened();
          const again = await second.open(["a", "b"]);
          assert.deepEqual(again.get("a"), { epoch: states.get("a")!.epoch, head: 5, first: 1 });
          assert.deepEqual(again.get("b"), { epoch: states.get("b")!.epoch, head: 0, first: 1 });
          await assert.rejects(second.append([msg("a", 5)]), badBatch);
          await second.append([msg("a", 6)]);
          assert.deepEqual(offsets(await second.readAfter("a", 0, 100)), [1, 2, 3, 4, 5, 6]);
        });

        it("keeps a room's head when reopened after retention removed every message", async () => {
          const first = await create();
          const { epoch } = (await first.open(["a"])).get("a")!;
          await first.append(run("a", 1, 4));
          assert.deepEqual(await first.trim("a", { maxMessages: 0, maxAgeMs: 1 }, T0 + 1e9, 100), {
            deleted: 4,
            first: 5,
          });
          await first.close();
          const second = await reopened();
          assert.deepEqual((await second.open(["a"])).get("a"), { epoch, head: 4, first: 5 });
          await assert.rejects(second.append([msg("a", 4)]), badBatch);
          await second.append([msg("a", 5)]);
          assert.deepEqual(offsets(await second.readAfter("a", 0, 10)), [5]);
        });
      }
    });

    describe("append and read", () => {
      it("round-trips every field, with cid and key present or absent", async () => {
        const store = await create();
        await store.open(["r", "é 部屋 🏠"]);
        const long = "long ✓ ".repeat(600);
        const batch: StoredMessage[] = [
          msg("r", 1, {
            text: "héllo wörld — 你好 — مرحبا — 👋🏽 👨‍👩‍👧 — e\u0301",
            cid: "c-1",
            key: "k-1",
          }),
          msg("r", 2, {
            text: 'quotes " \' backslash \\ braces {a,"b"} [1] NULL',
            name: 'Zoë "Z" O\'Neil',
          }),
          msg("r", 3, { text: "line\nbreak\ttab\r\u0001\u001b[31m\u007f", cid: "NULL", key: "{}" }),
          msg("r", 4, { text: long, user: "", name: "" }),
          msg("r", 5, { text: "", cid: "only-cid" }),
          msg("r", 6, { text: "k", key: "only-key", ts: 0 }),
          msg("é 部屋 🏠", 1, { text: "room names are text too", ts: 8_640_000_000_000_000 }),
        ];
        await store.append(batch);
        const got = [
          ...(await store.readAfter("r", 0, 100)),
          ...(await store.readAfter("é 部屋 🏠", 0, 100)),
        ];
        assert.deepEqual(got, batch);
        for (const m of got) {
          assert.equal(typeof m.offset, "number");
          assert.equal(typeof m.ts, "number");
        }
        assert.ok(!("cid" in got[1]!) && !("key" in got[1]!), "absent cid and key stay absent");
        assert.ok(!("key" in got[4]!) && !("cid" in got[5]!));
        // the store keeps its own copy: changing what was appended or read changes nothing stored
        batch[0]!.text = "changed";
        got[1]!.text = "changed";
        const again = await store.readAfter("r", 0, 2);
        assert.notEqual(again[0]!.text, "changed");
        assert.notEqual(again[1]!.text, "changed");
      });

      it("stores U+0000 and unpaired surrogates as U+FFFD, and keeps the rest of the batch", async () => {
        const store = await create();
        await store.open(["r"]);
        await store.append([
          msg("r", 1, { text: "a\u0000b", cid: "c\u0000", key: "k\ud800" }),
          msg("r", 2, { text: "x\ud800y\udfffz 😀", name: "n\u0000" }),
          msg("r", 3),
        ]);
        const got = await store.readAfter("r", 0, 10);
        assert.deepEqual(
          got.map((m) => [m.text, m.name, m.cid, m.key]),
          [
            ["a\uFFFDb", "User 1", "c\uFFFD", "k\uFFFD"],
            ["x\uFFFDy\uFFFDz 😀", "n\uFFFD", undefined, undefined],
            ["message 3 of r", "User 3", undefined, undefined],
          ],
        );
      });

      it("reads forwards in pages over 3,000 messages with exact boundaries", async () => {
        const store = await create();
        await store.open(["a", "b"]);
        const a = run("a", 1, 3000);
        const b = run("b", 1, 3000);
        const mixed = a.flatMap((m, i) => [m, b[i]!]);
        await appendInBatches(store, mixed, 1000);
        const pages: number[] = [];
        let after = 0;
        for (;;) {
          const page = await store.readAfter("a", after, 250);
          if (page.length === 0) break;
          assert.ok(page.length <= 250);
          assert.ok(page.every((m) => m.room === "a"));
          pages.push(...offsets(page));
          after = page.at(-1)!.offset;
        }
        assert.deepEqual(pages, span(1, 3000));
        assert.deepEqual(await store.readAfter("a", 0, 2), a.slice(0, 2));
        assert.deepEqual(offsets(await store.readAfter("a", 1500, 3)), [1501, 1502, 1503]);
        assert.deepEqual(offsets(await store.readAfter("a", 2999, 10)), [3000]);
        assert.deepEqual(await store.readAfter("a", 3000, 10), []);
        assert.deepEqual(offsets(await store.readAfter("b", -5, 2)), [1, 2]);
      });

      it("reads backwards in pages with exact boundaries, each page oldest first", async () => {
        const store = await create();
        await store.open(["a"]);
        await appendInBatches(store, run("a", 1, 3000), 700);
        assert.deepEqual(offsets(await store.readBefore("a", 3001, 250)), span(2751, 3000));
        const seen: number[] = [];
        let before = 1e12;
        for (;;) {
          const page = await store.readBefore("a", before, 400);
          if (page.length === 0) break;
          assert.deepEqual(offsets(page), span(page[0]!.offset, page[0]!.offset + page.length - 1));
          seen.unshift(...offsets(page));
          before = page[0]!.offset;
        }
        assert.deepEqual(seen, span(1, 3000));
        assert.deepEqual(offsets(await store.readBefore("a", 1500, 3)), [1497, 1498, 1499]);
        assert.deepEqual(offsets(await store.readBefore("a", 2, 10)), [1]);
        assert.deepEqual(await store.readBefore("a", 1, 10), []);
      });

      it("returns at most limit messages, and none for a limit of 0 or less", async () => {
        const store = await create();
        await store.open(["a"]);
        await store.append(run("a", 1, 20));
        assert.equal((await store.readAfter("a", 0, 7)).length, 7);
        assert.equal((await store.readBefore("a", 21, 7)).length, 7);
        assert.deepEqual(await store.readAfter("a", 0, 0), []);
        assert.deepEqual(await store.readBefore("a", 21, 0), []);
        assert.deepEqual(await store.readAfter("a", 0, -1), []);
        assert.deepEqual(await store.readBefore("a", 21, -1), []);
        assert.equal((await store.readAfter("a", 0, 1000)).length, 20);
      });

      it("reads across gaps in offsets", async () => {
        const store = await create();
        await store.open(["a"]);
        await store.append([msg("a", 1), msg("a", 2)]);
        await store.append([msg("a", 5), msg("a", 9)]);
        const big = 2 ** 40; // beyond 32 bits, still exact as a JS number
        await store.append([msg("a", big)]);
        assert.deepEqual(offsets(await store.readAfter("a", 2, 10)), [5, 9, big]);
        assert.deepEqual(offsets(await store.readAfter("a", 3, 1)), [5]);
        assert.deepEqual(offsets(await store.readBefore("a", 9, 10)), [1, 2, 5]);
        assert.deepEqual(offsets(await store.readBefore("a", big + 1, 1)), [big]);
        assert.deepEqual((await store.open(["a"])).get("a")!.head, big);
      });

      it("reads nothing from a room it does not know", async () => {
        const store = await create();
        await store.open(["a"]);
        await store.append(run("a", 1, 3));
        assert.deepEqual(await store.readAfter("nowhere", 0, 10), []);
        assert.deepEqual(await store.readBefore("nowhere", 100, 10), []);
        assert.deepEqual(await store.trim("nowhere", { maxMessages: 1, maxAgeMs: 1 }, T0 * 2, 10), {
          deleted: 0,
          first: 1,
        });
      });

      it("appends a 5,000-message batch in one call", async (t: TestContext) => {
        const store = await create();
        await store.open(["a"]);
        await store.append([msg("a", 1)]); // the first write opens files and prepares statements
        const batch = run("a", 2, 5001).map((m) => ({ ...m, cid: `c${m.offset}`, key: "k" }));
        const started = performance.now();
        await store.append(batch);
        const ms = performance.now() - started;
        t.diagnostic(`${name}: appended 5,000 messages in one batch in ${ms.toFixed(1)} ms`);
        assert.equal((await store.open(["a"])).get("a")!.head, 5001);
        const back = await store.readAfter("a", 1, 10_000);
        assert.deepEqual(back, batch);
      });

      it("commits 300 small batches one after another", async (t: TestContext) => {
        const store = await create();
        await store.open(["a", "b"]);
        const started = performance.now();
        for (let i = 0; i < 300; i++) {
          await store.append([msg("a", 2 * i + 1), msg("b", i + 1), msg("a", 2 * i + 2)]);
        }
        const ms = performance.now() - started;
        t.diagnostic(
          `${name}: 300 batches of 3 messages committed one after another in ${ms.toFixed(1)} ms (${Math.round((300 * 1000) / ms)} commits/s)`,
        );
        const states = await store.open(["a", "b"]);
        assert.equal(states.get("a")!.head, 600);
        assert.equal(states.get("b")!.head, 300);
        assert.deepEqual(offsets(await store.readAfter("a", 0, 1000)), span(1, 600));
      });
    });

    describe("batches are all or nothing", () => {
      it("rejects a batch whose offsets repeat or go back within a room, and writes none of it", async () => {
        const store = await create();
        await store.open(["a"]);
        await assert.rejects(store.append([msg("a", 1), msg("a", 2), msg("a", 2)]), badBatch);
        await assert.rejects(store.append([msg("a", 1), msg("a", 3), msg("a", 2)]), badBatch);
        await assert.rejects(store.append([msg("a", 0)]), badBatch);
        assert.deepEqual(await store.readAfter("a", 0, 10), []);
        assert.deepEqual((await store.open(["a"])).get("a")!.head, 0);
      });

      it("rejects a batch with an offset at or below a room's head, writing nothing in any room", async () => {
        const store = await create();
        await store.open(["a", "b"]);
        await store.append([...run("a", 1, 5), ...run("b", 1, 2)]);
        // the stale room first, then last: either way the other room's part is not written
        await assert.rejects(store.append([msg("a", 5), msg("a", 6), msg("b", 3)]), badBatch);
        await assert.rejects(
          store.append([msg("b", 3), msg("b", 4), msg("a", 4), msg("a", 6)]),
          badBatch,
        );
        const states = await store.open(["a", "b"]);
        assert.equal(states.get("a")!.head, 5);
        assert.equal(states.get("b")!.head, 2);
        assert.deepEqual(offsets(await store.readAfter("a", 0, 10)), [1, 2, 3, 4, 5]);
        assert.deepEqual(offsets(await store.readAfter("b", 0, 10)), [1, 2]);
        await store.append([msg("b", 3), msg("a", 6)]);
        assert.deepEqual(offsets(await store.readAfter("b", 0, 10)), [1, 2, 3]);
      });

      it("rejects a batch for a room that was never opened, writing none of it", async () => {
        const store = await create();
        await store.open(["a"]);
        await assert.rejects(store.append([msg("a", 1), msg("never-opened", 1)]), badBatch);
        assert.deepEqual(await store.readAfter("a", 0, 10), []);
        assert.deepEqual(await store.readAfter("never-opened", 0, 10), []);
      });

      it("accepts an empty batch", async () => {
        const store = await create();
        await store.open(["a"]);
        await store.append([]);
        assert.equal((await store.open(["a"])).get("a")!.head, 0);
      });
    });

    describe("appendNext (offsets given by the store)", () => {
      const unnumbered = (room: string, text: string) => {
        const { offset: _, ...rest } = msg(room, 1, { text });
        return rest;
      };

      it("numbers each room's messages on from its head, in batch order", async () => {
        const store = await create();
        await store.open(["a", "b"]);
        await store.append(run("a", 1, 3));
        const offs = await store.appendNext([
          unnumbered("a", "a4"),
          unnumbered("b", "b1"),
          unnumbered("a", "a5"),
          unnumbered("b", "b2"),
        ]);
        assert.deepEqual(offs, [4, 1, 5, 2]);
        assert.deepEqual(
          (await store.readAfter("a", 3, 10)).map((m) => [m.offset, m.text]),
          [
            [4, "a4"],
            [5, "a5"],
          ],
        );
        const states = await store.open(["a", "b"]);
        assert.equal(states.get("a")!.head, 5);
        assert.equal(states.get("b")!.head, 2);
        assert.deepEqual(await store.appendNext([unnumbered("b", "b3")]), [3]);
        assert.deepEqual(await store.appendNext([]), []);
      });

      it("rejects a batch for a room that was never opened, writing none of it", async () => {
        const store = await create();
        await store.open(["a"]);
        await assert.rejects(
          store.appendNext([unnumbered("a", "kept out"), unnumbered("nowhere", "x")]),
          badBatch,
        );
        assert.deepEqual(await store.readAfter("a", 0, 10), []);
        assert.deepEqual(await store.appendNext([unnumbered("a", "first")]), [1]);
      });
    });

    describe("retention", () => {
      it("keeps a room's head when trimming removes every message", async () => {
        const store = await create();
        await store.open(["a"]);
        await store.append(run("a", 1, 10));
        const now = T0 + 1e9;
        assert.deepEqual(await store.trim("a", { maxMessages: 0, maxAgeMs: 1 }, now, 100), {
          deleted: 10,
          first: 11,
        });
        assert.deepEqual(await store.readAfter("a", 0, 100), []);
        assert.deepEqual(await store.readBefore("a", 100, 100), []);
        const state = (await store.open(["a"])).get("a")!;
        assert.deepEqual({ head: state.head, first: state.first }, { head: 10, first: 11 });
        await assert.rejects(store.append([msg("a", 10)]), badBatch);
        await store.append([msg("a", 11)]);
        assert.equal((await store.open(["a"])).get("a")!.first, 11);
      });

      it("trims by count in bounded steps, oldest first", async () => {
        const store = await create();
        await store.open(["a", "b"]);
        await appendInBatches(store, [...run("a", 1, 1000), ...run("b", 1, 50)], 2000);
        const policy = { maxMessages: 100, maxAgeMs: 0 };
        const now = T0 + 1e12; // age is not a bound here, however old the messages are
        const steps = [];
        for (let i = 0; i < 5; i++) steps.push(await store.trim("a", policy, now, 300));
        assert.deepEqual(steps, [
          { deleted: 300, first: 301 },
          { deleted: 300, first: 601 },
          { deleted: 300, first: 901 },
          { deleted: 0, first: 901 },
          { deleted: 0, first: 901 },
        ]);
        assert.deepEqual(offsets(await store.readAfter("a", 0, 2000)), span(901, 1000));
        const state = (await store.open(["a", "b"])).get("a")!;
        assert.deepEqual({ head: state.head, first: state.first }, { head: 1000, first: 901 });
        assert.equal((await store.readAfter("b", 0, 100)).length, 50, "another room is untouched");
      });

      it("trims by age in bounded steps, keeping a message exactly at the bound", async () => {
        const store = await create();
        await store.open(["a"]);
        await store.append(run("a", 1, 1000)); // ts = T0 + offset s
        const now = T0 + 1_000_000;
        const policy = { maxMessages: 0, maxAgeMs: 400_000 }; // keep ts >= T0 + 600 s
        const steps = [];
        for (let i = 0; i < 4; i++) steps.push(await store.trim("a", policy, now, 250));
        assert.deepEqual(steps, [
          { deleted: 250, first: 251 },
          { deleted: 250, first: 501 },
          { deleted: 99, first: 600 },
          { deleted: 0, first: 600 },
        ]);
        assert.deepEqual(offsets(await store.readAfter("a", 0, 2)), [600, 601]);
      });

      it("drops what either bound drops", async () => {
        const store = await create();
        await store.open(["count", "age"]);
        await store.append([...run("count", 1, 100), ...run("age", 1, 100)]);
        const now = T0 + 100_000;
        // count keeps 20 (drops 1..80); age keeps ts >= T0 + 50 s (drops 1..49)
        const policy = { maxMessages: 20, maxAgeMs: 50_000 };
        assert.deepEqual(await store.trim("count", policy, now, 1000), { deleted: 80, first: 81 });
        // count keeps 90 (drops 1..10); age drops 1..49
        const loose = { maxMessages: 90, maxAgeMs: 50_000 };
        assert.deepEqual(await store.trim("age", loose, now, 1000), { deleted: 49, first: 50 });
      });

      it("stops an age trim at the first message the policy keeps", async () => {
        const store = await create();
        await store.open(["a"]);
        const old = T0;
        const recent = T0 + 1_000_000;
        await store.append([
          msg("a", 1, { ts: old }),
          msg("a", 2, { ts: old }),
          msg("a", 3, { ts: recent }),
          msg("a", 4, { ts: old }),
        ]);
        const policy = { maxMessages: 0, maxAgeMs: 10_000 };
        assert.deepEqual(await store.trim("a", policy, recent + 1, 100), { deleted: 2, first: 3 });
        assert.deepEqual(offsets(await store.readAfter("a", 0, 10)), [3, 4]);
      });

      it("trims nothing when both bounds are 0 or maxRows is 0", async () => {
        const store = await create();
        await store.open(["a"]);
        await store.append(run("a", 1, 10));
        const now = T0 + 1e12;
        assert.deepEqual(await store.trim("a", { maxMessages: 0, maxAgeMs: 0 }, now, 100), {
          deleted: 0,
          first: 1,
        });
        assert.deepEqual(await store.trim("a", { maxMessages: 1, maxAgeMs: 1 }, now, 0), {
          deleted: 0,
          first: 1,
        });
        assert.deepEqual(await store.trim("a", { maxMessages: 10, maxAgeMs: 0 }, now, 100), {
          deleted: 0,
          first: 1,
        });
        assert.equal((await store.readAfter("a", 0, 100)).length, 10);
      });
    });

    describe("recentWithClientIds", () => {
      it("lists messages with both a client key and a cid sent since a time, oldest first", async () => {
        const store = await create();
        await store.open(["a", "b"]);
        const ids = { cid: "c", key: "k" };
        await store.append([
          msg("a", 1, { ...ids, ts: T0 - 1 }),
          msg("a", 2, { ...ids, cid: "a2", ts: T0 }),
          msg("b", 1, { ...ids, cid: "b1", ts: T0 + 5 }),
          msg("a", 3, { ts: T0 + 1 }),
          msg("a", 4, { cid: "only-cid", ts: T0 + 2 }),
          msg("b", 2, { key: "only-key", ts: T0 + 3 }),
          msg("a", 5, { ...ids, cid: "a5", ts: T0 + 4 }),
          msg("b", 3, { ...ids, cid: "b3", key: "k2", ts: T0 + 4 }),
        ]);
        const got = await store.recentWithClientIds(T0, 100);
        assert.deepEqual(
          got.map((m) => [m.room, m.offset, m.cid, m.key, m.ts]),
          [
            ["a", 2, "a2", "k", T0],
            ["a", 5, "a5", "k", T0 + 4],
            ["b", 3, "b3", "k2", T0 + 4],
            ["b", 1, "b1", "k", T0 + 5],
          ],
        );
        assert.deepEqual(got[0], msg("a", 2, { ...ids, cid: "a2", ts: T0 }));
        assert.deepEqual(await store.recentWithClientIds(T0 + 6, 100), []);
        assert.deepEqual(await store.recentWithClientIds(T0, 0), []);
      });

      it("returns the newest `limit` of them, oldest first, when there are more", async () => {
        const store = await create();
        await store.open(["a"]);
        await store.append(run("a", 1, 50).map((m) => ({ ...m, cid: `c${m.offset}`, key: "k" })));
        const got = await store.recentWithClientIds(0, 5);
        assert.deepEqual(offsets(got), [46, 47, 48, 49, 50]);
      });
    });

    describe("lifecycle", () => {
      it("answers ping", async () => {
        const store = await create();
        await store.ping();
        await store.open(["a"]);
        await store.ping();
      });

      it("rejects every call after close with STORE_CLOSED, and closes twice without error", async () => {
        const store = await create();
        await store.open(["a"]);
        await store.append([msg("a", 1)]);
        await store.close();
        await store.close();
        const closed = { name: "StoreError", code: "STORE_CLOSED" };
        await assert.rejects(store.open(["a"]), closed);
        await assert.rejects(store.append([msg("a", 2)]), closed);
        await assert.rejects(store.readAfter("a", 0, 10), closed);
        await assert.rejects(store.readBefore("a", 10, 10), closed);
        await assert.rejects(store.recentWithClientIds(0, 10), closed);
        await assert.rejects(store.trim("a", { maxMessages: 1, maxAgeMs: 0 }, T0, 10), closed);
        await assert.rejects(store.ping(), closed);
        await assert.rejects(store.append([]), closed);
        await assert.rejects(store.readAfter("a", 0, 10), (err: Error) =>
          err.message.includes(store.description),
        );
      });

      it("describes itself without credentials", async () => {
        const store = await create();
        assert.ok(store.description.length > 0);
        assert.doesNotMatch(store.description, /password|secret|@/);
      });
    });
  });
}
