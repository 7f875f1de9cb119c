import type { FrameError } from "../protocol/index.js";
import { DisconnectCode, EncodedEvent } from "../protocol/index.js";
import type { Limits } from "./limits.js";
import type { ConnectionContext } from "./middleware.js";
import type { Clock, Connection, Metrics } from "./ports.js";
import type { Room } from "./room.js";
import { TokenBucket } from "./token-bucket.js";

/** How a session ended: a disconnect code, or the peer went away. */
export const PEER_CLOSED = "PEER_CLOSED";
export type EndCode = DisconnectCode | typeof PEER_CLOSED;

/** What a session needs from the server that owns it. */
export interface SessionHost {
  readonly limits: Limits;
  readonly clock: Clock;
  readonly metrics: Metrics;
  handleLine(session: Session, text: string): void;
  handleFrameError(session: Session, error: FrameError): void;
  end(session: Session, code: EndCode, message: string, notify: boolean): void;
}

/**
 * One connection's chat state: identity, joined rooms, and the two flows.
 *
 * Inbound: frames are pulled from the connection's framer at the session's rate (token bucket).
 * Out of tokens, the session stops reading the socket ("fakelag"): TCP pushes back on the sender
 * and nothing it sent is lost. Held back without a break for `floodDisconnectMs`, it is
 * disconnected (FLOODING).
 *
 * Outbound: events of all its rooms are queued on the one connection in the order they happen,
 * which is the merged, ordered stream. The queue is bounded in bytes (`maxOutboundBytes`); past
 * the bound the session is disconnected (SLOW_CONSUMER) instead of growing memory or slowing
 * anyone else.
 */
export class Session {
  readonly rooms = new Set<Room>();
  /** display name; starts as the user id */
  name: string;
  lastActivity: number;
  /** whether the client opted in to extension events (see docs/protocol.md) */
  extended = false;
  /** the client instance key from `hello.k`: scopes resend deduplication (see dedup.ts) */
  clientKey: string | undefined;
  /** set once the session is ended; it then receives nothing */
  closed = false;

  private overflowed = false;
  private readonly bucket: TokenBucket;
  private held: string | FrameError | undefined;
  private throttledSince: number | undefined;
  private resumeTimer: unknown;
  private readingPaused = false;

  constructor(
    private readonly host: SessionHost,
    readonly conn: Connection,
    readonly ctx: ConnectionContext,
    readonly id: string,
    readonly userId: string,
  ) {
    this.name = userId;
    const now = host.clock.now();
    this.lastActivity = now;
    this.bucket = new TokenBucket(host.limits.ratePerSec, host.limits.rateBurst, now);
  }

  get authenticated(): boolean {
    return this.ctx.authenticated;
  }

  /**
   * Queues an event for this session. Extension events are dropped for a client that did not opt
   * in. Returns whether it was queued.
   */
  deliver(event: EncodedEvent): boolean {
    if (this.closed || this.overflowed) return false;
    if (event.extension && !this.extended) return false;
    this.conn.send(event);
    if (this.conn.bufferedBytes > this.host.limits.maxOutboundBytes) {
      this.overflowed = true;
      // Ended after the current fan-out completes, so that the `left` broadcast it causes is not
      // interleaved into the middle of another broadcast.
      queueMicrotask(() =>
        this.host.end(
          this,
          DisconnectCode.SLOW_CONSUMER,
          `more than ${this.host.limits.maxOutboundBytes} bytes queued: reading too slowly`,
          true,
        ),
      );
    }
    return true;
  }

  /** Queues an event even past the outbound bound (the last words before a close). */
  deliverFinal(event: EncodedEvent): void {
    if (this.closed) return;
    if (event.extension && !this.extended) return;
    this.conn.send(event);
  }

  sendError(
    code: string,
    message: string,
    extra?: { cmd?: string; r?: string; cid?: string },
  ): void {
    if (!this.extended) return; // an original client has no error event (its decoder would fail)
    this.deliver(new EncodedEvent({ _et: "error", code, message, ...extra }));
  }

  /** Called by the transport after it pushed `bytes` read from the peer into the framer. */
  onData(bytes: number): void {
    this.host.metrics.bytesReceived(this.conn.transport, bytes);
    this.onReadable();
  }

  /** Pulls and handles the frames its rate allows (also called when a rate-limit wait ends). */
  onReadable(): void {
    if (this.resumeTimer !== undefined) return;
    const framer = this.conn.framer;
    const clock = this.host.clock;
    while (!this.closed) {
      let frame = this.held;
      this.held = undefined;
      if (frame === undefined) frame = framer.next();
      if (frame === undefined) {
        if (this.readingPaused) {
          this.readingPaused = false;
          this.conn.resumeReading();
        }
        return;
      }
      const now = clock.now();
      const wait = this.bucket.take(now);
      if (wait > 0) {
        this.holdBack(frame, now, wait);
        return;
      }
      // A flood episode ends once the client has let its bucket refill halfway.
      if (
        this.throttledSince !== undefined &&
        this.bucket.level >= this.host.limits.rateBurst / 2
      ) {
        this.throttledSince = undefined;
      }
      this.lastActivity = now;
      if (typeof frame === "string") this.host.handleLine(this, frame);
      else this.host.handleFrameError(this, frame);
    }
  }

  private holdBack(frame: string | FrameError, now: number, wait: number): void {
    this.held = frame;
    if (!this.readingPaused) {
      this.readingPaused = true;
      this.conn.pauseReading();
    }
    const limits = this.host.limits;
    if (this.throttledSince === undefined) {
      this.throttledSince = now;
      this.host.metrics.rateLimited();
      this.deliver(new EncodedEvent({ _et: "slow_down", retry_ms: wait }));
    } else if (
      limits.floodDisconnectMs > 0 &&
      now - this.throttledSince >= limits.floodDisconnectMs
    ) {
      this.host.end(
        this,
        DisconnectCode.FLOODING,
        `sending above ${limits.ratePerSec} commands/s for ${limits.floodDisconnectMs} ms`,
        true,
      );
      return;
    }
    this.resumeTimer = this.host.clock.setTimeout(() => {
      this.resumeTimer = undefined;
      this.onReadable();
    }, wait);
  }

  /** Marks the session ended and stops its timers. Membership is the server's to undo. */
  markClosed(): void {
    this.closed = true;
    this.held = undefined;
    if (this.resumeTimer !== undefined) {
      this.host.clock.clearTimeout(this.resumeTimer);
      this.resumeTimer = undefined;
    }
  }

  /** Called by the transport when the peer closed or the socket failed. */
  onTransportClosed(message = "connection closed by peer"): void {
    this.host.end(this, PEER_CLOSED, message, false);
  }
}
