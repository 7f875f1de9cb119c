import type { LogEntry } from "./room-stream.js";
import type { Clock } from "./ports.js";

/** What a RoomSequencer needs from its log. */
export interface SequencerHost {
  readonly clock: Clock;
  /** delivers one message, in offset order */
  deliverInOrder(entry: LogEntry): void;
  /** reads from the store what is missing from `after` on (the repair of a gap) */
  repair(room: string): void;
}

/**
 * One room's messages on one cluster node, put back in offset order: they come from this node's
 * own commits and from the bus (other nodes' commits), and the bus keeps each publisher's order
 * only. A message is delivered once every offset before it has been; one seen again is dropped.
 * A gap that lasts `gapMs` (a publish lost while the bus was down, or still on its way) is read
 * from the store, which has every committed message.
 */
export class RoomSequencer {
  private readonly pending = new Map<number, LogEntry>();
  private gapTimer: unknown;

  constructor(
    private readonly host: SequencerHost,
    readonly room: string,
    /** the next offset to deliver */
    public next: number,
    private readonly gapMs: number,
  ) {}

  accept(entry: LogEntry): void {
    const offset = entry.msg.offset;
    if (offset < this.next || this.pending.has(offset)) return;
    this.pending.set(offset, entry);
    this.drain();
  }

  private drain(): void {
    for (let e = this.pending.get(this.next); e !== undefined; e = this.pending.get(this.next)) {
      this.pending.delete(this.next);
      this.next++;
      this.host.deliverInOrder(e);
    }
    if (this.pending.size === 0) this.clearGapTimer();
    else if (this.gapTimer === undefined) {
      this.gapTimer = this.host.clock.setTimeout(() => {
        this.gapTimer = undefined;
        if (this.pending.size > 0) this.host.repair(this.room);
      }, this.gapMs);
    }
  }

  /** The offset up to which a repair should read: just before the lowest one waiting. */
  get waitingFrom(): number | undefined {
    let min: number | undefined;
    for (const o of this.pending.keys()) if (min === undefined || o < min) min = o;
    return min;
  }

  private clearGapTimer(): void {
    if (this.gapTimer !== undefined) {
      this.host.clock.clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    }
  }

  stop(): void {
    this.clearGapTimer();
    this.pending.clear();
  }
}
