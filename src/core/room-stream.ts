import { EncodedEvent } from "../protocol/index.js";
import type { StoredMessage } from "./ports.js";
import type { Session } from "./session.js";
import { toEvent } from "./stored-event.js";

/** A message accepted into a room's stream: its offset is assigned; it may not be durable yet. */
export interface LogEntry {
  readonly msg: StoredMessage;
  /** the `user_message` as broadcast (and replayed: the same object, so it can be withdrawn) */
  readonly event: EncodedEvent;
  /**
   * who sent it: held back by congested readers when it is delivered, told if it cannot be
   * stored. Cleared once it is stored and delivered: the tail keeps entries long after their
   * sender's session has ended, and must not keep the session with them.
   */
  sender: Session | undefined;
  /**
   * told once the message is stored (or could not be): how a poster that is not a session (a
   * device, see ExternalPublisher) learns the outcome. Cleared once told.
   */
  receipt?: Receipt | undefined;
}

/** The outcome of one message, for a poster that waits for it (see LogEntry.receipt). */
export interface Receipt {
  /** stored, with its offset; on this node it is delivered, or held for delivery in order */
  stored(entry: LogEntry): void;
  /** not stored and delivered to nobody */
  failed(err: unknown): void;
}

/**
 * Something that keeps the events delivered to it behind uncommitted messages (a Session). The
 * log releases them in order once every message accepted before them is durable, and withdraws
 * the `dropped` ones (messages whose commit failed).
 */
export interface EventHolder {
  /** Releases events held with a generation <= `upTo`; returns whether it still holds any. */
  releaseHeld(upTo: number, dropped: ReadonlySet<EncodedEvent> | undefined): boolean;
}

/**
 * A committed entry as the tail keeps it for catch-up and history: the stored message alone, its
 * event made again (the same JSON: toEvent is what made the broadcast) on first use. The tail
 * holds the last `tailSize` messages of every room for a while; holding each one's broadcast form
 * as well (the event object, the EncodedEvent, its JSON and wire bytes) made all of it outlive the
 * young-generation collections, so every message was copied and promoted, then collected by a
 * full mark-compact: measured at the seed load, about 2.5x the scavenge time and 4x the
 * mark-compacts of a tail of one.
 */
class RetainedEntry implements LogEntry {
  readonly sender = undefined;
  private encoded: EncodedEvent | undefined;

  constructor(readonly msg: StoredMessage) {}

  get event(): EncodedEvent {
    return (this.encoded ??= new EncodedEvent(toEvent(this.msg)));
  }
}

/** A room's stream as the log keeps it. */
export class RoomStream {
  /** newest committed (durable) offset */
  committed: number;
  /** recent entries, oldest first, from `tailStart`; uncommitted ones are never evicted */
  private tail: LogEntry[] = [];
  private tailStart = 0;
  /** tail entries below this index are RetainedEntry (committed, reduced to their message) */
  private retainedTo = 0;

  constructor(
    readonly room: string,
    /** changes only when the room's history was lost (see StreamState) */
    readonly epoch: string,
    /** newest offset assigned (committed or not) */
    public head: number,
    /** oldest offset retained (head + 1 when none) */
    public first: number,
  ) {
    this.committed = head;
  }

  /** Starts over from what the store says (a cluster node taking the room up again). */
  reset(head: number, first: number): void {
    this.tail = [];
    this.tailStart = 0;
    this.retainedTo = 0;
    this.head = this.committed = head;
    this.first = first;
  }

  /** Offset of the oldest entry the tail holds (head + 1 when it holds none). */
  get tailFirst(): number {
    return this.tailStart < this.tail.length
      ? this.tail[this.tailStart]!.msg.offset
      : this.head + 1;
  }

  /** Tail entries with offset >= `from`, oldest first (only call when from >= tailFirst). */
  tailFrom(from: number): LogEntry[] {
    const i = this.tailStart + Math.max(0, from - this.tailFirst);
    return this.tail.slice(i);
  }

  push(entry: LogEntry): void {
    this.tail.push(entry);
  }

  /**
   * Drops committed entries beyond `keep`, and any below the retained range; reduces the
   * committed ones kept to their message (RetainedEntry). Called whenever `committed` advances.
   */
  evict(keep: number): void {
    const t = this.tail;
    while (
      this.tailStart < t.length &&
      ((t.length - this.tailStart > keep && t[this.tailStart]!.msg.offset <= this.committed) ||
        t[this.tailStart]!.msg.offset < this.first)
    ) {
      t[this.tailStart++] = undefined as unknown as LogEntry;
    }
    let i = Math.max(this.retainedTo, this.tailStart);
    for (; i < t.length && t[i]!.msg.offset <= this.committed; i++) {
      const e = t[i]!;
      if (!(e instanceof RetainedEntry)) t[i] = new RetainedEntry(e.msg);
    }
    this.retainedTo = i;
    if (this.tailStart > 256 && this.tailStart * 2 > t.length) {
      this.tail = t.slice(this.tailStart);
      this.retainedTo -= this.tailStart;
      this.tailStart = 0;
    }
  }

  /** Withdraws the uncommitted entries (their commit failed): the head goes back to committed. */
  rollback(): void {
    while (this.tail.length > this.tailStart && this.tail.at(-1)!.msg.offset > this.committed) {
      this.tail.pop();
    }
    this.retainedTo = Math.min(this.retainedTo, this.tail.length);
    this.head = this.committed;
  }
}
