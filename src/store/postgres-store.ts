import pg from "pg";
import { describeUrl } from "./postgres-url.js";
import type { PoolClient, QueryConfig, QueryResult, QueryResultRow } from "pg";
import type {
  Logger,
  MessageStore,
  RetentionPolicy,
  StoredMessage,
  StreamState,
  UnnumberedMessage,
} from "../core/ports.js";
import { silentLogger } from "../core/ports.js";
import { batchRanges } from "./batch-ranges.js";
import { newEpoch } from "./epoch.js";
import { expiredPrefix } from "./retention.js";
import { rowLimit } from "./row-limit.js";
import { storableText } from "./storable-text.js";
import { StoreError } from "./store-error.js";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (libpq-style URL, as pg takes it) */
  url: string;
  logger?: Logger;
  /** connections in the pool. Default 4: appends are batched per loop turn, so few are busy at once. */
  maxConnections?: number;
  /** a call fails if no connection is made within this, ms. Default 5000. */
  connectTimeoutMs?: number;
  /** a call fails if PostgreSQL has not answered a query within this, ms. Default 15000. */
  queryTimeoutMs?: number;
}

// Prefixed: a shared deployment's database may hold other applications' tables. `head` lives in
// parley_rooms so that it outlives retention deleting every message of a room.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS parley_rooms (
  room text PRIMARY KEY,
  epoch text NOT NULL,
  head bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS parley_messages (
  room text NOT NULL,
  "offset" bigint NOT NULL,
  ts bigint NOT NULL,
  user_id text NOT NULL,
  name text NOT NULL,
  text text NOT NULL,
  cid text,
  client_key text,
  PRIMARY KEY (room, "offset")
);
CREATE INDEX IF NOT EXISTS parley_messages_client_ids ON parley_messages (ts, room, "offset")
  WHERE cid IS NOT NULL AND client_key IS NOT NULL;
