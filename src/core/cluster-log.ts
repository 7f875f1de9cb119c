import type { UserMessageEvent } from "../protocol/index.js";
import { EncodedEvent } from "../protocol/index.js";
import { entryOf, type MessageFields, MessageLog, type MessageLogOptions } from "./message-log.js";
import type { Bus, MessageStore, StreamState } from "./ports.js";
import { RoomSequencer, type SequencerHost } from "./room-sequencer.js";
import type { LogEntry, Receipt, RoomStream } from "./room-stream.js";
import type { Session } from "./session.js";

export interface ClusterLogOptions extends MessageLogOptions {
  /** shared by every node: it gives the offsets, and holds what the bus may lose */
  store: MessageStore;
  bus: Bus;
  /** this node's id: its own publishes are recognised when they come back */
  nodeId: string;
  /** a room's traffic other than messages (presence: kinds other than "m"), from other nodes */
  onRoomEvent(room: string, kind: string, node: string, json: string): void;
  /** how long a gap in a room's offsets may last before it is read from the store, ms (100) */
  gapRepairMs?: number;
}

/** Messages read from the store per step of a repair. */
const REPAIR_PAGE = 500;

interface Pending {
  room: string;
  fields: MessageFields;
  sender: Session | undefined;
  receipt: Receipt | undefined;
}

/**
 * A cluster node's message log. The shared store (PostgreSQL) orders each room: a commit takes
 * the room's next offsets in the same transaction that stores the messages, so every node's
 * messages of a room get one sequence, and the store holds every message anyone acknowledged.
 * Committed messages go on the bus (one publish per message, to the room's channel) and into
 * this node's own RoomSequencer; every node with members in the room delivers them in offset
 * order, repairing from the store whatever the bus did not bring (an outage, a node that died
 * between its commit and its publish). So the bus can lose or delay messages without anyone
 * missing one, and a client can resume on any node from the store.
 *
 * A node takes a room up when its first member there joins (prepare: subscribe, then read the
 * head: what is committed after that read reaches it through the bus) and drops it when its last
 * member leaves (idle: unsubscribe), so no node gets traffic for rooms it has no member in.
 * Nothing is held here: a message is delivered to anyone only once it has its offset, which it
 * gets only once stored.
 */
export class ClusterLog extends MessageLog implements SequencerHost {
  private readonly bus: Bus;
  private readonly nodeId: string;
  private readonly live = new Map<string, RoomSequencer>();
  private readonly preparing = new Map<string, Promise<void>>();
  /** rooms taken up while the bus was down: subscribed when it is back */
  private readonly unsubscribed = new Set<string>();
  private readonly repairing = new Set<string>();
  private batch: Pending[] = [];
  private inFlight = false;
  private sealScheduled = false;
  private lastCommitAt = -Infinity;
  readonly clock;

  constructor(private readonly cluster: ClusterLogOptions) {
    super(cluster);
    this.bus = cluster.bus;
    this.nodeId = cluster.nodeId;
    this.clock = cluster.clock;
    this.bus.onMessage((room, payload) => this.onBusMessage(room, payload));
    this.bus.onStatus((up) => {
      if (up) this.busBack();
    });
  }

  /** Whether this node delivers `room` now (it has members there). */
  isLive(room: string): boolean {
    return this.live.has(room);
  }

  // ------------------------------------------------------------------ rooms taken up and dropped

  /**
   * Before a join: the room taken up, and this node's copy of it caught up with what the store
   * has now (a node can lag behind others' commits: the bus is still bringing them). A join then
   * replays, or shows as past, every message stored before it, which is what a client resuming
   * after its node died relies on to tell which of its messages the cluster already has.
   */
  override prepare(room: string): Promise<void> | undefined {
    if (this.live.has(room)) return this.catchUp(room);
    let p = this.preparing.get(room);
    if (p !== undefined) return p;
    p = this.takeUp(room).finally(() => this.preparing.delete(room));
    this.preparing.set(room, p);
    return p;
  }

