import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { MessageStore, RetentionPolicy, StoredMessage, StreamState } from "../core/ports.js";
import { batchRanges } from "./batch-ranges.js";
import { newEpoch } from "./epoch.js";
import { expiredPrefix, type OffsetAndTs } from "./retention.js";
import { rowLimit } from "./row-limit.js";
import { settle } from "./settle.js";
import { storableText } from "./storable-text.js";
import { StoreError } from "./store-error.js";

export interface SqliteStoreOptions {
  /** the database file, relative to the working directory; it and its folders are created if missing */
  path: string;
  /**
   * When a commit counts as durable (the file is always in WAL mode):
   * - `normal` (default): a committed batch survives the process crashing or being killed
   *   (kill -9), since it is in the OS's page cache; an OS crash or power loss may lose the last
   *   commits (never corrupts the file). No fsync per commit, so commits are cheap.
   * - `full`: the WAL is fsynced at every commit, so a committed batch also survives a power loss;
   *   each commit then costs one fsync.
   */
  synchronous?: "normal" | "full";
  /** how long a write waits for another connection's lock before failing, ms. Default 5000. */
  busyTimeoutMs?: number;
}

/** The pragmas in effect on the store's connection, as SQLite reports them. */
export interface SqlitePragmas {
  journalMode: string;
  /** 0 off, 1 normal, 2 full, 3 extra */
  synchronous: number;
  busyTimeoutMs: number;
}

/** Bumped when the schema changes; a file with a newer version is refused rather than misread. */
const SCHEMA_VERSION = 1;

// A rowid table with the (room, offset) key as its index, not WITHOUT ROWID: a message can be
// several KiB of text, and WITHOUT ROWID tables suit rows well under a twentieth of a page.
// `head` lives in `rooms` so that it outlives retention deleting every message of a room.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS rooms (
  room TEXT PRIMARY KEY,
  epoch TEXT NOT NULL,
  head INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS messages (
  room TEXT NOT NULL,
  "offset" INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  text TEXT NOT NULL,
  cid TEXT,
  client_key TEXT,
  PRIMARY KEY (room, "offset")
) STRICT;
CREATE INDEX IF NOT EXISTS messages_client_ids ON messages (ts, room, "offset")
  WHERE cid IS NOT NULL AND client_key IS NOT NULL;
