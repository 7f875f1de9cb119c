import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, DEFAULT_BACKOFF } from "../../clients/web/src/backoff.js";
import { ChatState, MAX_LINES_PER_ROOM } from "../../clients/web/src/chat-state.js";

describe("backoffDelay", () => {
  it("grows exponentially, stays within [ceiling/2, ceiling], and is capped", () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(DEFAULT_BACKOFF.maxMs, DEFAULT_BACKOFF.baseMs * 2 ** attempt);
      assert.equal(
        backoffDelay(attempt, DEFAULT_BACKOFF, () => 0),
        ceiling / 2,
      );
      assert.equal(
        backoffDelay(attempt, DEFAULT_BACKOFF, () => 0.999999),
        ceiling,
      );
    }
    assert.equal(
      backoffDelay(50, DEFAULT_BACKOFF, () => 0.5),
      DEFAULT_BACKOFF.maxMs * 0.75,
    );
  });
});

function loggedIn(): ChatState {
  const s = new ChatState(() => 1_000);
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

  it("remembers joined rooms across a disconnect, and forgets a room the user left", () => {
    const s = loggedIn();
    s.apply({ _et: "user_joined_room", r: "rust", us: ["me001"] });
    s.disconnected();
    assert.equal(s.rooms.get("general")!.joined, false);
    assert.equal(s.rooms.get("general")!.members.size, 0);
    assert.deepEqual([...s.wanted].sort(), ["general", "rust"]);
    s.apply({ _et: "room_participation", r: "rust", u: "me001", s: "left" });
    assert.deepEqual([...s.wanted], ["general"]);
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
