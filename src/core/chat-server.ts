import type {
  Command,
  Event,
  FrameError,
  HistoryCommand,
  JoinRoomCommand,
  MemberInfo,
  PublicLimits,
  ResumeStatus,
  UserMessageEvent,
} from "../protocol/index.js";
import {
  decodeCommand,
  DecodeError,
  DisconnectCode,
  EncodedEvent,
  ErrorCode,
  PROTOCOL_VERSION,
  shouldReconnect,
} from "../protocol/index.js";
import { CatchUp, type CatchUpHost, planJoin } from "./catch-up.js";
import { ChatError, ConnectionRefused } from "./errors.js";
import { randomId, SESSION_ID_LENGTH } from "./ids.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import {
  type ConnectionContext,
  type ConnectionMiddleware,
  MiddlewarePipeline,
} from "./middleware.js";
import { CounterMetrics } from "./counter-metrics.js";
import { RecentIds, type RecentIdsOptions } from "./dedup.js";
import { ClusterLog } from "./cluster-log.js";
import { LocalLog } from "./local-log.js";
import { type MessageLog, toEvent } from "./message-log.js";
import type { LogEntry } from "./room-stream.js";
import type {
  Bus,
  Clock,
  Connection,
  Logger,
  MessageStore,
  Metrics,
  RetentionPolicy,
} from "./ports.js";
import { silentLogger, systemClock } from "./ports.js";
import { Membership } from "./membership.js";
import type { Room } from "./room.js";
import { RoomManager, type RoomSpec } from "./room-manager.js";
import { type EndCode, PEER_CLOSED, Session, type SessionHost } from "./session.js";
import { UserRegistry } from "./user-registry.js";

export interface ChatServerOptions {
  rooms: readonly RoomSpec[];
  limits?: Partial<Limits>;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  /** run in order around every connection (see middleware.ts) */
  middleware?: readonly ConnectionMiddleware[];
  /** bounds of the resend-deduplication memory (see dedup.ts for the defaults) */
  dedup?: Partial<RecentIdsOptions>;
  /** where room history is kept; undefined: only the recent in-memory tail (`--store off`) */
  store?: MessageStore;
  /** how much history each room keeps (default: no bound) */
  retention?: RetentionPolicy;
  /** committed messages kept in memory per room for replays (default 100) */
  tailSize?: number;
  /**
   * Makes this server a node of a cluster: the bus carries room traffic between nodes and the
   * (shared) store orders each room's messages. Needs `store`.
   */
  cluster?: { bus: Bus; nodeId: string };
}

/** A history page without `l`. */
const DEFAULT_HISTORY_PAGE = 50;

/** Deadline sweeps run at least this often, and at most every MIN_SWEEP_MS (ms). */
const SWEEP_MS = 1_000;
const MIN_SWEEP_MS = 25;

const SHUTTING_DOWN = new ConnectionRefused(
  DisconnectCode.SERVER_SHUTDOWN,
  "server is shutting down",
  "shutdown",
);

/** Sessions ended per event-loop turn during shutdown. */
const SHUTDOWN_BATCH = 64;

/** Time a closing connection gets to flush its last events, in ms (shutdown uses its own grace). */
const CLOSE_FLUSH_MS = 5_000;

/**
 * The chat domain: sessions, rooms and the command dispatch. Transports hand it connections
 * (accept) and the session pulls commands from them; every command is decoded once, routed here,
 * and each resulting event is encoded once and queued on every recipient.
 */
export class ChatServer implements SessionHost, CatchUpHost {
  readonly limits: Limits;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly rooms: RoomManager;
  /** who is in which room, and the one fan-out path */
  readonly membership: Membership;
  /** room streams: offsets, durability, recent tail, history */
  readonly log: MessageLog;
  readonly replayLowWater: number;
  private readonly logger: Logger;
  private readonly users: UserRegistry;
  private readonly pipeline: MiddlewarePipeline;
  private readonly sessions = new Set<Session>();
  /** connections past the limit check whose middleware is still running */
  private opening = 0;
  private nextConnId = 1;
  private accepting = false;
  private sweepTimer: unknown;
  private readonly publicLimits: PublicLimits;
  private readonly recentIds: RecentIds;
  /** the cluster side of the log, when this server is a node of a cluster */
  private readonly cluster: ClusterLog | undefined;
  /** renames from other nodes delivered lately (see onRemoteRoomEvent) */
  private readonly recentRenames = new Set<string>();

