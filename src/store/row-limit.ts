/**
 * A caller's `limit` or `maxRows` as a row count for a query: a whole number >= 0 (NaN and
 * negatives read nothing; SQLite would take a negative LIMIT as "no limit"). Infinity means all.
 */
export function rowLimit(limit: number): number {
  if (Number.isNaN(limit) || limit <= 0) return 0;
  return Math.min(Math.floor(limit), Number.MAX_SAFE_INTEGER);
}
