import type {
  Command,
  DisconnectEvent,
  ErrorEvent,
  UserMessageEvent,
  WelcomeEvent,
} from "../../src/protocol/index.js";
import {
  decodeEvent,
  encodeCommand,
  ErrorCode,
  PROTOCOL_VERSION,
} from "../../src/protocol/index.js";
import { Backoff } from "./backoff.js";
import type {
  ClientEvents,
  ConnectionStatus,
  HistoryPage,
  HistoryQuery,
  JoinOptions,
  ParleyClientOptions,
  SessionInfo,
} from "./client-types.js";
import { type Clock, systemClock } from "./clock.js";
import { Emitter } from "./emitter.js";
import { Heartbeat } from "./heartbeat.js";
import { ClientError, ClientErrorCode } from "./errors.js";
import { HistoryRequests } from "./history-requests.js";
import { randomId } from "./ids.js";
import { NameKeeper } from "./name-keeper.js";
import { sessionFromLogin } from "./session-info.js";
import { DEFAULT_STORE_RETRY_MS, Delivery } from "./delivery.js";
import { DEFAULT_OUTBOX_LIMIT, type OutboxEntry } from "./outbox.js";
import { DEFAULT_HISTORY_ON_JOIN, RoomSync } from "./room-sync.js";
import type { Link, Transport } from "./transport.js";
import type { TokenSource } from "./client-types.js";

export type * from "./client-types.js";

/**
 * User ids of this client's latest sessions remembered to recognise its own messages. A resend
 * answered from the server's dedup memory carries the user id of the session that first sent it
 * (remembered 10 minutes by default): this covers far more reconnects than fit in that time.
 */
const OWN_USER_IDS = 64;

/**
 * A Parley (or original rust-chat-server) client that survives disconnections.
 *
 * - Reconnects with exponential backoff and full jitter (backoff.ts), forever, unless the server
 *   said not to (a `disconnect` with reconnect: false) or close() was called.
 * - Rejoins the rooms it was in, and reclaims its display name, after each reconnect. On a Parley
 *   server with history a rejoin resumes from the last offset seen in the room, so the messages
 *   missed meanwhile come first, in order, and none is passed on twice (room-sync.ts); a fresh
 *   join asks for a backlog of recent messages (historyOnJoin). history() reads older pages.
 * - Every message goes through a bounded outbox and carries a client message id (`cid`) until
 *   its echo comes back. After a reconnect the outbox is written again, once each room's replay
 *   has shown which of its messages the server has. On a Parley server that is lossless and
 *   shown once: the `hello` carries this object's instance key `k`, and the server answers a
 *   (k, cid) it broadcast already with the original event to the sender only. A message the
 *   server could not store (STORE_UNAVAILABLE) stays in the outbox and is written again later.
 *   An original server neither echoes cids nor deduplicates: there, messages queued while
 *   offline are sent after the reconnect, and those written but unconfirmed when the link fell
 *   are reported as failed (UNCONFIRMED) instead of risking a duplicate.
 * - Against an original server it sends the original commands only.
 */
export class ParleyClient extends Emitter<ClientEvents> {
  /** instance key: stable across this object's reconnects, scopes the server's dedup */
  readonly key = randomId();
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly delivery: Delivery;
  private readonly sync: RoomSync;
  private readonly historyRequests: HistoryRequests;
  private readonly random: () => number;
  private readonly options: Required<
    Pick<ParleyClientOptions, "retryInitial" | "heartbeatMs" | "loginTimeoutMs" | "stableAfterMs">
  >;
  private statusValue: ConnectionStatus;
  private sessionValue: SessionInfo | undefined;
  private link: Link | undefined;
  private loggedIn = false;
  private readonly name: NameKeeper;
  /** user ids of this client's sessions, oldest first (bounded: OWN_USER_IDS) */
  private readonly ownUserIds: string[] = [];
  private logins = 0;
  private connectedAt = 0;
  private readonly token: TokenSource | undefined;
  /** the token the current link was opened with */
  private linkToken: string | undefined;
  /** counts openLink calls: a token that arrives for an earlier one is dropped */
  private linkAttempt = 0;
  private abortReason: ClientError | undefined;
  private lastDisconnect: DisconnectEvent | undefined;
  private retryTimer: unknown;
  private loginTimer: unknown;
  private heartbeat: Heartbeat | undefined;
  private first: { resolve: (s: SessionInfo) => void; reject: (e: Error) => void } | undefined;
  private closeWaiters: Array<() => void> = [];

