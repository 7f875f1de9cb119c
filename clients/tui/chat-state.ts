/**
 * The TUI's state and the pure functions that move it: every server event, status change and
 * user action becomes a new ChatState (never mutated, so React sees what changed). Nothing here
 * does I/O; ChatController feeds it.
 */
import type { Event, MemberInfo } from "../../src/protocol/index.js";
import type { ConnectionStatus, SessionInfo } from "../lib/parley-client.js";

/** Lines kept per room; older ones scroll out for good. */
export const SCROLLBACK_LINES = 1_000;

/**
 * One line of a room. `id` numbers lines on screen; a message's `offset` is its id in the room's
 * stream (Parley servers). A divider separates a join's backlog (history) from what follows.
 */
export type Line =
  | {
      kind: "message";
      id: number;
      userId: string;
      name: string;
      text: string;
      own: boolean;
      offset?: number;
    }
  | { kind: "notice"; id: number; text: string }
  | { kind: "divider"; id: number; text: string };

export interface RoomView {
  name: string;
  description: string;
  /** the server confirmed our membership (user_joined_room) on the current connection */
  joined: boolean;
  /** we asked to be in it (join sent or to be sent after a reconnect) */
  wanted: boolean;
  /** messages arrived while another room was active */
  unread: number;
  members: readonly MemberInfo[];
  lines: readonly Line[];
  /** the room stream's epoch, once a join told it (offsets compare within one only) */
  epoch: string | undefined;
  /** older pages hold the messages before this offset (undefined: nothing to page back from) */
  olderBefore: number | undefined;
  /** the server may hold older messages than those shown */
  hasOlder: boolean;
  /** an older page has been asked for */
  loadingOlder: boolean;
  /**
   * Older pages go right after this line (the notice of a history reset: what came before it is
   * of another epoch); undefined: at the top.
   */
  olderAnchor: number | undefined;
}

export interface PendingView {
  cid: string;
  room: string;
  text: string;
}

export interface ChatState {
  /** "bye": the user quit; the app exits */
  page: "connect" | "chat" | "bye";
  /** the connect page's error (the last failed attempt) */
  connectError?: string;
  connecting: boolean;
  status?: ConnectionStatus;
  userId?: string;
  name?: string;
  /** the server speaks Parley's extensions (names, errors, member lists) */
  extended: boolean;
  /** when the first connection succeeded (ms since the epoch) */
  connectedSince?: number;
  rooms: readonly RoomView[];
  active?: string;
  /** our messages not yet confirmed by the server */
  pending: readonly PendingView[];
  /** one line of feedback under the input (errors, command results) */
  flash?: { text: string; error: boolean };
  /** display names by user id, from every event that carries one */
  names: Readonly<Record<string, string>>;
  nextLineId: number;
}

export const initialState: ChatState = {
  page: "connect",
  connecting: false,
  extended: false,
  rooms: [],
  pending: [],
  names: {},
  nextLineId: 1,
};

export function activeRoom(state: ChatState): RoomView | undefined {
  return state.active === undefined ? undefined : state.rooms.find((r) => r.name === state.active);
}

export function withFlash(state: ChatState, text: string, error = false): ChatState {
  return { ...state, flash: { text, error } };
}

export function withStatus(state: ChatState, status: ConnectionStatus): ChatState {
  let next: ChatState = { ...state, status };
  if (status.state !== "connected") {
    // Membership ends with the connection; the rejoin after the reconnect confirms it again.
    next = { ...next, rooms: next.rooms.map((r) => (r.joined ? { ...r, joined: false } : r)) };
  }
  return next;
}

export function withPending(state: ChatState, pending: readonly PendingView[]): ChatState {
  return { ...state, pending };
}

/** A (re)login: the room list is the server's, keeping what we saw of rooms it still has. */
export function withLogin(
  state: ChatState,
  session: SessionInfo,
  wanted: readonly string[],
  now: number,
): ChatState {
  const rooms = session.rooms.map((info): RoomView => {
    const old = state.rooms.find((r) => r.name === info.n);
    return {
      name: info.n,
      description: info.d,
      joined: false,
      wanted: wanted.includes(info.n),
      unread: old?.unread ?? 0,
      members: [],
      lines: old?.lines ?? [],
      epoch: old?.epoch,
      olderBefore: old?.olderBefore,
      hasOlder: old?.hasOlder ?? false,
      // a request in flight failed with the link
      loadingOlder: false,
      olderAnchor: old?.olderAnchor,
    };
  });
  let next: ChatState = {
    ...state,
    page: "chat",
    connecting: false,
    connectError: undefined,
    userId: session.userId,
    name: session.name,
    extended: session.extended,
    connectedSince: state.connectedSince ?? now,
    rooms,
    names: { ...state.names, [session.userId]: session.name },
  };
  if (next.active !== undefined && !rooms.some((r) => r.name === next.active)) {
    next = { ...next, active: undefined };
  }
  if (session.reconnects > 0) next = withFlash(next, "reconnected");
  return next;
}

export function withActive(state: ChatState, room: string): ChatState {
  return {
    ...state,
    active: room,
    rooms: state.rooms.map((r) => (r.name === room ? { ...r, unread: 0 } : r)),
  };
}

export function withWanted(state: ChatState, room: string, wanted: boolean): ChatState {
  return {
    ...state,
    rooms: state.rooms.map((r) =>
      r.name === room
        ? { ...r, wanted, ...(!wanted && { joined: false, members: [] as MemberInfo[] }) }
        : r,
    ),
  };
}

