import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { HistoryPage } from "../../clients/lib/client-types.js";
import {
  BACKLOG_DIVIDER,
  ChatState,
  type ChatStateOptions,
  GAP_NOTICE,
  MAX_LINES_PER_ROOM,
  RESET_NOTICE,
  START_DIVIDER,
} from "../../clients/web/src/chat-state.js";

function loggedIn(options: ChatStateOptions = {}): ChatState {
  const s = new ChatState({ now: () => 1_000, ...options });
  s.apply({
    _et: "login_successful",
    s: "session",
    u: "me001",
    rs: [
      { n: "general", d: "General" },
      { n: "rust", d: "Rust" },
    ],
  });
  s.apply({
    _et: "welcome",
    v: 1,
    s: "session",
    u: "me001",
    n: "alice",
    limits: {
      historyPageMax: 200,
      maxMessageChars: 4096,
      maxLineBytes: 65536,
      maxRoomsPerSession: 50,
      maxNameChars: 32,
      ratePerSec: 500,
      rateBurst: 1000,
      idleTimeoutMs: 0,
    },
  });
  s.apply({
    _et: "user_joined_room",
    r: "general",
    us: ["me001", "bob01"],
    ms: [
      { u: "me001", n: "alice" },
      { u: "bob01", n: "bob" },
    ],
  });
  s.activate("general");
  return s;
}

describe("ChatState (web client model)", () => {
  it("keeps the member list live through joins, leaves and renames", () => {
    const s = loggedIn();
    const general = s.rooms.get("general")!;
    s.apply({ _et: "room_participation", r: "general", u: "carl1", s: "joined", n: "carl1" });
    s.apply({ _et: "user_renamed", u: "carl1", n: "carl", o: "carl1" });
    s.apply({ _et: "room_participation", r: "general", u: "bob01", s: "left", n: "bob" });
    assert.deepEqual([...general.members.values()].sort(), ["alice", "carl"]);
    assert.deepEqual(
      general.lines.map((l) => l.text),
      ["carl1 joined", "carl1 is now carl", "bob left"],
    );
  });

  it("counts unread messages only for rooms not in view, and clears them on switching", () => {
    const s = loggedIn();
    s.apply({
      _et: "user_joined_room",
      r: "rust",
      us: ["me001"],
      ms: [{ u: "me001", n: "alice" }],
    });
    s.apply({ _et: "user_message", r: "rust", u: "bob01", c: "psst", n: "bob" });
    s.apply({ _et: "user_message", r: "general", u: "bob01", c: "here", n: "bob" });
    assert.equal(s.rooms.get("rust")!.unread, 1);
    assert.equal(s.rooms.get("general")!.unread, 0);
    s.setVisible(false);
    s.apply({ _et: "user_message", r: "general", u: "bob01", c: "hidden tab", n: "bob" });
    assert.equal(s.unreadTotal, 2);
    s.setVisible(true);
    s.activate("rust");
    assert.equal(s.unreadTotal, 0);
  });

  it("ends membership on a disconnect and keeps the rooms to rejoin it is given", () => {
    const s = loggedIn();
    s.apply({ _et: "user_joined_room", r: "rust", us: ["me001"] });
    s.setWanted(["general", "rust"]);
    s.disconnected();
    assert.equal(s.rooms.get("general")!.joined, false);
    assert.equal(s.rooms.get("general")!.members.size, 0);
    assert.deepEqual([...s.wanted], ["general", "rust"]);
    s.setWanted(["general"]);
    assert.deepEqual([...s.wanted], ["general"]);
  });

  it("lists a room's pending messages in send order", () => {
    const s = loggedIn();
    s.setPending([
      { cid: "1", room: "general", text: "one", ts: 1 },
      { cid: "2", room: "rust", text: "elsewhere", ts: 2 },
      { cid: "3", room: "general", text: "two", ts: 3 },
    ]);
    assert.deepEqual(
      s.pendingIn("general").map((p) => p.text),
      ["one", "two"],
    );
    s.setPending([]);
    assert.deepEqual(s.pendingIn("general"), []);
  });

  it("shows a resend's echo from an earlier session as ours, without an unread mark", () => {
    // After a reconnect the user id is new; the echo of a message resent from the outbox may
    // carry the old one. isOwn (the client library's) knows both.
    const ours = new Set(["old01", "me001"]);
    const s = loggedIn({ isOwn: (ev) => ours.has(ev.u) });
    s.activate("rust");
    s.apply({ _et: "user_message", r: "general", u: "old01", c: "from before", n: "alice" });
    s.apply({ _et: "user_message", r: "general", u: "bob01", c: "from bob", n: "bob" });
    const lines = s.rooms.get("general")!.lines;
    assert.deepEqual(
      lines.map((l) => [l.text, l.own]),
      [
        ["from before", true],
        ["from bob", false],
      ],
    );
    assert.equal(s.rooms.get("general")!.unread, 1);
  });

  it("keeps at most MAX_LINES_PER_ROOM lines per room, newest last", () => {
    const s = loggedIn();
    for (let i = 0; i < MAX_LINES_PER_ROOM + 10; i++) {
      s.apply({ _et: "user_message", r: "general", u: "bob01", c: `m${i}` });
    }
    const lines = s.rooms.get("general")!.lines;
    assert.equal(lines.length, MAX_LINES_PER_ROOM);
    assert.equal(lines.at(-1)!.text, `m${MAX_LINES_PER_ROOM + 9}`);
  });
});

