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
import { RoomManager, type RoomSpec } from "./room-manager.js";
import { RoomEvents } from "./room-events.js";
import { RoomService } from "./room-service.js";
import { ExternalPublisher } from "./external-publisher.js";
import type { LogEntry } from "./room-stream.js";
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
  cluster?: {
    bus: Bus;
    nodeId: string;
    directory: Directory;
    /** how often dead nodes are looked for, ms (default 3,000) */
    reapEveryMs?: number;
  };
}

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
  private readonly pipeline: MiddlewarePipeline;
  private readonly sessions = new Set<Session>();
  /** connections past the limit check whose middleware is still running */
  private opening = 0;
  private nextConnId = 1;
  private accepting = false;
  private sweepTimer: unknown;
  private readonly publicLimits: PublicLimits;
  private readonly bus: Bus | undefined;

  constructor(options: ChatServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new CounterMetrics();
    this.rooms = new RoomManager(options.rooms);
    this.membership = new Membership(this.metrics);
    this.pipeline = new MiddlewarePipeline(options.middleware ?? []);
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
    return {
      ready: this.accepting && this.log.storeHealthy,
      detail: `chat: ${this.accepting ? "accepting" : "not accepting"}\nstore: ${store}\n${bus}`,
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

    const userId = this.ctx.users.register();
    const session = new Session(this, conn, ctx, randomId(SESSION_ID_LENGTH), userId);
    ctx.sessionId = session.id;
    ctx.userId = userId;
    this.sessions.add(session);
    this.metrics.connectionOpened(conn.transport);
    if (ctx.principal !== undefined) {
      const principalFailed = (err: unknown): void =>
        this.logger.warn(
          { conn: ctx.id, principal: ctx.principal, err: String(err) },
          "principal not usable as name",
        );
      try {
        this.names.rename(session, ctx.principal)?.catch(principalFailed);
      } catch (err) {
        principalFailed(err);
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
  ): void {
    if (session.closed) return;
    if (notify && code !== PEER_CLOSED) {
      session.deliverFinal(
        new EncodedEvent({ _et: "disconnect", code, message, reconnect: shouldReconnect(code) }),
      );
    }
    session.markClosed();
    this.roomService.leaveAll(session);
    this.names.release(session);
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
    // is closed by the app; then this node leaves the cluster's directory.
    await this.log.stop();
    await this.ctx.presence?.stop();
  }
}

type LoginRooms = { n: string; d: string }[];
