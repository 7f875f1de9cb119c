/** One MQTT publication waiting to be delivered. */
export interface Publication {
  readonly topic: string;
  readonly payload: string;
  /** the broker acknowledged it (PUBACK) */
  acked: boolean;
}

/**
 * The bridge's outgoing publications, in order, bounded: past `capacity` the oldest is dropped
 * (and counted by the caller). A publication leaves the queue only once the broker acknowledged
 * it, so what was in flight when the connection broke is sent again, in order, on the next one
 * (at least once, as QoS 1 promises: a publication whose ack was lost may arrive twice).
 */
export class PublishQueue {
  private items: Publication[] = [];
  private head = 0;
  /** index (from head) of the next publication to send on the current connection */
  private cursor = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError("a publish queue holds at least 1");
  }

  get depth(): number {
    return this.items.length - this.head;
  }

  /** Appends; returns how many old publications were dropped to make room (0 or 1). */
  push(topic: string, payload: string): number {
    let dropped = 0;
    if (this.depth >= this.capacity) {
      this.head++;
      if (this.cursor > 0) this.cursor--;
      dropped = 1;
    }
    this.items.push({ topic, payload, acked: false });
    this.compact();
    return dropped;
  }

  /** The next publication not yet sent on this connection (acked ones skipped), or undefined. */
  next(): Publication | undefined {
    while (this.head + this.cursor < this.items.length) {
      const p = this.items[this.head + this.cursor++]!;
      if (!p.acked) return p;
    }
    return undefined;
  }

  /** The broker took `p`: returns false if it was already acknowledged (a resend). */
  ack(p: Publication): boolean {
    if (p.acked) return false;
    p.acked = true;
    while (this.head < this.items.length && this.items[this.head]!.acked) {
      this.head++;
      if (this.cursor > 0) this.cursor--;
    }
    this.compact();
    return true;
  }

  /** A new connection: everything not acknowledged is sent again, from the oldest. */
  rewind(): void {
    this.cursor = 0;
  }

  /** Forgets everything (shutdown after the grace period); returns how many were left. */
  clear(): number {
    const n = this.depth;
    this.items = [];
    this.head = this.cursor = 0;
    return n;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
