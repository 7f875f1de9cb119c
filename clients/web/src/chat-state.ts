import type {
  Event,
  MemberInfo,
  PublicLimits,
  UserMessageEvent,
} from "../../../src/protocol/index.js";
import type { HistoryPage, RoomJoined } from "../../lib/client-types.js";

/** Lines kept per room; past it the oldest go, and no older page is loaded above them. */
export const MAX_LINES_PER_ROOM = 500;

/** Messages an older page asks for at a time. */
export const OLDER_PAGE = 50;

/** After a join's backlog: the messages above it are history, the ones below it live. */
export const BACKLOG_DIVIDER = "earlier messages above";
/** Above the oldest message of a room, once an older page said there is none before it. */
export const START_DIVIDER = "start of the room's history";
export const GAP_NOTICE =
  "some messages from while you were away are gone: the server no longer keeps them";
export const RESET_NOTICE =
  "the server lost this room's history: messages from while you were away may be missing";

export interface ChatLine {
  /** unique in this page, increasing in the order lines were made (not their order on screen) */
  seq: number;
  /** divider: between a join's backlog and what follows, or above the room's first message */
  kind: "message" | "notice" | "error" | "divider";
  /** ms since the epoch */
  ts: number;
  text: string;
  /** sender's user id and display name (messages) */
  user?: string;
  name?: string;
  /** sent by this user */
  own?: boolean;
  /** a message's offset (id) in its room's stream */
  offset?: number;
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
  /** the room stream's epoch, once a join told it (offsets compare within one only) */
  epoch: string | undefined;
  /** older pages hold the messages before this offset (undefined: nothing to page back from) */
  olderBefore: number | undefined;
  /** the server may hold older messages than those shown */
  hasOlder: boolean;
  /** an older page has been asked for */
  loadingOlder: boolean;
  /** older pages go right after the line with this seq (a history reset notice); else at the top */
  olderAnchor: number | undefined;
  /** bumped when lines are put anywhere but at the end: the view then redraws the log */
  version: number;
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
              epoch: undefined,
              olderBefore: undefined,
              hasOlder: false,
              loadingOlder: false,
              olderAnchor: undefined,
              version: 0,
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
          ...(typeof ev.id === "number" && { offset: ev.id }),
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
      case "notice": {
        const room = this.rooms.get(ev.r);
        if (room) this.push(room, { kind: "notice", text: `server notice: ${ev.c}`, ts: ev.ts });
        return;
      }
      case "room_closed": {
        // our own `left` follows and ends the room for us
        const room = this.rooms.get(ev.r);
        if (room)
          this.push(room, { kind: "notice", text: `room closed: ${ev.message}`, ts: this.now() });
        return;
      }
      case "disconnect":
      case "pong":
        return; // handled by the connection
      case "history":
        return; // pages come as history()'s answers: see older()
      default: {
        const unknown: never = ev;
        void unknown; // a newer server's event: ignored
      }
    }
  }

  /**
   * A room's join went live (the client library's `joined` event): a divider after the backlog
   * it replayed, a notice for a gap (before the replayed messages) or a reset, and where older
   * pages start.
   */
  joined(j: RoomJoined): void {
    const room = this.rooms.get(j.room);
    if (!room) return;
    const replayStart = startOfReplay(room.lines, j.replayed);
    const newEpoch = room.epoch !== undefined && j.epoch !== undefined && room.epoch !== j.epoch;
    const pageFrom = (offset: number | undefined): void => {
      room.olderBefore = offset;
      room.hasOlder = offset !== undefined && offset > 1;
    };
    const ts = this.now();
    switch (j.status) {
      case "fresh":
        if (room.olderBefore === undefined || newEpoch) {
          pageFrom(j.offset !== undefined ? j.offset - j.replayed + 1 : undefined);
          // older pages of this epoch go above this join's backlog, below anything older
          if (newEpoch) room.olderAnchor = room.lines[replayStart - 1]?.seq;
        }
        if (j.replayed > 0) this.push(room, { kind: "divider", text: BACKLOG_DIVIDER, ts });
        break;
      case "exact":
      case "gap":
        if (room.olderBefore === undefined && j.offset !== undefined) {
          pageFrom(j.offset - j.replayed + 1);
        }
        if (j.status === "gap") {
          room.lines.splice(replayStart, 0, {
            kind: "notice",
            text: GAP_NOTICE,
            ts,
            seq: ++this.seq,
          });
          room.version++;
        }
        break;
      case "reset":
        this.push(room, { kind: "notice", text: RESET_NOTICE, ts });
        room.olderAnchor = this.seq;
        pageFrom(j.offset !== undefined ? j.offset + 1 : undefined);
        break;
    }
    if (j.epoch !== undefined) room.epoch = j.epoch;
  }

  /** Whether an older page of the room should be asked for now. */
  wantsOlder(name: string): boolean {
    const room = this.rooms.get(name);
    return (
      room !== undefined && room.hasOlder && !room.loadingOlder && room.olderBefore !== undefined
    );
  }

  olderLoading(name: string, loading: boolean): void {
    const room = this.rooms.get(name);
    if (room) room.loadingOlder = loading;
  }

  /**
   * An older page arrived: its messages older than those shown go in above them (after the
   * room's anchor, if any), oldest first, within MAX_LINES_PER_ROOM; a page of another epoch is
   * dropped.
   */
  older(page: HistoryPage): void {
    const room = this.rooms.get(page.room);
    if (!room) return;
    room.loadingOlder = false;
    if (room.epoch !== undefined && page.epoch !== room.epoch) return;
    const before = room.olderBefore ?? Number.POSITIVE_INFINITY;
    const older = page.messages.filter((m) => typeof m.id === "number" && m.id < before);
    const space = Math.max(0, MAX_LINES_PER_ROOM - room.lines.length);
    const kept = older.slice(Math.max(0, older.length - space));
    const lines: ChatLine[] = [];
    if (!page.more && kept.length === older.length && space > kept.length) {
      lines.push({
        kind: "divider",
        text: START_DIVIDER,
        ts: kept[0]?.ts ?? this.now(),
        seq: ++this.seq,
      });
    }
    for (const m of kept) {
      lines.push({
        seq: ++this.seq,
        kind: "message",
        text: m.c,
        ts: m.ts ?? this.now(),
        user: m.u,
        name: m.n ?? m.u,
        own: this.isOwn(m),
        offset: m.id!,
      });
    }
    const anchor = room.olderAnchor;
    const at = anchor === undefined ? 0 : room.lines.findIndex((l) => l.seq === anchor) + 1;
    room.lines.splice(at, 0, ...lines);
    room.version++;
    room.hasOlder = page.more && kept.length === older.length && kept.length > 0;
    const firstId = page.messages[0]?.id;
    if (firstId !== undefined) room.olderBefore = Math.min(before, firstId);
  }

  private push(room: RoomState, line: Omit<ChatLine, "seq">): void {
    room.lines.push({ ...line, seq: ++this.seq });
    if (room.lines.length > MAX_LINES_PER_ROOM) {
      room.lines = room.lines.slice(room.lines.length - MAX_LINES_PER_ROOM);
      room.hasOlder = false; // the oldest went for good: no older page above a hole
    }
  }
}

/** Index of the first of the last `replayed` message lines (lines.length when none). */
function startOfReplay(lines: readonly ChatLine[], replayed: number): number {
  let i = lines.length;
  for (let left = replayed; left > 0 && i > 0;) {
    i--;
    if (lines[i]!.kind === "message") left--;
  }
  return i;
}
