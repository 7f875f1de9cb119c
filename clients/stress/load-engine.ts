import { linkFactory, roomRef, serverOfUser, targetPorts } from "./links/index.js";
import type { Link, LinkFactory, LinkSink, RoomRef, TransportTarget } from "./links/index.js";
import { type Measurement, Window } from "./measurement.js";
import { encodePayload, parsePayload, parsed } from "./payload.js";
import { sampleProcess, type ProcessSample } from "./process-sampler.js";

export interface EngineOptions {
  target: TransportTarget;
  /** send the extension `hello` on every connection (off: original protocol only) */
  extensions: boolean;
  /** connections being opened (connect, login, joins) at once */
  connectConcurrency: number;
  /** pad every message text to this many characters (0: no padding) */
  messageBytes: number;
  /** how often senders are scheduled, ms: everything due is written at once per connection */
  tickMs: number;
  /** process to read CPU and RSS of (the server under test) */
  serverPid?: number;
  /**
   * the server's other processes (the other nodes of a cluster, the workers of a supervisor):
   * their CPU and RSS are added to serverPid's
   */
  otherServerPids?: readonly number[];
  /** a connection not logged in and joined after this long counts as failed, ms */
  setupTimeoutMs: number;
  /** a bearer token for user `index` (a server with --auth): sent in a hello before any join */
  token?: (index: number) => Promise<string>;
}

/** Membership of a room a user asked to join: not asked, pending, or confirmed at a sequence. */
const NOT_ASKED = -1;
const PENDING = Number.POSITIVE_INFINITY;

/** One simulated user: a link, the rooms it joins, and its sending schedule. */
export class User implements LinkSink {
  readonly link: Link;
  /** per room index: NOT_ASKED, PENDING, or the sequence number at which the join was confirmed */
  readonly since: Float64Array;
  private joinedCount = 0;
  closed = false;
  ready = false;
  /** given up on by the engine (set-up timeout): its close is not an error of the server's */
  abandoned = false;
  /** sending schedule (see LoadEngine.tick) */
  rate = 0;
  phase = 0;
  startMs = 0;
  sentCount = 0;
  sendRooms: RoomRef[] = [];
  private cursor = 0;
  private settle: ((ok: boolean) => void) | undefined;

  constructor(
    private readonly engine: LoadEngine,
    readonly index: number,
    readonly rooms: readonly RoomRef[],
    factory: LinkFactory,
    onSettled: (ok: boolean) => void,
    private readonly token?: string,
  ) {
    this.since = new Float64Array(engine.rooms.length).fill(NOT_ASKED);
    this.settle = onSettled;
    this.link = factory(this, { wantRooms: false });
  }

  onRead(nowMs: number): void {
    this.engine.lastReadMs = nowMs;
  }

  onLogin(): void {
    if (this.engine.options.extensions || this.token !== undefined) this.link.hello(this.token);
    if (this.rooms.length === 0) return this.becomeReady();
    for (const r of this.rooms) {
      this.since[r.index] = PENDING;
      this.link.join(r);
    }
  }

  onJoined(name: string): void {
    const i = this.engine.roomIndex.get(name);
    if (i === undefined || this.since[i] !== PENDING) return;
    this.since[i] = this.engine.nextSeq();
    this.engine.members[i]!++;
    if (++this.joinedCount === this.rooms.length) this.becomeReady();
  }

  private becomeReady(): void {
    this.ready = true;
    this.settle?.(true);
    this.settle = undefined;
  }

  onDelivery(s: string, at: number, nowMs: number): void {
    const w = this.engine.window;
    if (!parsePayload(s, at)) return;
    if (parsed.seq < w.firstSeq) {
      w.stale++;
      w.lateLatency.record(nowMs * 1000 - parsed.sentMicros);
      return;
    }
    const since = this.since[parsed.room];
    if (since === undefined || since === NOT_ASKED) {
      w.unexpected++;
      return;
    }
    if (parsed.seq <= since) {
      w.beforeJoin++;
      return;
    }
    w.delivered++;
    w.latency.record(nowMs * 1000 - parsed.sentMicros);
  }

  onTrouble(type: string, detail: string): void {
    this.engine.error(`${type}${detail ? ":" + detail : ""}`);
  }

  onClose(error: string | undefined): void {
    if (this.closed) return;
    this.closed = true;
    for (let i = 0; i < this.since.length; i++) {
      const s = this.since[i]!;
      if (s !== NOT_ASKED && s !== PENDING) this.engine.members[i]!--;
    }
    if (!this.engine.stopping && !this.abandoned) this.engine.error(error ?? "closed by server");
    this.settle?.(false);
    this.settle = undefined;
  }

