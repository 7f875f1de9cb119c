/** Largest write handed to the socket at once, bytes: progress is reported per batch. */
export const WRITE_BATCH_BYTES = 64 * 1024;

/**
 * The front of `pending` up to WRITE_BATCH_BYTES (at least one part), removed from it; the whole
 * array itself when it all fits (the common case: no copy).
 */
export function takeBatch<T extends { length: number }>(pending: T[], pendingBytes: number): T[] {
  if (pendingBytes <= WRITE_BATCH_BYTES) return pending;
  let n = 0;
  let bytes = 0;
  while (n < pending.length && (n === 0 || bytes + pending[n]!.length <= WRITE_BATCH_BYTES)) {
    bytes += pending[n]!.length;
    n++;
  }
  return pending.splice(0, n);
}
