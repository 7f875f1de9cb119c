import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStore } from "../../src/store/memory-store.js";
import { StoreSettingError, openStore, parseStoreSetting } from "../../src/store/open-store.js";
import { PostgresStore } from "../../src/store/postgres-store.js";
import { SqliteStore } from "../../src/store/sqlite-store.js";

describe("parseStoreSetting", () => {
  it("reads off, memory, sqlite with and without a path, and postgres URLs", () => {
    assert.deepEqual(parseStoreSetting("off"), { kind: "off" });
    assert.deepEqual(parseStoreSetting(" memory "), { kind: "memory" });
    assert.deepEqual(parseStoreSetting("sqlite"), {
      kind: "sqlite",
      path: "data/parley.db",
      synchronous: "normal",
    });
    assert.deepEqual(parseStoreSetting("sqlite:"), {
      kind: "sqlite",
      path: "data/parley.db",
      synchronous: "normal",
    });
    assert.deepEqual(parseStoreSetting("sqlite:/var/lib/parley/h.db"), {
      kind: "sqlite",
      path: "/var/lib/parley/h.db",
      synchronous: "normal",
    });
    assert.deepEqual(parseStoreSetting("sqlite:rel/h.db?sync=full"), {
      kind: "sqlite",
      path: "rel/h.db",
      synchronous: "full",
    });
    assert.deepEqual(parseStoreSetting("sqlite:?sync=normal"), {
      kind: "sqlite",
      path: "data/parley.db",
      synchronous: "normal",
    });
    assert.deepEqual(parseStoreSetting("postgres://u:p@db:5432/chat"), {
      kind: "postgres",
      url: "postgres://u:p@db:5432/chat",
    });
    assert.deepEqual(parseStoreSetting("postgresql://db/chat"), {
      kind: "postgres",
      url: "postgresql://db/chat",
    });
    assert.deepEqual(parseStoreSetting("postgres:///chat?host=/run/postgresql"), {
      kind: "postgres",
      url: "postgres:///chat?host=/run/postgresql",
    });
  });

  it("rejects a bad setting with a message that says what is accepted", () => {
    const cases: [string, RegExp][] = [
      ["", /"" is not a store: use sqlite\[:PATH\]\[\?sync=full\], postgres:\/\/.*, memory or off/],
      ["mysql://db/chat", /"mysql:\/\/db\/chat" is not a store: use sqlite/],
      ["sqlite:x.db?sync=extra", /sync must be normal or full, not "extra"/],
      ["sqlite:x.db?journal=wal", /unknown parameter "journal"/],
      ["sqlite://x.db", /write sqlite:PATH/],
      ["postgres://", /has no host/],
      ["postgres://user:hunter2@:5432/db", /the PostgreSQL URL is not valid/],
      ["postgres:///db", /"postgres:\/\/\/db" has no host/],
    ];
    for (const [value, message] of cases) {
      assert.throws(
        () => parseStoreSetting(value),
        (err: Error & { code?: string }) => {
          assert.ok(err instanceof StoreSettingError, value);
          assert.equal(err.code, "CONFIG_INVALID");
          assert.match(err.message, message);
          assert.doesNotMatch(err.message, /hunter2/, "a password is never echoed");
          return true;
        },
      );
    }
  });
});

describe("openStore", () => {
  it("returns no store for off, and the backend each setting names", async () => {
    assert.equal(await openStore(parseStoreSetting("off")), undefined);
    const memory = await openStore(parseStoreSetting("memory"));
    const postgres = await openStore(parseStoreSetting("postgres://parley@127.0.0.1:1/chat"));
    assert.ok(memory instanceof MemoryStore);
    assert.ok(postgres instanceof PostgresStore);
    assert.equal(postgres.description, "postgres://127.0.0.1:1/chat");
    await memory.close();
    await postgres.close();
  });

  it("puts a SQLite store without a path at data/parley.db under the working directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-open-"));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const store = await openStore(parseStoreSetting("sqlite"));
      assert.ok(store instanceof SqliteStore);
      assert.equal(store.description, "sqlite:data/parley.db");
      await store.open(["a"]);
      await store.close();
      assert.ok(existsSync(join(dir, "data", "parley.db")));
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
