import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Logger } from "../../src/core/index.js";
import { PostgresStore } from "../../src/store/postgres-store.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { messageStoreContract } from "./contract.js";

// A private cluster on a free port (fsync off: these tests are about behaviour, not power loss).
// If PostgreSQL cannot start, before() throws and every test here fails with its message.
let pg: TestPostgres;
let n = 0;
let lastUrl = "";
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.stop();
});

messageStoreContract("PostgresStore", {
  async create() {
    lastUrl = await pg.createDatabase(`contract_${++n}`);
    return new PostgresStore({ url: lastUrl });
  },
  reopen: () => Promise.resolve(new PostgresStore({ url: lastUrl })),
});

const message = (offset: number) => ({
  room: "a",
  offset,
  ts: 1_700_000_000_000 + offset,
  user: "u",
  name: "n",
  text: `m${offset}`,
});

/** a Logger that keeps its warnings */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => {},
    info: () => {},
    warn: (_obj, msg) => warnings.push(msg ?? ""),
    error: (_obj, msg) => warnings.push(msg ?? ""),
  };
}

describe("PostgresStore", () => {
  it("creates its schema once when several nodes start at the same time", async () => {
    const url = await pg.createDatabase("nodes");
    const nodes = Array.from({ length: 4 }, () => new PostgresStore({ url }));
    try {
      const states = await Promise.all(nodes.map((s) => s.open(["a", "b", "c"])));
      for (const room of ["a", "b", "c"]) {
        assert.equal(
          new Set(states.map((s) => s.get(room)!.epoch)).size,
          1,
          `one epoch for ${room}`,
        );
      }
      await nodes[0]!.append([message(1)]);
      await assert.rejects(nodes[1]!.append([message(1)]), { code: "STORE_BAD_BATCH" });
      assert.deepEqual(
        (await nodes[2]!.readAfter("a", 0, 10)).map((m) => m.offset),
        [1],
      );
    } finally {
      await Promise.all(nodes.map((s) => s.close()));
    }
  });

  it("gives four nodes appending to the same rooms at once each offset exactly once, without a gap", async () => {
    const url = await pg.createDatabase("sequencing");
    const nodes = Array.from({ length: 4 }, () => new PostgresStore({ url }));
    try {
      for (const n of nodes) await n.open(["a", "b"]);
      const got = await Promise.all(
        nodes.map(async (n, i) => {
          const mine: Array<[string, number]> = [];
          for (let k = 0; k < 25; k++) {
            const batch = ["a", "b", "a"].map((room) => ({
              room,
              ts: 1_700_000_000_000,
              user: `n${i}`,
              name: `n${i}`,
              text: `${i}-${k}`,
            }));
            const offs = await n.appendNext(batch);
            batch.forEach((m, j) => mine.push([m.room, offs[j]!]));
          }
          return mine;
        }),
      );
      for (const room of ["a", "b"]) {
        const all = got
          .flat()
          .filter(([r]) => r === room)
          .map(([, o]) => o)
          .sort((x, y) => x - y);
        const want = room === "a" ? 200 : 100;
        assert.deepEqual(
          all,
          Array.from({ length: want }, (_, i) => i + 1),
          `room ${room}`,
        );
        assert.equal((await nodes[0]!.readAfter(room, 0, 1_000)).length, want);
      }
    } finally {
      for (const n of nodes) await n.close();
    }
  });

  it("rejects calls with STORE_UNAVAILABLE while PostgreSQL is down, and works again once it is back", async () => {
    const url = await pg.createDatabase("outage");
    const logger = recordingLogger();
    const store = new PostgresStore({ url, logger });
    try {
      await store.open(["a"]);
      await store.append([message(1), message(2)]);
      await Promise.all([store.readAfter("a", 0, 10), store.readAfter("a", 0, 10)]); // two idle connections
      await pg.takeDown();
      const unavailable = (err: Error & { code?: string }): boolean => {
        assert.equal(err.code, "STORE_UNAVAILABLE");
        assert.match(
          err.message,
          /^postgres:\/\/127\.0\.0\.1:\d+\/outage: PostgreSQL unavailable \(.+\)/,
        );
        return true;
      };
      await assert.rejects(store.append([message(3)]), unavailable);
      await assert.rejects(store.readAfter("a", 0, 10), unavailable);
      await assert.rejects(store.readBefore("a", 10, 10), unavailable);
      await assert.rejects(store.open(["a"]), unavailable);
      await assert.rejects(
        store.trim("a", { maxMessages: 1, maxAgeMs: 0 }, Date.now(), 10),
        unavailable,
      );
      await assert.rejects(store.ping(), unavailable);
      assert.ok(
        logger.warnings.some((w) => w.includes("PostgreSQL closed an idle connection")),
        `the pool's error event was handled and logged: ${JSON.stringify(logger.warnings)}`,
      );
      await pg.bringUp();
      await store.ping();
      await store.append([message(3)]);
      assert.deepEqual(
        (await store.readAfter("a", 0, 10)).map((m) => m.offset),
        [1, 2, 3],
      );
      assert.equal((await store.open(["a"])).get("a")!.head, 3);
    } finally {
      await pg.bringUp().catch(() => {}); // already up unless an assertion failed while it was down
      await store.close();
    }
  });

  it("creates its schema on a later call when PostgreSQL was down at the first", async () => {
    const url = await pg.createDatabase("late");
    const store = new PostgresStore({ url });
    try {
      await pg.takeDown();
      await assert.rejects(store.open(["a"]), { code: "STORE_UNAVAILABLE" });
      await pg.bringUp();
      const state = (await store.open(["a"])).get("a")!;
      assert.deepEqual({ head: state.head, first: state.first }, { head: 0, first: 1 });
      await store.append([message(1)]);
    } finally {
      await pg.bringUp().catch(() => {});
      await store.close();
    }
  });

  it("rejects with STORE_UNAVAILABLE, naming the cause, when nothing listens at the address", async () => {
    const store = new PostgresStore({
      url: `postgres://postgres@127.0.0.1:1/none`,
      connectTimeoutMs: 2000,
    });
    try {
      await assert.rejects(store.open(["a"]), (err: Error & { code?: string }) => {
        assert.equal(err.code, "STORE_UNAVAILABLE");
        assert.match(err.message, /ECONNREFUSED/);
        return true;
      });
    } finally {
      await store.close();
    }
  });

  it("describes itself as postgres://host:port/database, without user or password", async () => {
    const store = new PostgresStore({
      url: "postgres://parley:s3cret@db.example:6543/chat?sslmode=require",
    });
    assert.equal(store.description, "postgres://db.example:6543/chat");
    await store.close();
  });
});
