import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type {
  MessageStore,
  RetentionPolicy,
  StoredMessage,
  StreamState,
  UnnumberedMessage,
} from "../core/ports.js";
import { numberBatch } from "./number-batch.js";
import { batchRanges, checkAboveHeads } from "./batch-ranges.js";
import { newEpoch } from "./epoch.js";
import { expiredPrefix } from "./retention.js";
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
const SCHEMA_VERSION = 2;

// Messages are appended in one b-tree in commit order (`seq`), so a commit writes the pages at
// its end only: a (room, offset) index would dirty one index page per room touched by every
// commit, which tripled the cost of a commit at the seed load. The per-room index lives in
// memory instead (see RoomIndex), rebuilt from the table at open. `head` in `rooms` is written
// when retention trims, so that it outlives every message of a room being deleted.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS rooms (
  room TEXT PRIMARY KEY,
  id INTEGER NOT NULL UNIQUE,
  epoch TEXT NOT NULL,
  head INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY,
  room_id INTEGER NOT NULL,
  "offset" INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  text TEXT NOT NULL,
  cid TEXT,
  client_key TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS messages_client_ids ON messages (ts)
  WHERE cid IS NOT NULL AND client_key IS NOT NULL;
`;

const COLUMNS = `room_id, "offset", ts, user_id, name, text, cid, client_key`;

interface MessageRow {
  room_id: number;
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
    rooms: db.prepare<[], { room: string; id: number; epoch: string; head: number }>(
      `SELECT room, id, epoch, head FROM rooms`,
    ),
    insertRoom: db.prepare<[string, string]>(
      `INSERT OR IGNORE INTO rooms (room, id, epoch, head)
       VALUES (?, (SELECT coalesce(max(id), 0) + 1 FROM rooms), ?, 0)`,
    ),
    /** every message's place, for the in-memory index (one pass at open) */
    positions: db.prepare<[], { seq: number; room_id: number; offset: number }>(
      `SELECT seq, room_id, "offset" FROM messages ORDER BY seq`,
    ),
    setHead: db.prepare<[number, number, number]>(
      `UPDATE rooms SET head = ? WHERE id = ? AND head < ?`,
    ),
    insert: db.prepare<
      [number, number, number, string, string, string, string | null, string | null]
    >(`INSERT INTO messages (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    bySeqs: db.prepare<[string], MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq`,
    ),
    tsBySeqs: db.prepare<[string], { ts: number }>(
      `SELECT ts FROM messages WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq`,
    ),
    deleteSeqs: db.prepare<[string]>(
      `DELETE FROM messages WHERE seq IN (SELECT value FROM json_each(?))`,
    ),
    recent: db.prepare<[number, number], MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE cid IS NOT NULL AND client_key IS NOT NULL AND ts >= ?
       ORDER BY ts DESC, seq DESC LIMIT ?`,
    ),
  };
}

/**
 * One room's retained messages as (offset, seq) pairs in offset order, from `start` (retention
 * drops a prefix): 16 bytes per retained message in memory. Offsets may have gaps.
 */
class RoomIndex {
  offsets: number[] = [];
  seqs: number[] = [];
  start = 0;

  constructor(
    readonly id: number,
    /** newest offset stored (what `append` must stay above); survives trimming */
    public head: number,
  ) {}

  get size(): number {
    return this.offsets.length - this.start;
  }

  get first(): number {
    return this.start < this.offsets.length ? this.offsets[this.start]! : this.head + 1;
  }

  add(offset: number, seq: number): void {
    this.offsets.push(offset);
    this.seqs.push(seq);
    if (offset > this.head) this.head = offset;
  }

  /** Position of the first retained offset > `offset`. */
  after(offset: number): number {
    let lo = this.start;
    let hi = this.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The seqs of positions [from, to). */
  slice(from: number, to: number): number[] {
    return this.seqs.slice(Math.max(from, this.start), Math.min(to, this.offsets.length));
  }

  dropFirst(n: number): void {
    this.start += n;
    if (this.start > 1024 && this.start * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.start);
      this.seqs = this.seqs.slice(this.start);
      this.start = 0;
    }
  }
}

/**
 * History in one SQLite file (better-sqlite3, in this process): the default store. Calls run
 * synchronously and the promises are already settled when returned. The file is opened on the
 * first call, so a missing folder or a read-only disk shows up as that call's rejection.
 *
 * One process owns the file (SQLite's exclusive locking mode): the per-room index is kept in
 * memory, and two Parley processes on one file would assign the same offsets anyway. A second
 * process trying to open it is refused with a clear error; use PostgreSQL to share history.
 */