/** Adds a notice line to one room (or the active one). */
export function withNotice(state: ChatState, text: string, room = state.active): ChatState {
  if (room === undefined) return withFlash(state, text);
  return appendLine(state, room, { kind: "notice", id: 0, text }, false);
}

export function appendLine(
  state: ChatState,
  room: string,
  line: Line,
  countUnread: boolean,
): ChatState {
  const id = state.nextLineId;
  let found = false;
  const rooms = state.rooms.map((r) => {
    if (r.name !== room) return r;
    found = true;
    const lines = [...r.lines, { ...line, id }];
    // Past the bound the oldest lines go for good: no older page is loaded above a hole.
    const full = lines.length > SCROLLBACK_LINES;
    if (full) lines.splice(0, lines.length - SCROLLBACK_LINES);
    const unread = countUnread && state.active !== room ? r.unread + 1 : r.unread;
    return { ...r, lines, unread, ...(full && { hasOlder: false }) };
  });
  return found ? { ...state, rooms, nextLineId: id + 1 } : state;
}

export function mapRoom(state: ChatState, room: string, f: (r: RoomView) => RoomView): ChatState {
  return { ...state, rooms: state.rooms.map((r) => (r.name === room ? f(r) : r)) };
}

const isStr = (v: unknown): v is string => typeof v === "string";

/**
 * Applies one server event. Events of unknown types, for unknown rooms, or with fields of the
 * wrong type change nothing: a misbehaving server must not take the TUI down. `own` says the
 * event is the echo of a message this client sent (its cid was ours).
 */
export function withEvent(state: ChatState, ev: Event, own = false): ChatState {
  switch (ev._et) {
    case "user_joined_room": {
      if (!isStr(ev.r) || !Array.isArray(ev.us)) return state;
      const names = { ...state.names };
      const fromExt = Array.isArray(ev.ms) ? ev.ms : undefined;
      for (const m of fromExt ?? []) if (isStr(m?.u) && isStr(m?.n)) names[m.u] = m.n;
      const members = ev.us.filter(isStr).map((u): MemberInfo => ({ u, n: names[u] ?? u }));
      return mapRoom({ ...state, names }, ev.r, (r) => ({
        ...r,
        joined: true,
        wanted: true,
        members,
      }));
    }
    case "room_participation": {
      if (!isStr(ev.r) || !isStr(ev.u) || (ev.s !== "joined" && ev.s !== "left")) return state;
      const room = state.rooms.find((r) => r.name === ev.r);
      if (room === undefined) return state;
      const names = isStr(ev.n) ? { ...state.names, [ev.u]: ev.n } : state.names;
      const name = names[ev.u] ?? ev.u;
      const self = ev.u === state.userId;
      const others = room.members.filter((m) => m.u !== ev.u);
      const members = ev.s === "joined" ? [...others, { u: ev.u, n: name }] : others;
      let next = mapRoom({ ...state, names }, ev.r, (r) => ({
        ...r,
        members,
        ...(self && ev.s === "left" && { joined: false }),
      }));
      next = appendLine(
        next,
        ev.r,
        { kind: "notice", id: 0, text: `${name} has ${ev.s} the room` },
        false,
      );
      return next;
    }
    case "user_message": {
      if (!isStr(ev.r) || !isStr(ev.u) || !isStr(ev.c)) return state;
      const names = isStr(ev.n) ? { ...state.names, [ev.u]: ev.n } : state.names;
      const mine = own || ev.u === state.userId;
      const offset = typeof ev.id === "number" ? { offset: ev.id } : {};
      const line: Line = {
        kind: "message",
        id: 0,
        userId: ev.u,
        name: names[ev.u] ?? ev.u,
        text: ev.c,
        own: mine,
        ...offset,
      };
      return appendLine({ ...state, names }, ev.r, line, !mine);
    }
    case "user_renamed": {
      if (!isStr(ev.u) || !isStr(ev.n)) return state;
      const old = isStr(ev.o) ? ev.o : (state.names[ev.u] ?? ev.u);
      let next: ChatState = {
        ...state,
        names: { ...state.names, [ev.u]: ev.n },
        ...(ev.u === state.userId && { name: ev.n }),
      };
      for (const r of next.rooms) {
        if (!r.members.some((m) => m.u === ev.u)) continue;
        next = mapRoom(next, r.name, (x) => ({
          ...x,
          members: x.members.map((m) => (m.u === ev.u ? { u: m.u, n: ev.n } : m)),
        }));
        next = appendLine(
          next,
          r.name,
          { kind: "notice", id: 0, text: `${old} is now known as ${ev.n}` },
          false,
        );
      }
      return next;
    }
    case "room_members": {
      if (!isStr(ev.r) || !Array.isArray(ev.ms)) return state;
      const members = ev.ms.filter((m) => isStr(m?.u) && isStr(m?.n));
      return mapRoom(state, ev.r, (r) => ({ ...r, members }));
    }
    case "welcome":
      return isStr(ev.n) && isStr(ev.u)
        ? { ...state, name: ev.n, names: { ...state.names, [ev.u]: ev.n } }
        : state;
    case "error":
      return withFlash(state, `${String(ev.code)}: ${String(ev.message)}`, true);
    case "disconnect":
      return withFlash(state, `server: ${String(ev.message)}`, true);
    case "slow_down":
      return withFlash(
        state,
        `sending too fast: the server holds back for ${Number(ev.retry_ms)} ms`,
      );
    default:
      return state; // login_successful is handled by withLogin; others carry nothing to show
  }
}
