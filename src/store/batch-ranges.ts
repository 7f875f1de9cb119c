import type { StoredMessage } from "../core/ports.js";
import { StoreError } from "./store-error.js";

/** The offsets one batch adds to one room: `first` must be above the room's head, `last` becomes it. */
export interface OffsetRange {
  first: number;
  last: number;
}

/**
 * Checks what can be checked without the database (offsets positive and strictly increasing per
 * room, ts and offsets safe integers, text fields strings) and returns each room's range. Throws a
 * `STORE_BAD_BATCH` StoreError naming the first bad message.
 */
export function batchRanges(
  description: string,
  batch: readonly StoredMessage[],
): Map<string, OffsetRange> {
  const ranges = new Map<string, OffsetRange>();
  for (let i = 0; i < batch.length; i++) {
    const m = batch[i]!;
    const why = invalidField(m);
    if (why !== undefined) throw badMessage(description, i, m, why);
    const range = ranges.get(m.room);
    if (range === undefined) {
      ranges.set(m.room, { first: m.offset, last: m.offset });
    } else if (m.offset > range.last) {
      range.last = m.offset;
    } else {
      const why = `does not come after offset ${range.last} of the same room in the batch`;
      throw badMessage(description, i, m, why);
    }
  }
  return ranges;
}

function invalidField(m: StoredMessage): string | undefined {
  if (typeof m.room !== "string") return "has no room";
  if (!Number.isSafeInteger(m.offset) || m.offset < 1) {
    return "has an offset that is not a whole number >= 1";
  }
  if (!Number.isSafeInteger(m.ts)) return "has a ts that is not a whole number of ms";
  if (typeof m.user !== "string" || typeof m.name !== "string" || typeof m.text !== "string") {
    return "lacks user, name or text";
  }
  if (
    (m.cid !== undefined && typeof m.cid !== "string") ||
    (m.key !== undefined && typeof m.key !== "string")
  ) {
    return "has a cid or key that is not a string";
  }
  return undefined;
}

function badMessage(description: string, i: number, m: StoredMessage, why: string): StoreError {
  return new StoreError(
    "STORE_BAD_BATCH",
    `${description}: message ${i} of the batch (room "${m.room}", offset ${m.offset}) ${why}; nothing was written`,
  );
}

/**
 * Checks each room of a batch against the store's copy of its head: a room without a stream, or
 * a range that does not start above the head, fails the whole batch (`STORE_BAD_BATCH`) before
 * anything is written. `headOf` returns undefined for a room the store has not opened.
 */
export function checkAboveHeads(
  description: string,
  ranges: ReadonlyMap<string, OffsetRange>,
  headOf: (room: string) => number | undefined,
): void {
  for (const [room, range] of ranges) {
    const head = headOf(room);
    if (head === undefined) {
      throw new StoreError(
        "STORE_BAD_BATCH",
        `${description}: room "${room}" has no stream (open it first); nothing was written`,
      );
    }
    if (range.first <= head) {
      throw new StoreError(
        "STORE_BAD_BATCH",
        `${description}: offset ${range.first} of room "${room}" is not above its head ${head}; nothing was written`,
      );
    }
  }
}