`;

/**
 * Serialises schema creation between nodes starting at once: concurrent CREATE ... IF NOT EXISTS
 * can still fail on PostgreSQL's catalog constraints. An arbitrary constant ("parley" in ASCII).
 */
const SCHEMA_LOCK = "123563833845113"; // 0x7061726c6579

const COLUMNS = `room, "offset", ts, user_id, name, text, cid, client_key`;

/** bigint columns arrive as strings (pg's default, kept: no global type parser is changed) */
interface MessageRow {
  room: string;
  offset: string;
  ts: string;
  user_id: string;
  name: string;
  text: string;
  cid: string | null;
  client_key: string | null;
}

const SQL = {
  insertRooms: `INSERT INTO parley_rooms (room, epoch, head)
    SELECT room, epoch, 0 FROM unnest($1::text[], $2::text[]) AS t(room, epoch)
    ON CONFLICT (room) DO NOTHING`,
  states: `SELECT room, epoch, head,
      coalesce((SELECT min("offset") FROM parley_messages m WHERE m.room = r.room), head + 1) AS first
    FROM parley_rooms r WHERE room = ANY($1::text[])`,
  advanceHeads: `UPDATE parley_rooms AS r SET head = v.last
    FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS v(room, first, last)
    WHERE r.room = v.room AND r.head < v.first RETURNING r.room`,
  heads: `SELECT room, head FROM parley_rooms WHERE room = ANY($1::text[])`,
  // The rooms' rows locked in name order (so that nodes appending to the same rooms at once
  // never deadlock), then each head moved on by the batch's count for that room; what comes back
  // is the offset before the batch's first message of each room.
  takeOffsets: `WITH locked AS (
      SELECT room FROM parley_rooms WHERE room = ANY($1::text[]) ORDER BY room FOR UPDATE
    )
    UPDATE parley_rooms AS r SET head = r.head + c.n
    FROM unnest($1::text[], $2::bigint[]) AS c(room, n)
    WHERE r.room = c.room AND r.room IN (SELECT room FROM locked)
    RETURNING r.room, r.head - c.n AS base`,
  insert: `INSERT INTO parley_messages (${COLUMNS})
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[])`,
  after: `SELECT ${COLUMNS} FROM parley_messages WHERE room = $1 AND "offset" > $2
    ORDER BY "offset" LIMIT $3`,
  before: `SELECT ${COLUMNS} FROM parley_messages WHERE room = $1 AND "offset" < $2
    ORDER BY "offset" DESC LIMIT $3`,
  recent: `SELECT ${COLUMNS} FROM parley_messages
    WHERE cid IS NOT NULL AND client_key IS NOT NULL AND ts >= $1
    ORDER BY ts DESC, room DESC, "offset" DESC LIMIT $2`,
  countCut: `SELECT "offset" FROM parley_messages WHERE room = $1
    ORDER BY "offset" DESC OFFSET $2 LIMIT 1`,
  oldest: `SELECT "offset", ts FROM parley_messages WHERE room = $1 ORDER BY "offset" LIMIT $2`,
  deleteThrough: `WITH gone AS (DELETE FROM parley_messages WHERE room = $1 AND "offset" <= $2 RETURNING 1)
    SELECT (SELECT count(*) FROM gone) AS deleted,
      coalesce((SELECT min("offset") FROM parley_messages WHERE room = $1 AND "offset" > $2),
               (SELECT head + 1 FROM parley_rooms WHERE room = $1), 1) AS first`,
} as const;

/**
 * History in PostgreSQL, for deployments whose nodes share one database. Every call takes a
 * pooled connection; when PostgreSQL is down or restarts, calls reject with `STORE_UNAVAILABLE`
 * and the next ones reconnect by themselves. The schema is created on the first call that needs
 * it (retried until it succeeds).
 */
export class PostgresStore implements MessageStore {
  readonly description: string;
  private readonly pool: pg.Pool;
  private readonly logger: Logger;
  private schema: Promise<void> | undefined;
  private closed = false;
  private ending: Promise<void> | undefined;

  constructor(options: PostgresStoreOptions) {
    this.description = describeUrl(options.url);
    this.logger = options.logger ?? silentLogger;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      query_timeout: options.queryTimeoutMs ?? 15_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: "parley",
    });
    // An idle connection that dies (PostgreSQL restarted, network cut) is reported here; without
    // a listener the pool's 'error' event would crash the process. The pool has already dropped it.
    this.pool.on("error", (err) => {
      this.logger.warn(
        { store: this.description, err: errorText(err) },
        "PostgreSQL closed an idle connection; the next call reconnects",
      );
    });
  }

  async open(rooms: readonly string[]): Promise<Map<string, StreamState>> {
    await this.ready();
    const states = new Map<string, StreamState>();
    if (rooms.length === 0) return states;
    const names = [...rooms];
    // Two statements: the second's snapshot sees rows another node inserted concurrently.
    await this.query(SQL.insertRooms, [names, names.map(() => newEpoch())]);
    const { rows } = await this.query<{ room: string; epoch: string; head: string; first: string }>(
      SQL.states,
      [names],
    );
    const byRoom = new Map(rows.map((r) => [r.room, r]));
    for (const room of rooms) {
      const r = byRoom.get(room)!;
      states.set(room, { epoch: r.epoch, head: Number(r.head), first: Number(r.first) });
    }
    return states;
  }

  async append(batch: readonly StoredMessage[]): Promise<void> {
    this.check();
    const ranges = batchRanges(this.description, batch);
    if (batch.length === 0) return;
    await this.ready();
    // Rooms sorted, so that concurrent batches tend to lock shared room rows in one order. A
    // deadlock PostgreSQL still detects fails one batch (STORE_FAILED), writing none of it.
    const rooms = [...ranges.keys()].sort();
    const firsts = rooms.map((r) => ranges.get(r)!.first);
    const lasts = rooms.map((r) => ranges.get(r)!.last);
    const columns = insertColumns(
      batch,
      batch.map((m) => m.offset),
    );
    await this.transaction(async (client) => {
      const advanced = await client.query<{ room: string }>({
        name: "parley_advance_heads",
        text: SQL.advanceHeads,
        values: [rooms, firsts, lasts],
      });
      if (advanced.rowCount !== rooms.length) {
        throw await this.headConflict(client, rooms, ranges, advanced.rows);
      }
      await client.query({ name: "parley_insert", text: SQL.insert, values: columns });
    });
  }

  async appendNext(batch: readonly UnnumberedMessage[]): Promise<number[]> {
    this.check();
    if (batch.length === 0) return [];
    const counts = new Map<string, number>();
    for (const m of batch) counts.set(m.room, (counts.get(m.room) ?? 0) + 1);
    // the batch's own checks, on provisional offsets (1, 2, ... per room)
    const provisional = new Map<string, number>();
    batchRanges(
      this.description,
      batch.map((m) => {
        const n = (provisional.get(m.room) ?? 0) + 1;
        provisional.set(m.room, n);
        return { ...m, offset: n };
      }),
    );
    await this.ready();
    const rooms = [...counts.keys()].sort();
    return this.transaction(async (client) => {
      const taken = await client.query<{ room: string; base: string }>({
        name: "parley_take_offsets",
        text: SQL.takeOffsets,
        values: [rooms, rooms.map((r) => counts.get(r)!)],
      });
      if (taken.rowCount !== rooms.length) {
        const known = new Set(taken.rows.map((r) => r.room));
        const missing = rooms.filter((r) => !known.has(r));
        throw new StoreError(
          "STORE_BAD_BATCH",
          `${this.description}: room "${missing[0]}" has no stream (open it first); nothing was written`,
        );
      }
      const next = new Map(taken.rows.map((r) => [r.room, Number(r.base)]));
      const offsets = batch.map((m) => {
        const o = next.get(m.room)! + 1;
        next.set(m.room, o);
        return o;
      });
      const columns = insertColumns(batch, offsets);
      await client.query({ name: "parley_insert", text: SQL.insert, values: columns });
      return offsets;
    });
  }

  async readAfter(room: string, after: number, limit: number): Promise<StoredMessage[]> {
    await this.ready();
    const { rows } = await this.query<MessageRow>(
      SQL.after,
      [room, after, rowLimit(limit)],
      "parley_after",
    );
    return rows.map(toMessage);
  }

  async readBefore(room: string, before: number, limit: number): Promise<StoredMessage[]> {
    await this.ready();
    const { rows } = await this.query<MessageRow>(
      SQL.before,
      [room, before, rowLimit(limit)],
      "parley_before",
    );
    return rows.map(toMessage).reverse();
  }

  async recentWithClientIds(since: number, limit: number): Promise<StoredMessage[]> {
    await this.ready();
    const { rows } = await this.query<MessageRow>(SQL.recent, [since, rowLimit(limit)]);
    return rows.map(toMessage).reverse();
  }

  async trim(
    room: string,
    policy: RetentionPolicy,
    now: number,
    maxRows: number,
  ): Promise<{ deleted: number; first: number }> {
    await this.ready();
    let countCut = 0;
    if (policy.maxMessages > 0) {
      const { rows } = await this.query<{ offset: string }>(SQL.countCut, [
        room,
        policy.maxMessages,
      ]);
      countCut = rows[0] === undefined ? 0 : Number(rows[0].offset);
    }
    const { rows } = await this.query<{ offset: string; ts: string }>(SQL.oldest, [
      room,
      rowLimit(maxRows),
    ]);
    const oldest = rows.map((r) => ({ offset: Number(r.offset), ts: Number(r.ts) }));
    const n = expiredPrefix(oldest, countCut, policy, now);
    // with n = 0 this deletes nothing (offsets start at 1) and only reads `first`
    const through = n > 0 ? oldest[n - 1]!.offset : 0;
    const result = await this.query<{ deleted: string; first: string }>(SQL.deleteThrough, [
      room,
      through,
    ]);
    const row = result.rows[0]!;
    return { deleted: Number(row.deleted), first: Number(row.first) };
  }

  async ping(): Promise<void> {
    await this.query("SELECT 1", []);
  }

  async close(): Promise<void> {
    this.closed = true;
    // pool.end() waits for calls in flight and rejects if called twice
    this.ending ??= this.pool.end();
    await this.ending;
  }

  private check(): void {
    if (this.closed)
      throw new StoreError("STORE_CLOSED", `${this.description}: the store is closed`);
  }

  /** Creates the schema once; a failure (PostgreSQL down) is retried by the next call. */
  private ready(): Promise<void> {
    this.check();
    this.schema ??= this.transaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`);
      await client.query(SCHEMA);
    }).catch((err: unknown) => {
      this.schema = undefined;
      throw err;
    });
    return this.schema;
  }

  private async query<R extends QueryResultRow>(
    text: string,
    values: unknown[],
    name?: string,
  ): Promise<QueryResult<R>> {
    this.check();
    const config: QueryConfig<unknown[]> =
      name === undefined ? { text, values } : { name, text, values };
    try {
      return await this.pool.query<R>(config);
    } catch (err) {
      throw this.failure(err, false);
    }
  }

  /**
   * Runs `fn` between BEGIN and COMMIT on one connection. A connection that failed is destroyed,
   * not returned to the pool.
   */
  private async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    this.check();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.failure(err, false);
    }
    // While checked out a connection has no pool listener: its 'error' event must be caught here.
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on("error", onError);
    let committing = false;
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      committing = true;
      await client.query("COMMIT");
      return result;
    } catch (err) {
      if (committing || isConnectionProblem(err)) {
        broken ??= err instanceof Error ? err : new Error(String(err));
      } else if (broken === undefined) {
        await client.query("ROLLBACK").catch((rollbackErr: Error) => {
          broken = rollbackErr;
        });
      }
      throw this.failure(err, committing);
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  /** The StoreError for a head check that failed: which room, and why. */
  private async headConflict(
    client: PoolClient,
    rooms: string[],
    ranges: Map<string, { first: number }>,
    advanced: { room: string }[],
  ): Promise<StoreError> {
    const done = new Set(advanced.map((r) => r.room));
    const missing = rooms.filter((r) => !done.has(r));
    const { rows } = await client.query<{ room: string; head: string }>(SQL.heads, [missing]);
    const heads = new Map(rows.map((r) => [r.room, Number(r.head)]));
    const room = missing[0]!;
    const head = heads.get(room);
    return new StoreError(
      "STORE_BAD_BATCH",
      head === undefined
        ? `${this.description}: room "${room}" has no stream (open it first); nothing was written`
        : `${this.description}: offset ${ranges.get(room)!.first} of room "${room}" is not above its head ${head}; nothing was written`,
    );
  }

  private failure(err: unknown, committing: boolean): StoreError {
    if (err instanceof StoreError) return err;
    const detail = errorText(err);
    if (isConnectionProblem(err)) {
      const outcome = committing ? "; the batch may or may not have been committed" : "";
      return new StoreError(
        "STORE_UNAVAILABLE",
        `${this.description}: PostgreSQL unavailable (${detail})${outcome}; the next call tries again`,
        { cause: err },
      );
    }
    if ((err as { code?: unknown }).code === "23505") {
      return new StoreError(
        "STORE_BAD_BATCH",
        `${this.description}: ${detail}; nothing was written`,
        {
          cause: err,
        },
      );
    }
    return new StoreError("STORE_FAILED", `${this.description}: ${detail}`, { cause: err });
  }
}

