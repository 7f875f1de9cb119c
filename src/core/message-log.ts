import type { UserMessageEvent } from "../protocol/index.js";
import { EncodedEvent } from "../protocol/index.js";
import { randomId } from "./ids.js";
import type { Session } from "./session.js";
import { type EventHolder, type LogEntry, type Receipt, RoomStream } from "./room-stream.js";
import { toEvent } from "./stored-event.js";
import type {
  Clock,
  Logger,
  MessageStore,
  Metrics,
  RetentionPolicy,
  StoredMessage,
  StreamState,
} from "./ports.js";

/** A message as the server accepts it, before it has an offset. */
export type MessageFields = Omit<StoredMessage, "room" | "offset">;

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
  /**
   * Delivers a message that has its offset to the room's members on this node (the fan-out);
   * `sender` when it was sent through this node.
   */
  deliver(entry: LogEntry): void;
  /** told about messages that could not be stored (they reached nobody) */
  onFailed(entries: readonly LogEntry[], err: unknown): void;
  /**
   * Messages this node accepted are now stored, in commit order (those of other cluster nodes
   * are not reported here): what a bridge publishes, each message by the one node it came in on.
   */
  committed?(entries: readonly LogEntry[]): void;
}

/** Rows deleted per room per retention step, so trimming never stalls the event loop long. */
const TRIM_STEP = 1_000;
/** While the store fails, how often it is tried again (reopened), ms. */
const RETRY_MS = 1_000;

/**
 * Room streams and their durability, as the chat server sees them: messages go in (`submit`) and
 * come out with their offsets, once stored, through `deliver`; reads (history, replay pages) come
 * from the in-memory tail or the store; retention runs in bounded steps; a failing store is
 * retried until it answers. Two ways of ordering messages fill this in: LocalLog (one node gives
 * the offsets itself) and ClusterLog (the shared store gives them; the bus carries them to the
 * other nodes).
 */
export abstract class MessageLog {
  protected readonly streams = new Map<string, RoomStream>();
  protected readonly store: MessageStore | undefined;
  protected readonly tailSize: number;
  protected readonly minCommitIntervalMs: number;
  protected stopped = false;
  private retentionTimer: unknown;
  private retryTimer: unknown;
  /**
   * false from a store failure until the store has been reopened and the heads re-read from it
   * (an append that failed in its commit may have been stored after all): while false, new
   * messages are refused at once (STORE_UNAVAILABLE) and /readyz answers 503.
   */
  storeHealthy = true;

  constructor(protected readonly options: MessageLogOptions) {
    this.store = options.store;
    this.tailSize = options.tailSize ?? 100;
    this.minCommitIntervalMs = options.minCommitIntervalMs ?? 1;
  }

  get stored(): boolean {
    return this.store !== undefined;
  }

  /**
   * Loads (or creates) the streams of these rooms; a room that has one already (a room removed by
   * a rooms reload and added back) keeps it.
   */
  async open(all: readonly string[]): Promise<void> {
    const rooms = all.filter((r) => !this.streams.has(r));
    if (rooms.length === 0) return;
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
    if (this.store !== undefined) {
      this.scheduleRetention(this.options.retention.everyMs ?? 10_000);
    }
  }

  stream(room: string): RoomStream {
    const s = this.streams.get(room);
    if (s === undefined) throw new Error(`no stream for room "${room}"`);
    return s;
  }

  /**
   * Accepts a message; it is delivered (`deliver`) once it has its offset and is stored. A
   * `receipt` is told the outcome.
   */
  abstract submit(
    room: string,
    fields: MessageFields,
    sender: Session | undefined,
    receipt?: Receipt,
  ): void;

  /**
   * Messages this node accepted are stored: their receipts, then `committed`. Never throws: it
   * runs inside the commit path, which a listener's bug must not stall.
   */
  protected committedHere(entries: readonly LogEntry[]): void {
    try {
      for (const e of entries) {
        const r = e.receipt;
        if (r === undefined) continue;
        e.receipt = undefined;
        r.stored(e);
      }
      this.options.committed?.(entries);
    } catch (err) {
      this.options.logger.error({ err: String(err) }, "a commit listener failed");
    }
  }

  /** Whether events delivered now must wait for a commit; if so, under which generation. */
  get holdingGen(): number {
    return 0;
  }

  /** Registers a holder that now holds events (released by the next commits). */
  hold(_holder: EventHolder): void {}

  /**
   * Makes `room`'s stream current on this node before a member joins (a cluster node subscribes
   * to the room and reads its head); undefined when there is nothing to wait for.
   */
  prepare(_room: string): Promise<void> | undefined {
    return undefined;
  }

  /** The last member of `room` on this node has gone. */
  idle(_room: string): void {}

  /** `room`'s stream with a head no older than now (a cluster node asks the store). */
  fresh(room: string): Promise<RoomStream> {
    return Promise.resolve(this.stream(room));
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
      return tailEvents(s, Math.max(from, s.tailFirst), to);
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
      return tailEvents(s, Math.max(from, s.tailFirst), to);
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

  protected async read<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      this.options.metrics.storeError("read");
      this.setUnhealthy();
      this.options.logger.error({ err: String(err) }, "message store read failed");
      throw err;
    }
  }

  // ------------------------------------------------------------------ health and retention

  /** An append failed: the messages it carried (and those behind them) are refused. */
  protected appendFailed(entries: readonly LogEntry[], err: unknown): void {
    this.options.metrics.storeError("append");
    this.setUnhealthy();
    this.options.logger.error(
      { err: String(err), messages: entries.length, store: this.store?.description },
      "message store append failed: messages refused",
    );
  }

  protected setUnhealthy(): void {
    if (!this.storeHealthy) return;
    this.storeHealthy = false;
    this.options.metrics.storeUp(false);
    this.scheduleRetry();
  }

  /** Whether a commit is under way (the retry waits for it to end). */
  protected abstract get committing(): boolean;

  /** The store answers again: its stream states, to take the heads from (see scheduleRetry). */
  protected resync(states: Map<string, StreamState>): void {
    for (const [room, st] of states) {
      const s = this.streams.get(room);
      if (s === undefined) continue;
      // Offsets the store has (a commit whose answer was lost) are never given again.
      s.head = s.committed = Math.max(s.committed, st.head);
      s.first = Math.max(s.first, st.first);
    }
  }

  /** Reopens the failed store; once it answers, takes its heads and accepts messages again. */
  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.stopped || this.store === undefined) return;
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.committing) return this.scheduleRetry();
      this.store!.open([...this.streams.keys()]).then(
        (states) => {
          this.resync(states);
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
        this.scheduleRetention(more ? 100 : (this.options.retention.everyMs ?? 10_000)),
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

  /** Stops retention and retries; the subclass then finishes the commits under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    const c = this.options.clock;
    if (this.retentionTimer !== undefined) c.clearTimeout(this.retentionTimer);
    if (this.retryTimer !== undefined) c.clearTimeout(this.retryTimer);
    await this.drain();
  }

  /** Commits what was accepted and waits for the commits under way. */
  protected abstract drain(): Promise<void>;
}

/** The entry of a message that has its offset. */
export function entryOf(msg: StoredMessage, sender: Session | undefined): LogEntry {
  return { msg, event: new EncodedEvent(toEvent(msg)), sender };
}

/** The messages of a stream's in-memory tail from `from` to `to` (both inclusive), as events. */
function tailEvents(s: RoomStream, from: number, to: number): UserMessageEvent[] {
  return s
    .tailFrom(from)
    .filter((e) => e.msg.offset <= to)
    .map((e) => toEvent(e.msg));
}
