import type { Directory, PresenceEntry } from "../core/ports.js";

/** The shared state of MemoryDirectory nodes in one process (one per in-process cluster). */
export class MemoryDirectoryHub {
  /** room -> "NODE/USER" -> name */
  readonly members = new Map<string, Map<string, string>>();
  /** name key -> "NODE/USER" */
  readonly names = new Map<string, string>();
  /** node -> heartbeat deadline (ms since the epoch) */
  readonly beats = new Map<string, number>();
}

/**
 * The cluster Directory in this process (tests run several nodes on one hub). A node is alive
 * while its heartbeat is renewed; `kill()` stops it without clearing anything, as `kill -9` would.
 */
export class MemoryDirectory implements Directory {
  readonly description = "memory";
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hub: MemoryDirectoryHub,
    private readonly node: string,
    private readonly ttlMs = 10_000,
  ) {}

  start(): Promise<void> {
    this.beat();
    this.timer = setInterval(() => this.beat(), Math.max(10, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
    return Promise.resolve();
  }

  private beat(): void {
    this.hub.beats.set(this.node, Date.now() + this.ttlMs);
  }

  join(room: string, user: string, name: string): Promise<void> {
    let m = this.hub.members.get(room);
    if (m === undefined) this.hub.members.set(room, (m = new Map<string, string>()));
    m.set(`${this.node}/${user}`, name);
    return Promise.resolve();
  }

  leave(room: string, user: string): Promise<boolean> {
    const m = this.hub.members.get(room);
    return Promise.resolve(m?.delete(`${this.node}/${user}`) ?? false);
  }

  members(room: string): Promise<PresenceEntry[]> {
    const m = this.hub.members.get(room) ?? new Map<string, string>();
    return Promise.resolve([...m].map(([field, name]) => entryOf(field, name)));
  }

  counts(rooms: readonly string[]): Promise<number[]> {
    return Promise.resolve(rooms.map((r) => this.hub.members.get(r)?.size ?? 0));
  }

  claimName(keys: readonly string[], user: string): Promise<boolean> {
    const owner = `${this.node}/${user}`;
    if (keys.some((k) => (this.hub.names.get(k) ?? owner) !== owner)) return Promise.resolve(false);
    for (const k of keys) this.hub.names.set(k, owner);
    return Promise.resolve(true);
  }

  releaseName(keys: readonly string[], user: string): Promise<void> {
    const owner = `${this.node}/${user}`;
    for (const k of keys) if (this.hub.names.get(k) === owner) this.hub.names.delete(k);
    return Promise.resolve();
  }

  reap(): Promise<Array<{ room: string } & PresenceEntry>> {
    const now = Date.now();
    const removed: Array<{ room: string } & PresenceEntry> = [];
    for (const [node, deadline] of this.hub.beats) {
      if (node === this.node || deadline > now) continue;
      removed.push(...this.clear(node));
    }
    return Promise.resolve(removed);
  }

  private clear(node: string): Array<{ room: string } & PresenceEntry> {
    const removed: Array<{ room: string } & PresenceEntry> = [];
    for (const [room, m] of this.hub.members) {
      for (const [field, name] of [...m]) {
        if (!field.startsWith(`${node}/`)) continue;
        m.delete(field);
        removed.push({ room, ...entryOf(field, name) });
      }
    }
    for (const [k, owner] of [...this.hub.names]) {
      if (owner.startsWith(`${node}/`)) this.hub.names.delete(k);
    }
    this.hub.beats.delete(node);
    return removed;
  }

  /** Test hook: this node stops without a word (its heartbeat just ends). */
  kill(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  stop(): Promise<void> {
    this.kill();
    this.clear(this.node);
    return Promise.resolve();
  }
}

function entryOf(field: string, name: string): PresenceEntry {
  const slash = field.indexOf("/");
  return { node: field.slice(0, slash), user: field.slice(slash + 1), name };
}
