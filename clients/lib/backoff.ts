/** Reconnect delays. */
export interface BackoffOptions {
  /** the delay ceiling of the first retry, in ms. Default 250 */
  baseMs: number;
  /** no delay ceiling exceeds this, in ms. Default 30,000 */
  maxMs: number;
  /** the ceiling grows by this factor per failed attempt. Default 2 */
  factor: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  baseMs: 250,
  maxMs: 30_000,
  factor: 2,
});

/**
 * Exponential backoff with full jitter: the n-th retry (from 0) waits a uniformly random time in
 * [0, min(maxMs, baseMs * factor^n)). Full jitter spreads the clients a server restart dropped
 * all at once, so they do not come back in one synchronised wave. `random` is injectable (returns
 * [0, 1), like Math.random) so tests need neither sleeps nor luck.
 */
export class Backoff {
  private readonly options: BackoffOptions;
  /** failed attempts since the last reset */
  attempt = 0;

  constructor(
    options: Partial<BackoffOptions> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.options = { ...DEFAULT_BACKOFF, ...options };
    if (!(this.options.baseMs >= 0 && this.options.maxMs >= 0 && this.options.factor >= 1)) {
      throw new RangeError("backoff needs baseMs >= 0, maxMs >= 0 and factor >= 1");
    }
  }

  /** The delay ceiling for attempt `n` (from 0). */
  ceiling(n: number): number {
    const { baseMs, maxMs, factor } = this.options;
    // Computed without overflow: once the ceiling reaches the cap, it stays there.
    const grown = baseMs * Math.pow(factor, n);
    return Number.isFinite(grown) ? Math.min(maxMs, grown) : maxMs;
  }

  /** The delay before the next attempt, in ms; counts the attempt. */
  next(): number {
    const ceiling = this.ceiling(this.attempt);
    this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  /** Back to the first, shortest delay (after a connection that lasted). */
  reset(): void {
    this.attempt = 0;
  }
}