  /** Resolves once the room's sequencer has delivered everything up to the store's head now. */
  private async catchUp(room: string): Promise<void> {
    const head = (await this.read(() => this.cluster.store.open([room]))).get(room)!.head;
    const seq = this.live.get(room);
    if (seq === undefined || seq.next > head) return;
    await new Promise<void>((resolve, reject) => {
      const waiters = this.waiters.get(room) ?? [];
      waiters.push({ head, resolve, reject });
      this.waiters.set(room, waiters);
      this.repair(room);
    });
  }

  /** Joins waiting for a room's sequencer to reach a head (see catchUp). */
  private readonly waiters = new Map<
    string,
    Array<{ head: number; resolve: () => void; reject: (err: Error) => void }>
  >();

  private releaseWaiters(room: string, next: number): void {
    const waiting = this.waiters.get(room);
    if (waiting === undefined) return;
    const still = waiting.filter((w) => {
      if (w.head >= next) return true;
      w.resolve();
      return false;
    });
    if (still.length === 0) this.waiters.delete(room);
    else this.waiters.set(room, still);
  }

  private async takeUp(room: string): Promise<void> {
    try {
      await this.bus.subscribe(room);
    } catch (err) {
      // The bus is down: the room is served from here and repaired when the bus is back.
      this.unsubscribed.add(room);
      this.cluster.logger.warn({ room, err: String(err) }, "cannot subscribe to a room: bus down");
    }
    const st = (await this.read(() => this.cluster.store.open([room]))).get(room)!;
    this.stream(room).reset(st.head, st.first);
    this.live.set(
      room,
      new RoomSequencer(this, room, st.head + 1, this.cluster.gapRepairMs ?? 100),
    );
  }

  override idle(room: string): void {
    const seq = this.live.get(room);
    if (seq === undefined) return;
    seq.stop();
    this.live.delete(room);
    for (const w of this.waiters.get(room) ?? []) w.reject(new Error("the room was dropped"));
    this.waiters.delete(room);
    this.unsubscribed.delete(room);
    this.bus
      .unsubscribe(room)
      .catch((err: unknown) =>
        this.cluster.logger.warn({ room, err: String(err) }, "cannot unsubscribe from a room"),
      );
  }

  override async fresh(room: string): Promise<RoomStream> {
    const s = this.stream(room);
    if (this.live.has(room)) return s;
    const st = (await this.read(() => this.cluster.store.open([room]))).get(room)!;
    s.reset(st.head, st.first);
    return s;
  }

  // ------------------------------------------------------------------ sending

  submit(
    room: string,
    fields: MessageFields,
    sender: Session | undefined,
    receipt?: Receipt,
  ): void {
    this.batch.push({ room, fields, sender, receipt });
    if (!this.sealScheduled) this.scheduleSeal();
  }

  private scheduleSeal(): void {
    this.sealScheduled = true;
    const run = (): void => {
      this.sealScheduled = false;
      this.seal();
    };
    const wait = this.lastCommitAt + this.minCommitIntervalMs - this.clock.now();
    if (wait <= 0) this.clock.defer(run);
    else this.clock.setTimeout(run, wait);
  }

  protected get committing(): boolean {
    return this.inFlight;
  }

  private seal(): void {
    if (this.inFlight || this.batch.length === 0) return;
    const items = this.batch;
    this.batch = [];
    this.inFlight = true;
    this.lastCommitAt = this.clock.now();
    const started = performance.now();
    this.cluster.store.appendNext(items.map((i) => ({ room: i.room, ...i.fields }))).then(
      (offsets) => {
        this.cluster.metrics.storeCommitted(items.length, performance.now() - started);
        const entries = items.map((item, k) => {
          const entry = entryOf(
            { room: item.room, offset: offsets[k]!, ...item.fields },
            item.sender,
          );
          entry.receipt = item.receipt;
          this.publish(entry);
          this.live.get(item.room)?.accept(entry);
          return entry;
        });
        this.committedHere(entries);
        this.inFlight = false;
        this.seal();
      },
      (err: unknown) => {
        const entries = items.map((i) => {
          const entry = entryOf({ room: i.room, offset: 0, ...i.fields }, i.sender);
          entry.receipt = i.receipt;
          return entry;
        });
        this.appendFailed(entries, err);
        this.cluster.onFailed(entries, err);
        this.inFlight = false;
        this.seal();
      },
    );
  }

