import type { Command, FrameError, PublicLimits } from "../protocol/index.js";
import {
  decodeCommand,
  DecodeError,
  DisconnectCode,
  EncodedEvent,
  ErrorCode,
  PROTOCOL_VERSION,
  shouldReconnect,
} from "../protocol/index.js";
import type { ChatContext } from "./chat-context.js";
import { ClusterLog } from "./cluster-log.js";
import { ClusterPresence } from "./cluster-presence.js";
import { CounterMetrics } from "./counter-metrics.js";
import { RecentIds, type RecentIdsOptions } from "./dedup.js";
import { ChatError, ConnectionRefused } from "./errors.js";
import { randomId, SESSION_ID_LENGTH } from "./ids.js";
import { Drain, type DrainOptions, type DrainOutcome } from "./drain.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import { LocalLog } from "./local-log.js";
import { Membership } from "./membership.js";
import type { MessageLog } from "./message-log.js";
import { MessageService } from "./message-service.js";
import {
  type ConnectionContext,
  type ConnectionMiddleware,
  MiddlewarePipeline,
} from "./middleware.js";
import { NameService } from "./name-service.js";
import type {
  Bus,
  Clock,
  Connection,
  Directory,
  Logger,
  MessageStore,
  Metrics,
  RetentionPolicy,
} from "./ports.js";
import { silentLogger, systemClock } from "./ports.js";
import { RoomManager, type RoomsChange, type RoomSpec } from "./room-manager.js";
import { RoomEvents } from "./room-events.js";
import { RoomService } from "./room-service.js";
import { ExternalPublisher } from "./external-publisher.js";
import type { LogEntry } from "./room-stream.js";
import { type EndCode, PEER_CLOSED, Session, type SessionHost } from "./session.js";
import { SessionAuth, type SessionAuthOptions } from "./session-auth.js";
import { UserRegistry } from "./user-registry.js";

export interface ChatServerOptions {
  rooms: readonly RoomSpec[];
  limits?: Partial<Limits>;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  /** run in order around every connection (see middleware.ts) */
  middleware?: readonly ConnectionMiddleware[];
  /** token authentication (see session-auth.ts); undefined: off, no change for any client */
  auth?: SessionAuthOptions;
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
  cluster?: {
    bus: Bus;
    nodeId: string;
    directory: Directory;
    /** how often dead nodes are looked for, ms (default 3,000) */
    reapEveryMs?: number;
  };
}

/** The headers of a connection that has none (raw TCP): one frozen object for all of them. */
const NO_HEADERS: ConnectionContext["headers"] = Object.freeze({});

/** Deadline sweeps run at least this often, and at most every MIN_SWEEP_MS (ms). */
const SWEEP_MS = 1_000;
const MIN_SWEEP_MS = 25;

const SHUTTING_DOWN = new ConnectionRefused(
  DisconnectCode.SERVER_SHUTDOWN,
  "server is shutting down",
  "shutdown",
);

