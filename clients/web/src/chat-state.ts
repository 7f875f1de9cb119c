import type {
  Event,
  MemberInfo,
  PublicLimits,
  UserMessageEvent,
} from "../../../src/protocol/index.js";

/** Lines kept per room; older ones are dropped (the server keeps no history for us either). */
export const MAX_LINES_PER_ROOM = 500;

export interface ChatLine {
  /** unique in this page, increasing */
  seq: number;
  kind: "message" | "notice" | "error";
  /** ms since the epoch */
  ts: number;
  text: string;
  /** sender's user id and display name (messages) */
  user?: string;
  name?: string;
  /** sent by this user */
  own?: boolean;
}

export interface RoomState {
  readonly name: string;
  readonly description: string;
  /** member of it now (as the server last said) */
  joined: boolean;
  /** user id -> display name, while joined */
  readonly members: Map<string, string>;
  lines: ChatLine[];
  /** messages that arrived while the room was not in view */
  unread: number;
  /** members as counted by the last room_list, for rooms we are not in */
  memberCount: number | undefined;
}

/** One of our messages the server has not confirmed yet (it is in the client's outbox). */
export interface PendingLine {
  cid: string;
  room: string;
  text: string;
  /** when it was typed, ms since the epoch */
  ts: number;
}

export interface ChatStateOptions {
  /** ms since the epoch. Default Date.now */
  now?: () => number;
  /**
   * Whether a message is ours. Default: sent by the current session's user id. The controller
   * passes the client library's isOwn, which also knows the user ids of earlier sessions (a
   * resend's echo after a reconnect carries the old one).
   */
  isOwn?: (ev: UserMessageEvent) => boolean;
}

/**
 * The web client's model of the chat, DOM-free: rooms, membership, members, lines, unread counts,
 * pending messages. `apply` folds each server event in; the view reads the result. The client
 * library owns the connection, the rooms to rejoin and the outbox; `wanted` and `pending` mirror
 * them for the view (setWanted, setPending).
 */
export class ChatState {
  readonly rooms = new Map<string, RoomState>();
  /** rooms the user is in or will be in again after a reconnect (the client library's rooms) */
  readonly wanted = new Set<string>();
  /** our messages not yet confirmed, in send order (the client library's outbox) */
  pending: readonly PendingLine[] = [];
  active: string | undefined;
  userId: string | undefined;
  name: string | undefined;
  limits: PublicLimits | undefined;
  /** whether the room in view is actually seen (page visible and focused) */
  visible = true;
  private seq = 0;
  private readonly now: () => number;
  private readonly isOwn: (ev: UserMessageEvent) => boolean;

  constructor(options: ChatStateOptions = {}) {
    this.now = options.now ?? Date.now;
    this.isOwn = options.isOwn ?? ((ev) => ev.u === this.userId);
  }

  get activeRoom(): RoomState | undefined {
    return this.active === undefined ? undefined : this.rooms.get(this.active);
  }

  /** Total unread over all rooms (for the page title). */
  get unreadTotal(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.unread;
    return n;
  }

  /** Shows a room and clears its unread marker. */
  activate(name: string): void {
    const room = this.rooms.get(name);
    if (!room) return;
    this.active = name;
    if (this.visible) room.unread = 0;
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    const room = this.activeRoom;
    if (visible && room) room.unread = 0;
  }

  /** A line from the client itself (errors, connection notices) in one room or the active one. */
  note(text: string, kind: "notice" | "error" = "notice", roomName = this.active): void {
    const room = roomName === undefined ? undefined : this.rooms.get(roomName);
    if (room) this.push(room, { kind, text, ts: this.now() });
  }

  setWanted(rooms: Iterable<string>): void {
    this.wanted.clear();
    for (const r of rooms) this.wanted.add(r);
  }

  setPending(pending: readonly PendingLine[]): void {
    this.pending = pending;
  }

  /** Pending messages of one room, oldest first. */
  pendingIn(room: string): PendingLine[] {
    return this.pending.filter((p) => p.room === room);
  }

