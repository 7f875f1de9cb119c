import type { EncodedEvent } from "../protocol/index.js";
import { entryOf, type MessageFields, MessageLog } from "./message-log.js";
import type { EventHolder, LogEntry, Receipt } from "./room-stream.js";
import type { Session } from "./session.js";

/**
 * One node's message log: it gives each message its offset itself, delivers it at once, and
 * holds every event delivered after an uncommitted message (to anyone) until that message is
 * durable. So a message reaches nobody, its sender included, before it is stored, recipients are
 * the members when it was sent, and a session's stream stays in the order the server handled
 * things. Without a store nothing is held.
 *
 * Generations: events delivered while messages are uncommitted are tagged with the generation
 * of the open batch; a batch seals at the end of the turn (or of a commit interval) and its commit
 * releases every event of its generation and before. A failed commit withdraws the failed messages
 * (and every message accepted after them, so offsets stay gap-free) from what is held, and tells
 * their senders.
 */
export class LocalLog extends MessageLog {
  /** generation of the batch accepting messages now */
  private openGen = 1;
  private batch: LogEntry[] = [];
  private inFlight: { gen: number; entries: LogEntry[] } | undefined;
  private readonly holders = new Set<EventHolder>();
  private sealScheduled = false;
  /** when the last commit started (clock ms) */
  private lastCommitAt = -Infinity;

  submit(
    room: string,
    fields: MessageFields,
    sender: Session | undefined,
    receipt?: Receipt,
  ): void {
    const entry = this.append(room, fields, sender);
    entry.receipt = receipt;
    this.options.deliver(entry);
    if (this.store === undefined) {
      entry.sender = undefined; // nothing left to tell it
      this.committedHere([entry]);
    }
  }

  /** Assigns the message its offset, keeps it in the tail, queues it for the next commit. */
  private append(room: string, fields: MessageFields, sender: Session | undefined): LogEntry {
    const stream = this.stream(room);
    const entry = entryOf({ room, offset: ++stream.head, ...fields }, sender);
    stream.push(entry);
    if (this.store === undefined) {
      stream.committed = entry.msg.offset;
      stream.evict(this.tailSize);
      return entry;
    }
    this.batch.push(entry);
    if (!this.sealScheduled) this.scheduleSeal();
    return entry;
  }

  override get holdingGen(): number {
    return this.batch.length > 0 || this.inFlight !== undefined ? this.openGen : 0;
  }

  override hold(holder: EventHolder): void {
    this.holders.add(holder);
  }

  protected get committing(): boolean {
    return this.inFlight !== undefined;
  }

  /**
   * A batch closes at the end of the turn that opened it, or, when the last commit started less
   * than `minCommitIntervalMs` ago, when that interval is over: a busy server groups the messages
   * of several turns into one transaction (a commit's fixed cost dominates small batches), an idle
   * one commits at once.
   */
  private scheduleSeal(): void {
    this.sealScheduled = true;
    const run = (): void => {
      this.sealScheduled = false;
      this.seal();
    };
    const clock = this.options.clock;
    const wait = this.lastCommitAt + this.minCommitIntervalMs - clock.now();
    if (wait <= 0) clock.defer(run);
    else clock.setTimeout(run, wait);
  }

  private seal(): void {
    if (this.inFlight !== undefined || this.batch.length === 0 || this.store === undefined) return;
    const entries = this.batch;
    const gen = this.openGen++;
    this.batch = [];
    this.inFlight = { gen, entries };
    this.lastCommitAt = this.options.clock.now();
    const started = performance.now();
    this.store.append(entries.map((e) => e.msg)).then(
      () => {
        this.options.metrics.storeCommitted(entries.length, performance.now() - started);
        for (const e of entries) {
          const s = this.stream(e.msg.room);
          if (e.msg.offset > s.committed) s.committed = e.msg.offset;
          e.sender = undefined; // stored: nothing left to tell it
        }
        for (const e of entries) this.stream(e.msg.room).evict(this.tailSize);
        this.finish(undefined, () => this.committedHere(entries));
      },
      (err: unknown) => this.failed(err),
    );
  }

  private failed(err: unknown): void {
    const entries = [...(this.inFlight?.entries ?? []), ...this.batch];
    this.appendFailed(entries, err);
    this.batch = [];
    const rooms = new Set(entries.map((e) => e.msg.room));
    for (const r of rooms) this.stream(r).rollback();
    const dropped = new Set(entries.map((e) => e.event));
    this.finish(dropped, () => this.options.onFailed(entries, err));
  }

  /** The in-flight commit ended: release what it held, then commit the next batch if any. */
  private finish(dropped: Set<EncodedEvent> | undefined, then: (() => void) | undefined): void {
    this.inFlight = undefined;
    // With nothing accepted meanwhile, everything held so far may go; else what the next batch
    // covers waits for it.
    const upTo = this.batch.length === 0 ? this.openGen : this.openGen - 1;
    for (const h of this.holders) if (!h.releaseHeld(upTo, dropped)) this.holders.delete(h);
    then?.();
    this.seal();
  }

  protected async drain(): Promise<void> {
    const c = this.options.clock;
    this.seal();
    for (let i = 0; i < 500 && (this.inFlight !== undefined || this.batch.length > 0); i++) {
      await new Promise<void>((r) => c.setTimeout(r, 10));
      this.seal();
    }
  }
}
