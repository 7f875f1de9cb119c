import type { FrameError } from "../protocol/index.js";
import { DisconnectCode, EncodedEvent } from "../protocol/index.js";
import type { CatchUp } from "./catch-up.js";
import type { Limits } from "./limits.js";
import type { MessageLog } from "./message-log.js";
import type { EventHolder } from "./room-stream.js";
import type { ConnectionContext } from "./middleware.js";
import type { Clock, CloseReason, Connection, Metrics } from "./ports.js";
import type { RoomAccess } from "./room-access.js";
import { TokenBucket } from "./token-bucket.js";

/** setTimeout's longest delay (2^31 - 1 ms, about 24.8 days): longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** The held-events arrays of a session that holds nothing: shared, never written to. */
const NOTHING_HELD: EncodedEvent[] = [];
const NO_GENS: number[] = [];

/** How a session ended: a disconnect code, or the peer went away. */
export const PEER_CLOSED = "PEER_CLOSED";
export type EndCode = DisconnectCode | typeof PEER_CLOSED;

/** What a session needs from the server that owns it. */
export interface SessionHost {
  readonly limits: Limits;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: MessageLog;
  handleLine(session: Session, text: string): void;
  handleFrameError(session: Session, error: FrameError): void;
  end(session: Session, code: EndCode, message: string, notify: boolean): void;
}

/**
 * One connection's chat state: identity and the two flows. (Room membership is the server's
 * Membership's to keep.)
 *
 * Inbound: frames are pulled from the connection's framer at the session's rate (token bucket).
 * Out of tokens, the session stops reading the socket ("fakelag"): TCP pushes back on the sender
 * and nothing it sent is lost. Held back without a break for `floodDisconnectMs`, it is
 * disconnected (FLOODING). Reading also stops while a reader this session's messages went to is
 * congested (see Membership.publish), for the same reason: the sender waits, nothing is lost.
 *
 * Outbound: events of all its rooms are queued on the one connection in the order they happen,
 * which is the merged, ordered stream. Above `maxOutboundBytes` queued the session is congested:
 * it holds back the senders that feed it until it drains below the mark. It is cut
 * (SLOW_CONSUMER) only when it is congested and has taken nothing for `writeDeadlineMs`, or at
 * once when its queue passes `maxOutboundHardBytes`; so a reader that keeps reading, however
 * slowly, loses nothing, and one that stopped is cut within a bounded time and memory.
 */
export class Session implements EventHolder {
  /** display name; starts as the user id */
  name: string;
  /** when the last command was handled (or the session opened), for the idle timeout */
  lastActivity: number;
  readonly openedAt: number;
  /** whether any command (valid or not) has been handled yet: the first-command timeout */
  spoke = false;
  /**
   * When the unfinished line or frame now waiting in the framer was first seen; 0 when there is
   * none. The server's sweep cuts it after `frameTimeoutMs` (FRAME_TIMEOUT).
   */
  partialSince = 0;
  /** whether the client opted in to extension events (see docs/protocol.md) */
  extended = false;
  /** the client instance key from `hello.k`: scopes resend deduplication (see dedup.ts) */
  clientKey: string | undefined;
  /** set once the session is ended; it then receives nothing */
  closed = false;
  /** true while more than `maxOutboundBytes` is queued for this connection */
  congested = false;
  /**
   * rooms this session is catching up in before it goes live (see CatchUp); undefined until its
   * first catch-up, so that a session that never joins a room with history carries no Set
   */
  catchUps: Set<CatchUp> | undefined;
  /** what the session's token allows (see SessionAuth); undefined: no token, everything */
  access: RoomAccess | undefined;