  constructor(options: ParleyClientOptions) {
    super();
    this.transport = options.transport;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.backoff = new Backoff(options.backoff, this.random);
    this.delivery = new Delivery(
      {
        clock: this.clock,
        random: this.random,
        canSend: (room) => this.loggedIn && this.sync.canSend(room),
        write: (cmd) => this.write(cmd),
        changed: (size) => this.emit("outbox", size),
        failed: (f) => this.emit("failed", f),
      },
      options.outboxLimit ?? DEFAULT_OUTBOX_LIMIT,
      options.storeRetryMs ?? DEFAULT_STORE_RETRY_MS,
    );
    this.sync = new RoomSync(
      { clock: this.clock, random: this.random, write: (cmd) => this.write(cmd) },
      options.historyOnJoin ?? DEFAULT_HISTORY_ON_JOIN,
    );
    this.historyRequests = new HistoryRequests(
      this.clock,
      options.requestTimeoutMs ?? 10_000,
      (cmd) => this.write(cmd),
    );
    this.name = new NameKeeper(this.clock, options.reclaimDelayMs ?? 1_000, options.name);
    this.token = options.token;
    this.options = {
      retryInitial: options.retryInitial ?? false,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      loginTimeoutMs: options.loginTimeoutMs ?? 10_000,
      stableAfterMs: options.stableAfterMs ?? 5_000,
    };
    this.statusValue = { state: "idle", server: this.transport.description, attempt: 0 };
  }

  get status(): ConnectionStatus {
    return this.statusValue;
  }

  /** The current (or, while reconnecting, the last) session. */
  get session(): SessionInfo | undefined {
    return this.sessionValue;
  }

  /** Rooms the client is in, or will rejoin on reconnect, in join order. */
  get rooms(): readonly string[] {
    return this.sync.rooms;
  }

  /** Messages sent and not yet confirmed, in send order. */
  get pending(): readonly OutboxEntry[] {
    return this.delivery.list();
  }

  /**
   * Whether a user_message was sent by this client object, from any of its sessions: after a
   * reconnect the user id changes, and a resend's echo may carry the old one. Cids alone do not
   * tell: every client counts them from 1, and the server passes the sender's cid to everyone.
   */
  isOwn(ev: UserMessageEvent): boolean {
    return this.ownUserIds.includes(ev.u);
  }

  /**
   * Opens the first connection. Resolves at the first login; rejects if that first connection
   * fails (unless retryInitial). Reconnects after that are automatic.
   */
  connect(): Promise<SessionInfo> {
    if (this.statusValue.state !== "idle") {
      return Promise.reject(new Error("connect() may be called once per client"));
    }
    return new Promise((resolve, reject) => {
      this.first = { resolve, reject };
      this.openLink();
    });
  }

  /**
   * Joins a room now, or at the next login when offline; kept across reconnects. On a Parley
   * server the join first replays the room's latest `backlog` messages (default historyOnJoin),
   * then the `joined` event says it is live.
   */
  join(room: string, options: JoinOptions = {}): void {
    this.assertOpen();
    this.assertRoom(room);
    if (options.backlog !== undefined) this.sync.want(room, options.backlog);
    else this.sync.want(room);
  }

  /** Leaves a room; its messages still in the outbox unsent are given up (LEFT_ROOM). */
  leave(room: string): void {
    this.assertOpen();
    if (!this.sync.unwant(room)) return;
    this.delivery.failWhere(
      (e) => e.room === room && !e.sent,
      ClientErrorCode.LEFT_ROOM,
      `left "${room}" before it was sent`,
    );
  }

