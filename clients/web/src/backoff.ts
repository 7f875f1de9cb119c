/** Reconnect delays: exponential, capped, with jitter so that clients dropped together spread out. */
export interface BackoffOptions {
  /** delay before the first retry, ms (before jitter) */
  baseMs: number;
  /** longest delay, ms */
  maxMs: number;
  /** growth per failed attempt */
  factor: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  baseMs: 500,
  maxMs: 30_000,
  factor: 2,
});

/**
 * Delay before retry number `attempt` (0 for the first): "equal jitter", uniform between half
 * and all of min(maxMs, baseMs * factor^attempt), so it never collapses to zero and never
 * exceeds the cap. `random` returns a number in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * Math.pow(options.factor, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
