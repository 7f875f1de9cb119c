import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { UserMessageEvent } from "../../src/protocol/index.js";
import type { HistoryPage, RoomJoined, SessionInfo } from "../../clients/lib/parley-client.js";
import { initialUi, stepKey } from "../../clients/tui/chat-keys.js";
import {
  type ChatState,
  initialState,
  type Line,
  type RoomView,
  SCROLLBACK_LINES,
  withActive,
  withEvent,
  withLogin,
} from "../../clients/tui/chat-state.js";
import { NO_KEY } from "../../clients/tui/keys.js";
import {
  BACKLOG_DIVIDER,
  GAP_NOTICE,
  RESET_NOTICE,
  START_DIVIDER,
  wantsOlder,
  withJoined,
  withOlder,
} from "../../clients/tui/room-history.js";

const ROOM = "general";
const E = "epoch-one";

const session: SessionInfo = {
  sessionId: "s".repeat(21),
  userId: "me001",
  name: "me",
  rooms: [{ n: ROOM, d: "General" }],
  extended: true,
  reconnects: 0,
};

const msg = (id: number, u = "bob01"): UserMessageEvent => ({
  _et: "user_message",
  r: ROOM,
  u,
  c: `m${id}`,
  id,
  n: u === "me001" ? "me" : "bob",
});

const span = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

function messages(s: ChatState, ids: number[]): ChatState {
  return ids.reduce((st, id) => withEvent(st, msg(id)), s);
}

const joined = (over: Partial<RoomJoined>): RoomJoined => ({
  room: ROOM,
  status: "fresh",
  replayed: 0,
  rejoin: false,
  epoch: E,
  offset: 0,
  ...over,
});

const page = (ids: number[], more: boolean, epoch = E): HistoryPage => ({
  room: ROOM,
  epoch,
  messages: ids.map((id) => msg(id)),
  first: 1,
  head: 1_000,
  more,
});

const room = (s: ChatState): RoomView => s.rooms.find((r) => r.name === ROOM)!;

/** The room's lines as text: message texts, and notices and dividers as they read. */
const view = (s: ChatState): string[] =>
  room(s).lines.map((l: Line) => (l.kind === "message" ? l.text : `[${l.text}]`));

const mine = (m: UserMessageEvent): boolean => m.u === "me001";

/** Logged in, in the room, with a fresh join's backlog of messages `from`..`to` shown. */
function withBacklog(from: number, to: number): ChatState {
  const s = messages(withActive(withLogin(initialState, session, [ROOM], 0), ROOM), span(from, to));
  return withJoined(s, joined({ replayed: to - from + 1, offset: to }));
}

