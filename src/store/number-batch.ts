import type { StoredMessage, UnnumberedMessage } from "../core/ports.js";

/**
 * Gives each message of a batch the next offset of its room, counting on from `headOf(room)`:
 * how a store that is the only writer of its data (memory, SQLite) implements `appendNext` on
 * top of `append`.
 */
export function numberBatch(
  batch: readonly UnnumberedMessage[],
  headOf: (room: string) => number | undefined,
): StoredMessage[] {
  const next = new Map<string, number>();
  return batch.map((m) => {
    let n = next.get(m.room) ?? headOf(m.room);
    // a room the store does not know keeps offset 1 here; append then refuses it clearly
    n = (n ?? 0) + 1;
    next.set(m.room, n);
    return { ...m, offset: n };
  });
}
