// Shared by the client-library and TUI tests: a real Parley on port 0, a manual clock, a TCP proxy
// that can cut connections, and bounded waits.
import { createServer, connect, type Server, type Socket } from "node:net";
import { once } from "node:events";
import { startApp, type App } from "../../src/app.js";
import { defaultConfig, DEFAULT_ROOMS_PATH } from "../../src/config.js";
import { silentLogger, type Limits } from "../../src/core/index.js";
import { loadRooms } from "../../src/room-catalog.js";
import type { Clock } from "../../clients/lib/clock.js";
import type { ClientEvents, ParleyClient } from "../../clients/lib/parley-client.js";

/**
 * Starts Parley on 127.0.0.1 (TCP line and length-prefixed, HTTP with the WebSocket endpoint
 * at /ws), each on port 0 unless given.
 */
export async function startParley(
  ports: { tcp?: number; lp?: number; http?: number } = {},
  limits: Partial<Limits> = {},
): Promise<App> {
  const config = defaultConfig();
  config.store = { kind: "memory" };
  config.host = "127.0.0.1";
  config.tcpPort = ports.tcp ?? 0;
  config.lpPort = ports.lp ?? 0;
  config.httpPort = ports.http ?? 0;
  config.logLevel = "silent";
  config.limits = { ...config.limits, shutdownGraceMs: 500, ...limits };
  return startApp({ config, rooms: loadRooms(DEFAULT_ROOMS_PATH), logger: silentLogger });
}

/**
 * A clock whose time moves only when the test says so. Timers run in due order; a timer set by
 * a running timer runs in the same advance() if it falls due within it.
 */
export class ManualClock implements Clock {
  private t = 1_700_000_000_000;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Delays of the timers pending, from now, in the order they were set. */
  get pending(): number[] {
    return [...this.timers.values()].map((x) => x.at - this.t);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry;
      }
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }
}

/** Resolves with the first emission of `name` whose arguments satisfy `pred`; rejects after `ms`. */
export function waitFor<K extends keyof ClientEvents>(
  emitter: ParleyClient,
  name: K,
  pred: (...args: ClientEvents[K]) => boolean = () => true,
  ms = 5_000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${ms} ms waiting for "${String(name)}"`));
    }, ms);
    const off = emitter.on(name, (...args: ClientEvents[K]) => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    });
  });
}

/** Polls `check` every few ms until it is true; rejects after `ms`, saying `what` (read then). */
export async function until(
  check: () => boolean,
  ms = 5_000,
  what: string | (() => string) = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) {
      const said = typeof what === "string" ? what : what();
      throw new Error(`timed out after ${ms} ms waiting for ${said}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of a server, to make network faults happen for real:
 * `holdDownstream()` stops passing server-to-client bytes (they are dropped, as a dying link
 * would lose them), `pauseDownstream()` keeps them back until `resumeDownstream()` (a slow
 * link), `refuse()` closes every new connection at once until `accept()` (a network that is
 * down), `cutBefore(text)` passes server lines until one containing `text`, then cuts there (a
 * link lost at an exact point of a line-delimited stream), and `cut()` destroys every proxied
 * connection on both sides.
 */
export class FaultProxy {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private readonly orphans = new Set<Socket>();
  private holding = false;
  private refusing = false;
  /** server-to-client bytes kept back while paused, per client socket */
  private paused: Map<Socket, Buffer[]> | undefined;
  /** cutBefore(): the text of the line to cut before, and each client's partial line */
  private cutAt: string | undefined;
  private readonly partial = new Map<Socket, string>();

  private constructor(target: number) {
    this.server = createServer((client) => {
      if (this.refusing) {
        client.destroy();
        return;
      }
      const upstream = connect({ host: "127.0.0.1", port: target });
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      client.on("data", (b) => upstream.write(b));
      upstream.on("data", (b: Buffer) => {
        if (this.holding) return;
        if (this.cutAt !== undefined) {
          this.passLines(client, upstream, b.toString("utf8"));
          return;
        }
        if (this.paused === undefined) client.write(b);
        else this.paused.set(client, [...(this.paused.get(client) ?? []), b]);
      });
      const end = (): void => {
        if (this.orphans.has(upstream)) return;
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on("close", end).on("error", end);
      upstream.on("close", end).on("error", end);
    });
  }

  static async start(target: number): Promise<FaultProxy> {
    const p = new FaultProxy(target);
    p.server.listen(0, "127.0.0.1");
    await once(p.server, "listening");
    return p;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  get connections(): number {
    return this.pairs.size;
  }

  holdDownstream(): void {
    this.holding = true;
  }

  pauseDownstream(): void {
    this.paused ??= new Map();
  }

  /** Passes on what pauseDownstream() kept back, in order, and everything after it. */
  resumeDownstream(): void {
    const paused = this.paused;
    this.paused = undefined;
    for (const [client, chunks] of paused ?? []) {
      for (const b of chunks) client.write(b);
    }
  }

  /**
   * From now on, server-to-client bytes (line-delimited) pass line by line until a line holding
   * `text`: that line and all after it are lost, and the connection is cut right there.
   */
  cutBefore(text: string): void {
    this.cutAt = text;
  }

  private passLines(client: Socket, upstream: Socket, chunk: string): void {
    const buffered = (this.partial.get(client) ?? "") + chunk;
    const lines = buffered.split("\n");
    this.partial.set(client, lines.pop()!);
    for (const line of lines) {
      if (line.includes(this.cutAt!)) {
        this.cutAt = undefined;
        this.partial.delete(client);
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(`${line}\n`);
    }
  }

  /** New connections are closed at once (existing ones are left as they are). */
  refuse(): void {
    this.refusing = true;
  }

  accept(): void {
    this.refusing = false;
  }

  /** Destroys every connection; new ones pass normally again. */
  cut(): void {
    this.holding = false;
    this.paused = undefined;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /**
   * Cuts the client side only: the server keeps its end open, as when a client's network dies
   * without a FIN reaching the server (its session lingers until it notices).
   */
  orphanUpstreams(): void {
    for (const pair of this.pairs) {
      this.orphans.add(pair[1]);
      pair[0].destroy();
    }
    this.pairs.clear();
  }

  /** Closes the server ends left open by orphanUpstreams(). */
  dropOrphans(): void {
    for (const s of this.orphans) s.destroy();
    this.orphans.clear();
  }

  async close(): Promise<void> {
    this.dropOrphans();
    this.cut();
    await new Promise((r) => this.server.close(r));
  }
}
