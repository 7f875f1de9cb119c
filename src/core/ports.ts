/**
 * The interfaces the chat core needs from the outside world. Transports, metrics backends and
 * loggers implement them; the core never imports net, ws, pino or prom-client.
 */
import type { DisconnectCode, EncodedEvent, Framer } from "../protocol/index.js";

export type TransportKind = "tcp" | "tcp-lp" | "ws";

/** Why a connection is being closed by the server. */
export interface CloseReason {
  /** a DisconnectCode, or PEER_CLOSED */
  code: string;
  message: string;
}

/** One client connection as the core sees it, whatever the transport. */
export interface Connection {
  readonly transport: TransportKind;
  readonly remoteAddress: string;
  /** Bytes of input not yet turned into commands live here; the session pulls from it. */
  readonly framer: Framer;
  /**
   * Queues an event for writing. Writes are batched: everything queued in one turn of the event
   * loop goes out in one socket write. The transport calls the session's
   * `onOutboundProgress()` whenever the kernel took a batch.
   */
  send(event: EncodedEvent): void;
  /** Bytes queued by send() and not yet taken by the kernel. */
  readonly bufferedBytes: number;
  /** Stops reading from the peer: TCP flow control then pushes back on the sender. */
  pauseReading(): void;
  resumeReading(): void;
  /**
   * Refuses a connection that never got a session (limit reached, auth failed). The transport
   * tells the peer in its own way, then closes.
   */
  refuse(reason: CloseReason): void;
  /**
   * Flushes what is queued, then closes. If the peer has not taken it all after `flushDeadlineMs`
   * the connection is cut. Idempotent.
   */
  close(reason: CloseReason, flushDeadlineMs: number): void;
}

/** Time source and timers, injectable so that time-dependent logic is tested without sleeping. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * Runs `fn` once the current turn of the event loop has handled its I/O (setImmediate): what
   * "everything accepted in one turn" is measured by.
   */
  defer(fn: () => void): void;
}