  /** One publish per message: `m NODE KEY JSON`, the JSON made once for every recipient. */
  private publish(entry: LogEntry): void {
    const key = encodeURIComponent(entry.msg.key ?? "");
    this.bus
      .publish(entry.msg.room, `m ${this.nodeId} ${key} ${entry.event.json}`)
      .catch(() => this.cluster.metrics.busError("publish"));
  }

  /**
   * Publishes a room event that is not a message (presence): `KIND NODE - JSON`; `node` is the
   * node the member was on (another when a dead node's members are reaped).
   */
  publishRoomEvent(room: string, kind: string, json: string, node = this.nodeId): void {
    this.bus
      .publish(room, `${kind} ${node} - ${json}`)
      .catch(() => this.cluster.metrics.busError("publish"));
  }

  // ------------------------------------------------------------------ receiving

  private onBusMessage(room: string, payload: string): void {
    const a = payload.indexOf(" ");
    const b = payload.indexOf(" ", a + 1);
    const c = payload.indexOf(" ", b + 1);
    if (a < 0 || b < 0 || c < 0) return;
    const kind = payload.slice(0, a);
    const node = payload.slice(a + 1, b);
    const json = payload.slice(c + 1);
    this.cluster.metrics.busReceived();
    if (kind !== "m") {
      if (node !== this.nodeId) this.cluster.onRoomEvent(room, kind, node, json);
      return;
    }
    const seq = this.live.get(room);
    if (seq === undefined || node === this.nodeId) return;
    let event: UserMessageEvent;
    try {
      event = JSON.parse(json) as UserMessageEvent;
    } catch {
      return;
    }
    if (typeof event.id !== "number" || event.id < seq.next) return;
    const key = decodeURIComponent(payload.slice(b + 1, c));
    seq.accept({
      msg: {
        room,
        offset: event.id,
        ts: event.ts ?? 0,
        user: event.u,
        name: event.n ?? event.u,
        text: event.c,
        ...(event.cid !== undefined && { cid: event.cid }),
        ...(key !== "" && { key }),
      },
      event: new EncodedEvent(event, json),
      sender: undefined,
    });
  }

  /** RoomSequencer: the next message of a room, in order: into the tail, then to the members. */
  deliverInOrder(entry: LogEntry): void {
    const s = this.stream(entry.msg.room);
    s.push(entry);
    s.head = s.committed = entry.msg.offset;
    s.evict(this.tailSize);
    this.cluster.deliver(entry);
    entry.sender = undefined; // stored and delivered: the tail must not keep the session
    this.releaseWaiters(entry.msg.room, entry.msg.offset + 1);
  }

  /** RoomSequencer: reads what a room is missing from the store, page by page. */
  repair(room: string): void {
    if (this.repairing.has(room)) return;
    const seq = this.live.get(room);
    if (seq === undefined) return;
    this.repairing.add(room);
    const step = (): void => {
      const from = seq.next;
      this.read(() => this.cluster.store.readAfter(room, from - 1, REPAIR_PAGE)).then(
        (page) => {
          if (this.live.get(room) !== seq) return this.repairing.delete(room);
          for (const m of page) seq.accept(entryOf(m, undefined));
          this.cluster.metrics.busRepaired(page.length);
          if (page.length === REPAIR_PAGE) return step();
          this.repairing.delete(room);
        },
        (err: unknown) => {
          this.repairing.delete(room);
          for (const w of this.waiters.get(room) ?? []) w.reject(err as Error);
          this.waiters.delete(room);
        },
      );
    };
    step();
  }

  /** The bus is back: subscribe what could not be, and repair every room taken up. */
  private busBack(): void {
    for (const room of [...this.unsubscribed]) {
      this.bus.subscribe(room).then(
        () => {
          this.unsubscribed.delete(room);
          this.repair(room);
        },
        () => {},
      );
    }
    for (const room of this.live.keys()) this.repair(room);
  }

  protected override resync(_states: Map<string, StreamState>): void {
    for (const room of this.live.keys()) this.repair(room);
  }

  protected async drain(): Promise<void> {
    this.seal();
    for (let i = 0; i < 500 && (this.inFlight || this.batch.length > 0); i++) {
      await new Promise<void>((r) => this.clock.setTimeout(r, 10));
      this.seal();
    }
    for (const seq of this.live.values()) seq.stop();
  }
}
