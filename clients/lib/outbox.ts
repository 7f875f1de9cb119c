import { ClientError, ClientErrorCode } from "./errors.js";

export interface OutboxEntry {
  /** client message id, unique per client object */
  readonly cid: string;
  readonly room: string;
  readonly text: string;
  /** when send() was called (client clock, ms) */
  readonly queuedAt: number;
  /** written on the current link and awaiting its echo */
  sent: boolean;
  /**
   * The server could not store it (STORE_UNAVAILABLE: nobody got it): it is written again from
   * this time on (client clock, ms), and messages to its room after it wait as well.
   */
  retryAt?: number;
  /** STORE_UNAVAILABLE refusals so far, and when the first came (client clock, ms) */
  refusals?: number;
  firstRefusedAt?: number;
}

/** Default bound of the outbox, in messages. */
export const DEFAULT_OUTBOX_LIMIT = 100;

/**
 * The messages sent and not yet confirmed by their echo, in send order. Bounded: a client offline
 * long enough to fill it gets OUTBOX_FULL from send() rather than growing memory without end.
 * An entry leaves when its echo arrives (confirm), when the server refuses it, or when it is
 * given up (room left, client closed).
 */
export class Outbox {
  private readonly entries = new Map<string, OutboxEntry>();

  constructor(readonly limit: number = DEFAULT_OUTBOX_LIMIT) {
    if (!(limit >= 1)) throw new RangeError("outbox limit must be at least 1");
  }

  get size(): number {
    return this.entries.size;
  }

  add(entry: OutboxEntry): void {
    if (this.entries.size >= this.limit) {
      throw new ClientError(
        ClientErrorCode.OUTBOX_FULL,
        `${this.limit} messages are waiting for the server already`,
      );
    }
    this.entries.set(entry.cid, entry);
  }

  get(cid: string): OutboxEntry | undefined {
    return this.entries.get(cid);
  }

  /** Removes and returns the entry with this cid, if any. */
  take(cid: string): OutboxEntry | undefined {
    const e = this.entries.get(cid);
    if (e !== undefined) this.entries.delete(cid);
    return e;
  }

  /**
   * For a server that does not echo cids (the original): the echo of our own message `text` in
   * `room` confirms the oldest sent entry there with that text. A server handles one
   * connection's commands in order, so sent entries of that room before it got no echo: the
   * server dropped them. Returns [confirmed entry or undefined, dropped entries].
   */
  takeEcho(room: string, text: string): [OutboxEntry | undefined, OutboxEntry[]] {
    const before: OutboxEntry[] = [];
    for (const e of this.entries.values()) {
      if (!e.sent || e.room !== room) continue;
      if (e.text === text) {
        for (const d of before) this.entries.delete(d.cid);
        this.entries.delete(e.cid);
        return [e, before];
      }
      before.push(e);
    }
    return [undefined, []];
  }

  /** Entries not written on the current link, in send order. */
  unsent(): OutboxEntry[] {
    return [...this.entries.values()].filter((e) => !e.sent);
  }

  /** After a link is lost: everything is to be written again on the next one, at once. */
  markAllUnsent(): void {
    for (const e of this.entries.values()) {
      e.sent = false;
      delete e.retryAt;
    }
  }

  /** The earliest retryAt of the entries waiting after a STORE_UNAVAILABLE, if any. */
  nextRetry(): number | undefined {
    let at: number | undefined;
    for (const e of this.entries.values()) {
      if (e.retryAt !== undefined && (at === undefined || e.retryAt < at)) at = e.retryAt;
    }
    return at;
  }

  /** Removes and returns the entries matching `pred`. */
  removeWhere(pred: (e: OutboxEntry) => boolean): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    for (const e of this.entries.values()) {
      if (pred(e)) {
        out.push(e);
        this.entries.delete(e.cid);
      }
    }
    return out;
  }

  list(): readonly OutboxEntry[] {
    return [...this.entries.values()];
  }
}