export const systemClock: Clock = {
  defer: (fn) => void setImmediate(fn),
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Structured logger; pino's Logger satisfies it. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** What the core counts. A Prometheus implementation lives outside the core. */
export interface Metrics {
  connectionOpened(transport: TransportKind): void;
  connectionClosed(transport: TransportKind, code: string): void;
  /** `reason`: a stable label (max_connections, per_ip_limit, per_ip_rate, auth, shutdown, ...) */
  connectionRefused(code: DisconnectCode, reason: string): void;
  commandReceived(type: string): void;
  /** bytes read from a connection (before framing) */
  bytesReceived(transport: TransportKind, bytes: number): void;
  /** one event written to `recipients` connections, `bytes` long each */
  eventDelivered(recipients: number, bytes: number): void;
  /** a reader cut for its outbound queue: stalled past the write deadline, or past the hard cap */
  slowConsumerDisconnect(reason: "write_deadline" | "hard_limit"): void;
  /** a session stopped being read because a reader its messages went to is congested */
  senderHeldBack(): void;
  rateLimited(): void;
  /** time from a message's arrival to its fan-out being queued on every member, in ms */
  broadcastDuration(ms: number): void;
  /** a batch of `messages` committed to the store in `ms` */
  storeCommitted(messages: number, ms: number): void;
  /** a store operation failed */
  storeError(op: "append" | "read" | "trim"): void;
  /** the store started failing (false) or answers again (true) */
  storeUp(up: boolean): void;
  /** a bus operation failed (a message not published is repaired from the store by the others) */
  busError(op: "publish" | "subscribe"): void;
  /** a payload arrived from the bus (only rooms this node has members in) */
  busReceived(): void;
  /** messages a node read from the store because the bus did not bring them */
  busRepaired(messages: number): void;
  /** the bus connection was lost (false) or is back (true) */
  busUp(up: boolean): void;

  // operations: rooms reload, drain, admin API
  /** a rooms reload: applied, refused for a bad rooms file, or failed (the store) */
  roomsReloaded(result: ReloadResult): void;
  /** a drain began */
  drainStarted(trigger: "signal" | "admin"): void;
  /** an admin API request answered with `status`; `action` is the route's name (401: bad token) */
  adminRequest(action: string, status: number): void;
  /** a token was accepted; `via`: the transport (tcp, tcp-lp, ws) or another entry point */
  authSucceeded(via: string): void;
  /** a token was refused, or missing where required (an AuthFailureReason: expired, claims...) */
  authFailed(reason: string): void;
}

/** How a rooms reload ended (`parley_reloads_total{result}`). */
export type ReloadResult = "ok" | "invalid" | "error";

// ------------------------------------------------------------------ history

/** One room message as stored: what `user_message` carries, plus the resend-dedup key. */
export interface StoredMessage {
  room: string;
  /** per-room offset: strictly increasing, never reused, continuing across restarts */
  offset: number;
  /** server time, ms since the Unix epoch */
  ts: number;
  /** sender's user id and display name when it was sent */
  user: string;
  name: string;
  text: string;
  /** the client message id and client instance key (`hello.k`), when the client gave both */
  cid?: string;
  key?: string;
}

/** A message before the store has given it its offset (see MessageStore.appendNext). */
export type UnnumberedMessage = Omit<StoredMessage, "offset">;

/** A room's message stream as a store knows it. */
export interface StreamState {
  /**
   * Identifies this stream's history: set when the stream is first created, and changed only if
   * its history was lost (a new or wiped store). Offsets are comparable only within one epoch.
   */
  epoch: string;
  /** offset of the newest message ever appended; 0 when none (kept even when trimmed away) */
  head: number;
  /** offset of the oldest message still retained; head + 1 when none is */
  first: number;
}

/** How much history a room keeps. 0 disables a bound. */
export interface RetentionPolicy {
  /** messages kept per room: the newest ones */
  maxMessages: number;
  /** messages older than this are dropped, ms */
  maxAgeMs: number;
  /** how often retention is applied, ms (default 10,000) */
  everyMs?: number;
}

/**
 * Durable room history (backends in src/store/, all passing test/store/contract.ts). Every
 * method may reject (disk full, database down): callers count, log and surface it, and never
 * report a message as sent that `append` did not store.
 */
export interface MessageStore {
  /** for logs, /readyz and /metrics: `sqlite:data/parley.db`, `postgres://host:5432/db`, `memory` */
  readonly description: string;
  /**
   * Creates the schema if needed and returns each room's stream state, creating the streams of
   * rooms it has never seen (each with a new epoch). May be called again with more rooms.
   */
  open(rooms: readonly string[]): Promise<Map<string, StreamState>>;
  /**
   * Writes the batch in one transaction and resolves once it is durable; on failure writes
   * none of it and rejects. Offsets in a batch are new and increasing per room. If the connection
   * is lost during the commit the outcome is unknown (the batch may be stored although this
   * rejected): callers re-read the heads (`open`) before appending again.
   */
  append(batch: readonly StoredMessage[]): Promise<void>;
  /**
   * Writes the batch in one transaction, giving each message the next offset of its room in
   * batch order, atomically with every other writer of the same store (the cluster's nodes
   * sharing PostgreSQL), and resolves with the offsets in batch order; on failure writes none.
   * This is what orders a room's messages across nodes.
   */
  appendNext(batch: readonly UnnumberedMessage[]): Promise<number[]>;
  /** Up to `limit` retained messages of `room` with offset > `after`, oldest first. */
  readAfter(room: string, after: number, limit: number): Promise<StoredMessage[]>;
  /** Up to `limit` retained messages of `room` with offset < `before` (the newest ones), oldest first. */
  readBefore(room: string, before: number, limit: number): Promise<StoredMessage[]>;
  /**
   * Messages carrying a client key and cid sent at or after `since` (ms), the newest `limit` of
   * them, oldest first: what reloads the resend-dedup memory after a restart.
   */
  recentWithClientIds(since: number, limit: number): Promise<StoredMessage[]>;
  /**
   * Deletes up to `maxRows` of `room`'s oldest messages that the policy no longer keeps; returns
   * how many it deleted and the room's oldest retained offset afterwards. Bounded so that a
   * store with a long backlog of expired rows is trimmed in steps, never in one long stall.
   */
  trim(
    room: string,
    policy: RetentionPolicy,
    now: number,
    maxRows: number,
  ): Promise<{ deleted: number; first: number }>;
  /** Checks the store answers (for /readyz while it is failing). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// ------------------------------------------------------------------ cluster

/**
 * Fan-out between nodes (backends in src/bus/, all passing test/bus/contract.ts). Each room has
 * a channel; a node receives a room's channel only while it subscribes to it (while it has a
 * local member: interest routing), so a node without members of a room gets none of its traffic.
 * A payload is one string, encoded once by the publisher and handed to every subscriber as is.
 * Delivery is at most once and in order per publisher; what a node misses while the bus is down
 * is repaired from the shared store (see the cluster sequencing in MessageLog), so the bus never
 * holds the only copy of a message.
 */
export interface Bus {
  /** for logs and /readyz: `memory`, `redis://host:6379` */
  readonly description: string;
  /** Connects (a bad address rejects: the server stops at start with the reason). */
  start(): Promise<void>;
  /** Publishes `payload` on `room`'s channel; rejects while the bus is down. */
  publish(room: string, payload: string): Promise<void>;
  /** Starts receiving `room`'s channel; resolves once the subscription is active. */
  subscribe(room: string): Promise<void>;
  /** Stops receiving `room`'s channel. */
  unsubscribe(room: string): Promise<void>;
  /** Every payload received on a subscribed channel (this node's own publishes included). */
  onMessage(handler: (room: string, payload: string) => void): void;
  /**
   * The connection to the bus was lost (false) or is back with every subscription renewed
   * (true): what was published meanwhile may be missing and must be repaired.
   */
  onStatus(handler: (up: boolean) => void): void;
  readonly up: boolean;
  stop(): Promise<void>;
}

/** One member of a room somewhere in the cluster. */
export interface PresenceEntry {
  node: string;
  user: string;
  name: string;
}

/**
 * Who is where across a cluster's nodes (backends in src/bus/, all passing
 * test/bus/directory-contract.ts): room members, unique display names, and which nodes are
 * alive. Each node writes its own members and names; a node that stops sending heartbeats is
 * declared dead after `ttlMs`, and `reap` removes what it held, once, for whoever asks first.
 */
export interface Directory {
  readonly description: string;
  /** Registers this node as alive and starts its heartbeat. */
  start(): Promise<void>;
  /** Stops the heartbeat and removes this node's members and names. */
  stop(): Promise<void>;
  join(room: string, user: string, name: string): Promise<void>;
  /** Removes a member; resolves whether it was there. */
  leave(room: string, user: string): Promise<boolean>;
  /** Every member of `room`, on every node. */
  members(room: string): Promise<PresenceEntry[]>;
  /** Member counts of `rooms`, in their order. */
  counts(rooms: readonly string[]): Promise<number[]>;
  /**
   * Claims the uniqueness keys of a display name (see protocol/display-name.ts) for `user`, all
   * or none: false when one is held by another user.
   */
  claimName(keys: readonly string[], user: string): Promise<boolean>;
  releaseName(keys: readonly string[], user: string): Promise<void>;
  /**
   * Removes the members and names of nodes whose heartbeat stopped; returns the members removed
   * by this call (each exactly once across every caller), for their rooms to be told.
   */
  reap(): Promise<Array<{ room: string } & PresenceEntry>>;
}

/**
 * Who a verified token says its bearer is. Rooms, when given, limit what the bearer may read
 * (join, history) and write (send); absent means every room.
 */
export interface Identity {
  /** the token's subject: a stable user id chosen by the issuer */
  readonly subject: string;
  /** the display name the issuer gives, if any */
  readonly name?: string;
  readonly readRooms?: readonly string[];
  readonly writeRooms?: readonly string[];
  /** when the token stops being valid (ms since the epoch), if it says */
  readonly expiresAt?: number;
}

/**
 * Checks a bearer token (JWT in production, see src/auth/). Rejects with an `AuthError`-like
 * error whose `reason` is a stable label (`expired`, `malformed`, `bad_signature`, `claims`) when
 * the token is not acceptable; never resolves for a bad token.
 */
export interface TokenVerifier {
  verify(token: string): Promise<Identity>;
}
