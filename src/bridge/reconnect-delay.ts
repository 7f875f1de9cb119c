/**
 * Reconnect delays: the n-th retry in a row (from 0) waits a random time in [c/2, c), where
 * c = min(maxMs, baseMs * 2^n): exponential, capped, and jittered so that nodes a broker restart
 * dropped together do not come back in one wave; never 0, so a broker that refuses at once is not
 * retried in a tight loop. `random` is injectable (returns [0, 1), like Math.random).
 */
export class ReconnectDelay {
  private attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const grown = this.baseMs * Math.pow(2, this.attempt);
    const ceiling = Number.isFinite(grown) ? Math.min(this.maxMs, grown) : this.maxMs;
    this.attempt++;
    return Math.floor(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  /** A connection succeeded: the next failure starts again from the shortest delay. */
  reset(): void {
    this.attempt = 0;
  }
}
