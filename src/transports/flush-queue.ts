/** Something with output queued during this turn of the event loop. */
export interface Flushable {
  flush(): void;
}

/**
 * Batches socket writes: a connection that queues output registers here once, and all of them are
 * flushed together in setImmediate, after the I/O callbacks of this loop turn. Every event queued
 * while handling one burst of input then leaves in a single write per connection, and a lone
 * message still goes out in the same turn (no timer, no Nagle-style wait).
 */
export class FlushQueue {
  private queue: Flushable[] = [];
  private scheduled = false;
  private readonly run = (): void => {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    for (let i = 0; i < q.length; i++) q[i]!.flush();
  };

  add(item: Flushable): void {
    this.queue.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }
}

/** The process-wide queue all transports share. */
export const flushQueue = new FlushQueue();
