import type { UserMessageEvent } from "../protocol/index.js";
import { EncodedEvent } from "../protocol/index.js";
import { randomId } from "./ids.js";
import type { Session } from "./session.js";
import type {
  Clock,
  Logger,
  MessageStore,
  Metrics,
  RetentionPolicy,
  StoredMessage,
} from "./ports.js";

/** A message accepted into a room's stream: its offset is assigned; it may not be durable yet. */
export interface LogEntry {
  readonly msg: StoredMessage;
  /** the `user_message` as broadcast (and replayed: the same object, so it can be withdrawn) */
  readonly event: EncodedEvent;
  /** who sent it: told if it cannot be stored */
  readonly sender: Session | undefined;
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

/** A room's stream as the log keeps it. */
export class RoomStream {
  /** newest committed (durable) offset */
  committed: number;
  /** recent entries, oldest first, from `tailStart`; uncommitted ones are never evicted */
  private tail: LogEntry[] = [];
  private tailStart = 0;

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

  /** Drops committed entries beyond `keep`, and any below the retained range. */
  evict(keep: number): void {
    const t = this.tail;
    while (
      this.tailStart < t.length &&
      ((t.length - this.tailStart > keep && t[this.tailStart]!.msg.offset <= this.committed) ||
        t[this.tailStart]!.msg.offset < this.first)
    ) {
      t[this.tailStart++] = undefined as unknown as LogEntry;
    }
    if (this.tailStart > 256 && this.tailStart * 2 > t.length) {
      this.tail = t.slice(this.tailStart);
      this.tailStart = 0;
    }
  }

  /** Withdraws the uncommitted entries (their commit failed): the head goes back to committed. */
  rollback(): void {
    while (this.tail.length > this.tailStart && this.tail.at(-1)!.msg.offset > this.committed) {
      this.tail.pop();
    }
    this.head = this.committed;
  }
}

export interface MessageLogOptions {
  /** undefined: nothing is stored; history and resume reach only as far back as the tail */
  store: MessageStore | undefined;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** committed messages kept in memory per room for replay and recent history (default 100) */
  tailSize?: number;
  retention: RetentionPolicy;
  /** commits start at most this often, ms (default 1; see scheduleSeal); 0: every turn */
  minCommitIntervalMs?: number;
  /** how often retention is applied, ms (default 10 s) */
  retentionIntervalMs?: number;
  /** told about messages whose commit failed (after their events were withdrawn) */
  onFailed(entries: readonly LogEntry[], err: unknown): void;
}

/** Rows deleted per room per retention step, so trimming never stalls the event loop long. */
const TRIM_STEP = 1_000;
/** While the store fails, how often it is tried again (reopened), ms. */
const RETRY_MS = 1_000;

/**
 * Room streams and their durability: assigns each message its offset, writes what was accepted in
 * one turn of the event loop to the store in one transaction, and holds every event delivered
 * after an uncommitted message (to anyone) until that message is durable. So a message reaches
 * nobody, its sender included, before it is stored, and a session's stream stays in the order the
 * server handled things. Without a store nothing is held.
 *
 * Generations: events delivered while messages are uncommitted are tagged with the generation
 * of the open batch; a batch seals at the end of the turn and its commit releases every event of
 * its generation and before. A failed commit withdraws the failed messages (and every message
 * accepted after them, so offsets stay gap-free) from what is held, and tells their senders.
 */
export class MessageLog {
  private readonly streams = new Map<string, RoomStream>();
  private readonly store: MessageStore | undefined;
  private readonly tailSize: number;
  /** generation of the batch accepting messages now */
  private openGen = 1;
  private batch: LogEntry[] = [];
  private inFlight: { gen: number; entries: LogEntry[] } | undefined;
  private readonly holders = new Set<EventHolder>();
  private sealScheduled = false;
  /** when the last commit started (clock ms) */
  private lastCommitAt = -Infinity;
  private readonly minCommitIntervalMs: number;
  private retentionTimer: unknown;
  private retryTimer: unknown;
  private stopped = false;
  /**
   * false from a store failure until the store has been reopened and the heads re-read from it
   * (an append that failed in its commit may have been stored after all): while false, new
   * messages are refused at once (STORE_UNAVAILABLE) and /readyz answers 503.
   */
  storeHealthy = true;