  /** Writes every message due by `nowMs`; returns how many. */
  sendDue(nowMs: number, nowMicros: number): number {
    const due =
      Math.floor(((nowMs - this.startMs) / 1000) * this.rate + this.phase) - this.sentCount;
    if (due <= 0) return 0;
    const engine = this.engine;
    const w = engine.window;
    const size = engine.options.messageBytes;
    const rooms = this.sendRooms;
    for (let k = 0; k < due; k++) {
      const room = rooms[this.cursor]!;
      if (++this.cursor === rooms.length) this.cursor = 0;
      w.expected += engine.members[room.index]!;
      this.link.send(room, encodePayload(room.index, engine.nextSeq(), nowMicros, size));
    }
    this.link.flush();
    this.sentCount += due;
    w.sent += due;
    return due;
  }
}

/**
 * Drives many simulated users from one process: opens their connections (bounded concurrency),
 * joins their rooms, schedules their sends open-loop (each sender's messages are due at fixed
 * times whatever the server does, so a slow server shows as latency, not as a lower send rate),
 * and counts every delivery against what room membership says is owed.
 *
 * Membership and sends are ordered by one sequence number: a join confirmed at sequence J is owed
 * exactly the messages sent later (sequence > J), so users may come and go while others send.
 */
export class LoadEngine {
  rooms: RoomRef[] = [];
  readonly roomIndex = new Map<string, number>();
  /** confirmed members per room index */
  members = new Int32Array(0);
  readonly users: User[] = [];
  window: Window = new Window(0, undefined);
  stopping = false;
  readonly errorsByKind = new Map<string, number>();
  connectFailures = 0;
  private seq = 0;
  /** one per port of the target; user i connects through factories[serverOfUser(i, n)] */
  private factories: LinkFactory[] = [];
  private senders: User[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private lastServer: ProcessSample | undefined;
  private inFlight = 0;
  private waiting: Array<() => void> = [];
  /** when any connection last received something (performance.now()) */
  lastReadMs = 0;
  /** worst delay of a scheduling tick beyond tickMs (the generator falling behind), ms */
  maxTickLagMs = 0;

  constructor(readonly options: EngineOptions) {}

  nextSeq(): number {
    return ++this.seq;
  }

  error(kind: string): void {
    this.errorsByKind.set(kind, (this.errorsByKind.get(kind) ?? 0) + 1);
    this.window.errors++;
  }

  get totalErrors(): number {
    let n = 0;
    for (const v of this.errorsByKind.values()) n += v;
    return n;
  }

  /** Connects once (to the first port) to learn the server's room list (login_successful), then closes. */
  async discoverRooms(): Promise<string[]> {
    const target = this.options.target;
    this.factories = await Promise.all(
      targetPorts(target).map((port) => linkFactory({ ...target, port })),
    );
    const names = await new Promise<string[]>((resolve, reject) => {
      let link: Link | undefined = undefined;
      const timer = setTimeout(() => {
        link?.close();
        reject(new Error(`no login_successful within ${this.options.setupTimeoutMs} ms`));
      }, this.options.setupTimeoutMs);
      const sink: LinkSink = {
        onLogin: (rooms) => {
          clearTimeout(timer);
          resolve(rooms ?? []);
          link?.close();
        },
        onRead: () => {},
        onJoined: () => {},
        onDelivery: () => {},
        onTrouble: () => {},
        onClose: (error) => {
          clearTimeout(timer);
          reject(
            new Error(`cannot connect to ${describe(this.options.target)}: ${error ?? "closed"}`),
          );
        },
      };
      link = this.factories[0]!(sink, { wantRooms: true });
    });
    this.rooms = names.map((n, i) => roomRef(i, n));
    this.roomIndex.clear();
    names.forEach((n, i) => this.roomIndex.set(n, i));
    this.members = new Int32Array(names.length);
    return names;
  }

  /**
   * Opens one user's connection, logs in and joins `rooms`. Resolves with the user when it is
   * ready, or undefined when it failed (counted as an error). At most connectConcurrency users are
   * being set up at once; the others wait their turn.
   */
  async addUser(rooms: readonly RoomRef[]): Promise<User | undefined> {
    if (this.factories.length === 0) throw new Error("discoverRooms() first");
    while (this.inFlight >= this.options.connectConcurrency) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.inFlight++;
    try {
      let user: User | undefined;
      const token = await this.options.token?.(this.users.length);
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), this.options.setupTimeoutMs);
        const index = this.users.length;
        const factory = this.factories[serverOfUser(index, this.factories.length)]!;
        user = new User(
          this,
          index,
          rooms,
          factory,
          (ok) => {
            clearTimeout(timer);
            resolve(ok);
          },
          token,
        );
        this.users.push(user);
      });
      if (!ok) {
        this.connectFailures++;
        if (!user!.closed) {
          this.error("setup timeout");
          user!.abandoned = true;
          user!.link.close();
        }
        return undefined;
      }
      return user;
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  /** Adds users in parallel (bounded by connectConcurrency); resolves with those that are ready. */
  async addUsers(roomsOf: ReadonlyArray<readonly RoomRef[]>): Promise<User[]> {
    const users = await Promise.all(roomsOf.map((r) => this.addUser(r)));
    return users.filter((u): u is User => u !== undefined);
  }

  get readyUsers(): number {
    let n = 0;
    for (const u of this.users) if (u.ready && !u.closed) n++;
    return n;
  }

  /**
   * Makes `user` send `rate` messages/s from now on, to `rooms` in turn. `phase` (0..1) shifts
   * its schedule within one period so that senders do not all fire in the same tick.
   */
  addSender(user: User, rate: number, phase: number, rooms: RoomRef[]): void {
    user.rate = rate;
    user.phase = phase;
    user.sendRooms = rooms;
    user.startMs = performance.now();
    user.sentCount = 0;
    this.senders.push(user);
    this.startTicking();
  }

  /** Restarts every sender's schedule at a new rate (ceiling steps). */
  setRate(rate: number): void {
    const now = performance.now();
    for (const u of this.senders) {
      u.rate = rate;
      u.startMs = now;
      u.sentCount = 0;
    }
    this.startTicking();
  }

  private startTicking(): void {
    if (this.timer) return;
    let last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const lag = now - last - this.options.tickMs;
      if (lag > this.maxTickLagMs) this.maxTickLagMs = lag;
      last = now;
      const nowMicros = Math.round(now * 1000);
      const senders = this.senders;
      for (let i = 0; i < senders.length; i++) {
        const u = senders[i]!;
        if (!u.closed) u.sendDue(now, nowMicros);
      }
    }, this.options.tickMs);
  }

  /** Stops sending (senders are kept, for setRate). Marks the end of the window's sending. */
  pauseSending(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.window.sendEndedMs = performance.now();
  }

  /** Starts a new measured window: fresh counters and a server reading. */
  beginWindow(): void {
    this.lastServer = this.sampleServer();
    this.window = new Window(this.seq + 1, this.lastServer);
  }

  /**
   * Waits until no connection has received anything for `quietMs` (at most `maxMs`): setting up
   * a big room makes the server announce every join to every member (N^2/2 events for N members),
   * and a measurement must not start while that tail is still being delivered.
   */
  async quiesce(quietMs: number, maxMs: number): Promise<void> {
    const until = performance.now() + maxMs;
    while (performance.now() < until && performance.now() - this.lastReadMs < quietMs) {
      await sleep(Math.min(50, quietMs));
    }
  }

  /** Waits until every owed delivery arrived, or `timeoutMs` passed with no progress at all. */
  async drain(timeoutMs: number): Promise<void> {
    const w = this.window;
    let last = w.delivered;
    let quietSince = performance.now();
    while (w.delivered < w.expected) {
      await sleep(5);
      if (w.delivered !== last) {
        last = w.delivered;
        quietSince = performance.now();
      } else if (performance.now() - quietSince > timeoutMs) {
        return;
      }
    }
  }

  endWindow(): Measurement {
    return this.window.finish(this.sampleServer());
  }

  /** The server's processes read together: CPU and RSS summed; undefined when one is gone. */
  sampleServer(): ProcessSample | undefined {
    const pid = this.options.serverPid;
    if (pid === undefined) return undefined;
    let s = sampleProcess(pid);
    for (const other of this.options.otherServerPids ?? []) {
      if (!s) break;
      const o = sampleProcess(other);
      s = o && { cpuMs: s.cpuMs + o.cpuMs, rssKiB: s.rssKiB + o.rssKiB, atMs: o.atMs };
    }
    if (s) this.window?.noteServerRss(s.rssKiB);
    return s;
  }

  /** Samples the server's RSS every `everyMs` so that the window knows its peak. */
  startSampling(everyMs: number): void {
    if (this.options.serverPid === undefined || this.sampler) return;
    this.sampler = setInterval(() => this.sampleServer(), everyMs);
    this.sampler.unref();
  }

  /** Closes every connection and stops timers. */
  async close(): Promise<void> {
    this.stopping = true;
    this.pauseSending();
    if (this.sampler) clearInterval(this.sampler);
    for (const u of this.users) if (!u.closed) u.link.close();
    await sleep(20);
  }
}

export function describe(t: TransportTarget): string {
  const port = targetPorts(t).join(",");
  if (t.kind === "ws") return `${t.tls ? "wss" : "ws"}://${t.host}:${port}${t.path}`;
  return `${t.tls ? "tls" : t.kind}://${t.host}:${port}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