  constructor(options: ChatServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new CounterMetrics();
    this.rooms = new RoomManager(options.rooms);
    this.membership = new Membership(this.metrics);
    this.users = new UserRegistry(this.limits.maxNameChars);
    this.pipeline = new MiddlewarePipeline(options.middleware ?? []);
    this.recentIds = new RecentIds(this.clock, options.dedup);
    const logOptions = {
      store: options.store,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      ...(options.tailSize !== undefined && { tailSize: options.tailSize }),
      retention: options.retention ?? { maxMessages: 0, maxAgeMs: 0 },
      deliver: (entry: LogEntry) => this.deliverMessage(entry),
      onFailed: (entries: readonly LogEntry[], err: unknown) => this.storeFailed(entries, err),
    };
    if (options.cluster !== undefined) {
      if (options.store === undefined) throw new Error("a cluster node needs a shared store");
      this.cluster = new ClusterLog({
        ...logOptions,
        store: options.store,
        bus: options.cluster.bus,
        nodeId: options.cluster.nodeId,
        onRoomEvent: (room, kind, _node, json) => this.onRemoteRoomEvent(room, kind, json),
      });
      this.log = this.cluster;
    } else {
      this.cluster = undefined;
      this.log = new LocalLog(logOptions);
    }
    const l = this.limits;
    this.replayLowWater = Math.floor(l.maxOutboundBytes / 2);
    this.publicLimits = {
      historyPageMax: l.historyPageMax,
      maxMessageChars: l.maxMessageChars,
      maxLineBytes: l.maxLineBytes,
      maxRoomsPerSession: l.maxRoomsPerSession,
      maxNameChars: l.maxNameChars,
      ratePerSec: l.ratePerSec,
      rateBurst: l.rateBurst,
      idleTimeoutMs: l.idleTimeoutMs,
    };
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /** what /readyz reports: accepting (from start() until stop() begins) and the store answering */
  readiness(): { ready: boolean; detail: string } {
    const store = this.log.stored ? (this.log.storeHealthy ? "ok" : "failing") : "off";
    return {
      ready: this.accepting && this.log.storeHealthy,
      detail: `chat: ${this.accepting ? "accepting" : "not accepting"}\nstore: ${store}\n`,
    };
  }

  /** Opens the room streams (and reloads the resend-dedup memory from the store), then accepts. */
  async start(): Promise<void> {
    await this.log.open([...this.rooms.rooms()].map((r) => r.name));
    const since = this.clock.now() - this.recentIds.ttlMs;
    for (const m of await this.log.recentWithClientIds(since, this.recentIds.maxEntries)) {
      if (m.key === undefined || m.cid === undefined) continue;
      const event = toEvent(m);
      this.recentIds.remember(m.key, m.cid, event, JSON.stringify(event).length, m.ts);
    }
    this.log.start();
    this.accepting = true;
    this.scheduleSweep();
  }

  /**
   * Admits a new connection: limit check, middleware, then a session that is sent
   * `login_successful`. Returns undefined when the connection was refused.
   */
  async accept(
    conn: Connection,
    headers: ConnectionContext["headers"] = {},
  ): Promise<Session | undefined> {
    if (!this.accepting) return this.refuse(conn, SHUTTING_DOWN);
    if (this.sessions.size + this.opening >= this.limits.maxConnections) {
      return this.refuse(
        conn,
        new ConnectionRefused(
          DisconnectCode.SERVER_FULL,
          `server full (${this.limits.maxConnections} connections)`,
          "max_connections",
        ),
      );
    }
    const ctx: ConnectionContext = {
      id: this.nextConnId++,
      transport: conn.transport,
      remoteAddress: conn.remoteAddress,
      headers,
      openedAt: this.clock.now(),
      authenticated: false,
    };
    this.opening++;
    try {
      await this.pipeline.open(ctx);
    } catch (err) {
      return this.refuse(
        conn,
        err instanceof ConnectionRefused
          ? err
          : new ConnectionRefused(DisconnectCode.UNAUTHORIZED, "refused", "middleware_error"),
      );
    } finally {
      this.opening--;
    }
    if (!this.accepting) {
      this.pipeline.close(ctx, { code: DisconnectCode.SERVER_SHUTDOWN, message: "shutting down" });
      return this.refuse(conn, SHUTTING_DOWN);
    }

    const userId = this.users.register();
    const session = new Session(this, conn, ctx, randomId(SESSION_ID_LENGTH), userId);
    ctx.sessionId = session.id;
    ctx.userId = userId;
    this.sessions.add(session);
    this.metrics.connectionOpened(conn.transport);
    if (ctx.principal !== undefined) {
      try {
        this.rename(session, ctx.principal);
      } catch (err) {
        this.logger.warn(
          { conn: ctx.id, principal: ctx.principal, err: String(err) },
          "principal not usable as name",
        );
      }
    }
    session.deliver(
      new EncodedEvent({
        _et: "login_successful",
        s: session.id,
        u: userId,
        rs: this.rooms.infos as LoginRooms,
        n: session.name,
        pv: PROTOCOL_VERSION,
      }),
    );
    return session;
  }

  private refuse(conn: Connection, refusal: ConnectionRefused): undefined {
    const { code, message, reason } = refusal;
    this.metrics.connectionRefused(code, reason);
    this.logger.info(
      { remote: conn.remoteAddress, transport: conn.transport, code, reason, message },
      "connection refused",
    );
    conn.refuse({ code, message });
    return undefined;
  }

  // ------------------------------------------------------------------ the hot path

  handleLine(session: Session, text: string): void {
    const cmd = decodeCommand(text);
    if (cmd instanceof DecodeError) {
      session.sendError(cmd.code, cmd.message, {
        ...(cmd.cmd !== undefined && { cmd: cmd.cmd }),
        ...(cmd.room !== undefined && { r: cmd.room }),
      });
      return;
    }
    this.metrics.commandReceived(cmd._ct);
    try {
      const pending = this.dispatch(session, cmd);
      // A command that waits (a cluster join) is finished before the next one is read.
      if (pending instanceof Promise) {
        session.awaitCommand(
          pending.catch((err: unknown) => this.commandFailed(session, cmd, err)),
        );
      }
    } catch (err) {
      this.commandFailed(session, cmd, err);
    }
  }

  private commandFailed(session: Session, cmd: Command, err: unknown): void {
    if (err instanceof ChatError) {
      session.sendError(err.code, err.message, {
        cmd: cmd._ct,
        ...(err.room !== undefined && { r: err.room }),
        ...(cmd._ct === "send_message" && cmd.cid !== undefined && { cid: cmd.cid }),
      });
    } else {
      // A bug must cost one command, never the process or other users.
      this.logger.error({ session: session.id, cmd: cmd._ct, err: String(err) }, "command failed");
    }
  }

  handleFrameError(session: Session, error: FrameError): void {
    if (!error.fatal) {
      session.sendError(error.code, error.message);
      return;
    }
    const code =
      error.code === "FRAME_TOO_LARGE"
        ? DisconnectCode.FRAME_TOO_LARGE
        : DisconnectCode.PROTOCOL_ERROR;
    session.sendError(error.code === "FRAME_TOO_LARGE" ? code : error.code, error.message);
    this.end(session, code, error.message, true);
  }

  private dispatch(session: Session, cmd: Command): Promise<void> | void {
    switch (cmd._ct) {
      case "send_message":
        return this.sendMessage(session, cmd.r, cmd.c, cmd.cid);
      case "join_room":
        return this.join(session, this.rooms.get(cmd.r), cmd);
      case "history":
        session.extended = true;
        return this.history(session, cmd);
      case "leave_room": {
        const room = this.rooms.get(cmd.r);
        if (!this.membership.has(session, room)) {
          throw new ChatError(ErrorCode.NOT_IN_ROOM, `you are not in "${room.name}"`, room.name);
        }
        return this.leave(session, room);
      }
      case "quit":
        return this.end(session, DisconnectCode.QUIT, "client quit", false);
      case "hello": {
        session.extended = true;
        if (cmd.k !== undefined) session.clientKey = cmd.k;
        let failure: ChatError | undefined;
        if (cmd.n !== undefined) {
          try {
            this.rename(session, cmd.n);
          } catch (err) {
            if (!(err instanceof ChatError)) throw err;
            failure = err;
          }
        }
        session.deliver(
          new EncodedEvent({
            _et: "welcome",
            v: PROTOCOL_VERSION,
            s: session.id,
            u: session.userId,
            n: session.name,
            limits: this.publicLimits,
          }),
        );
        if (failure !== undefined) throw failure;
        return;
      }
      case "set_name":
        session.extended = true;
        return this.rename(session, cmd.n);
      case "list_rooms":
        session.extended = true;
        session.deliver(
          new EncodedEvent({
            _et: "room_list",
            rs: [...this.rooms.rooms()].map((r) => ({
              n: r.name,
              d: r.description,
              m: this.membership.membersOf(r).size,
            })),
          }),
        );
        return;
      case "list_members": {
        session.extended = true;
        const room = this.rooms.get(cmd.r);
        session.deliver(
          new EncodedEvent({ _et: "room_members", r: room.name, ms: this.members(room) }),
        );
        return;
      }
      case "ping":
        session.extended = true;
        session.deliver(
          new EncodedEvent({
            _et: "pong",
            ...(cmd.t !== undefined && { t: cmd.t }),
            ts: this.clock.now(),
          }),
        );
        return;
      default: {
        const unreachable: never = cmd;
        throw new Error(`unhandled command ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private sendMessage(
    session: Session,
    roomName: string,
    text: string,
    cid: string | undefined,
  ): void {
    const started = performance.now();
    const key = session.clientKey;
    const prior = key !== undefined && cid !== undefined ? this.recentIds.get(key, cid) : undefined;
    if (prior !== undefined) {
      // A resend after a reconnect of a message already broadcast: only its sender gets the
      // original event again (to clear its outbox); nobody sees the message twice. While the
      // original is not durable yet, the very same event goes (withdrawn with it if it fails).
      const s = prior.id !== undefined ? this.log.stream(prior.r) : undefined;
      const pending =
        s !== undefined && prior.id! > s.committed ? s.tailFrom(prior.id!)[0] : undefined;
      session.deliver(pending?.event ?? new EncodedEvent(prior));
      return;
    }
    const room = this.rooms.get(roomName);
    if (!this.membership.has(session, room)) {
      throw new ChatError(ErrorCode.NOT_IN_ROOM, `you are not in "${room.name}"`, room.name);
    }
    if (text.length > this.limits.maxMessageChars) {
      throw new ChatError(
        ErrorCode.MESSAGE_TOO_LONG,
        `a message is at most ${this.limits.maxMessageChars} characters`,
        room.name,
      );
    }
    if (text.length === 0) throw new ChatError(ErrorCode.MESSAGE_EMPTY, "empty message", room.name);
    if (!this.log.storeHealthy) {
      throw new ChatError(
        ErrorCode.STORE_UNAVAILABLE,
        "the message store is failing: the message was not sent; send it again shortly",
        room.name,
      );
    }
    this.log.submit(
      room.name,
      {
        ts: this.clock.now(),
        user: session.userId,
        name: session.name,
        text,
        ...(cid !== undefined && key !== undefined && { cid, key }),
        ...(cid !== undefined && key === undefined && { cid }),
      },
      session,
    );
    this.metrics.broadcastDuration(performance.now() - started);
  }

  /** MessageLog: a message has its offset: to the room's members here, and into the dedup memory. */
  private deliverMessage(entry: LogEntry): void {
    const room = this.rooms.find(entry.msg.room);
    if (room !== undefined) this.membership.publish(room, entry.event, entry.sender);
    const { key, cid } = entry.msg;
    if (key !== undefined && cid !== undefined) {
      this.recentIds.remember(
        key,
        cid,
        entry.event.event as UserMessageEvent,
        entry.event.json.length,
      );
    }
  }

  /** MessageLog: these messages could not be stored; they reached nobody. Their senders are told. */
  private storeFailed(entries: readonly LogEntry[], err: unknown): void {
    for (const e of entries) {
      const { key, cid, room } = e.msg;
      if (key !== undefined && cid !== undefined) this.recentIds.forget(key, cid);
      e.sender?.sendError(
        ErrorCode.STORE_UNAVAILABLE,
        `the message could not be stored (${String(err)}); it was not delivered: send it again`,
        { cmd: "send_message", r: room, ...(cid !== undefined && { cid }) },
      );
    }
  }

  /** A page of a room's history, answered with a `history` event (or an error). */
  private history(session: Session, cmd: HistoryCommand): void {
    const room = this.rooms.get(cmd.r);
    const l = cmd.l ?? DEFAULT_HISTORY_PAGE;
    const max = this.limits.historyPageMax;
    if (l > max) throw new ChatError(ErrorCode.BAD_LIMIT, `a page is at most ${max}`, room.name);
    const s = this.log.stream(room.name);
    const bound = cmd.before ?? cmd.after;
    if (bound !== undefined && bound > s.head + (cmd.before !== undefined ? 1 : 0)) {
      throw new ChatError(
        ErrorCode.BAD_OFFSET,
        `offset ${bound} is beyond the latest message of "${room.name}" (${s.head})`,
        room.name,
      );
    }
    const page =
      cmd.after !== undefined
        ? this.log.readAfter(room.name, cmd.after, l)
        : this.log.readBefore(room.name, cmd.before ?? s.committed + 1, l);
    page.then(
      (ms) => {
        const more =
          cmd.after !== undefined
            ? (ms.at(-1)?.id ?? cmd.after) < s.committed
            : ms.length > 0 && ms[0]!.id! > s.first;
        session.deliver(
          new EncodedEvent({
            _et: "history",
            r: room.name,
            e: s.epoch,
            ms,
            first: s.first,
            head: s.committed,
            more,
          }),
        );
      },
      (err: unknown) =>
        session.sendError(ErrorCode.STORE_UNAVAILABLE, `history unavailable: ${String(err)}`, {
          cmd: "history",
          r: room.name,
        }),
    );
  }

  // ------------------------------------------------------------------ membership

  private members(room: Room): MemberInfo[] {
    const list: MemberInfo[] = [];
    for (const m of this.membership.membersOf(room)) list.push({ u: m.userId, n: m.name });
    return list;
  }

  private join(session: Session, room: Room, cmd: JoinRoomCommand): Promise<void> | void {
    if (this.membership.has(session, room)) {
      throw new ChatError(
        ErrorCode.ALREADY_IN_ROOM,
        `you are already in "${room.name}"`,
        room.name,
      );
    }
    if (this.membership.roomsOf(session).size >= this.limits.maxRoomsPerSession) {
      throw new ChatError(
        ErrorCode.TOO_MANY_ROOMS,
        `at most ${this.limits.maxRoomsPerSession} rooms at once`,
        room.name,
      );
    }
    const prepared = this.log.prepare(room.name);
    if (prepared === undefined) return this.startJoin(session, room, cmd);
    // A cluster node takes the room up first; the joiner holds it meanwhile (not dropped).
    this.membership.addPending(session, room);
    const undo = (): void => {
      this.membership.remove(session, room);
      this.maybeIdle(room);
    };
    return prepared.then(
      () => {
        if (session.closed || !this.membership.has(session, room)) return;
        try {
          this.startJoin(session, room, cmd);
        } catch (err) {
          undo();
          throw err;
        }
      },
      (err: unknown) => {
        undo();
        throw new ChatError(
          ErrorCode.STORE_UNAVAILABLE,
          `the room could not be joined (${String(err)}): join again later`,
          room.name,
        );
      },
    );
  }

  /** The join proper, once the room's stream is current: live at once, or after a replay. */
  private startJoin(session: Session, room: Room, cmd: JoinRoomCommand): void {
    const plan = planJoin(cmd, this.log.stream(room.name), this.limits.historyPageMax);
    if (plan.from === undefined) {
      this.membership.add(session, room);
      this.announceJoin(session, room, plan.status, 0);
      return;
    }
    this.membership.addPending(session, room);
    const c = new CatchUp(this, session, room, plan.from, plan.status);
    session.catchUps.add(c);
    c.pump();
  }

  /** A cluster node drops a room it no longer has any member in (it stops receiving it). */
  private maybeIdle(room: Room): void {
    if (!this.membership.hasAny(room)) this.log.idle(room.name);
  }

  /** An event for a room's members on every node: here, and to the other nodes. */
  private publishRoom(room: Room, event: EncodedEvent, kind: "p"): void {
    this.membership.publish(room, event);
    this.cluster?.publishRoomEvent(room.name, kind, event.json);
  }

  /** ClusterLog: presence from another node, for this node's members of the room. */
  private onRemoteRoomEvent(roomName: string, kind: string, json: string): void {
    const room = this.rooms.find(roomName);
    if (room === undefined) return;
    let event: Event;
    try {
      event = JSON.parse(json) as Event;
    } catch {
      return;
    }
    if (kind === "p" && event._et === "room_participation") {
      this.membership.publish(room, new EncodedEvent(event, json));
    } else if (kind === "n" && event._et === "user_renamed") {
      // Sent on each room the renamer is in: a member sharing several of them is told once.
      if (this.recentRenames.has(json)) return;
      this.recentRenames.add(json);
      this.clock.setTimeout(() => this.recentRenames.delete(json), 5_000);
      this.membership.publish(room, new EncodedEvent(event, json));
    }
  }

  /** CatchUp: it has replayed everything up to the room's latest: live from here. */
  goLive(c: CatchUp): void {
    c.session.catchUps.delete(c);
    this.membership.goLive(c.session, c.room);
    this.announceJoin(c.session, c.room, c.status, c.replayed);
  }

  /** CatchUp: the store failed mid-replay: the join is undone and the client told to retry. */
  abandon(c: CatchUp, err: unknown): void {
    c.session.catchUps.delete(c);
    this.membership.remove(c.session, c.room);
    this.maybeIdle(c.room);
    c.session.sendError(
      ErrorCode.STORE_UNAVAILABLE,
      `history could not be read (${String(err)}): join again later`,
      { cmd: "join_room", r: c.room.name },
    );
  }

  /** The joiner gets the member list (and where its stream stands), then everyone sees it join. */
  private announceJoin(
    session: Session,
    room: Room,
    status: ResumeStatus | undefined,
    replayed: number,
  ): void {
    const list = this.members(room);
    const s = this.log.stream(room.name);
    session.deliver(
      new EncodedEvent({
        _et: "user_joined_room",
        r: room.name,
        us: list.map((m) => m.u),
        ...(session.extended && {
          ms: list,
          e: s.epoch,
          o: s.head,
          ...(status !== undefined && { rs: status }),
          ...(replayed > 0 && { rp: replayed }),
        }),
      }),
    );
    this.publishRoom(room, this.participation(room, session, "joined"), "p");
  }

  /**
   * Members (the leaver included) see `left`, then the leaver is removed. One still catching up
   * was never announced: only it is told.
   */
  private leave(session: Session, room: Room): void {
    const left = this.participation(room, session, "left");
    if (this.membership.isLive(session, room)) this.publishRoom(room, left, "p");
    else {
      this.cancelCatchUp(session, room);
      session.deliver(left);
    }
    this.membership.remove(session, room);
    this.maybeIdle(room);
  }

  private cancelCatchUp(session: Session, room: Room): void {
    for (const c of session.catchUps) {
      if (c.room !== room) continue;
      c.cancel();
      session.catchUps.delete(c);
    }
  }

  private participation(room: Room, session: Session, s: "joined" | "left"): EncodedEvent {
    return new EncodedEvent({
      _et: "room_participation",
      r: room.name,
      u: session.userId,
      s,
      n: session.name,
      ts: this.clock.now(),
    });
  }

  private rename(session: Session, wanted: string): void {
    const old = session.name;
    // the registry normalises (NFKC): "Ａｌｉｃｅ" when already "Alice" changes nothing
    const name = this.users.rename(session.userId, old, wanted);
    if (name === old) return;
    session.name = name;
    const renamed = new EncodedEvent({ _et: "user_renamed", u: session.userId, n: name, o: old });
    this.membership.publishToPeers(session, renamed);
    for (const room of this.membership.roomsOf(session)) {
      this.cluster?.publishRoomEvent(room.name, "n", renamed.json);
    }
  }

  // ------------------------------------------------------------------ endings

  /**
   * Ends a session: optionally tells the client why (extension clients only), takes it out of
   * every room (members see `left`), then closes the connection after a flush. Idempotent.
   */
  end(
    session: Session,
    code: EndCode,
    message: string,
    notify: boolean,
    flushMs = CLOSE_FLUSH_MS,
  ): void {
    if (session.closed) return;
    if (notify && code !== PEER_CLOSED) {
      session.deliverFinal(
        new EncodedEvent({ _et: "disconnect", code, message, reconnect: shouldReconnect(code) }),
      );
    }
    session.markClosed();
    for (const c of session.catchUps) c.cancel();
    session.catchUps.clear();
    for (const room of [...this.membership.roomsOf(session)]) {
      const live = this.membership.isLive(session, room);
      this.membership.remove(session, room);
      if (live) this.publishRoom(room, this.participation(room, session, "left"), "p");
      this.maybeIdle(room);
    }
    this.users.release(session.userId, session.name);
    this.sessions.delete(session);
    this.metrics.connectionClosed(session.conn.transport, code);
    this.pipeline.close(session.ctx, { code, message });
    session.closeConnection({ code, message }, flushMs);
  }

  /**
   * The deadlines that need no per-connection timer, checked together every SWEEP_MS or sooner:
   * an unfinished line or frame (FRAME_TIMEOUT), no first command (IDLE_TIMEOUT), and silence
   * while in no room (IDLE_TIMEOUT). A member of a room is never cut for being quiet.
   */
  private scheduleSweep(): void {
    const l = this.limits;
    const every = Math.min(
      SWEEP_MS,
      ...[l.frameTimeoutMs, l.firstCommandTimeoutMs, l.idleTimeoutMs]
        .filter((ms) => ms > 0)
        .map((ms) => Math.max(MIN_SWEEP_MS, Math.floor(ms / 4))),
    );
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweep(this.clock.now());
      if (this.accepting) this.scheduleSweep();
    }, every);
  }

  private sweep(now: number): void {
    const l = this.limits;
    for (const s of [...this.sessions]) {
      if (l.frameTimeoutMs > 0 && s.partialSince > 0 && now - s.partialSince >= l.frameTimeoutMs) {
        this.end(
          s,
          DisconnectCode.FRAME_TIMEOUT,
          `a line or frame was started and not finished within ${l.frameTimeoutMs} ms`,
          true,
        );
      } else if (
        l.firstCommandTimeoutMs > 0 &&
        !s.spoke &&
        now - s.openedAt >= l.firstCommandTimeoutMs
      ) {
        this.end(
          s,
          DisconnectCode.IDLE_TIMEOUT,
          `no command within ${l.firstCommandTimeoutMs} ms of connecting`,
          true,
        );
      } else if (
        l.idleTimeoutMs > 0 &&
        now - s.lastActivity >= l.idleTimeoutMs &&
        this.membership.roomsOf(s).size === 0
      ) {
        this.end(
          s,
          DisconnectCode.IDLE_TIMEOUT,
          `in no room and nothing received for ${l.idleTimeoutMs} ms`,
          true,
        );
      }
    }
  }

  /**
   * Graceful shutdown, step 1 of main.ts's order: refuse new connections, then end every session
   * (each one's members see it leave) with `shutdownGraceMs` to flush. Transports wait for the
   * sockets to close.
   */
  async stop(): Promise<void> {
    this.accepting = false;
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    const all = [...this.sessions];
    for (let i = 0; i < all.length; i++) {
      this.end(
        all[i]!,
        DisconnectCode.SERVER_SHUTDOWN,
        "server is shutting down",
        true,
        this.limits.shutdownGraceMs,
      );
      // Every member of a room sees every other leave: quadratic in a room's size. Yielding lets
      // the queued `left` events be written between batches instead of piling up in memory.
      if ((i + 1) % SHUTDOWN_BATCH === 0) await new Promise<void>((r) => setImmediate(r));
    }
    // The last accepted messages are committed (and their echoes released) before the store
    // is closed by the app.
    await this.log.stop();
  }
}

type LoginRooms = { n: string; d: string }[];
