import { TokenBucket } from "./token-bucket.js";

export interface KeyedRateLimiterOptions {
  /** sustained events per second per key (token bucket rate) */
  ratePerSec: number;
  /** events one key may send at once (bucket size) */
  burst: number;
  /**
   * Keys remembered at most (default 10,000). Past it, keys whose bucket has refilled (nothing to
   * remember) are forgotten; if none has, the oldest key goes: memory stays bounded whatever the
   * number of senders, at the cost of a fresh burst for a key forgotten under such pressure.
   */
  maxKeys?: number;
}

/**
 * One token bucket per key (a device id, a source address), for senders that cannot be held back
 * the way a session is (by not reading its socket): what exceeds the rate is dropped instead.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly maxKeys: number;

  constructor(private readonly options: KeyedRateLimiterOptions) {
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Whether `key` may send one more now (and takes its token if so). */
  allow(key: string, now: number): boolean {
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxKeys) this.evict(now);
      b = new TokenBucket(this.options.ratePerSec, this.options.burst, now);
      this.buckets.set(key, b);
    }
    return b.take(now) === 0;
  }

  private evict(now: number): void {
    for (const [k, b] of this.buckets) if (b.isFull(now)) this.buckets.delete(k);
    if (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (oldest.done !== true) this.buckets.delete(oldest.value);
    }
  }
}