describe("TUI room history", () => {
  it("puts a divider after a join's backlog, then older pages above it, oldest first, down to the start", () => {
    let s = withBacklog(41, 50);
    assert.deepEqual(view(s), [...span(41, 50).map((i) => `m${i}`), `[${BACKLOG_DIVIDER}]`]);
    assert.equal(room(s).olderBefore, 41);
    assert.equal(wantsOlder(room(s)), true);
    s = messages(s, [51]);
    s = withOlder(s, page(span(21, 40), true), mine);
    assert.deepEqual(
      view(s).slice(0, 21),
      span(21, 41).map((i) => `m${i}`),
    );
    assert.equal(room(s).olderBefore, 21);
    s = withOlder(s, page(span(1, 20), false), mine);
    assert.deepEqual(view(s), [
      `[${START_DIVIDER}]`,
      ...span(1, 50).map((i) => `m${i}`),
      `[${BACKLOG_DIVIDER}]`,
      "m51",
    ]);
    assert.equal(wantsOlder(room(s)), false);
  });

  it("shows no divider when the backlog was empty, and nothing to load in an empty room", () => {
    const s = withBacklog(1, 0);
    assert.deepEqual(view(s), []);
    assert.equal(wantsOlder(room(s)), false);
  });

  it("takes from an older page only what is older than the lines shown, marks ours, and drops a page of another epoch", () => {
    let s = withBacklog(41, 50);
    s = withOlder(
      s,
      {
        ...page(span(35, 45), true),
        messages: [msg(35, "me001"), ...page(span(36, 45), true).messages],
      },
      mine,
    );
    assert.deepEqual(
      view(s).slice(0, 7),
      span(35, 41).map((i) => `m${i}`),
    );
    assert.equal(view(s).filter((t) => t === "m41").length, 1);
    const first = room(s).lines[0]!;
    assert.equal(first.kind === "message" && first.own, true);
    const before = view(s);
    s = withOlder(s, page(span(1, 34), false, "another-epoch"), mine);
    assert.deepEqual(view(s), before);
    assert.equal(room(s).loadingOlder, false);
  });

  it("says where a resume had a gap, before the messages replayed after it", () => {
    let s = withBacklog(1, 5);
    s = messages(s, span(26, 35));
    s = withJoined(s, joined({ status: "gap", replayed: 10, offset: 35, rejoin: true }));
    assert.deepEqual(view(s), [
      ...span(1, 5).map((i) => `m${i}`),
      `[${BACKLOG_DIVIDER}]`,
      `[${GAP_NOTICE}]`,
      ...span(26, 35).map((i) => `m${i}`),
    ]);
    // an exact resume adds nothing
    const exact = withJoined(
      messages(s, [36]),
      joined({ status: "exact", replayed: 1, offset: 36 }),
    );
    assert.deepEqual(view(exact), [...view(s), "m36"]);
  });

  it("after a reset, puts older pages of the new epoch below the notice, not above the old lines", () => {
    let s = withBacklog(1, 3);
    s = withJoined(s, joined({ status: "reset", epoch: "epoch-two", offset: 4, rejoin: true }));
    assert.equal(room(s).olderBefore, 5);
    s = messages(s, [5]);
    s = withOlder(s, page(span(1, 4), false, "epoch-two"), mine);
    assert.deepEqual(view(s), [
      "m1",
      "m2",
      "m3",
      `[${BACKLOG_DIVIDER}]`,
      `[${RESET_NOTICE}]`,
      `[${START_DIVIDER}]`,
      "m1",
      "m2",
      "m3",
      "m4",
      "m5",
    ]);
  });

  it("loads older pages only up to the scrollback bound, and no further", () => {
    let s = withBacklog(2_000 - SCROLLBACK_LINES + 50, 2_000);
    const shown = room(s).lines.length;
    s = withOlder(s, page(span(1, 2_000 - SCROLLBACK_LINES + 49), true), mine);
    assert.equal(room(s).lines.length, SCROLLBACK_LINES);
    assert.equal(room(s).lines.length - shown, SCROLLBACK_LINES - shown);
    assert.equal(wantsOlder(room(s)), false);
    // the page's newest messages went in, next to those shown; its oldest did not fit
    const oldest = room(s).lines[0];
    const firstShown = 2_000 - SCROLLBACK_LINES + 50;
    assert.equal(
      oldest?.kind === "message" && oldest.offset,
      firstShown - (SCROLLBACK_LINES - shown),
    );
  });
});

describe("TUI keys and older messages", () => {
  const ctx = { rooms: [], activeRoom: ROOM, page: 10, items: 40 };
  it("asks for older messages when scrolling up comes within a page of the oldest item", () => {
    const messagesUi = { ...initialUi, active: "messages" as const };
    assert.equal(
      stepKey({ ...messagesUi, scroll: 5 }, "", { ...NO_KEY, upArrow: true }, ctx)[1],
      undefined,
    );
    const [near, effect] = stepKey(
      { ...messagesUi, scroll: 29 },
      "",
      { ...NO_KEY, upArrow: true },
      ctx,
    );
    assert.equal(near.scroll, 30);
    assert.deepEqual(effect, { kind: "older" });
    assert.deepEqual(stepKey(messagesUi, "", { ...NO_KEY, home: true }, ctx)[1], { kind: "older" });
    assert.deepEqual(stepKey(initialUi, "", { ...NO_KEY, pageUp: true }, { ...ctx, items: 5 })[1], {
      kind: "older",
    });
    assert.equal(
      stepKey({ ...messagesUi, scroll: 30 }, "", { ...NO_KEY, downArrow: true }, ctx)[1],
      undefined,
    );
  });
});
