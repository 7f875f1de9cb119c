/**
 * Why a store call failed, as a stable code for logs, metrics and /readyz:
 * - `STORE_CLOSED`: called after `close()`.
 * - `STORE_UNAVAILABLE`: the database cannot be reached (PostgreSQL down, connection lost); the
 *   next call tries again.
 * - `STORE_BAD_BATCH`: `append` got a batch that breaks the port's rules (offsets not new and
 *   increasing per room, a room never opened, a field of the wrong type). A programming error:
 *   nothing of the batch is written.
 * - `STORE_FAILED`: anything else the database reported (disk full, I/O error, ...).
 */
export type StoreErrorCode =
  "STORE_CLOSED" | "STORE_UNAVAILABLE" | "STORE_BAD_BATCH" | "STORE_FAILED";

/** A failed store call. `message` starts with the store's description; `cause` is the driver's error. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StoreError";
  }
}