  constructor(private readonly options: MessageLogOptions) {
    this.store = options.store;
    this.tailSize = options.tailSize ?? 100;
    this.minCommitIntervalMs = options.minCommitIntervalMs ?? 1;
  }

  get stored(): boolean {
    return this.store !== undefined;
  }

  /** Loads (or creates) the streams of these rooms. */
  async open(rooms: readonly string[]): Promise<void> {
    if (this.store === undefined) {
      for (const r of rooms) this.streams.set(r, new RoomStream(r, randomId(16), 0, 1));
      return;
    }
    const states = await this.store.open(rooms);
    for (const r of rooms) {
      const s = states.get(r);
      if (s === undefined) throw new Error(`the store did not open room "${r}"`);
      this.streams.set(r, new RoomStream(r, s.epoch, s.head, s.first));
    }
  }

  start(): void {
    if (this.store !== undefined)
      this.scheduleRetention(this.options.retentionIntervalMs ?? 10_000);
  }

  stream(room: string): RoomStream {
    const s = this.streams.get(room);
    if (s === undefined) throw new Error(`no stream for room "${room}"`);
    return s;
  }

  // ------------------------------------------------------------------ appending

  /** Accepts a message: assigns its offset, keeps it in the tail, queues it for the next commit. */
  append(
    room: string,
    fields: Omit<StoredMessage, "room" | "offset">,
    sender: Session | undefined,
  ): LogEntry {
    const stream = this.stream(room);
    const msg: StoredMessage = { room, offset: ++stream.head, ...fields };
    const entry: LogEntry = { msg, event: new EncodedEvent(toEvent(msg)), sender };
    stream.push(entry);
    if (this.store === undefined) {
      stream.committed = msg.offset;
      stream.evict(this.tailSize);
      return entry;
    }
    this.batch.push(entry);
    if (!this.sealScheduled) this.scheduleSeal();
    return entry;
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

  /** Whether events delivered now must wait for a commit; if so, under which generation. */
  get holdingGen(): number {
    return this.batch.length > 0 || this.inFlight !== undefined ? this.openGen : 0;
  }

  /** Registers a holder that now holds events (released by the next commits). */
  hold(holder: EventHolder): void {
    this.holders.add(holder);
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
        }
        for (const e of entries) this.stream(e.msg.room).evict(this.tailSize);
        this.finish(undefined, undefined);
      },
      (err: unknown) => this.failed(err),
    );
  }

  private failed(err: unknown): void {
    this.options.metrics.storeError("append");
    this.setHealthy(false);
    const entries = [...(this.inFlight?.entries ?? []), ...this.batch];
    this.options.logger.error(
      { err: String(err), messages: entries.length, store: this.store?.description },
      "message store append failed: messages refused",
    );
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

  // ------------------------------------------------------------------ reading

  /**
   * Committed messages of `room` with offset > `after`, oldest first, at most `limit`; from the
   * tail when it reaches back that far, else from the store.
   */
  async readAfter(room: string, after: number, limit: number): Promise<UserMessageEvent[]> {
    const s = this.stream(room);
    const from = Math.max(after + 1, s.first);
    const to = Math.min(s.committed, from + limit - 1);
    if (to < from) return [];
    if (from >= s.tailFirst || this.store === undefined) {
      return s
        .tailFrom(Math.max(from, s.tailFirst))
        .filter((e) => e.msg.offset <= to)
        .map((e) => e.event.event as UserMessageEvent);
    }
    return (await this.read(() => this.store!.readAfter(room, from - 1, to - from + 1))).map(
      toEvent,
    );
  }

  /** Committed messages of `room` with offset < `before`, the newest `limit` of them, oldest first. */
  async readBefore(room: string, before: number, limit: number): Promise<UserMessageEvent[]> {
    const s = this.stream(room);
    const to = Math.min(before - 1, s.committed);
    const from = Math.max(s.first, to - limit + 1);
    if (to < from) return [];
    if (from >= s.tailFirst || this.store === undefined) {
      return s
        .tailFrom(Math.max(from, s.tailFirst))
        .filter((e) => e.msg.offset <= to)
        .map((e) => e.event.event as UserMessageEvent);
    }
    return (await this.read(() => this.store!.readBefore(room, to + 1, to - from + 1))).map(
      toEvent,
    );
  }

  /** Stored messages after `after` as events to replay (a page read from the store). */
  async replayPage(room: string, after: number, limit: number): Promise<EncodedEvent[]> {
    if (this.store === undefined) return [];
    const page = await this.read(() => this.store!.readAfter(room, after, limit));
    return page.map((m) => new EncodedEvent(toEvent(m)));
  }

  /** Stored messages with client ids sent since `since`: the resend-dedup memory after a restart. */
  async recentWithClientIds(since: number, limit: number): Promise<StoredMessage[]> {
    if (this.store === undefined) return [];
    return this.read(() => this.store!.recentWithClientIds(since, limit));
  }

  private async read<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      this.options.metrics.storeError("read");
      this.setHealthy(false);
      this.options.logger.error({ err: String(err) }, "message store read failed");
      throw err;
    }
  }

  // ------------------------------------------------------------------ health and retention

  private setHealthy(up: boolean): void {
    if (up || !this.storeHealthy) return;
    this.storeHealthy = false;
    this.options.metrics.storeUp(false);
    this.scheduleRetry();
  }

  /** Reopens the failed store; once it answers, takes its heads and accepts messages again. */
  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.stopped || this.store === undefined) return;
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.inFlight !== undefined) return this.scheduleRetry();
      this.store!.open([...this.streams.keys()]).then(
        (states) => {
          for (const [room, st] of states) {
            const s = this.streams.get(room);
            if (s === undefined) continue;
            // Offsets the store has (a commit whose answer was lost) are never given again.
            s.head = s.committed = Math.max(s.committed, st.head);
            s.first = Math.max(s.first, st.first);
          }
          this.storeHealthy = true;
          this.options.metrics.storeUp(true);
          this.options.logger.info({ store: this.store?.description }, "message store is back");
        },
        () => this.scheduleRetry(),
      );
    }, RETRY_MS);
  }

  private scheduleRetention(ms: number): void {
    const { maxMessages, maxAgeMs } = this.options.retention;
    if (this.stopped || (maxMessages <= 0 && maxAgeMs <= 0)) return;
    this.retentionTimer = this.options.clock.setTimeout(() => {
      this.retentionTimer = undefined;
      void this.applyRetention().then((more) =>
        this.scheduleRetention(more ? 100 : (this.options.retentionIntervalMs ?? 10_000)),
      );
    }, ms);
  }

  /** One step of retention over every room; returns whether some room has more to trim. */
  private async applyRetention(): Promise<boolean> {
    let more = false;
    for (const s of this.streams.values()) {
      if (this.stopped) return false;
      try {
        const r = await this.store!.trim(
          s.room,
          this.options.retention,
          this.options.clock.now(),
          TRIM_STEP,
        );
        if (r.first > s.first) s.first = Math.min(r.first, s.committed + 1);
        s.evict(this.tailSize);
        if (r.deleted >= TRIM_STEP) more = true;
      } catch (err) {
        this.options.metrics.storeError("trim");
        this.options.logger.warn({ err: String(err), room: s.room }, "retention step failed");
      }
    }
    return more;
  }

  /** Stops retention and retries; waits for the commit in flight (the store is closed after). */
  async stop(): Promise<void> {
    this.stopped = true;
    const c = this.options.clock;
    if (this.retentionTimer !== undefined) c.clearTimeout(this.retentionTimer);
    if (this.retryTimer !== undefined) c.clearTimeout(this.retryTimer);
    this.seal();
    for (let i = 0; i < 500 && (this.inFlight !== undefined || this.batch.length > 0); i++) {
      await new Promise<void>((r) => c.setTimeout(r, 10));
      this.seal();
    }
  }
}

/** A stored message as the `user_message` event it was broadcast as. */
export function toEvent(m: StoredMessage): UserMessageEvent {
  return {
    _et: "user_message",
    r: m.room,
    u: m.user,
    c: m.text,
    id: m.offset,
    ts: m.ts,
    n: m.name,
    ...(m.cid !== undefined && { cid: m.cid }),
  };
}
