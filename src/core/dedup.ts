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
  readonly cid: string;
  event: UserMessageEvent;
  at: number;
  chars: number;
}

/**
 * One key's ids, oldest first, with a lower bound of their times: while `now - minAt` is under
 * the TTL none of them can have expired, and the sweep (a Map iteration, with its allocations) is
 * skipped. `minAt` is exact while the ids came in time order (always, for live messages).
 */
interface KeyIds {
  readonly ids: Map<string, Entry>;
  minAt: number;
  /** the latest `at` remembered; an older one coming after it makes `minAt` only a bound */
  maxAt: number;
  inOrder: boolean;
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
 *
 * remember() runs once per message with a client id: at steady state it allocates only the entry
 * (the key already last in byKey is not moved again, and a key's sweep is skipped while none of
 * its ids can have expired).
 */
export class RecentIds {
  private readonly options: RecentIdsOptions;
  private readonly byKey = new Map<string, KeyIds>();
  /** the key last moved to the end of byKey: remembering it again needs no move */
  private newest: KeyIds | undefined;
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
    const k = this.byKey.get(key);
    const entry = k?.ids.get(cid);
    if (k === undefined || entry === undefined) return undefined;
    if (this.clock.now() - entry.at >= this.options.ttlMs) {
      this.drop(key, k, entry);
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
    let k = this.byKey.get(key);
    if (k === undefined) {
      k = { ids: new Map(), minAt: now, maxAt: now, inOrder: true };
      this.byKey.set(key, k);
    } else if (k !== this.newest) {
      // to the end: byKey is in least-recently-active order
      this.byKey.delete(key);
      this.byKey.set(key, k);
    }
    this.newest = k;
    const inner = k.ids;

    const old = inner.get(cid);
    if (old !== undefined) {
      inner.delete(cid);
      this.entries--;
      this.chars -= old.chars;
    }
    if (inner.size === 0) {
      k.minAt = k.maxAt = now;
      k.inOrder = true;
    } else {
      if (now < k.maxAt) k.inOrder = false;
      else k.maxAt = now;
      if (now < k.minAt) k.minAt = now;
    }
    inner.set(cid, { cid, event, at: now, chars });
    this.entries++;
    this.chars += chars;

    this.expire(key, k, now);
    while (inner.size > o.maxPerKey) this.dropOldest(key, k);
    // The least recently active key is the likeliest to hold expired entries: sweeping its front
    // on every insert keeps idle keys from holding memory until the global bound pushes them out.
    const lru = this.byKey.size > 1 ? this.byKey.entries().next().value : undefined;
    if (lru !== undefined) this.expire(lru[0], lru[1], now);
    while (this.entries > o.maxEntries || this.chars > o.maxChars) {
      const first = this.byKey.entries().next().value;
      if (first === undefined) break;
      this.dropOldest(first[0], first[1]);
    }
  }

  /** Forgets (key, cid): its message was not stored after all, so a resend is a new message. */
  forget(key: string, cid: string): void {
    const k = this.byKey.get(key);
    const entry = k?.ids.get(cid);
    if (k !== undefined && entry !== undefined) this.drop(key, k, entry);
  }

  /** Drops the key's expired ids from its front (the oldest first), as far as they go. */
  private expire(key: string, k: KeyIds, now: number): void {
    const ttl = this.options.ttlMs;
    if (now - k.minAt < ttl) return; // none of them can have expired
    for (const entry of k.ids.values()) {
      if (now - entry.at < ttl) {
        if (k.inOrder) k.minAt = entry.at; // the front is the oldest
        return;
      }
      this.drop(key, k, entry);
    }
  }

  private dropOldest(key: string, k: KeyIds): void {
    const first = k.ids.values().next().value;
    if (first === undefined) this.removeKey(key, k);
    else this.drop(key, k, first);
  }

  private drop(key: string, k: KeyIds, entry: Entry): void {
    k.ids.delete(entry.cid);
    this.entries--;
    this.chars -= entry.chars;
    if (k.ids.size === 0) this.removeKey(key, k);
  }

  private removeKey(key: string, k: KeyIds): void {
    this.byKey.delete(key);
    if (this.newest === k) this.newest = undefined;
  }
}
