import type {
  Command,
  DisconnectEvent,
  ErrorEvent,
  LoginSuccessfulEvent,
  RoomInfo,
  UserMessageEvent,
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
  ParleyClientOptions,
  SessionInfo,
} from "./client-types.js";
import { type Clock, systemClock } from "./clock.js";
import { Emitter } from "./emitter.js";
import { Heartbeat } from "./heartbeat.js";
import { ClientError, ClientErrorCode } from "./errors.js";
import { randomId } from "./ids.js";
import { DEFAULT_OUTBOX_LIMIT, Outbox, type OutboxEntry } from "./outbox.js";
import type { Link, Transport } from "./transport.js";

export type * from "./client-types.js";

/** Attempts to reclaim the display name after a reconnect before giving up. */
const RECLAIM_ATTEMPTS = 5;
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
 * - Rejoins the rooms it was in, and reclaims its display name, after each reconnect.
 * - Every message goes through a bounded outbox and carries a client message id (`cid`) until
 *   its echo comes back. After a reconnect the outbox is written again. On a Parley server that
 *   is lossless and shown once: the `hello` carries this object's instance key `k`, and the
 *   server answers a (k, cid) it broadcast already with the original event to the sender only.
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
  private readonly outbox: Outbox;
  private readonly options: Required<
    Pick<
      ParleyClientOptions,
      "retryInitial" | "heartbeatMs" | "loginTimeoutMs" | "stableAfterMs" | "reclaimDelayMs"
    >
  >;
  private statusValue: ConnectionStatus;
  private sessionValue: SessionInfo | undefined;
  private link: Link | undefined;
  private loggedIn = false;
  /** rooms the user wants to be in, in join order: rejoined after a reconnect */
  private readonly wanted = new Set<string>();
  /** rooms a join was written for on the current link (and not refused or left since) */
  private linkRooms = new Set<string>();
  private wantedName: string | undefined;
  /** user ids of this client's sessions, oldest first (bounded: OWN_USER_IDS) */
  private readonly ownUserIds: string[] = [];
  private seq = 0;
  private logins = 0;
  private connectedAt = 0;
  private reclaimAttempts = 0;
  private abortReason: ClientError | undefined;
  private lastDisconnect: DisconnectEvent | undefined;
  private retryTimer: unknown;
  private loginTimer: unknown;
  private heartbeat: Heartbeat | undefined;
  private reclaimTimer: unknown;
  private first: { resolve: (s: SessionInfo) => void; reject: (e: Error) => void } | undefined;
  private closeWaiters: Array<() => void> = [];

  constructor(options: ParleyClientOptions) {
    super();
    this.transport = options.transport;
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff(options.backoff, options.random);
    this.outbox = new Outbox(options.outboxLimit ?? DEFAULT_OUTBOX_LIMIT);
    this.wantedName = options.name;
    this.options = {
      retryInitial: options.retryInitial ?? false,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      loginTimeoutMs: options.loginTimeoutMs ?? 10_000,
      stableAfterMs: options.stableAfterMs ?? 5_000,
      reclaimDelayMs: options.reclaimDelayMs ?? 1_000,
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
    return [...this.wanted];
  }

  /** Messages sent and not yet confirmed, in send order. */
  get pending(): readonly OutboxEntry[] {
    return this.outbox.list().map((e) => ({ ...e }));
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

  /** Joins a room now, or at the next login when offline; kept across reconnects. */
  join(room: string): void {
    this.assertOpen();
    if (this.sessionValue && !this.sessionValue.rooms.some((r) => r.n === room)) {
      throw new ClientError(ClientErrorCode.ROOM_NOT_FOUND, `no room "${room}" on this server`);
    }
    if (this.wanted.has(room)) return;
    this.wanted.add(room);
    if (this.loggedIn) {
      this.write({ _ct: "join_room", r: room });
      this.linkRooms.add(room);
      this.flush();
    }
  }

  /** Leaves a room; its messages still in the outbox unsent are given up (LEFT_ROOM). */
  leave(room: string): void {
    this.assertOpen();
    if (!this.wanted.delete(room)) return;
    this.failWhere(
      (e) => e.room === room && !e.sent,
      ClientErrorCode.LEFT_ROOM,
      `left "${room}" before it was sent`,
    );
    if (this.loggedIn && this.linkRooms.delete(room)) this.write({ _ct: "leave_room", r: room });
  }

  /**
   * Sends a message to a joined room; returns its client message id. Offline, it waits in the
   * outbox (bounded: OUTBOX_FULL past the limit) and goes out after the reconnect.
   */
  send(room: string, text: string): string {
    this.assertOpen();
    if (!this.wanted.has(room)) {
      throw new ClientError(ClientErrorCode.NOT_IN_ROOM, `join "${room}" before sending to it`);
    }
    if (text.length === 0) throw new ClientError(ClientErrorCode.MESSAGE_EMPTY, "empty message");
    const cid = (++this.seq).toString(36);
    this.outbox.add({ cid, room, text, queuedAt: this.clock.now(), sent: false });
    this.emit("outbox", this.outbox.size);
    this.flush();
    return cid;
  }

  /** Chooses a display name (Parley servers); it is reclaimed after each reconnect. */
  setName(name: string): void {
    this.assertOpen();
    if (this.sessionValue === undefined || !this.loggedIn) {
      this.wantedName = name;
      return;
    }
    if (!this.sessionValue.extended) {
      throw new ClientError(ClientErrorCode.UNSUPPORTED, "this server has no display names");
    }
    this.write({ _ct: "set_name", n: name });
  }

  /** Sends an extension request (list_rooms, list_members, ping); the reply comes as an event. */
  request(cmd: Extract<Command, { _ct: "list_rooms" | "list_members" | "ping" }>): void {
    this.assertOpen();
    if (!this.loggedIn) throw new ClientError(ClientErrorCode.NOT_CONNECTED, "not connected");
    if (!this.sessionValue?.extended) {
      throw new ClientError(ClientErrorCode.UNSUPPORTED, `this server has no ${cmd._ct}`);
    }
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
    let link: Link;
    try {
      link = this.transport.open({
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
      });
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
    this.linkRooms = new Set();
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
    if (this.sessionValue?.extended) {
      // The server deduplicates by (key, cid): writing everything again is safe.
      this.outbox.markAllUnsent();
    } else {
      this.failWhere(
        (e) => e.sent,
        ClientErrorCode.UNCONFIRMED,
        "the connection dropped before the server confirmed it; not resent, to never show it twice",
      );
    }
    const stable =
      this.connectedAt > 0 && this.clock.now() - this.connectedAt >= this.options.stableAfterMs;
    if (stable) this.backoff.reset();
    const delay = this.backoff.next();
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
    this.failWhere(() => true, code, message);
  }

  private rejectFirst(err: Error): void {
    const first = this.first;
    this.first = undefined;
    first?.reject(err);
  }

  private stopLinkTimers(): void {
    this.clock.clearTimeout(this.loginTimer);
    this.heartbeat?.stop();
    this.clock.clearTimeout(this.reclaimTimer);
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

  private write(cmd: Command): void {
    this.link?.send(encodeCommand(cmd));
  }

  /** Writes the outbox entries not yet written on this link, in order. */
  private flush(): void {
    if (!this.loggedIn) return;
    for (const e of this.outbox.unsent()) {
      if (!this.linkRooms.has(e.room)) continue;
      this.write({ _ct: "send_message", r: e.room, c: e.text, cid: e.cid });
      e.sent = true;
    }
  }

  private failWhere(pred: (e: OutboxEntry) => boolean, code: string, message: string): void {
    const gone = this.outbox.removeWhere(pred);
    if (gone.length === 0) return;
    for (const e of gone) {
      this.emit("failed", { cid: e.cid, room: e.room, text: e.text, code, message });
    }
    this.emit("outbox", this.outbox.size);
  }

  // ---------------------------------------------------------------- events

  private onFrame(link: Link, text: string): void {
    const ev = decodeEvent(text);
    if (ev === undefined) return; // not an event: ignored, as the protocol asks of clients
    this.heartbeat?.heard();
    switch (ev._et) {
      case "login_successful":
        if (!isLogin(ev)) return; // unusable: the login timeout will end this link
        this.onLogin(link, ev);
        break;
      case "user_message":
        this.onUserMessage(ev);
        break;
      case "error":
        this.onServerError(ev);
        break;
      case "welcome":
        if (this.sessionValue && typeof ev.n === "string") this.sessionValue.name = ev.n;
        break;
      case "user_renamed":
        if (this.sessionValue && ev.u === this.sessionValue.userId && typeof ev.n === "string") {
          this.sessionValue.name = ev.n;
          this.wantedName = ev.n;
          this.reclaimAttempts = 0;
        }
        break;
      case "disconnect":
        this.lastDisconnect = ev;
        break;
      default:
        break; // nothing to keep: passed on as is, unknown event types included
    }
    this.emit("event", ev);
  }

  private onLogin(link: Link, ev: LoginSuccessfulEvent): void {
    this.clock.clearTimeout(this.loginTimer);
    const extended = typeof ev.pv === "number" && ev.pv >= 1;
    const session: SessionInfo = {
      sessionId: ev.s,
      userId: ev.u,
      name: typeof ev.n === "string" ? ev.n : ev.u,
      rooms: ev.rs.filter(isRoomInfo),
      extended,
      reconnects: this.logins++,
    };
    this.sessionValue = session;
    this.ownUserIds.push(ev.u);
    if (this.ownUserIds.length > OWN_USER_IDS) this.ownUserIds.shift();
    this.loggedIn = true;
    this.connectedAt = this.clock.now();
    this.reclaimAttempts = 0;
    if (extended) {
      this.write({
        _ct: "hello",
        v: PROTOCOL_VERSION,
        k: this.key,
        ...(this.wantedName !== undefined && { n: this.wantedName }),
      });
    }
    // Rejoin, then write the outbox: the server handles one connection's commands in order, so
    // every message lands after its room's join without waiting for replies.
    const known = new Set(session.rooms.map((r) => r.n));
    for (const room of [...this.wanted]) {
      if (!known.has(room)) {
        // Joining an unknown room makes an original server drop the connection: never send it.
        this.wanted.delete(room);
        continue;
      }
      this.write({ _ct: "join_room", r: room });
      this.linkRooms.add(room);
    }
    this.failWhere(
      (e) => !this.wanted.has(e.room),
      ClientErrorCode.ROOM_NOT_FOUND,
      "the room is gone from the server",
    );
    this.flush();
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
    let confirmed: OutboxEntry | undefined;
    if (typeof ev.cid === "string") {
      // Another client's message may carry the same cid (cids are per client).
      if (this.isOwn(ev)) confirmed = this.outbox.take(ev.cid);
    } else if (
      this.sessionValue &&
      !this.sessionValue.extended &&
      ev.u === this.sessionValue.userId
    ) {
      const [entry, dropped] = this.outbox.takeEcho(ev.r, ev.c);
      confirmed = entry;
      for (const e of dropped) {
        this.emit("failed", {
          cid: e.cid,
          room: e.room,
          text: e.text,
          code: ClientErrorCode.UNCONFIRMED,
          message: "the server did not echo it",
        });
      }
    }
    if (confirmed !== undefined) this.emit("outbox", this.outbox.size);
  }

  private onServerError(ev: ErrorEvent): void {
    if (typeof ev.cid === "string") {
      const e = this.outbox.take(ev.cid);
      if (e !== undefined) {
        this.emit("failed", {
          cid: e.cid,
          room: e.room,
          text: e.text,
          code: ev.code,
          message: ev.message,
        });
        this.emit("outbox", this.outbox.size);
      }
    }
    if (
      ev.cmd === "join_room" &&
      typeof ev.r === "string" &&
      ev.code !== ErrorCode.ALREADY_IN_ROOM
    ) {
      const room = ev.r;
      this.wanted.delete(room);
      this.linkRooms.delete(room);
      this.failWhere((e) => e.room === room, ev.code, ev.message);
    }
    const naming = ev.cmd === "hello" || ev.cmd === "set_name";
    if (naming && ev.code === ErrorCode.NAME_TAKEN) this.retryReclaim();
  }

  /**
   * After a reconnect our previous session may still hold the name on the server (it has not
   * yet noticed the old connection is gone): try again a few times, a little later each time.
   */
  private retryReclaim(): void {
    const name = this.wantedName;
    const session = this.sessionValue;
    if (name === undefined || session === undefined || session.name === name) return;
    if (session.reconnects === 0 || this.reclaimAttempts >= RECLAIM_ATTEMPTS) return;
    this.reclaimAttempts++;
    const link = this.link;
    this.reclaimTimer = this.clock.setTimeout(() => {
      if (this.link === link && this.loggedIn && this.wantedName === name) {
        this.write({ _ct: "set_name", n: name });
      }
    }, this.options.reclaimDelayMs * this.reclaimAttempts);
  }
}

function isRoomInfo(r: unknown): r is RoomInfo {
  return (
    typeof r === "object" &&
    r !== null &&
    typeof (r as RoomInfo).n === "string" &&
    typeof (r as RoomInfo).d === "string"
  );
}

function isLogin(ev: LoginSuccessfulEvent): boolean {
  return typeof ev.s === "string" && typeof ev.u === "string" && Array.isArray(ev.rs);
}
