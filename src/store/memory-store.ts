import type {
  MessageStore,
  RetentionPolicy,
  StoredMessage,
  StreamState,
  UnnumberedMessage,
} from "../core/ports.js";
import { numberBatch } from "./number-batch.js";
import { batchRanges, checkAboveHeads } from "./batch-ranges.js";
import { newEpoch } from "./epoch.js";
import { expiredPrefix } from "./retention.js";
import { rowLimit } from "./row-limit.js";
import { settle } from "./settle.js";
import { storableText } from "./storable-text.js";
import { StoreError } from "./store-error.js";

interface RoomLog {
  epoch: string;
  head: number;
  /** retained messages, oldest first (offsets increasing) */
  messages: StoredMessage[];
}

/**
 * History kept in this process only (`--store memory`, and tests): the port's semantics without
 * durability, so a restart starts every room on a new epoch. Messages are copied in and out, as a
 * database would.
 */
export class MemoryStore implements MessageStore {
  readonly description = "memory";
  private readonly rooms = new Map<string, RoomLog>();
  private closed = false;

  open(rooms: readonly string[]): Promise<Map<string, StreamState>> {
    return settle(() => {
      this.check();
      const states = new Map<string, StreamState>();
      for (const room of rooms) {
        let log = this.rooms.get(room);
        if (log === undefined) {
          log = { epoch: newEpoch(), head: 0, messages: [] };
          this.rooms.set(room, log);
        }
        states.set(room, { epoch: log.epoch, head: log.head, first: firstOf(log) });
      }
      return states;
    });
  }

  append(batch: readonly StoredMessage[]): Promise<void> {
    return settle(() => {
      this.check();
      const ranges = batchRanges(this.description, batch);
      // every check before the first change: all or nothing
      checkAboveHeads(this.description, ranges, (room) => this.rooms.get(room)?.head);
      for (const m of batch) this.rooms.get(m.room)!.messages.push(copyIn(m));
      for (const [room, range] of ranges) this.rooms.get(room)!.head = range.last;
    });
  }

  async appendNext(batch: readonly UnnumberedMessage[]): Promise<number[]> {
    const numbered = numberBatch(batch, (room) => this.rooms.get(room)?.head);
    await this.append(numbered);
    return numbered.map((m) => m.offset);
  }

  readAfter(room: string, after: number, limit: number): Promise<StoredMessage[]> {
    return settle(() => {
      this.check();
      const messages = this.rooms.get(room)?.messages ?? [];
      const from = firstAbove(messages, after);
      return messages.slice(from, from + rowLimit(limit)).map(copyOut);
    });
  }

  readBefore(room: string, before: number, limit: number): Promise<StoredMessage[]> {
    return settle(() => {
      this.check();
      const messages = this.rooms.get(room)?.messages ?? [];
      const end = firstAbove(messages, before - 1);
      return messages.slice(Math.max(0, end - rowLimit(limit)), end).map(copyOut);
    });
  }

  recentWithClientIds(since: number, limit: number): Promise<StoredMessage[]> {
    return settle(() => {
      this.check();
      const found: StoredMessage[] = [];
      for (const log of this.rooms.values()) {
        for (const m of log.messages) {
          if (m.ts >= since && m.cid !== undefined && m.key !== undefined) found.push(m);
        }
      }
      found.sort(byTsRoomOffset);
      const n = rowLimit(limit);
      return (n === 0 ? [] : found.slice(-n)).map(copyOut);
    });
  }

  trim(
    room: string,
    policy: RetentionPolicy,
    now: number,
    maxRows: number,
  ): Promise<{ deleted: number; first: number }> {
    return settle(() => {
      this.check();
      const log = this.rooms.get(room);
      if (log === undefined) return { deleted: 0, first: 1 };
      const { messages } = log;
      const beyond = messages.length - policy.maxMessages - 1;
      const countCut = policy.maxMessages > 0 && beyond >= 0 ? messages[beyond]!.offset : 0;
      const deleted = expiredPrefix(messages.slice(0, rowLimit(maxRows)), countCut, policy, now);
      messages.splice(0, deleted);
      return { deleted, first: firstOf(log) };
    });
  }

  ping(): Promise<void> {
    return settle(() => {
      this.check();
    });
  }

  close(): Promise<void> {
    return settle(() => {
      this.closed = true;
      this.rooms.clear();
    });
  }

  private check(): void {
    if (this.closed)
      throw new StoreError("STORE_CLOSED", `${this.description}: the store is closed`);
  }
}

function firstOf(log: RoomLog): number {
  return log.messages[0]?.offset ?? log.head + 1;
}

/** index of the first message with offset > `offset` (binary search) */
function firstAbove(messages: readonly StoredMessage[], offset: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (messages[mid]!.offset > offset) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function byTsRoomOffset(a: StoredMessage, b: StoredMessage): number {
  return a.ts - b.ts || (a.room < b.room ? -1 : a.room > b.room ? 1 : 0) || a.offset - b.offset;
}

function copyIn(m: StoredMessage): StoredMessage {
  const stored: StoredMessage = {
    room: m.room,
    offset: m.offset,
    ts: m.ts,
    user: storableText(m.user),
    name: storableText(m.name),
    text: storableText(m.text),
  };
  if (m.cid !== undefined) stored.cid = storableText(m.cid);
  if (m.key !== undefined) stored.key = storableText(m.key);
  return stored;
}

function copyOut(m: StoredMessage): StoredMessage {
  return { ...m };
}