export class SqliteStore implements MessageStore {
  readonly description: string;
  private readonly path: string;
  private readonly synchronous: "normal" | "full";
  private readonly busyTimeoutMs: number;
  private db: Database.Database | undefined;
  private sql: Prepared | undefined;
  private closed = false;
  private readonly rooms = new Map<string, RoomIndex>();
  /** room names by id, for reading a row back */
  private readonly names = new Map<number, string>();

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.synchronous = options.synchronous ?? "normal";
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    this.description = `sqlite:${this.path}${this.synchronous === "full" ? "?sync=full" : ""}`;
  }

  open(rooms: readonly string[]): Promise<Map<string, StreamState>> {
    return this.run((db, sql) => {
      const epochs = db
        .transaction(() => {
          for (const room of rooms) sql.insertRoom.run(room, newEpoch());
          return this.loadRooms(sql);
        })
        .immediate();
      const states = new Map<string, StreamState>();
      for (const room of rooms) {
        const r = this.rooms.get(room)!;
        states.set(room, { epoch: epochs.get(room)!, head: r.head, first: r.first });
      }
      return states;
    });
  }

  /** Reads the room rows (new ones get an empty index), returning each room's epoch. */
  private loadRooms(sql: Prepared): Map<string, string> {
    const epochs = new Map<string, string>();
    for (const row of sql.rooms.all()) {
      if (!this.rooms.has(row.room)) this.rooms.set(row.room, new RoomIndex(row.id, row.head));
      this.names.set(row.id, row.room);
      epochs.set(row.room, row.epoch);
    }
    return epochs;
  }

  /** Builds every room's index from the table: one pass in commit order, at connect. */
  private loadIndex(sql: Prepared): void {
    this.loadRooms(sql);
    const byId = new Map<number, RoomIndex>();
    for (const r of this.rooms.values()) byId.set(r.id, r);
    for (const p of sql.positions.iterate()) byId.get(p.room_id)?.add(p.offset, p.seq);
  }

  append(batch: readonly StoredMessage[]): Promise<void> {
    return this.run((db, sql) => {
      if (batch.length === 0) return;
      const ranges = batchRanges(this.description, batch);
      checkAboveHeads(this.description, ranges, (room) => this.rooms.get(room)?.head);
      const seqs = db
        .transaction(() =>
          batch.map(
            (m) =>
              sql.insert.run(
                this.rooms.get(m.room)!.id,
                m.offset,
                m.ts,
                storableText(m.user),
                storableText(m.name),
                storableText(m.text),
                m.cid === undefined ? null : storableText(m.cid),
                m.key === undefined ? null : storableText(m.key),
              ).lastInsertRowid,
          ),
        )
        .immediate();
      for (let i = 0; i < batch.length; i++) {
        this.rooms.get(batch[i]!.room)!.add(batch[i]!.offset, Number(seqs[i]));
      }
    });
  }

  async appendNext(batch: readonly UnnumberedMessage[]): Promise<number[]> {
    // the file is this process's alone (exclusive locking): its heads are the truth
    const numbered = numberBatch(batch, (room) => this.rooms.get(room)?.head);
    await this.append(numbered);
    return numbered.map((m) => m.offset);
  }

  readAfter(room: string, after: number, limit: number): Promise<StoredMessage[]> {
    return this.run((_db, sql) => {
      const r = this.rooms.get(room);
      if (r === undefined) return [];
      const from = r.after(after);
      return this.rows(sql, r.slice(from, from + rowLimit(limit)));
    });
  }

  readBefore(room: string, before: number, limit: number): Promise<StoredMessage[]> {
    return this.run((_db, sql) => {
      const r = this.rooms.get(room);
      if (r === undefined) return [];
      const to = r.after(before - 1);
      return this.rows(sql, r.slice(to - rowLimit(limit), to));
    });
  }

  private rows(sql: Prepared, seqs: number[]): StoredMessage[] {
    if (seqs.length === 0) return [];
    return sql.bySeqs.all(JSON.stringify(seqs)).map((row) => this.toMessage(row));
  }

  recentWithClientIds(since: number, limit: number): Promise<StoredMessage[]> {
    return this.run((_db, sql) =>
      sql.recent
        .all(since, rowLimit(limit))
        .map((row) => this.toMessage(row))
        .reverse(),
    );
  }

  trim(
    room: string,
    policy: RetentionPolicy,
    now: number,
    maxRows: number,
  ): Promise<{ deleted: number; first: number }> {
    return this.run((db, sql) => {
      const r = this.rooms.get(room);
      if (r === undefined) return { deleted: 0, first: 1 };
      // the newest offset beyond the count bound: position size - maxMessages - 1 from start
      const beyond = policy.maxMessages > 0 ? r.size - policy.maxMessages : 0;
      const countCut = beyond > 0 ? r.offsets[r.start + beyond - 1]! : 0;
      const seqs = r.slice(r.start, r.start + rowLimit(maxRows));
      if (seqs.length === 0) return { deleted: 0, first: r.first };
      const ts = sql.tsBySeqs.all(JSON.stringify(seqs));
      const oldest = ts.map((t, i) => ({ offset: r.offsets[r.start + i]!, ts: t.ts }));
      const deleted = expiredPrefix(oldest, countCut, policy, now);
      if (deleted > 0) {
        db.transaction(() => {
          // the head outlives the messages: kept in `rooms` before any could be deleted
          sql.setHead.run(r.head, r.id, r.head);
          sql.deleteSeqs.run(JSON.stringify(seqs.slice(0, deleted)));
        }).immediate();
        r.dropFirst(deleted);
      }
      return { deleted, first: r.first };
    });
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
      // Before WAL: the wal-index then lives in this process's memory (no shared-memory file),
      // and the file stays locked to this process until close (see the class comment).
      db.pragma("locking_mode = EXCLUSIVE");
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
        if (version !== 0 && version < SCHEMA_VERSION) {
          throw new StoreError(
            "STORE_FAILED",
            `${this.description}: the file has schema version ${version}, from a development build of Parley before the first release; move it away to start a new history`,
          );
        }
        db.exec(SCHEMA);
        if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
      const sql = prepare(db);
      this.loadIndex(sql);
      this.sql = sql;
      this.db = db;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private toMessage(row: MessageRow): StoredMessage {
    return messageOf(row, this.names.get(row.room_id) ?? `#${row.room_id}`);
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

function messageOf(row: MessageRow, room: string): StoredMessage {
  const m: StoredMessage = {
    room,
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
