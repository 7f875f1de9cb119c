import type { RetentionPolicy } from "../core/ports.js";

/** What `trim` needs to know of one stored message. */
export interface OffsetAndTs {
  offset: number;
  ts: number;
}

/**
 * How many of `oldest` (a room's oldest retained messages, oldest first, at most the trim's
 * `maxRows`) the policy drops: the longest run from the start whose every message is beyond the
 * count bound (offset <= `countCut`, the offset of the newest message past the `maxMessages`
 * newest; 0 when none is) or older than the age bound (ts < now - maxAgeMs).
 *
 * Retention only ever removes a prefix, so what a room retains stays contiguous from `first` to
 * its head and a replay from `first` misses nothing. The cost: a message stamped later than a
 * newer one (the clock stepped back) holds the age bound back until it expires itself; the count
 * bound still applies.
 */
export function expiredPrefix(
  oldest: readonly OffsetAndTs[],
  countCut: number,
  policy: RetentionPolicy,
  now: number,
): number {
  const ageCut = policy.maxAgeMs > 0 ? now - policy.maxAgeMs : -Infinity;
  let n = 0;
  for (const m of oldest) {
    if (m.offset > countCut && m.ts >= ageCut) break;
    n++;
  }
  return n;
}
