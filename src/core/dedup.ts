import type { UserMessageEvent } from "../protocol/index.js";
import type { Clock } from "./ports.js";

/** Bounds of the resend-deduplication memory. Every bound is enforced on each insert. */
export interface RecentIdsOptions {
  /**
   * How long a (key, cid) is remembered, in ms. Default 10 minutes: well past the client
   * library's reconnect backoff cap (30 s), so a resend after any ordinary outage is caught.
   */
  ttlMs: number;
  /**
   * cids remembered per client key; the oldest goes first. Default 256: above the client
   * library's default outbox bound (100), so a whole outbox resent at once is covered.
   */
  maxPerKey: number;
  /** cids remembered over all keys; past it the least recently active key loses its oldest. */
  maxEntries: number;
  /**
   * Characters of cached message JSON over all entries (UTF-16 code units, about 2 bytes each in
   * memory). Default 8 Mi characters (~16 MiB). Bounds memory whatever the message sizes.
   */
  maxChars: number;
  /** Keys or cids longer than this are not remembered (no dedup for them). Default 64. */
  maxIdChars: number;
}

export const DEFAULT_RECENT_IDS: Readonly<RecentIdsOptions> = Object.freeze({
  ttlMs: 10 * 60 * 1000,
  maxPerKey: 256,
  maxEntries: 50_000,
  maxChars: 8 * 1024 * 1024,
  maxIdChars: 64,
});

interface Entry {
  event: UserMessageEvent;
  at: number;
  chars: number;
}

/**
 * The recently broadcast client message ids, per client instance key, each with the event it
 * produced. The chat server asks it before a broadcast: a (key, cid) seen before is a resend
 * (the client reconnected before it saw its echo), so the original event goes back to the sender
 * only, and nobody sees the message twice.
 *
 * Layout: key -> (cid -> entry). The outer map is in least-recently-active order (a key moves to
 * the end when it remembers a cid); each inner map is in insertion (= time) order, so both the
 * per-key LRU and the TTL drop entries from the front. The stored value is the event object, not
 * its EncodedEvent, so cached framings do not multiply the memory; a hit re-encodes (rare path).
 */
export class RecentIds {
  private readonly options: RecentIdsOptions;
  private readonly byKey = new Map<string, Map<string, Entry>>();
  private entries = 0;
  private chars = 0;

  constructor(
    private readonly clock: Clock,
    options: Partial<RecentIdsOptions> = {},
  ) {
    this.options = { ...DEFAULT_RECENT_IDS, ...options };
  }

  get ttlMs(): number {
    return this.options.ttlMs;
  }

  get maxEntries(): number {
    return this.options.maxEntries;
  }

  /** Number of (key, cid) pairs remembered. */
  get size(): number {
    return this.entries;
  }

  /** The event broadcast for (key, cid) within the TTL, if any. */
  get(key: string, cid: string): UserMessageEvent | undefined {
    const inner = this.byKey.get(key);
    const entry = inner?.get(cid);
    if (inner === undefined || entry === undefined) return undefined;
    if (this.clock.now() - entry.at >= this.options.ttlMs) {
      this.drop(key, inner, cid, entry);
      return undefined;
    }
    return entry.event;
  }

  /**
   * Remembers that (key, cid) produced `event`, whose JSON is `chars` long, at time `at` (default
   * now; older when reloaded from the store after a restart).
   */
  remember(
    key: string,
    cid: string,
    event: UserMessageEvent,
    chars: number,
    at = this.clock.now(),
  ): void {
    const o = this.options;
    if (key.length > o.maxIdChars || cid.length > o.maxIdChars) return;
    const now = at;
    let inner = this.byKey.get(key);
    if (inner === undefined) inner = new Map();
    else this.byKey.delete(key);
    this.byKey.set(key, inner);

    const old = inner.get(cid);
    if (old !== undefined) {
      inner.delete(cid);
      this.entries--;
      this.chars -= old.chars;
    }
    inner.set(cid, { event, at: now, chars });
    this.entries++;
    this.chars += chars;

    this.expire(key, inner, now);
    while (inner.size > o.maxPerKey) this.dropOldest(key, inner);
    // The least recently active key is the likeliest to hold expired entries: sweeping its front
    // on every insert keeps idle keys from holding memory until the global bound pushes them out.
    const [lruKey, lruInner] = this.byKey.entries().next().value ?? [];
    if (lruKey !== undefined && lruInner !== undefined) this.expire(lruKey, lruInner, now);
    while (this.entries > o.maxEntries || this.chars > o.maxChars) {
      const first = this.byKey.entries().next().value;
      if (first === undefined) break;
      this.dropOldest(first[0], first[1]);
    }
  }

  /** Forgets (key, cid): its message was not stored after all, so a resend is a new message. */
  forget(key: string, cid: string): void {
    const inner = this.byKey.get(key);
    const entry = inner?.get(cid);
    if (inner !== undefined && entry !== undefined) this.drop(key, inner, cid, entry);
  }

  private expire(key: string, inner: Map<string, Entry>, now: number): void {
    for (const [cid, entry] of inner) {
      if (now - entry.at < this.options.ttlMs) break;
      this.drop(key, inner, cid, entry);
    }
  }

  private dropOldest(key: string, inner: Map<string, Entry>): void {
    const first = inner.entries().next().value;
    if (first === undefined) this.byKey.delete(key);
    else this.drop(key, inner, first[0], first[1]);
  }

  private drop(key: string, inner: Map<string, Entry>, cid: string, entry: Entry): void {
    inner.delete(cid);
    this.entries--;
    this.chars -= entry.chars;
    if (inner.size === 0) this.byKey.delete(key);
  }
}