const DRAINING = new ConnectionRefused(
  DisconnectCode.SERVER_DRAINING,
  "server is draining: connect to another server",
  "draining",
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
export class ChatServer implements SessionHost {
  readonly limits: Limits;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly rooms: RoomManager;
  /** who is in which room, and the one fan-out path */
  readonly membership: Membership;
  /** room streams: offsets, durability, recent tail, history */
  readonly log: MessageLog;
  /** this node's room events, for bridges (see RoomEvents) */
  readonly events: RoomEvents;
  /** posts into rooms by posters that are not sessions (devices: MQTT, UDP) */
  readonly external: ExternalPublisher;
  private readonly logger: Logger;
  private readonly ctx: ChatContext;
  private readonly messages: MessageService;
  private readonly roomService: RoomService;
  private readonly names: NameService;
  private readonly auth: SessionAuth | undefined;
  private readonly pipeline: MiddlewarePipeline;
  private readonly sessions = new Set<Session>();
  /** connections past the limit check whose middleware is still running */
  private opening = 0;
  private nextConnId = 1;
  private accepting = false;
  private sweepTimer: unknown;
  private readonly publicLimits: PublicLimits;
  private readonly bus: Bus | undefined;
  /** set once a drain began: new connections are refused and /readyz fails */
  private drainer: Drain | undefined;

  constructor(options: ChatServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new CounterMetrics();
    this.rooms = new RoomManager(options.rooms);
    this.membership = new Membership(this.metrics);
    this.auth =
      options.auth &&
      new SessionAuth(options.auth, {
        metrics: this.metrics,
        logger: this.logger,
        end: (session, code, message, notify) => this.end(session, code, message, notify),
      });
    // A token is checked after the other middleware (per-IP limits): no crypto for a refused peer.
    this.pipeline = new MiddlewarePipeline([
      ...(options.middleware ?? []),
      ...(this.auth !== undefined ? [this.auth.middleware()] : []),
    ]);
    const events = (this.events = new RoomEvents(this.logger));
    // The services are made below on a context that holds the log; the log calls them back.
    let messages: MessageService | undefined;
    let roomService: RoomService | undefined;
    const logOptions = {
      store: options.store,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      ...(options.tailSize !== undefined && { tailSize: options.tailSize }),
      retention: options.retention ?? { maxMessages: 0, maxAgeMs: 0 },
      deliver: (entry: LogEntry) => messages!.deliver(entry),
      onFailed: (entries: readonly LogEntry[], err: unknown) => messages!.failed(entries, err),
      committed: (entries: readonly LogEntry[]) => events.committed(entries),
    };
    let cluster: ClusterLog | undefined;
    let presence: ClusterPresence | undefined;
    if (options.cluster !== undefined) {
      if (options.store === undefined) throw new Error("a cluster node needs a shared store");
      const { bus, nodeId, directory, reapEveryMs } = options.cluster;
      cluster = new ClusterLog({
        ...logOptions,
        store: options.store,
        bus,
        nodeId,
        onRoomEvent: (room, kind, node, json) => roomService!.onRemoteEvent(room, kind, node, json),
      });
      presence = new ClusterPresence({
        directory,
        nodeId,
        clock: this.clock,
        logger: this.logger,
        ...(reapEveryMs !== undefined && { reapEveryMs }),
        onReaped: (removed) => roomService!.onReaped(removed),
      });
    }
    this.log = cluster ?? new LocalLog(logOptions);
    this.bus = options.cluster?.bus;
    this.ctx = {
      limits: this.limits,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      rooms: this.rooms,
      membership: this.membership,
      users: new UserRegistry(this.limits.maxNameChars),
      recentIds: new RecentIds(this.clock, options.dedup),
      log: this.log,
      cluster,
      presence,
      events,
    };
    this.messages = messages = new MessageService(this.ctx);
    this.roomService = roomService = new RoomService(this.ctx);
    this.names = new NameService(this.ctx);
    this.external = new ExternalPublisher(this.ctx, () => this.accepting);
    const l = this.limits;
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
    // A node whose bus is down still serves its own members (and repairs later): not unready.
    const bus = this.bus === undefined ? "" : `bus: ${this.bus.up ? "up" : "down"}\n`;
    const chat =
      this.drainer !== undefined ? "draining" : this.accepting ? "accepting" : "not accepting";
    return {
      ready: this.accepting && this.drainer === undefined && this.log.storeHealthy,
      detail: `chat: ${chat}\nstore: ${store}\n${bus}`,
    };
  }

  /**
   * Opens the room streams, reloads the resend-dedup memory from the store, joins the cluster
   * (a cluster node), then accepts.
   */
  async start(): Promise<void> {
    await this.log.open([...this.rooms.rooms()].map((r) => r.name));
    await this.messages.warmDedup();
    await this.ctx.presence?.start();
    this.log.start();
    this.accepting = true;
    this.scheduleSweep();
  }

  /** `welcome`, after the name asked for (an `error` follows when it is refused). */
  private hello(session: Session, name: string | undefined): Promise<void> | void {
    const welcome = (): void => {
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
    };
    let renaming: Promise<void> | void;
    try {
      if (name !== undefined && session.access?.fixedName === true) {
        throw new ChatError(ErrorCode.FORBIDDEN, "your display name is set by your token");
      }
      renaming = name === undefined ? undefined : this.names.rename(session, name);
    } catch (err) {
      welcome();
      throw err;
    }
    if (!(renaming instanceof Promise)) return welcome();
    return renaming.then(welcome, (err: unknown) => {
      welcome();
      throw err;
    });
  }

  /**
   * Admits a new connection: limit check, middleware, then a session that is sent
   * `login_successful`. Returns undefined when the connection was refused.
   */
  async accept(
    conn: Connection,
    headers: ConnectionContext["headers"] = NO_HEADERS,
    /** a WebSocket upgrade's path and query */
    url?: string,
  ): Promise<Session | undefined> {
    if (!this.accepting) return this.refuse(conn, SHUTTING_DOWN);
    if (this.drainer !== undefined) return this.refuse(conn, DRAINING);
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
    // Every field from the start: fields added later would go to a separate property array.
    const ctx: ConnectionContext = {
      id: this.nextConnId++,
      transport: conn.transport,
      remoteAddress: conn.remoteAddress,
      headers,
      url,
      openedAt: this.clock.now(),
      authenticated: false,
      principal: undefined,
      identity: undefined,
      sessionId: undefined,
      userId: undefined,
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
      // The upgrade request's headers and URL are for onOpen: not kept for the connection's life.
      ctx.headers = NO_HEADERS;
      ctx.url = undefined;
    }
    if (!this.accepting || this.drainer !== undefined) {
      const refusal = this.accepting ? DRAINING : SHUTTING_DOWN;
      this.pipeline.close(ctx, { code: refusal.code, message: refusal.message });
      return this.refuse(conn, refusal);
    }

    const userId = this.ctx.users.register();
    const session = new Session(this, conn, ctx, randomId(SESSION_ID_LENGTH), userId);
    ctx.sessionId = session.id;
    ctx.userId = userId;
    this.sessions.add(session);
    this.metrics.connectionOpened(conn.transport);
    this.auth?.started(session);
    void this.takePrincipalName(session);
    const access = session.access;
    session.deliver(
      new EncodedEvent({
        _et: "login_successful",
        s: session.id,
        u: userId,
        rs: (access === undefined
          ? this.rooms.infos
          : this.rooms.infos.filter((r) => access.canRead(r.n))) as LoginRooms,
        n: session.name,
        pv: PROTOCOL_VERSION,
      }),
    );
    return session;
  }

  /**
   * Takes the name an auth middleware or token gives (a token's `name`, else its subject); one
   * that is not a valid display name or is held by another session is logged and not taken.
   */
  private takePrincipalName(session: Session): Promise<void> | void {
    const ctx = session.ctx;
    const name =
      ctx.identity !== undefined ? (ctx.identity.name ?? ctx.identity.subject) : ctx.principal;
    if (name === undefined) return;
    const failed = (err: unknown): void =>
      this.logger.warn(
        { conn: ctx.id, principal: ctx.principal, err: String(err) },
        "principal not usable as name",
      );
    try {
      return this.names.rename(session, name)?.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  /** `hello` with a token: verified (a refusal ends the session), its name taken, then welcome. */
  private async helloWithToken(
    auth: SessionAuth,
    session: Session,
    token: string,
    name: string | undefined,
  ): Promise<void> {
    const first = await auth.hello(session, token);
    if (session.closed) return;
    if (first !== undefined) await this.takePrincipalName(session);
    return this.hello(session, name);
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
    if (this.auth !== undefined && !this.auth.admits(session, cmd)) return;
    try {
      session.access?.check(cmd);
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
        return this.messages.send(session, cmd);
      case "join_room":
        return this.roomService.join(session, this.rooms.get(cmd.r), cmd);
      case "history":
        session.extended = true;
        return this.roomService.history(session, cmd);
      case "leave_room": {
        const room = this.rooms.get(cmd.r);
        if (!this.membership.has(session, room)) {
          throw new ChatError(ErrorCode.NOT_IN_ROOM, `you are not in "${room.name}"`, room.name);
        }
        return this.roomService.leave(session, room);
      }
      case "quit":
        return this.end(session, DisconnectCode.QUIT, "client quit", false);
      case "hello":
        session.extended = true;
        if (cmd.k !== undefined) session.clientKey = cmd.k;
        if (cmd.tok !== undefined && this.auth !== undefined) {
          return this.helloWithToken(this.auth, session, cmd.tok, cmd.n);
        }
        return this.hello(session, cmd.n);
      case "set_name":
        session.extended = true;
        return this.names.rename(session, cmd.n);
      case "list_rooms":
        session.extended = true;
        return this.roomService.listRooms(session);
      case "list_members":
        session.extended = true;
        return this.roomService.listMembers(session, this.rooms.get(cmd.r));
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
    /** told to extension clients as `retry_ms` (a drain) */
    retryMs?: number,
  ): void {
    if (session.closed) return;
    if (notify && code !== PEER_CLOSED) {
      session.deliverFinal(
        new EncodedEvent({
          _et: "disconnect",
          code,
          message,
          reconnect: shouldReconnect(code),
          ...(retryMs !== undefined && { retry_ms: retryMs }),
        }),
      );
    }
    session.markClosed();
    this.roomService.leaveAll(session);
    this.names.release(session);
    this.sessions.delete(session);
    this.metrics.connectionClosed(session.conn.transport, code);
    this.pipeline.close(session.ctx, { code, message });
    session.closeConnection({ code, message }, flushMs);
    this.drainer?.sessionEnded();
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

  // ------------------------------------------------------------------ operations

  /**
   * Makes `specs` the server's rooms (a rooms reload): new rooms get their streams (from the
   * store: a room defined before keeps its history) and appear in `list_rooms` and in later
   * logins; removed rooms are closed (their members here are told and taken out; history stays);
   * descriptions change in place. Rejects, changing nothing, when the store cannot open the new
   * rooms or a name is repeated.
   */
  async reloadRooms(
    specs: readonly RoomSpec[],
    message = "the room was removed",
  ): Promise<RoomsChange> {
    await this.log.open(this.rooms.wouldAdd(specs));
    const change = this.rooms.replace(specs);
    for (const room of change.removed) this.roomService.closeRoom(room, message);
    return change;
  }

  /**
   * Begins a drain (see Drain): /readyz fails and new connections are refused from now on; the
   * sessions open now are ended one by one across the window. Resolves when the last has gone or
   * at the deadline; the caller then stops the server (which cuts any left). Idempotent.
   */
  drain(options: DrainOptions): Promise<DrainOutcome> {
    this.drainer ??= new Drain(
      {
        clock: this.clock,
        openSessions: () => this.sessions.size,
        endDrained: (session, retryMs) =>
          this.end(
            session,
            DisconnectCode.SERVER_DRAINING,
            "server is draining: reconnect, to another server if you know one",
            true,
            CLOSE_FLUSH_MS,
            retryMs,
          ),
      },
      [...this.sessions],
      options,
    );
    return this.drainer.done;
  }

  get draining(): boolean {
    return this.drainer !== undefined;
  }

  /** The sessions open now, for operators (admin API). */
  sessionList(): SessionSummary[] {
    return [...this.sessions].map((s) => ({
      id: s.id,
      user: s.userId,
      name: s.name,
      transport: s.conn.transport,
      remote: s.conn.remoteAddress,
      rooms: [...this.membership.roomsOf(s)].map((r) => r.name),
      connectedAt: s.openedAt,
      queuedBytes: s.queuedBytes,
      extended: s.extended,
    }));
  }

  /** Ends a session by its id (KICKED: told not to reconnect). False when there is none. */
  kick(sessionId: string, message: string): boolean {
    for (const s of this.sessions) {
      if (s.id !== sessionId) continue;
      this.end(s, DisconnectCode.KICKED, message, true);
      return true;
    }
    return false;
  }

  /**
   * A server notice to a room's members on this node: a `notice` event (extension clients only;
   * an original client has no event to show it with). Not a message: no offset, not stored, not
   * replayed. Returns how many sessions it was queued on; throws ROOM_NOT_FOUND.
   */
  notice(roomName: string, text: string): number {
    const room = this.rooms.get(roomName);
    return this.membership.publish(
      room,
      new EncodedEvent({ _et: "notice", r: room.name, c: text, ts: this.clock.now() }),
    );
  }

  /**
   * Graceful shutdown, step 1 of main.ts's order: refuse new connections, then end every session
   * (each one's members see it leave) with `shutdownGraceMs` to flush. Transports wait for the
   * sockets to close.
   */
  async stop(): Promise<void> {
    this.accepting = false;
    this.drainer?.cancel();
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
    // is closed by the app; then this node leaves the cluster's directory.
    await this.log.stop();
    await this.ctx.presence?.stop();
  }
}

type LoginRooms = { n: string; d: string }[];

/** One session as operators see it (admin API). */
export interface SessionSummary {
  id: string;
  user: string;
  name: string;
  transport: string;
  remote: string;
  /** rooms it is in (or catching up in), in join order */
  rooms: string[];
  /** when it connected, ms since the epoch */
  connectedAt: number;
  /** bytes queued for it and not yet taken by its peer */
  queuedBytes: number;
  /** whether it speaks the extensions */
  extended: boolean;
}
