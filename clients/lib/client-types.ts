import type { Event, RoomInfo } from "../../src/protocol/index.js";
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

export interface ClientEvents {
  status: [ConnectionStatus];
  /** logged in: after the first connection and after every reconnect */
  ready: [SessionInfo];
  /** every event from the server, in order, after the client's own bookkeeping */
  event: [Event];
  failed: [FailedMessage];
  /** the number of unconfirmed messages changed */
  outbox: [number];
}

export interface ParleyClientOptions {
  transport: Transport;
  /** display name to take at login and to reclaim after each reconnect (Parley servers) */
  name?: string;
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
  clock?: Clock;
  /** [0, 1) source for the backoff jitter. Default Math.random */
  random?: () => number;
}