  /**
   * Events delivered behind messages not yet durable, with the generation each waits for (see
   * MessageLog): they reach the connection, in order, once those messages are stored. Both are
   * the shared empty NOTHING_HELD until something is held (an idle session allocates neither).
   */
  private held: EncodedEvent[] = NOTHING_HELD;
  private heldGens: number[] = NO_GENS;
  private heldBytes = 0;
  /** a close asked for while events were held: done once they are released */
  private closeWhenReleased: { reason: CloseReason; flushMs: number } | undefined;
  private overflowed = false;
  /** when the kernel last took queued bytes, or the queue last started filling from empty */
  private progressAt: number;
  private outboundEmpty = true;
  private deadlineTimer: unknown;
  /** sessions held back until this one drains below the high-water mark */
  private waiters: Set<Session> | undefined;
  /** congested sessions this one waits on; it reads again when none is left */
  private blockedOn = 0;
  /**
   * the command rate limit; made at the first command (a session that never speaks costs none),
   * full as of `openedAt`, which is what one made at the open would be by then
   */
  private bucket: TokenBucket | undefined;
  /** a frame pulled but held back by the rate limit */
  private heldFrame: string | FrameError | undefined;
  private throttledSince: number | undefined;
  private resumeTimer: unknown;
  private readingPaused = false;
  /** a command is still under way (see awaitCommand): nothing more is read until it ends */
  private awaiting = false;
  /** ends the session when its token expires (see expireAt) */
  private expiryTimer: unknown;

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
    this.openedAt = now;
    this.progressAt = now;
  }

  get authenticated(): boolean {
    return this.ctx.authenticated;
  }

  // ------------------------------------------------------------------ outbound

  /**
   * Queues an event for this session. Extension events are dropped for a client that did not opt
   * in. Returns whether it was queued.
   */
  deliver(event: EncodedEvent): boolean {
    if (this.closed || this.overflowed) return false;
    if (event.extension && !this.extended) return false;
    if (this.outboundEmpty) {
      // A queue that starts filling now is not behind yet: its stall clock starts here.
      this.outboundEmpty = false;
      this.progressAt = this.host.clock.now();
    }
    this.enqueue(event);
    if (this.queuedBytes > this.host.limits.maxOutboundBytes) this.onBacklog();
    return true;
  }

  /** Queues an event even past the outbound bound (the last words before a close). */
  deliverFinal(event: EncodedEvent): void {
    if (this.closed) return;
    if (event.extension && !this.extended) return;
    this.enqueue(event);
  }

  /** Bytes queued for this client: held behind a commit, in the server, and not yet in the kernel. */
  get queuedBytes(): number {
    return this.heldBytes + this.conn.bufferedBytes;
  }

  private enqueue(event: EncodedEvent): void {
    const gen = this.host.log.holdingGen;
    if (gen === 0) {
      this.conn.send(event);
      return;
    }
    if (this.held.length === 0) {
      this.host.log.hold(this);
      if (this.held === NOTHING_HELD) {
        this.held = [];
        this.heldGens = [];
      }
    }
    this.held.push(event);
    this.heldGens.push(gen);
    this.heldBytes += event.byteLength + 2;
  }

  /** MessageLog: the messages before generation `upTo` are durable (or `dropped`). */
  releaseHeld(upTo: number, dropped: ReadonlySet<EncodedEvent> | undefined): boolean {
    const held = this.held;
    let n = 0;
    for (; n < held.length && this.heldGens[n]! <= upTo; n++) {
      const event = held[n]!;
      this.heldBytes -= event.byteLength + 2;
      if (dropped === undefined || !dropped.has(event)) this.conn.send(event);
    }
    if (n === held.length) {
      this.held = NOTHING_HELD;
      this.heldGens = NO_GENS;
      this.heldBytes = 0;
    } else {
      held.splice(0, n);
      this.heldGens.splice(0, n);
    }
    if (this.held.length === 0 && this.closeWhenReleased !== undefined) {
      const { reason, flushMs } = this.closeWhenReleased;
      this.closeWhenReleased = undefined;
      this.conn.close(reason, flushMs);
    }
    return this.held.length > 0;
  }

  /** Closes the connection once what is queued for it has gone (held events included). */
  closeConnection(reason: CloseReason, flushMs: number): void {
    if (this.held.length > 0) this.closeWhenReleased = { reason, flushMs };
    else this.conn.close(reason, flushMs);
  }

  sendError(
    code: string,
    message: string,
    extra?: { cmd?: string; r?: string; cid?: string },
  ): void {
    if (!this.extended) return; // an original client has no error event (its decoder would fail)
    this.deliver(new EncodedEvent({ _et: "error", code, message, ...extra }));
  }

  private onBacklog(): void {
    const limits = this.host.limits;
    const queued = this.queuedBytes;
    if (queued > limits.maxOutboundHardBytes) {
      this.overflowed = true;
      this.host.metrics.slowConsumerDisconnect("hard_limit");
      // Ended after the current fan-out completes, so that the `left` broadcast it causes is not
      // interleaved into the middle of another broadcast.
      queueMicrotask(() =>
        this.host.end(
          this,
          DisconnectCode.SLOW_CONSUMER,
          `more than ${limits.maxOutboundHardBytes} bytes queued: reading too slowly`,
          true,
        ),
      );
      return;
    }
    if (this.congested) return;
    this.congested = true;
    this.armDeadline();
  }

  /**
   * The write deadline counts from the last time the peer took anything (or the queue started
   * filling), not from when the mark was crossed: a reader that stopped long ago is cut as soon
   * as it congests, instead of stalling its room for a full deadline after another was cut.
   */
  private armDeadline(): void {
    const limits = this.host.limits;
    const left = this.progressAt + limits.writeDeadlineMs - this.host.clock.now();
    this.deadlineTimer = this.host.clock.setTimeout(
      () => {
        this.deadlineTimer = undefined;
        if (!this.congested || this.closed) return;
        if (this.host.clock.now() - this.progressAt < limits.writeDeadlineMs) {
          this.armDeadline(); // it took something meanwhile: still within its time
          return;
        }
        this.host.metrics.slowConsumerDisconnect("write_deadline");
        this.host.end(
          this,
          DisconnectCode.SLOW_CONSUMER,
          `more than ${limits.maxOutboundBytes} bytes queued and none read for ${limits.writeDeadlineMs} ms`,
          true,
        );
      },
      Math.max(0, left),
    );
  }

  /**
   * Called by the transport when the kernel took a batch of queued bytes: the reader is alive. A
   * congested session that drained below the high-water mark releases the senders it held back.
   */
  onOutboundProgress(): void {
    this.progressAt = this.host.clock.now();
    const queued = this.queuedBytes;
    if (queued === 0) this.outboundEmpty = true;
    const catchUps = this.catchUps;
    if (catchUps !== undefined && catchUps.size > 0) for (const c of catchUps) c.pump();
    if (!this.congested || queued > this.host.limits.maxOutboundBytes) return;
    this.congested = false;
    this.clearDeadline();
    this.releaseWaiters();
  }

  /** Holds this session's reading back until `reader` is no longer congested. */
  waitFor(reader: Session): void {
    const waiters = (reader.waiters ??= new Set());
    if (waiters.has(this)) return;
    waiters.add(this);
    if (this.blockedOn++ === 0) this.host.metrics.senderHeldBack();
  }

  private releaseWaiters(): void {
    const waiters = this.waiters;
    if (waiters === undefined) return;
    this.waiters = undefined;
    for (const w of waiters) {
      if (--w.blockedOn === 0 && !w.closed) {
        // Not from inside the caller (a transport callback or another session's ending).
        queueMicrotask(() => w.onReadable());
      }
    }
  }

  private clearDeadline(): void {
    if (this.deadlineTimer !== undefined) {
      this.host.clock.clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    }
  }

  // ------------------------------------------------------------------ inbound

  /** Called by the transport after it pushed `bytes` read from the peer into the framer. */
  onData(bytes: number): void {
    this.host.metrics.bytesReceived(this.conn.transport, bytes);
    this.onReadable();
  }

  /**
   * Pulls and handles the frames its rate allows (also called when a rate-limit wait ends or a
   * congested reader it waited on drained).
   */
  onReadable(): void {
    if (this.resumeTimer !== undefined) return;
    const framer = this.conn.framer;
    const clock = this.host.clock;
    while (!this.closed) {
      // A client that does not read its own replies is not read either: it waits on itself.
      if (this.congested) this.waitFor(this);
      if (this.blockedOn > 0 || this.awaiting) {
        this.partialSince = 0; // input waiting on us is not the peer's slowness
        this.pauseReading();
        return;
      }
      let frame = this.heldFrame;
      this.heldFrame = undefined;
      if (frame === undefined) frame = framer.next();
      if (frame === undefined) {
        if (framer.buffered === 0) this.partialSince = 0;
        else if (this.partialSince === 0) this.partialSince = clock.now();
        if (this.readingPaused) {
          this.readingPaused = false;
          this.conn.resumeReading();
        }
        return;
      }
      this.partialSince = 0;
      const now = clock.now();
      const bucket = (this.bucket ??= new TokenBucket(
        this.host.limits.ratePerSec,
        this.host.limits.rateBurst,
        this.openedAt,
      ));
      const wait = bucket.take(now);
      if (wait > 0) {
        this.holdBack(frame, now, wait);
        return;
      }
      // A flood episode ends once the client has let its bucket refill halfway.
      if (this.throttledSince !== undefined && bucket.level >= this.host.limits.rateBurst / 2) {
        this.throttledSince = undefined;
      }
      this.lastActivity = now;
      this.spoke = true;
      if (typeof frame === "string") this.host.handleLine(this, frame);
      else this.host.handleFrameError(this, frame);
    }
  }

  /**
   * The command just handled finishes later (it waits for the cluster): the session's next
   * commands are read only after it, so they are handled in the order they were sent.
   */
  awaitCommand(done: Promise<void>): void {
    this.awaiting = true;
    void done.finally(() => {
      this.awaiting = false;
      if (!this.closed) this.onReadable();
    });
  }

  private pauseReading(): void {
    if (!this.readingPaused) {
      this.readingPaused = true;
      this.conn.pauseReading();
    }
  }

  private holdBack(frame: string | FrameError, now: number, wait: number): void {
    this.heldFrame = frame;
    this.pauseReading();
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

  // ------------------------------------------------------------------ end

  /**
   * Calls `onExpired` at `at` (ms since the epoch) unless the session closes first; replaces an
   * earlier call. Timers are capped at MAX_TIMER_MS and re-armed, so a token valid for months
   * is not taken for an overflowed (immediate) timeout.
   */
  expireAt(at: number, onExpired: () => void): void {
    this.clearExpiry();
    if (this.closed) return;
    const left = at - this.host.clock.now();
    if (left <= 0) {
      onExpired();
      return;
    }
    this.expiryTimer = this.host.clock.setTimeout(
      () => {
        this.expiryTimer = undefined;
        this.expireAt(at, onExpired);
      },
      Math.min(left, MAX_TIMER_MS),
    );
  }

  private clearExpiry(): void {
    if (this.expiryTimer !== undefined) {
      this.host.clock.clearTimeout(this.expiryTimer);
      this.expiryTimer = undefined;
    }
  }

  /**
   * Marks the session ended, stops its timers and releases the senders it held back. Membership
   * is the server's to undo.
   */
  markClosed(): void {
    this.closed = true;
    this.heldFrame = undefined;
    this.congested = false;
    this.clearDeadline();
    this.clearExpiry();
    this.releaseWaiters();
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