`;

const COLUMNS = `room, "offset", ts, user_id, name, text, cid, client_key`;

interface MessageRow {
  room: string;
  offset: number;
  ts: number;
  user_id: string;
  name: string;
  text: string;
  cid: string | null;
  client_key: string | null;
}

type Prepared = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  return {
    insertRoom: db.prepare<[string, string]>(
      `INSERT OR IGNORE INTO rooms (room, epoch, head) VALUES (?, ?, 0)`,
    ),
    state: db.prepare<{ room: string }, { epoch: string; head: number; first: number }>(
      `SELECT epoch, head, coalesce((SELECT min("offset") FROM messages WHERE room = @room), head + 1) AS first
       FROM rooms WHERE room = @room`,
    ),
    head: db.prepare<[string], { head: number }>(`SELECT head FROM rooms WHERE room = ?`),
    advanceHead: db.prepare<[number, string, number]>(
      `UPDATE rooms SET head = ? WHERE room = ? AND head < ?`,
    ),
    insert: db.prepare<
      [string, number, number, string, string, string, string | null, string | null]
    >(`INSERT INTO messages (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    after: db.prepare<[string, number, number], MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE room = ? AND "offset" > ? ORDER BY "offset" LIMIT ?`,
    ),
    before: db.prepare<[string, number, number], MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE room = ? AND "offset" < ? ORDER BY "offset" DESC LIMIT ?`,
    ),
    recent: db.prepare<[number, number], MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE cid IS NOT NULL AND client_key IS NOT NULL AND ts >= ?
       ORDER BY ts DESC, room DESC, "offset" DESC LIMIT ?`,
    ),
    countCut: db.prepare<[string, number], { offset: number }>(
      `SELECT "offset" FROM messages WHERE room = ? ORDER BY "offset" DESC LIMIT 1 OFFSET ?`,
    ),
    oldest: db.prepare<[string, number], OffsetAndTs>(
      `SELECT "offset", ts FROM messages WHERE room = ? ORDER BY "offset" LIMIT ?`,
    ),
    deleteThrough: db.prepare<[string, number]>(
      `DELETE FROM messages WHERE room = ? AND "offset" <= ?`,
    ),
    first: db.prepare<{ room: string }, { first: number }>(
      `SELECT coalesce((SELECT min("offset") FROM messages WHERE room = @room),
                       (SELECT head + 1 FROM rooms WHERE room = @room), 1) AS first`,
    ),
  };
}

/**
 * History in one SQLite file (better-sqlite3, in this process): the default store. Calls run
 * synchronously and the promises are already settled when returned; a batch of a few thousand
 * messages commits in milliseconds. The file is opened on the first call, so a missing folder or
 * a read-only disk shows up as that call's rejection.
 */
export class SqliteStore implements MessageStore {
  readonly description: string;
  private readonly path: string;
  private readonly synchronous: "normal" | "full";
  private readonly busyTimeoutMs: number;
  private db: Database.Database | undefined;
  private sql: Prepared | undefined;
  private closed = false;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.synchronous = options.synchronous ?? "normal";
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    this.description = `sqlite:${this.path}${this.synchronous === "full" ? "?sync=full" : ""}`;
  }

  open(rooms: readonly string[]): Promise<Map<string, StreamState>> {
    return this.run((db, sql) =>
      db
        .transaction(() => {
          const states = new Map<string, StreamState>();
          for (const room of rooms) {
            sql.insertRoom.run(room, newEpoch());
            states.set(room, { ...sql.state.get({ room })! });
          }
          return states;
        })
        .immediate(),
    );
  }

  append(batch: readonly StoredMessage[]): Promise<void> {
    return this.run((db, sql) => {
      if (batch.length === 0) return;
      const ranges = batchRanges(this.description, batch);
      db.transaction(() => {
        for (const [room, range] of ranges) {
          if (sql.advanceHead.run(range.last, room, range.first).changes !== 1) {
            const head = sql.head.get(room)?.head;
            throw new StoreError(
              "STORE_BAD_BATCH",
              head === undefined
                ? `${this.description}: room "${room}" has no stream (open it first); nothing was written`
                : `${this.description}: offset ${range.first} of room "${room}" is not above its head ${head}; nothing was written`,
            );
          }
        }
        for (const m of batch) {
          sql.insert.run(
            m.room,
            m.offset,
            m.ts,
            storableText(m.user),
            storableText(m.name),
            storableText(m.text),
            m.cid === undefined ? null : storableText(m.cid),
            m.key === undefined ? null : storableText(m.key),
          );
        }
      }).immediate();
    });
  }

  readAfter(room: string, after: number, limit: number): Promise<StoredMessage[]> {
    return this.run((_db, sql) => sql.after.all(room, after, rowLimit(limit)).map(toMessage));
  }

  readBefore(room: string, before: number, limit: number): Promise<StoredMessage[]> {
    return this.run((_db, sql) =>
      sql.before.all(room, before, rowLimit(limit)).map(toMessage).reverse(),
    );
  }

  recentWithClientIds(since: number, limit: number): Promise<StoredMessage[]> {
    return this.run((_db, sql) => sql.recent.all(since, rowLimit(limit)).map(toMessage).reverse());
  }

  trim(
    room: string,
    policy: RetentionPolicy,
    now: number,
    maxRows: number,
  ): Promise<{ deleted: number; first: number }> {
    return this.run((db, sql) =>
      db
        .transaction(() => {
          const countCut =
            policy.maxMessages > 0 ? (sql.countCut.get(room, policy.maxMessages)?.offset ?? 0) : 0;
          const oldest = sql.oldest.all(room, rowLimit(maxRows));
          const deleted = expiredPrefix(oldest, countCut, policy, now);
          if (deleted > 0) sql.deleteThrough.run(room, oldest[deleted - 1]!.offset);
          return { deleted, first: sql.first.get({ room })!.first };
        })
        .immediate(),
    );
  }

  ping(): Promise<void> {
    return this.run((db) => {
      db.prepare("SELECT 1").get();
    });
  }

  /** What SQLite reports for the settings that decide durability (for logs and tests). */
  pragmas(): SqlitePragmas {
    return this.runSync((db) => ({
      journalMode: db.pragma("journal_mode", { simple: true }) as string,
      synchronous: db.pragma("synchronous", { simple: true }) as number,
      busyTimeoutMs: db.pragma("busy_timeout", { simple: true }) as number,
    }));
  }

  close(): Promise<void> {
    return settle(() => {
      this.closed = true;
      const db = this.db;
      this.db = undefined;
      this.sql = undefined;
      db?.close();
    });
  }

  /** `runSync` as the port's promise */
  private run<T>(fn: (db: Database.Database, sql: Prepared) => T): Promise<T> {
    return settle(() => this.runSync(fn));
  }

  /** Runs `fn` on the open database, opening it first; failures become StoreErrors. */
  private runSync<T>(fn: (db: Database.Database, sql: Prepared) => T): T {
    if (this.closed) {
      throw new StoreError("STORE_CLOSED", `${this.description}: the store is closed`);
    }
    try {
      if (this.db === undefined || this.sql === undefined) this.connect();
      return fn(this.db!, this.sql!);
    } catch (err) {
      throw this.failure(err);
    }
  }

  private connect(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const db = new Database(this.path, { timeout: this.busyTimeoutMs });
    try {
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${this.synchronous === "full" ? "FULL" : "NORMAL"}`);
      db.transaction(() => {
        const version = db.pragma("user_version", { simple: true }) as number;
        if (version > SCHEMA_VERSION) {
          throw new StoreError(
            "STORE_FAILED",
            `${this.description}: the file has schema version ${version}, made by a newer Parley (this one knows ${SCHEMA_VERSION})`,
          );
        }
        db.exec(SCHEMA);
        if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
      this.sql = prepare(db);
      this.db = db;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private failure(err: unknown): StoreError {
    if (err instanceof StoreError) return err;
    const code = (err as { code?: unknown }).code;
    const message = `${this.description}: ${(err as Error).message ?? String(err)}`;
    if (typeof code === "string" && code.startsWith("SQLITE_CONSTRAINT")) {
      return new StoreError("STORE_BAD_BATCH", `${message}; nothing was written`, { cause: err });
    }
    // another connection held the lock past busy_timeout: worth retrying later
    if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
      return new StoreError("STORE_UNAVAILABLE", message, { cause: err });
    }
    return new StoreError("STORE_FAILED", message, { cause: err });
  }
}

function toMessage(row: MessageRow): StoredMessage {
  const m: StoredMessage = {
    room: row.room,
    offset: row.offset,
    ts: row.ts,
    user: row.user_id,
    name: row.name,
    text: row.text,
  };
  if (row.cid !== null) m.cid = row.cid;
  if (row.client_key !== null) m.key = row.client_key;
  return m;
}
