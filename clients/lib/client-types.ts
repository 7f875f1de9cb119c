import type { Event, RoomInfo, UserMessageEvent } from "../../src/protocol/index.js";
import type { BackoffOptions } from "./backoff.js";
import type { Clock } from "./clock.js";
import type { Transport } from "./transport.js";

// The ParleyClient's public types: its options, its status, and the events it emits.

/**
 * idle: connect() not called yet; connecting: a link is opening or awaiting login_successful;
 * connected: logged in; waiting: the link was lost and the next attempt is scheduled;
 * closed: for good (close(), a first connection that failed, or a server that said not to retry).
 */
export type ConnectionState = "idle" | "connecting" | "connected" | "waiting" | "closed";

export interface ConnectionStatus {
  state: ConnectionState;
  /** transport description, e.g. tcp://localhost:8080 */
  server: string;
  /** reconnect attempts since the connection was last stable */
  attempt: number;
  /** state "waiting": when the next attempt starts (client clock, ms since the epoch) */
  retryAt?: number;
  /** why the last link ended or failed */
  lastError?: string;
}

export interface SessionInfo {
  sessionId: string;
  userId: string;
  /** display name (the user id until one is set) */
  name: string;
  /** the server's rooms, in its order */
  rooms: RoomInfo[];
  /** the server speaks Parley's extensions (its login_successful carries `pv`) */
  extended: boolean;
  /** logins before this one: 0 for the first connection */
  reconnects: number;
}

/** A message that left the outbox without being delivered. */
export interface FailedMessage {
  cid: string;
  room: string;
  text: string;
  /** a server ErrorCode or a ClientErrorCode */
  code: string;
  message: string;
}

/**
 * How a room's join went live:
 * - fresh: a join that resumes nothing (the room's first, or one after leaving it), after the
 *   backlog it asked for (historyOnJoin);
 * - exact: a rejoin after a reconnect that got every message missed meanwhile;
 * - gap: a rejoin that got what the server still had: older messages were trimmed (retention);
 * - reset: the room's history was lost on the server (a new epoch, or its latest messages went
 *   back): messages may be missing, and its offsets start over.
 */
export type JoinStatus = "fresh" | "exact" | "gap" | "reset";

/** A room's join went live (after its user_joined_room event). */
export interface RoomJoined {
  room: string;
  status: JoinStatus;
  /**
   * user_message events passed on (event "event") for this join before it went live: the
   * backlog of a fresh join, or the messages a rejoin missed. Duplicates are not counted (they
   * are not passed on).
   */
  replayed: number;
  /** a rejoin after a reconnect (the room was live on an earlier connection) */
  rejoin: boolean;
  /** the room's epoch and its latest offset at the join (Parley servers with history) */
  epoch?: string;
  offset?: number;
}

/** history(): which page. */
export interface HistoryQuery {
  /** the page holds messages older than this offset; without it, the latest ones */
  before?: number;
  /** page size: 1 to the server's historyPageMax. Default 50 */
  limit?: number;
}

/** A page of a room's history, oldest first. */
export interface HistoryPage {
  room: string;
  /** the room's epoch: the offsets are comparable with others of the same epoch only */
  epoch: string;
  messages: UserMessageEvent[];
  /** the oldest offset the server still keeps, and its latest */
  first: number;
  head: number;
  /** older messages exist beyond this page */
  more: boolean;
}

/** join() options. */
export interface JoinOptions {
  /** recent messages a fresh join of this room replays first. Default: the client's historyOnJoin */
  backlog?: number;
}

export interface ClientEvents {
  status: [ConnectionStatus];
  /** logged in: after the first connection and after every reconnect */
  ready: [SessionInfo];
  /**
   * every event from the server, in order, after the client's own bookkeeping; a user_message
   * the app got already (same room and offset, e.g. replayed again after a reconnect) is not
   * passed on twice
   */
  event: [Event];
  /** a room's join went live: emitted right after its user_joined_room event */
  joined: [RoomJoined];
  failed: [FailedMessage];
  /** the number of unconfirmed messages changed */
  outbox: [number];
}

/** A bearer token, or where to get one: called before every connection, so it can be fresh. */
export type TokenSource = string | (() => string | Promise<string>);

export interface ParleyClientOptions {
  transport: Transport;
  /** display name to take at login and to reclaim after each reconnect (Parley servers) */
  name?: string;
  /**
   * For a server with `--auth`: sent in `hello` (and on a WebSocket URL as `?token=`). A function
   * is called before each connection and reconnection (a token that expired ends the session
   * with a reconnect); if it throws or rejects, that connection attempt fails and is retried
   * with the backoff.
   */
  token?: TokenSource;
  backoff?: Partial<BackoffOptions>;
  /** keep retrying when the very first connection fails. Default false: connect() rejects */
  retryInitial?: boolean;
  /** unconfirmed messages kept at most. Default 100 */
  outboxLimit?: number;
  /**
   * Ping period on Parley servers, in ms; a ping still unanswered at the next period means the
   * link is dead (a half-open TCP connection shows nothing else). Default 15,000; 0 disables.
   */
  heartbeatMs?: number;
  /** time from the link opening to login_successful, in ms. Default 10,000 */
  loginTimeoutMs?: number;
  /** a connection that lasted this long resets the backoff to its first step, in ms. Default 5,000 */
  stableAfterMs?: number;
  /** delay before retrying to reclaim the display name (held by our stale session), in ms. Default 1,000 */
  reclaimDelayMs?: number;
  /**
   * Recent messages a fresh join replays first (join_room `b`, Parley servers), in messages;
   * capped by the server's historyPageMax. Default 50; 0 disables
   */
  historyOnJoin?: number;
  /** time a history() request may take, in ms. Default 10,000 */
  requestTimeoutMs?: number;
  /**
   * How long a message the server could not store (STORE_UNAVAILABLE) is tried again, from its
   * first refusal, in ms; then it is reported failed. Default 120,000
   */
  storeRetryMs?: number;
  clock?: Clock;
  /** [0, 1) source for the backoff jitter. Default Math.random */
  random?: () => number;
}
