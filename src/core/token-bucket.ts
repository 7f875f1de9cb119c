/**
 * A token bucket: `capacity` tokens, refilled continuously at `ratePerSec`. Time comes from the
 * caller (ms), so the bucket is deterministic under test.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  /** Takes one token: returns 0 if taken, else the ms to wait until one is available. */
  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSec));
  }

  /** Tokens available as of the last take(). */
  get level(): number {
    return this.tokens;
  }

  /** Whether the bucket has refilled to capacity by `now` (nothing left to remember). */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.capacity;
  }

  private refill(now: number): void {
    const elapsed = now - this.last;
    if (elapsed <= 0) return;
    this.last = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSec) / 1000);
  }
}
