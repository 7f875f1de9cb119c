import type { Bus } from "../core/ports.js";

/**
 * The channels of a MemoryBus: one per process. Every MemoryBus made on the same hub is a node of
 * one in-process cluster (tests run several chat servers on one hub); a single server on its own
 * hub is the default, where publishing reaches only itself.
 */
export class MemoryBusHub {
  private readonly subscribers = new Map<string, Set<MemoryBus>>();

  /** @internal */
  add(room: string, bus: MemoryBus): void {
    let set = this.subscribers.get(room);
    if (set === undefined) this.subscribers.set(room, (set = new Set()));
    set.add(bus);
  }

  /** @internal */
  remove(room: string, bus: MemoryBus): void {
    const set = this.subscribers.get(room);
    if (set !== undefined && set.delete(bus) && set.size === 0) this.subscribers.delete(room);
  }

  /** @internal */
  subscribersOf(room: string): readonly MemoryBus[] {
    const set = this.subscribers.get(room);
    return set === undefined ? [] : [...set];
  }
}

/**
 * The Bus in this process (the default). Delivery is asynchronous (a microtask), as over a
 * network, and in publish order; `down()` and `upAgain()` play a bus outage in tests.
 */
export class MemoryBus implements Bus {
  readonly description = "memory";
  private readonly rooms = new Set<string>();
  private readonly messageHandlers: Array<(room: string, payload: string) => void> = [];
  private readonly statusHandlers: Array<(up: boolean) => void> = [];
  private isUp = true;

  constructor(private readonly hub: MemoryBusHub = new MemoryBusHub()) {}

  get up(): boolean {
    return this.isUp;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  publish(room: string, payload: string): Promise<void> {
    if (!this.isUp) return Promise.reject(new Error("memory bus: down"));
    const targets = this.hub.subscribersOf(room);
    queueMicrotask(() => {
      for (const t of targets) t.receive(room, payload);
    });
    return Promise.resolve();
  }

  subscribe(room: string): Promise<void> {
    this.rooms.add(room);
    if (this.isUp) this.hub.add(room, this);
    return Promise.resolve();
  }

  unsubscribe(room: string): Promise<void> {
    this.rooms.delete(room);
    this.hub.remove(room, this);
    return Promise.resolve();
  }

  onMessage(handler: (room: string, payload: string) => void): void {
    this.messageHandlers.push(handler);
  }

  onStatus(handler: (up: boolean) => void): void {
    this.statusHandlers.push(handler);
  }

  /** Test hook: this node loses the bus (what is published meanwhile never reaches it). */
  down(): void {
    if (!this.isUp) return;
    this.isUp = false;
    for (const r of this.rooms) this.hub.remove(r, this);
    for (const h of this.statusHandlers) h(false);
  }

  /** Test hook: the bus is back, every subscription renewed. */
  upAgain(): void {
    if (this.isUp) return;
    this.isUp = true;
    for (const r of this.rooms) this.hub.add(r, this);
    for (const h of this.statusHandlers) h(true);
  }

  private receive(room: string, payload: string): void {
    if (!this.isUp || !this.rooms.has(room)) return;
    for (const h of this.messageHandlers) h(room, payload);
  }

  stop(): Promise<void> {
    for (const r of this.rooms) this.hub.remove(r, this);
    this.rooms.clear();
    return Promise.resolve();
  }
}
