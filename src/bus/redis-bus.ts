import { createClient } from "redis";
import type { Bus, Logger } from "../core/ports.js";
import { silentLogger } from "../core/ports.js";

export interface RedisBusOptions {
  /** `redis://[user:password@]host:port[/db]` */
  url: string;
  /** channel name prefix (default `parley`), so several deployments can share one Redis */
  prefix?: string;
  logger?: Logger;
}

/** Reconnect delays: 100 ms doubling to a 2 s cap, for as long as it takes. */
const reconnectDelay = (retries: number): number => Math.min(100 * 2 ** retries, 2_000);

/**
 * The Bus on Redis 7 sharded pub/sub: SPUBLISH and SSUBSCRIBE on one channel per room,
 * `PREFIX:{ROOM}` (the room is the hash tag, so on Redis Cluster each room's channel lives on the
 * shard of its slot and the same code runs there; a standalone Redis serves every slot). A node
 * subscribes to a room only while it has members there, so no node receives traffic for rooms it
 * has no member of, and a message crosses Redis once per publish whatever the number of
 * recipients.
 *
 * Two connections: one publishes, one subscribes (a subscribed connection can do nothing else).
 * Both reconnect by themselves; node-redis renews the subscriptions before it reports the
 * subscriber ready again, and only then is the bus up again (`onStatus(true)`). Commands fail
 * at once while disconnected instead of queueing: a publish during an outage rejects, and the
 * caller relies on the store for repair.
 */
export class RedisBus implements Bus {
  readonly description: string;
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly pub: ReturnType<typeof createClient>;
  private readonly sub: ReturnType<typeof createClient>;
  private readonly rooms = new Set<string>();
  private readonly messageHandlers: Array<(room: string, payload: string) => void> = [];
  private readonly statusHandlers: Array<(up: boolean) => void> = [];
  private starting = true;
  private stopped = false;
  private isUp = false;
  private readonly listener = (message: string, channel: string): void => {
    const room = this.roomOf(channel);
    if (room === undefined) return;
    for (const h of this.messageHandlers) h(room, message);
  };

  constructor(options: RedisBusOptions) {
    this.prefix = options.prefix ?? "parley";
    this.logger = options.logger ?? silentLogger;
    this.description = describeRedisUrl(options.url);
    const settings = {
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 5_000,
        // While starting, the first failure is final: a wrong address stops the server.
        reconnectStrategy: (retries: number, cause: Error): number | Error =>
          this.starting ? cause : reconnectDelay(retries),
      },
    };
    this.pub = createClient(settings);
    this.sub = createClient(settings);
    for (const [name, client] of [
      ["publisher", this.pub],
      ["subscriber", this.sub],
    ] as const) {
      client.on("error", (err: Error) => {
        if (!this.starting && !this.stopped) {
          this.logger.warn(
            { err: err.message, connection: name, bus: this.description },
            "redis bus error",
          );
        }
      });
      for (const event of ["ready", "end", "reconnecting", "error"]) {
        client.on(event, () => this.updateStatus());
      }
    }
  }

  get up(): boolean {
    return this.isUp;
  }

  async start(): Promise<void> {
    try {
      await Promise.all([this.pub.connect(), this.sub.connect()]);
    } catch (err) {
      this.stopped = true;
      for (const c of [this.pub, this.sub]) if (c.isOpen) c.destroy();
      throw new Error(`cannot reach Redis at ${this.description}: ${(err as Error).message}`);
    }
    this.starting = false;
    this.updateStatus();
  }

  /** Up while both connections are ready (the subscriber's subscriptions renewed). */
  private updateStatus(): void {
    const up = this.pub.isReady && this.sub.isReady && !this.stopped;
    if (up === this.isUp) return;
    this.isUp = up;
    if (this.starting) return;
    this.logger[up ? "info" : "warn"](
      { bus: this.description },
      up ? "redis bus is back" : "redis bus is down",
    );
    for (const h of this.statusHandlers) h(up);
  }

  private channel(room: string): string {
    return `${this.prefix}:{${room}}`;
  }

  private roomOf(channel: string): string | undefined {
    const head = `${this.prefix}:{`;
    return channel.startsWith(head) && channel.endsWith("}")
      ? channel.slice(head.length, -1)
      : undefined;
  }

  async publish(room: string, payload: string): Promise<void> {
    await this.pub.sPublish(this.channel(room), payload);
  }

  async subscribe(room: string): Promise<void> {
    if (this.rooms.has(room)) return;
    this.rooms.add(room);
    try {
      await this.sub.sSubscribe(this.channel(room), this.listener);
    } catch (err) {
      // Down: node-redis subscribes again when it reconnects only channels it knows of.
      this.rooms.delete(room);
      throw err;
    }
  }

  async unsubscribe(room: string): Promise<void> {
    if (!this.rooms.delete(room)) return;
    await this.sub.sUnsubscribe(this.channel(room), this.listener);
  }

  onMessage(handler: (room: string, payload: string) => void): void {
    this.messageHandlers.push(handler);
  }

  onStatus(handler: (up: boolean) => void): void {
    this.statusHandlers.push(handler);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.allSettled([this.pub.close(), this.sub.close()]);
  }
}

/** The URL without its password, for logs. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port || "6379"}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "redis (bad URL)";
  }
}
