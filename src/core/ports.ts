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
}

export const systemClock: Clock = {
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
}