  /** Connection lost: no room is joined any more (the client rejoins `wanted` after it). */
  disconnected(): void {
    for (const room of this.rooms.values()) {
      room.joined = false;
      room.members.clear();
    }
  }

  apply(ev: Event): void {
    switch (ev._et) {
      case "login_successful":
        this.userId = ev.u;
        this.name = ev.n ?? ev.u;
        for (const r of ev.rs) {
          if (!this.rooms.has(r.n)) {
            this.rooms.set(r.n, {
              name: r.n,
              description: r.d,
              joined: false,
              members: new Map(),
              lines: [],
              unread: 0,
              memberCount: undefined,
            });
          }
        }
        return;
      case "welcome":
        this.userId = ev.u;
        this.name = ev.n;
        this.limits = ev.limits;
        return;
      case "user_joined_room": {
        const room = this.rooms.get(ev.r);
        if (!room) return;
        room.joined = true;
        room.members.clear();
        const list: MemberInfo[] = ev.ms ?? ev.us.map((u) => ({ u, n: u }));
        for (const m of list) room.members.set(m.u, m.n);
        return;
      }
      case "room_participation": {
        const room = this.rooms.get(ev.r);
        if (!room) return;
        const name = ev.n ?? room.members.get(ev.u) ?? ev.u;
        const self = ev.u === this.userId;
        if (ev.s === "joined") {
          room.members.set(ev.u, name);
          this.push(room, {
            kind: "notice",
            text: self ? "you joined" : `${name} joined`,
            ts: ev.ts ?? this.now(),
          });
        } else {
          // Another session of the same user may leave without us leaving; only our own
          // membership (user id match and we asked) ends the room for us.
          room.members.delete(ev.u);
          if (self) {
            room.joined = false;
            room.members.clear();
          }
          this.push(room, {
            kind: "notice",
            text: self ? "you left" : `${name} left`,
            ts: ev.ts ?? this.now(),
          });
        }
        return;
      }
      case "user_message": {
        const room = this.rooms.get(ev.r);
        if (!room) return;
        const own = this.isOwn(ev);
        const name = ev.n ?? room.members.get(ev.u) ?? ev.u;
        this.push(room, {
          kind: "message",
          text: ev.c,
          ts: ev.ts ?? this.now(),
          user: ev.u,
          name,
          own,
        });
        if (!own && (room.name !== this.active || !this.visible)) room.unread++;
        return;
      }
      case "user_renamed": {
        if (ev.u === this.userId) this.name = ev.n;
        for (const room of this.rooms.values()) {
          if (!room.members.has(ev.u)) continue;
          room.members.set(ev.u, ev.n);
          this.push(room, { kind: "notice", text: `${ev.o} is now ${ev.n}`, ts: this.now() });
        }
        return;
      }
      case "room_list":
        for (const r of ev.rs) {
          const room = this.rooms.get(r.n);
          if (room) room.memberCount = r.m;
        }
        return;
      case "room_members": {
        const room = this.rooms.get(ev.r);
        if (!room || !room.joined) return;
        room.members.clear();
        for (const m of ev.ms) room.members.set(m.u, m.n);
        return;
      }
      case "error":
        this.note(
          `${ev.message} (${ev.code})`,
          "error",
          ev.r !== undefined && this.rooms.has(ev.r) ? ev.r : this.active,
        );
        return;
      case "slow_down":
        this.note(`sending too fast: the server waits ${ev.retry_ms} ms`, "error");
        return;
      case "disconnect":
      case "pong":
        return; // handled by the connection
      case "history":
        return; // pages are asked for and taken by the view (not yet)
      default: {
        const unknown: never = ev;
        void unknown; // a newer server's event: ignored
      }
    }
  }

  private push(room: RoomState, line: Omit<ChatLine, "seq">): void {
    room.lines.push({ ...line, seq: ++this.seq });
    if (room.lines.length > MAX_LINES_PER_ROOM) {
      room.lines = room.lines.slice(room.lines.length - MAX_LINES_PER_ROOM);
    }
  }
}
