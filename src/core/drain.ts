import type { Clock } from "./ports.js";
import type { Session } from "./session.js";

export interface DrainOptions {
  /**
   * The sessions are ended one after another over this window, ms, so that their reconnects do
   * not land on the other servers all at once. 0: all at once.
   */
  windowMs: number;
  /** Sessions still open this long after the drain began are cut (the caller then stops), ms. */
  timeoutMs: number;
}

/** How a drain ended: every session gone, or the deadline passed with some still open. */
export type DrainOutcome = "empty" | "deadline";

/** What a drain needs from the server. */
export interface DrainHost {
  readonly clock: Clock;
  /** how many sessions are open now */
  openSessions(): number;
  /** Ends a session with SERVER_DRAINING; extension clients are told to wait `retryMs`. */
  endDrained(session: Session, retryMs: number): void;
}

/**
 * No reconnect delay exceeds this, ms: with few sessions the slots are long, and a client told to
 * go should not sit idle for most of the window.
 */
export const MAX_RETRY_MS = 5_000;

/**
 * Taking a server out of service without a thundering herd. The sessions open when the drain
 * begins are put in a random order and given evenly spaced moments across the window (session k
 * of n at k * window / n); at its moment each is told (extension clients: `disconnect
 * SERVER_DRAINING` with `retry_ms`) and closed. `retry_ms` is drawn uniformly within one slot
 * (window / n, at most MAX_RETRY_MS), so the reconnects, moment plus delay, are spread
 * uniformly over the window rather than bunched at the slot starts. Meanwhile the server refuses
 * new connections (ChatServer). The drain is over when the last session has gone (some leave
 * before their moment) or at the deadline.
 */
export class Drain {
  readonly done: Promise<DrainOutcome>;
  private resolve!: (outcome: DrainOutcome) => void;
  private readonly order: Session[];
  private readonly slotMs: number;
  private readonly startedAt: number;
  private next = 0;
  private tickTimer: unknown;
  private deadlineTimer: unknown;
  private finished = false;

  constructor(
    private readonly host: DrainHost,
    sessions: readonly Session[],
    options: DrainOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.done = new Promise((r) => (this.resolve = r));
    this.order = shuffle([...sessions], random);
    this.slotMs = this.order.length > 0 ? options.windowMs / this.order.length : 0;
    this.startedAt = host.clock.now();
    this.deadlineTimer = host.clock.setTimeout(() => this.finish("deadline"), options.timeoutMs);
    this.tick();
  }

  /** The server: a session ended (for any reason); the drain is over once none is left. */
  sessionEnded(): void {
    if (this.host.openSessions() === 0) this.finish("empty");
  }

  /** Stops the timers (the server is stopping anyway). */
  cancel(): void {
    this.finish("deadline");
  }

  private tick(): void {
    this.tickTimer = undefined;
    const elapsed = this.host.clock.now() - this.startedAt;
    while (!this.finished && this.next < this.order.length && this.next * this.slotMs <= elapsed) {
      const session = this.order[this.next++]!;
      if (session.closed) continue;
      const retryMs = Math.floor(this.random() * Math.min(this.slotMs, MAX_RETRY_MS));
      this.host.endDrained(session, retryMs);
    }
    if (this.finished) return;
    if (this.next < this.order.length) {
      const wait = Math.max(0, this.next * this.slotMs - elapsed);
      this.tickTimer = this.host.clock.setTimeout(() => this.tick(), wait);
    }
    this.sessionEnded();
  }

  private finish(outcome: DrainOutcome): void {
    if (this.finished) return;
    this.finished = true;
    const c = this.host.clock;
    if (this.tickTimer !== undefined) c.clearTimeout(this.tickTimer);
    c.clearTimeout(this.deadlineTimer);
    this.resolve(outcome);
  }
}

/** Fisher-Yates, in place. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
