/**
 * A room's history on screen, as pure ChatState steps (see chat-state.ts): what a join that went
 * live means for the room's lines (a divider after the backlog it replayed, a notice when the
 * server's history has a gap or was reset), and older pages put in place as the user scrolls up.
 */
import type { UserMessageEvent } from "../../src/protocol/index.js";
import type { HistoryPage, RoomJoined } from "../lib/parley-client.js";
import {
  type ChatState,
  type Line,
  mapRoom,
  type RoomView,
  SCROLLBACK_LINES,
  withFlash,
} from "./chat-state.js";

/** After a join's backlog: the messages above it are history, the ones below it live. */
export const BACKLOG_DIVIDER = "── earlier messages above ──";
/** Above the oldest message of a room, once an older page said there is none before it. */
export const START_DIVIDER = "── start of the room's history ──";
export const GAP_NOTICE =
  "some messages from while you were away are gone: the server no longer keeps them";
export const RESET_NOTICE =
  "the server lost this room's history: messages from while you were away may be missing";

/** Messages an older page asks for at a time. */
export const OLDER_PAGE = 50;

/** A room's join went live (the client library's `joined` event). */
export function withJoined(state: ChatState, j: RoomJoined): ChatState {
  const room = state.rooms.find((r) => r.name === j.room);
  if (room === undefined) return state;
  const replayStart = startOfReplay(room.lines, j.replayed);
  const newEpoch = room.epoch !== undefined && j.epoch !== undefined && room.epoch !== j.epoch;
  let next = state;
  let { olderAnchor, olderBefore, hasOlder } = room;
  /** older pages start below `offset` (undefined: unknown, none to ask for) */
  const pageFrom = (offset: number | undefined): void => {
    olderBefore = offset;
    hasOlder = offset !== undefined && offset > 1;
  };
  switch (j.status) {
    case "fresh":
      if (olderBefore === undefined || newEpoch) {
        pageFrom(j.offset !== undefined ? j.offset - j.replayed + 1 : undefined);
        // older pages of this epoch go above this join's backlog, below anything older
        if (newEpoch) olderAnchor = room.lines[replayStart - 1]?.id;
      }
      if (j.replayed > 0) next = insertLine(next, j.room, room.lines.length, divider());
      break;
    case "exact":
    case "gap":
      if (olderBefore === undefined && j.offset !== undefined) {
        pageFrom(j.offset - j.replayed + 1);
      }
      if (j.status === "gap") next = insertLine(next, j.room, replayStart, notice(GAP_NOTICE));
      break;
    case "reset":
      next = insertLine(next, j.room, room.lines.length, notice(RESET_NOTICE));
      olderAnchor = next.nextLineId - 1;
      pageFrom(j.offset !== undefined ? j.offset + 1 : undefined);
      break;
  }
  return mapRoom(next, j.room, (r) => ({
    ...r,
    olderAnchor,
    olderBefore,
    hasOlder,
    epoch: j.epoch ?? r.epoch,
  }));
}

/** Whether an older page of the room should be asked for now. */
export function wantsOlder(room: RoomView | undefined): boolean {
  return (
    room !== undefined && room.hasOlder && !room.loadingOlder && room.olderBefore !== undefined
  );
}

export function withOlderLoading(state: ChatState, room: string): ChatState {
  return mapRoom(state, room, (r) => ({ ...r, loadingOlder: true }));
}

export function withOlderFailed(state: ChatState, room: string, message: string): ChatState {
  return withFlash(
    mapRoom(state, room, (r) => ({ ...r, loadingOlder: false })),
    `older messages of #${room} not loaded: ${message}`,
    true,
  );
}

/**
 * An older page arrived: its messages older than what is shown go in above them (after the
 * room's anchor, if any), oldest first, within SCROLLBACK_LINES; a page of another epoch is
 * dropped. `isOwn` tells our messages.
 */
export function withOlder(
  state: ChatState,
  page: HistoryPage,
  isOwn: (m: UserMessageEvent) => boolean,
): ChatState {
  const room = state.rooms.find((r) => r.name === page.room);
  if (room === undefined) return state;
  if (room.epoch !== undefined && page.epoch !== room.epoch) {
    return mapRoom(state, page.room, (r) => ({ ...r, loadingOlder: false }));
  }
  const before = room.olderBefore ?? Number.POSITIVE_INFINITY;
  const older = page.messages.filter((m) => typeof m.id === "number" && m.id < before);
  const space = Math.max(0, SCROLLBACK_LINES - room.lines.length);
  const kept = older.slice(Math.max(0, older.length - space));
  const atStart = !page.more && kept.length === older.length;
  let id = state.nextLineId;
  const lines: Line[] = [];
  if (atStart && space > kept.length)
    lines.push({ kind: "divider", id: id++, text: START_DIVIDER });
  for (const m of kept) {
    lines.push({
      kind: "message",
      id: id++,
      userId: m.u,
      name: typeof m.n === "string" ? m.n : (state.names[m.u] ?? m.u),
      text: m.c,
      own: isOwn(m),
      offset: m.id!,
    });
  }
  const at = room.olderAnchor === undefined ? 0 : anchorIndex(room.lines, room.olderAnchor);
  const firstId = page.messages[0]?.id;
  const next = mapRoom({ ...state, nextLineId: id }, page.room, (r) => ({
    ...r,
    lines: [...r.lines.slice(0, at), ...lines, ...r.lines.slice(at)],
    loadingOlder: false,
    hasOlder: page.more && kept.length === older.length && kept.length > 0,
    olderBefore: firstId !== undefined ? Math.min(before, firstId) : r.olderBefore,
  }));
  return next;
}

/** Index just after the anchor line (0 when it scrolled out: the top). */
function anchorIndex(lines: readonly Line[], anchor: number): number {
  const i = lines.findIndex((l) => l.id === anchor);
  return i + 1;
}

/** Index of the first of the last `replayed` message lines (lines.length when none). */
function startOfReplay(lines: readonly Line[], replayed: number): number {
  let i = lines.length;
  for (let left = replayed; left > 0 && i > 0;) {
    i--;
    if (lines[i]!.kind === "message") left--;
  }
  return i;
}

const divider = (): Line => ({ kind: "divider", id: 0, text: BACKLOG_DIVIDER });
const notice = (text: string): Line => ({ kind: "notice", id: 0, text });

/** Puts `line` at `index` of the room's lines, with the next line id (oldest dropped past the bound). */
function insertLine(state: ChatState, room: string, index: number, line: Line): ChatState {
  const id = state.nextLineId;
  return mapRoom({ ...state, nextLineId: id + 1 }, room, (r) => {
    const lines = [...r.lines.slice(0, index), { ...line, id }, ...r.lines.slice(index)];
    if (lines.length > SCROLLBACK_LINES) lines.splice(0, lines.length - SCROLLBACK_LINES);
    return { ...r, lines };
  });
}