describe("ChatState history (web client model)", () => {
  const msg = (id: number) => ({
    _et: "user_message" as const,
    r: "general",
    u: "bob01",
    c: `m${id}`,
    id,
    n: "bob",
  });
  const span = (from: number, to: number): number[] =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const page = (ids: number[], more: boolean, epoch = "E"): HistoryPage => ({
    room: "general",
    epoch,
    messages: ids.map(msg),
    first: 1,
    head: 1_000,
    more,
  });
  /** Logged in, with the fresh join's backlog `from`..`to` of the general room shown. */
  function withBacklog(from: number, to: number): ChatState {
    const s = loggedIn();
    s.rooms.get("general")!.lines = [];
    for (const id of span(from, to)) s.apply(msg(id));
    s.joined({
      room: "general",
      status: "fresh",
      replayed: to - from + 1,
      rejoin: false,
      epoch: "E",
      offset: to,
    });
    return s;
  }
  const texts = (s: ChatState): string[] => s.rooms.get("general")!.lines.map((l) => l.text);

  it("puts a divider after a join's backlog, and older pages above, oldest first, down to the start", () => {
    const s = withBacklog(41, 50);
    assert.deepEqual(texts(s), [...span(41, 50).map((i) => `m${i}`), BACKLOG_DIVIDER]);
    assert.equal(s.wantsOlder("general"), true);
    const version = s.rooms.get("general")!.version;
    s.older(page(span(21, 40), true));
    assert.ok(s.rooms.get("general")!.version > version, "the view redraws");
    assert.equal(s.rooms.get("general")!.olderBefore, 21);
    // an overlapping page adds only what is older than what is shown
    s.older(page(span(1, 30), false));
    assert.deepEqual(texts(s), [
      START_DIVIDER,
      ...span(1, 50).map((i) => `m${i}`),
      BACKLOG_DIVIDER,
    ]);
    assert.equal(s.wantsOlder("general"), false);
  });

  it("drops a page of another epoch, and notes a gap before the replay and a reset after it", () => {
    const s = withBacklog(1, 3);
    s.older(page([1, 2], false, "other"));
    assert.deepEqual(texts(s), ["m1", "m2", "m3", BACKLOG_DIVIDER]);
    for (const id of [9, 10]) s.apply(msg(id));
    s.joined({ room: "general", status: "gap", replayed: 2, rejoin: true, epoch: "E", offset: 10 });
    assert.deepEqual(texts(s), ["m1", "m2", "m3", BACKLOG_DIVIDER, GAP_NOTICE, "m9", "m10"]);
    s.joined({
      room: "general",
      status: "reset",
      replayed: 0,
      rejoin: true,
      epoch: "F",
      offset: 2,
    });
    s.apply(msg(3));
    s.older(page([1, 2], false, "F"));
    assert.deepEqual(texts(s).slice(7), [RESET_NOTICE, START_DIVIDER, "m1", "m2", "m3"]);
  });
});
