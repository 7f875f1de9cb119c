import type { SendMessageCommand, UserMessageEvent } from "../../src/protocol/index.js";
import { Backoff } from "./backoff.js";
import type { FailedMessage } from "./client-types.js";
import type { Clock } from "./clock.js";
import { ClientErrorCode } from "./errors.js";
import { Outbox, type OutboxEntry } from "./outbox.js";

/**
 * Delays before writing again a message the server could not store (STORE_UNAVAILABLE): from
 * 1 s doubling to 15 s, half of each jittered, for at most storeRetryMs.
 */
const STORE_RETRY = { baseMs: 1_000, maxMs: 15_000, factor: 2 };

/** Default time a message refused with STORE_UNAVAILABLE is tried again, in ms. */
export const DEFAULT_STORE_RETRY_MS = 120_000;

export interface DeliveryHost {
  readonly clock: Clock;
  /** [0, 1), for the retry jitter */
  readonly random: () => number;
  /** whether messages to `room` may be written now (logged in, and its join far enough) */
  canSend(room: string): boolean;
  write(cmd: SendMessageCommand): void;
  /** the number of unconfirmed messages changed (or one of them changed state) */
  changed(size: number): void;
  failed(f: FailedMessage): void;
}

/**
 * The client's messages from send() to their echo: each waits in the bounded Outbox, is written
 * when its room can take it, in order, and leaves when its echo comes back (confirmed), when the
 * server refuses it, or when it is given up (failed). A message the server could not store
 * (STORE_UNAVAILABLE: it reached nobody) stays and is written again after a delay, for
 * storeRetryMs from its first refusal. Messages keep their send order: each waits for the ones
 * sent before it (after a reconnect, until their rooms' joins are live).
 */
export class Delivery {
  private readonly outbox: Outbox;
  private readonly backoff = new Backoff(STORE_RETRY);
  private seq = 0;
  private retryTimer: unknown;

  constructor(
    private readonly host: DeliveryHost,
    limit: number,
    private readonly storeRetryMs: number,
  ) {
    this.outbox = new Outbox(limit);
  }

  get size(): number {
    return this.outbox.size;
  }

  /** Copies of the entries, in send order. */
  list(): OutboxEntry[] {
    return this.outbox.list().map((e) => ({ ...e }));
  }

  /** Queues a message (OUTBOX_FULL past the bound) and writes it if it can go; returns its cid. */
  add(room: string, text: string): string {
    const cid = (++this.seq).toString(36);
    this.outbox.add({ cid, room, text, queuedAt: this.host.clock.now(), sent: false });
    this.host.changed(this.outbox.size);
    this.flush();
    return cid;
  }

  /**
   * Writes the entries not yet written on this link, in send order (across rooms too), up to
   * the first that cannot go yet: its room is not ready, or it waits to be tried again.
   */
  flush(): void {
    const now = this.host.clock.now();
    const unsent = this.outbox.unsent();
    // Due retries only wait for their room now (so nextRetry() is always in the future).
    for (const e of unsent) if (e.retryAt !== undefined && e.retryAt <= now) delete e.retryAt;
    for (const e of unsent) {
      if (e.retryAt !== undefined || !this.host.canSend(e.room)) break;
      this.host.write({ _ct: "send_message", r: e.room, c: e.text, cid: e.cid });
      e.sent = true;
    }
  }

  /** Our message came back with its cid (the caller checked it is ours): it is confirmed. */
  echoed(cid: string): void {
    if (this.outbox.take(cid) !== undefined) this.host.changed(this.outbox.size);
  }

  /**
   * An original server's echo of our message (no cid): confirms the oldest written entry of its
   * room with that text; the written ones before it got no echo and are reported failed.
   */
  echoedWithoutCid(ev: UserMessageEvent): void {
    const [entry, dropped] = this.outbox.takeEcho(ev.r, ev.c);
    for (const e of dropped)
      this.report(e, ClientErrorCode.UNCONFIRMED, "the server did not echo it");
    if (entry !== undefined) this.host.changed(this.outbox.size);
  }

  /** The server refused the message with this cid (an `error` carrying it). */
  refused(cid: string, code: string, message: string): void {
    const e = this.outbox.get(cid);
    if (e === undefined) return;
    if (code === "STORE_UNAVAILABLE" && this.retryLater(e)) return;
    this.outbox.take(cid);
    this.report(e, code, message);
    this.host.changed(this.outbox.size);
  }

  /**
   * The link is gone. `resend`: the server deduplicates (key, cid), so everything is written
   * again on the next link; otherwise the entries written and unconfirmed are given up
   * (UNCONFIRMED) rather than risk showing them twice.
   */
  linkLost(resend: boolean): void {
    this.host.clock.clearTimeout(this.retryTimer);
    if (resend) this.outbox.markAllUnsent();
    else {
      this.failWhere(
        (e) => e.sent,
        ClientErrorCode.UNCONFIRMED,
        "the connection dropped before the server confirmed it; not resent, to never show it twice",
      );
    }
  }

  /** Removes the entries matching `pred` and reports each failed with `code`. */
  failWhere(pred: (e: OutboxEntry) => boolean, code: string, message: string): void {
    const gone = this.outbox.removeWhere(pred);
    if (gone.length === 0) return;
    for (const e of gone) this.report(e, code, message);
    this.host.changed(this.outbox.size);
  }

  stop(): void {
    this.host.clock.clearTimeout(this.retryTimer);
  }

  private report(e: OutboxEntry, code: string, message: string): void {
    this.host.failed({ cid: e.cid, room: e.room, text: e.text, code, message });
  }

  /** Keeps a message the store refused, to be written again later; false once storeRetryMs is over. */
  private retryLater(e: OutboxEntry): boolean {
    const now = this.host.clock.now();
    e.firstRefusedAt ??= now;
    if (now - e.firstRefusedAt >= this.storeRetryMs) return false;
    const ceiling = this.backoff.ceiling(e.refusals ?? 0);
    e.refusals = (e.refusals ?? 0) + 1;
    e.sent = false;
    e.retryAt = now + ceiling / 2 + (this.host.random() * ceiling) / 2;
    this.scheduleRetry();
    this.host.changed(this.outbox.size);
    return true;
  }

  private scheduleRetry(): void {
    this.host.clock.clearTimeout(this.retryTimer);
    const at = this.outbox.nextRetry();
    if (at === undefined) return;
    this.retryTimer = this.host.clock.setTimeout(
      () => {
        this.flush();
        this.scheduleRetry();
      },
      Math.max(0, at - this.host.clock.now()),
    );
  }
}
