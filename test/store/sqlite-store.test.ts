import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { SqliteStore } from "../../src/store/sqlite-store.js";
import { openStore, parseStoreSetting } from "../../src/store/open-store.js";
import { messageStoreContract } from "./contract.js";

let dir = "";
let n = 0;
let last = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "parley-sqlite-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

messageStoreContract("SqliteStore", {
  create() {
    last = join(dir, `contract-${++n}`, "parley.db");
    return Promise.resolve(new SqliteStore({ path: last }));
  },
  reopen: () => Promise.resolve(new SqliteStore({ path: last })),
});

const message = (offset: number, text = `m${offset}`) => ({
  room: "a",
  offset,
  ts: 1_700_000_000_000 + offset,
  user: "u",
  name: "n",
  text,
});

describe("SqliteStore", () => {
  it("creates the file and its missing folders on the first call, in WAL mode", async () => {
    const path = join(dir, "new", "deep", "folders", "parley.db");
    const store = new SqliteStore({ path });
    assert.equal(existsSync(join(dir, "new")), false, "nothing is created before the first call");
    await store.open(["a"]);
    assert.ok(existsSync(path));
    await store.close();
    const raw = new Database(path, { readonly: true });
    try {
      assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
      const tables = raw.prepare("SELECT name FROM sqlite_master ORDER BY name").all() as {
        name: string;
      }[];
      assert.deepEqual(
        tables.map((t) => t.name),
        [
          "messages",
          "messages_client_ids",
          "rooms",
          // rooms' primary key and unique id; messages is WITHOUT ROWID: its key is the table
          "sqlite_autoindex_rooms_1",
          "sqlite_autoindex_rooms_2",
        ],
      );
    } finally {
      raw.close();
    }
  });

  it("commits with synchronous NORMAL by default and FULL with ?sync=full", async () => {
    const normal = await openStore(parseStoreSetting(`sqlite:${join(dir, "sync", "normal.db")}`));
    const full = await openStore(
      parseStoreSetting(`sqlite:${join(dir, "sync", "full.db")}?sync=full`),
    );
    assert.ok(normal instanceof SqliteStore && full instanceof SqliteStore);
    try {
      await normal.open(["a"]);
      await full.open(["a"]);
      await full.append([message(1)]);
      assert.deepEqual(normal.pragmas(), {
        journalMode: "wal",
        synchronous: 1,
        busyTimeoutMs: 5000,
      });
      assert.deepEqual(full.pragmas(), { journalMode: "wal", synchronous: 2, busyTimeoutMs: 5000 });
      assert.match(full.description, /\?sync=full$/);
      assert.deepEqual(
        (await full.readAfter("a", 0, 10)).map((m) => m.text),
        ["m1"],
      );
    } finally {
      await normal.close();
      await full.close();
    }
  });

  it("lets a second store on the same file, after the first closed, see its data", async () => {
    const path = join(dir, "second", "parley.db");
    const one = new SqliteStore({ path });
    const { epoch } = (await one.open(["a"])).get("a")!;
    await one.append([message(1), message(2)]);
    await one.close();
    const two = new SqliteStore({ path });
    try {
      assert.deepEqual((await two.open(["a"])).get("a"), { epoch, head: 2, first: 1 });
      assert.deepEqual(
        (await two.readAfter("a", 0, 10)).map((m) => m.offset),
        [1, 2],
      );
    } finally {
      await two.close();
    }
  });

  it("refuses a second store on a file another one holds, with a clear error, and lets it in once that one closed", async () => {
    const path = join(dir, "held", "parley.db");
    const one = new SqliteStore({ path });
    const two = new SqliteStore({ path, busyTimeoutMs: 200 });
    try {
      await one.open(["a"]);
      await one.append([message(1)]);
      await assert.rejects(two.open(["a"]), (err: Error & { code?: string }) => {
        assert.equal(err.code, "STORE_UNAVAILABLE");
        assert.match(err.message, /locked|busy/i);
        return true;
      });
      await one.close();
      const three = new SqliteStore({ path });
      try {
        assert.equal((await three.open(["a"])).get("a")!.head, 1);
      } finally {
        await three.close();
      }
    } finally {
      await one.close();
      await two.close();
    }
  });

  it("keeps every acknowledged batch when its process is killed with SIGKILL", async () => {
    const path = join(dir, "killed", "parley.db");
    const writer = fileURLToPath(new URL("./support/sqlite-writer.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", writer, path], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_c, s) => resolve(s)),
    );
    let acknowledged = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      acknowledged = Number(line);
      if (acknowledged >= 3000) {
        child.kill("SIGKILL");
        break;
      }
    }
    assert.equal(await exited, "SIGKILL");
    assert.ok(
      acknowledged >= 3000,
      `the writer acknowledged ${acknowledged} messages before dying`,
    );
    const store = new SqliteStore({ path });
    try {
      const { head, first } = (await store.open(["a"])).get("a")!;
      assert.ok(head >= acknowledged, `head ${head} >= acknowledged ${acknowledged}`);
      assert.equal(head % 50, 0, "no batch is half there");
      const all = await store.readAfter("a", 0, 1_000_000);
      assert.equal(first, 1);
      assert.equal(all.length, head);
      assert.ok(all.every((m, i) => m.offset === i + 1 && m.text === `m${i + 1}`));
    } finally {
      await store.close();
    }
  });

  it("refuses a file whose schema is newer than it knows", async () => {
    const path = join(dir, "newer.db");
    const raw = new Database(path);
    raw.pragma("user_version = 99");
    raw.close();
    const store = new SqliteStore({ path });
    await assert.rejects(store.open(["a"]), (err: Error & { code?: string }) => {
      assert.equal(err.code, "STORE_FAILED");
      assert.match(err.message, /schema version 99, made by a newer Parley/);
      return true;
    });
    await store.close();
  });

  it("reports a path it cannot create as a rejection of the first call, then of the next", async () => {
    const blocker = join(dir, "a-file");
    writeFileSync(blocker, "not a folder");
    const store = new SqliteStore({ path: join(blocker, "parley.db") });
    const failed = { name: "StoreError", code: "STORE_FAILED" };
    await assert.rejects(store.open(["a"]), failed);
    await assert.rejects(store.readAfter("a", 0, 1), failed);
    await store.close();
  });
});
