import type { MemberInfo, RoomParticipationEvent, UserRenamedEvent } from "../protocol/index.js";
import type { Clock, Directory, Logger, PresenceEntry } from "./ports.js";

export interface ClusterPresenceOptions {
  directory: Directory;
  nodeId: string;
  clock: Clock;
  logger: Logger;
  /** how often dead nodes are looked for, ms (default 3,000) */
  reapEveryMs?: number;
  /** members of dead nodes removed: their rooms are told they left */
  onReaped(removed: Array<{ room: string } & PresenceEntry>): void;
}

/**
 * The other nodes' members, as this node knows them, for the rooms it has members in: loaded
 * from the Directory when it takes a room up, then kept current by the presence events on the
 * room's channel (joined, left, renamed). Member lists and counts then hold for the whole cluster.
 * Events that arrive while a room loads are applied after the load, in order, so a leave is never
 * undone by a load that saw the member still there. Also runs the reaping of dead nodes.
 */
export class ClusterPresence {
  /** room -> "NODE/USER" -> member, other nodes only */
  private readonly remote = new Map<string, Map<string, MemberInfo>>();
  /** rooms being loaded: events that arrived meanwhile, and the joins waiting for the load */
  private readonly loading = new Map<
    string,
    { events: Array<() => void>; waiters: Array<() => void> }
  >();
  private reapTimer: unknown;
  private stopped = false;

  constructor(private readonly options: ClusterPresenceOptions) {}

  get directory(): Directory {
    return this.options.directory;
  }

  async start(): Promise<void> {
    await this.options.directory.start();
    this.scheduleReap();
  }

  private scheduleReap(): void {
    if (this.stopped) return;
    this.reapTimer = this.options.clock.setTimeout(() => {
      this.options.directory.reap().then(
        (removed) => {
          for (const r of removed) this.remote.get(r.room)?.delete(`${r.node}/${r.user}`);
          if (removed.length > 0) this.options.onReaped(removed);
          this.scheduleReap();
        },
        (err: unknown) => {
          this.options.logger.warn({ err: String(err) }, "reaping dead nodes failed");
          this.scheduleReap();
        },
      );
    }, this.options.reapEveryMs ?? 3_000);
  }

  /** Loads `room`'s members on other nodes (once; again after drop). */
  async take(room: string): Promise<void> {
    if (this.remote.has(room)) return;
    const pending = this.loading.get(room);
    if (pending !== undefined) return new Promise((resolve) => pending.waiters.push(resolve));
    const queued = { events: [] as Array<() => void>, waiters: [] as Array<() => void> };
    this.loading.set(room, queued);
    try {
      const entries = await this.options.directory.members(room);
      const m = new Map<string, MemberInfo>();
      for (const e of entries) {
        if (e.node !== this.options.nodeId) m.set(`${e.node}/${e.user}`, { u: e.user, n: e.name });
      }
      this.remote.set(room, m);
    } finally {
      this.loading.delete(room);
      // presence events held during the load, in order, then the joins that waited for it
      for (const f of queued.events) f();
      for (const f of queued.waiters) f();
    }
  }

  drop(room: string): void {
    this.remote.delete(room);
  }

  /** Members of `room` on other nodes (empty for a room not taken up). */
  remoteMembers(room: string): MemberInfo[] {
    const m = this.remote.get(room);
    return m === undefined ? [] : [...m.values()];
  }

  /** A presence event from another node's channel traffic. */
  onEvent(room: string, node: string, event: RoomParticipationEvent | UserRenamedEvent): void {
    const loading = this.loading.get(room);
    if (loading !== undefined) {
      loading.events.push(() => this.onEvent(room, node, event));
      return;
    }
    const m = this.remote.get(room);
    if (m === undefined) return;
    const key = `${node}/${event.u}`;
    if (event._et === "room_participation") {
      if (event.s === "joined") m.set(key, { u: event.u, n: event.n ?? event.u });
      else m.delete(key);
    } else {
      const member = m.get(key);
      if (member !== undefined) member.n = event.n;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reapTimer !== undefined) this.options.clock.clearTimeout(this.reapTimer);
    await this.options.directory.stop();
  }
}