export { describeUrl };

const CONNECTION_ERRNOS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

function isConnectionProblem(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    // class 08: connection exception; 57P01-03: shut down by an admin, crashed, starting up;
    // 53300: too many connections
    if (code.startsWith("08") || /^57P0[1-3]$/.test(code) || code === "53300") return true;
    if (CONNECTION_ERRNOS.has(code)) return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|not queryable/i.test(
    errorText(err),
  );
}

/** The error's message; for an AggregateError (every address of a host refused), each one's. */
function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map((e) => errorText(e)).join("; ");
  }
  return err instanceof Error ? err.message : String(err);
}

function toMessage(row: MessageRow): StoredMessage {
  const m: StoredMessage = {
    room: row.room,
    offset: Number(row.offset),
    ts: Number(row.ts),
    user: row.user_id,
    name: row.name,
    text: row.text,
  };
  if (row.cid !== null) m.cid = row.cid;
  if (row.client_key !== null) m.key = row.client_key;
  return m;
}

/** The insert statement's parameters: one array per column (unnest), offsets given apart. */
function insertColumns(batch: readonly UnnumberedMessage[], offsets: number[]): unknown[] {
  const rooms: string[] = [];
  const ts: number[] = [];
  const users: string[] = [];
  const names: string[] = [];
  const texts: string[] = [];
  const cids: (string | null)[] = [];
  const keys: (string | null)[] = [];
  for (const m of batch) {
    rooms.push(m.room);
    ts.push(m.ts);
    users.push(storableText(m.user));
    names.push(storableText(m.name));
    texts.push(storableText(m.text));
    cids.push(m.cid === undefined ? null : storableText(m.cid));
    keys.push(m.key === undefined ? null : storableText(m.key));
  }
  return [rooms, offsets, ts, users, names, texts, cids, keys];
}
