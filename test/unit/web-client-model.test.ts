import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ChatState,
  type ChatStateOptions,
  MAX_LINES_PER_ROOM,
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