  /**
   * A page of a room's history (Parley servers), oldest first: with `before`, the messages older
   * than that offset (to load older pages as the user scrolls up), else the latest. Rejects with
   * a RequestError carrying the server's code (BAD_OFFSET, STORE_UNAVAILABLE...), or a
   * ClientError when the link drops first (NOT_CONNECTED) or no answer comes in time (TIMEOUT).
   */
  history(room: string, query: HistoryQuery = {}): Promise<HistoryPage> {
    try {
      this.assertExtension("history");
      this.assertRoom(room);
      return this.historyRequests.request(room, query, this.sync.maxBacklog);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Sends a message to a joined room; returns its client message id. Offline, it waits in the
   * outbox (bounded: OUTBOX_FULL past the limit) and goes out after the reconnect.
   */
  send(room: string, text: string): string {
    this.assertOpen();
    if (!this.sync.has(room)) {
      throw new ClientError(ClientErrorCode.NOT_IN_ROOM, `join "${room}" before sending to it`);
    }
    if (text.length === 0) throw new ClientError(ClientErrorCode.MESSAGE_EMPTY, "empty message");
    return this.delivery.add(room, text);
  }

  /** Chooses a display name (Parley servers); it is reclaimed after each reconnect. */
  setName(name: string): void {
    this.assertOpen();
    if (this.sessionValue === undefined || !this.loggedIn) {
      this.name.wanted = name;
      return;
    }
    if (!this.sessionValue.extended) {
      throw new ClientError(ClientErrorCode.UNSUPPORTED, "this server has no display names");
    }
    this.write({ _ct: "set_name", n: name });
  }

  /** Sends an extension request (list_rooms, list_members, ping); the reply comes as an event. */
  request(cmd: Extract<Command, { _ct: "list_rooms" | "list_members" | "ping" }>): void {
    this.assertExtension(cmd._ct);
    this.write(cmd);
  }

  /** While waiting to reconnect: try now instead of at the scheduled time. */
  reconnectNow(): void {
    if (this.statusValue.state !== "waiting") return;
    this.clock.clearTimeout(this.retryTimer);
    this.openLink();
  }

  /**
   * Quits (the server then tells the room members) and closes for good. Messages still in the
   * outbox are reported failed (CLOSED). Resolves once the link is closed.
   */
  close(): Promise<void> {
    if (this.statusValue.state === "closed") return Promise.resolve();
    const link = this.link;
    this.shutDown(ClientErrorCode.CLOSED, "closed by the client");
    if (link === undefined) return Promise.resolve();
    // Written even before login: an original server ignores nothing it can parse, and
    // quit is an original command.
    link.send(encodeCommand({ _ct: "quit" }));
    link.close();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  // ---------------------------------------------------------------- link lifecycle

  private openLink(): void {
    this.retryTimer = undefined;
    this.lastDisconnect = undefined;
    this.abortReason = undefined;
    this.loggedIn = false;
    this.connectedAt = 0;
    this.setStatus({ state: "connecting" });
    const attempt = ++this.linkAttempt;
    let token: string | Promise<string> | undefined;
    try {
      token = typeof this.token === "function" ? this.token() : this.token;
    } catch (err) {
      return this.tokenFailed(err);
    }
    if (!(token instanceof Promise)) return this.openWith(token);
    token.then(
      (t) => {
        if (attempt === this.linkAttempt && this.statusValue.state === "connecting") {
          this.openWith(t);
        }
      },
      (err: unknown) => {
        if (attempt === this.linkAttempt && this.statusValue.state === "connecting") {
          this.tokenFailed(err);
        }
      },
    );
  }

  private tokenFailed(err: unknown): void {
    this.onLinkClosed(new Error(`no token: ${err instanceof Error ? err.message : String(err)}`));
  }

  private openWith(token: string | undefined): void {
    this.linkToken = token;
    let link: Link;
    try {
      link = this.transport.open(
        {
          onOpen: () => {
            if (this.link !== link) return;
            const ms = this.options.loginTimeoutMs;
            this.loginTimer = this.clock.setTimeout(
              () =>
                this.abort(link, ClientErrorCode.LOGIN_TIMEOUT, `no login_successful in ${ms} ms`),
              ms,
            );
          },
          onFrame: (text) => {
            if (this.link === link) this.onFrame(link, text);
          },
          onClose: (error) => {
            if (this.link === link) this.onLinkClosed(error);
          },
        },
        token !== undefined ? { token } : undefined,
      );
    } catch (err) {
      this.link = undefined;
      this.onLinkClosed(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.link = link;
  }

  /** Closes the link on our initiative; `reason` becomes the status's lastError. */
  private abort(link: Link, code: ClientErrorCode, message: string): void {
    if (this.link !== link) return;
    this.abortReason = new ClientError(code, message);
    link.close();
  }

  private onLinkClosed(error: Error | undefined): void {
    this.link = undefined;
    this.loggedIn = false;
    this.sync.linkClosed();
    this.stopLinkTimers();
    if (this.statusValue.state === "closed") {
      for (const resolve of this.closeWaiters.splice(0)) resolve();
      return;
    }
    const dc = this.lastDisconnect;
    const reason =
      this.abortReason?.message ??
      (dc ? `${dc.code}: ${dc.message}` : (error?.message ?? "connection closed by the server"));

    if (this.first !== undefined && !this.options.retryInitial) {
      const err = this.abortReason ?? error ?? new Error(reason);
      this.shutDown(ClientErrorCode.CLOSED, reason, reason);
      return this.rejectFirst(err);
    }
    if (dc !== undefined && dc.reconnect === false) {
      this.shutDown(dc.code, reason, reason);
      return this.rejectFirst(new Error(reason));
    }
    this.historyRequests.failAll(ClientErrorCode.NOT_CONNECTED, `the link dropped: ${reason}`);
    // A Parley server deduplicates by (key, cid): writing everything again is safe there.
    this.delivery.linkLost(this.sessionValue?.extended === true);
    const stable =
      this.connectedAt > 0 && this.clock.now() - this.connectedAt >= this.options.stableAfterMs;
    if (stable) this.backoff.reset();
    // A draining server says when to come back (spreading its clients' reconnects): that delay
    // replaces the backoff's, and a failover transport tries the next server first.
    const told = serverRetryDelay(dc);
    if (told !== undefined) this.backoff.reset();
    const delay = told ?? this.backoff.next();
    this.setStatus({
      state: "waiting",
      attempt: this.backoff.attempt,
      retryAt: this.clock.now() + delay,
      lastError: reason,
    });
    this.retryTimer = this.clock.setTimeout(() => this.openLink(), delay);
  }

  private shutDown(code: string, message: string, lastError?: string): void {
    this.setStatus({ state: "closed", ...(lastError !== undefined && { lastError }) });
    this.clock.clearTimeout(this.retryTimer);
    this.stopLinkTimers();
    this.loggedIn = false;
    this.sync.linkClosed();
    this.historyRequests.failAll(ClientErrorCode.CLOSED, message);
    this.delivery.stop();
    this.delivery.failWhere(() => true, code, message);
  }

  private rejectFirst(err: Error): void {
    const first = this.first;
    this.first = undefined;
    first?.reject(err);
  }

  private stopLinkTimers(): void {
    this.clock.clearTimeout(this.loginTimer);
    this.heartbeat?.stop();
    this.name.stop();
  }

  private setStatus(s: Pick<ConnectionStatus, "state"> & Partial<ConnectionStatus>): void {
    this.statusValue = {
      server: this.transport.description,
      attempt: s.state === "connected" ? 0 : this.backoff.attempt,
      ...(this.statusValue.lastError !== undefined && { lastError: this.statusValue.lastError }),
      ...s,
    };
    this.emit("status", this.statusValue);
  }

  private assertOpen(): void {
    if (this.statusValue.state === "closed") {
      throw new ClientError(ClientErrorCode.CLOSED, "the client is closed");
    }
  }

  /** Throws unless logged in to a server that speaks the extension `what` needs. */
  private assertExtension(what: string): void {
    this.assertOpen();
    if (!this.loggedIn) throw new ClientError(ClientErrorCode.NOT_CONNECTED, "not connected");
    if (!this.sessionValue?.extended) {
      throw new ClientError(ClientErrorCode.UNSUPPORTED, `this server has no ${what}`);
    }
  }

  /** Throws unless the server (once known) has this room. */
  private assertRoom(room: string): void {
    if (this.sessionValue && !this.sessionValue.rooms.some((r) => r.n === room)) {
      throw new ClientError(ClientErrorCode.ROOM_NOT_FOUND, `no room "${room}" on this server`);
    }
  }

  private write(cmd: Command): void {
    this.link?.send(encodeCommand(cmd));
  }

  // ---------------------------------------------------------------- events

  private onFrame(link: Link, text: string): void {
    const ev = decodeEvent(text);
    if (ev === undefined) return; // not an event: ignored, as the protocol asks of clients
    this.heartbeat?.heard();
    switch (ev._et) {
      case "login_successful": {
        const session = sessionFromLogin(ev, this.logins);
        if (session === undefined) return; // unusable: the login timeout will end this link
        this.onLogin(link, session);
        break;
      }
      case "user_message":
        this.onUserMessage(ev);
        // none when the app has it already (RoomSync)
        for (const m of this.sync.onMessage(ev)) this.emit("event", m);
        return;
      case "user_joined_room": {
        const live = this.sync.onJoined(ev);
        for (const m of live?.first ?? []) this.emit("event", m); // its backlog
        this.emit("event", ev);
        if (live === undefined) return;
        this.emit("joined", live.joined);
        this.delivery.flush();
        return;
      }
      case "history":
        this.historyRequests.onHistory(ev);
        break;
      case "error":
        this.onServerError(ev);
        break;
      case "welcome":
        this.onWelcome(ev);
        break;
      case "user_renamed":
        if (this.sessionValue && ev.u === this.sessionValue.userId && typeof ev.n === "string") {
          this.sessionValue.name = ev.n;
          this.name.confirmed(ev.n);
        }
        break;
      case "disconnect":
        this.lastDisconnect = ev;
        break;
      case "room_closed":
        // Removed from the server: not rejoined after a reconnect; its unsent messages fail.
        if (typeof ev.r === "string" && this.sync.unwant(ev.r, false)) {
          this.delivery.failWhere(
            (e) => e.room === ev.r,
            ClientErrorCode.ROOM_NOT_FOUND,
            `the room "${ev.r}" was closed`,
          );
        }
        if (typeof ev.r === "string" && this.sessionValue !== undefined) {
          this.sessionValue.rooms = this.sessionValue.rooms.filter((r) => r.n !== ev.r);
        }
        break;
      default:
        break; // nothing to keep: passed on as is, unknown event types included
    }
    this.emit("event", ev);
  }

  private onLogin(link: Link, session: SessionInfo): void {
    this.clock.clearTimeout(this.loginTimer);
    const extended = session.extended;
    this.logins++;
    this.sessionValue = session;
    this.ownUserIds.push(session.userId);
    if (this.ownUserIds.length > OWN_USER_IDS) this.ownUserIds.shift();
    this.loggedIn = true;
    this.connectedAt = this.clock.now();
    this.name.loggedIn();
    if (extended) {
      this.write({
        _ct: "hello",
        v: PROTOCOL_VERSION,
        k: this.key,
        ...(this.name.wanted !== undefined && { n: this.name.wanted }),
        ...(this.linkToken !== undefined && { tok: this.linkToken }),
      });
    }
    // Rejoin (resuming where each room was left), then write the outbox: on an original server at
    // once (it handles one connection's commands in order, so every message lands after its
    // room's join), on Parley once each room is live (flush, from user_joined_room).
    this.sync.login(extended, new Set(session.rooms.map((r) => r.n)));
    this.delivery.failWhere(
      (e) => !this.sync.has(e.room),
      ClientErrorCode.ROOM_NOT_FOUND,
      "the room is gone from the server",
    );
    this.delivery.flush();
    if (extended) {
      const ms = this.options.heartbeatMs;
      this.heartbeat = new Heartbeat(
        this.clock,
        ms,
        () => this.write({ _ct: "ping" }),
        () =>
          this.abort(
            link,
            ClientErrorCode.HEARTBEAT_TIMEOUT,
            `no reply from the server in ${ms} ms`,
          ),
      );
      this.heartbeat.start();
    }
    this.setStatus({ state: "connected" });
    const info = { ...session, rooms: [...session.rooms] };
    const first = this.first;
    this.first = undefined;
    first?.resolve(info);
    this.emit("ready", info);
  }

  private onUserMessage(ev: UserMessageEvent): void {
    const session = this.sessionValue;
    if (typeof ev.cid === "string") {
      // Another client's message may carry the same cid (cids are per client).
      if (this.isOwn(ev)) this.delivery.echoed(ev.cid);
    } else if (session && !session.extended && ev.u === session.userId) {
      this.delivery.echoedWithoutCid(ev);
    }
  }

  private onWelcome(ev: WelcomeEvent): void {
    if (this.sessionValue && typeof ev.n === "string") this.sessionValue.name = ev.n;
    const max = (ev.limits as Partial<WelcomeEvent["limits"]> | undefined)?.historyPageMax;
    if (typeof max === "number" && Number.isSafeInteger(max) && max >= 1) {
      this.sync.maxBacklog = max;
    }
  }

  private onServerError(ev: ErrorEvent): void {
    if (this.historyRequests.onError(ev)) return;
    if (typeof ev.cid === "string") this.delivery.refused(ev.cid, ev.code, ev.message);
    if (ev.cmd === "join_room") {
      const outcome = this.sync.onJoinError(ev);
      if (outcome === "refused") {
        this.delivery.failWhere((e) => e.room === ev.r, ev.code, ev.message);
      } else if (outcome === "live") this.delivery.flush();
    }
    const naming = ev.cmd === "hello" || ev.cmd === "set_name";
    const session = this.sessionValue;
    if (naming && ev.code === ErrorCode.NAME_TAKEN && session !== undefined) {
      const link = this.link;
      this.name.taken(session.name, session.reconnects, (name) => {
        if (this.link === link && this.loggedIn) this.write({ _ct: "set_name", n: name });
      });
    }
  }
}

/** Longest reconnect delay a server's `retry_ms` is taken up to, ms. */
const MAX_SERVER_RETRY_MS = 60_000;

/** The server's `retry_ms` on a disconnect that allows reconnecting, when it gave a usable one. */
function serverRetryDelay(dc: DisconnectEvent | undefined): number | undefined {
  const ms = dc?.retry_ms;
  if (dc?.reconnect !== true || typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
    return undefined;
  }
  return Math.min(Math.floor(ms), MAX_SERVER_RETRY_MS);
}
