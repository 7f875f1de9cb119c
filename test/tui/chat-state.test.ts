import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Event } from "../../src/protocol/index.js";
import {
  type ChatState,
  initialState,
  SCROLLBACK_LINES,
  withActive,
  withEvent,
  withLogin,
  withStatus,
} from "../../clients/tui/chat-state.js";
import { parseInput } from "../../clients/tui/commands.js";
import { editLine, editorWith } from "../../clients/tui/line-editor.js";
import { NO_KEY, splitKeys } from "../../clients/tui/keys.js";
import type { SessionInfo } from "../../clients/lib/parley-client.js";

const session = (over: Partial<SessionInfo> = {}): SessionInfo => ({
  sessionId: "s".repeat(21),
  userId: "me001",
  name: "me001",
  rooms: [
    { n: "general", d: "General talk" },
    { n: "rust", d: "Rust" },
  ],
  extended: false,
  reconnects: 0,
  ...over,
});

function apply(state: ChatState, events: Event[]): ChatState {
  return events.reduce((s, ev) => withEvent(s, ev), state);
}

const loggedIn = (): ChatState =>
  withActive(withLogin(initialState, session(), [], 1_000), "general");

describe("ChatState with the original protocol only", () => {
  it("tracks members from user_joined_room and room_participation, without names", () => {
    const s = apply(loggedIn(), [
      { _et: "user_joined_room", r: "general", us: ["abc12", "me001"] },
      { _et: "room_participation", r: "general", u: "me001", s: "joined" },
      { _et: "room_participation", r: "general", u: "zz999", s: "joined" },
      { _et: "room_participation", r: "general", u: "abc12", s: "left" },
    ]);
    const room = s.rooms.find((r) => r.name === "general")!;
    assert.equal(room.joined, true);
    assert.deepEqual(
      room.members.map((m) => m.n),
      ["me001", "zz999"],
    );
    assert.deepEqual(
      room.lines.map((l) => (l.kind === "notice" ? l.text : "")),
      ["me001 has joined the room", "zz999 has joined the room", "abc12 has left the room"],
    );
  });

  it("shows messages by user id, marks ours, and counts unread in other rooms", () => {
    const s = apply(loggedIn(), [
      { _et: "user_message", r: "general", u: "me001", c: "mine" },
      { _et: "user_message", r: "general", u: "abc12", c: "theirs" },
      { _et: "user_message", r: "rust", u: "abc12", c: "elsewhere" },
      { _et: "user_message", r: "rust", u: "abc12", c: "again" },
    ]);
    const general = s.rooms.find((r) => r.name === "general")!;
    assert.deepEqual(
      general.lines.map((l) => (l.kind === "message" ? `${l.name}:${l.text}:${l.own}` : "")),
      ["me001:mine:true", "abc12:theirs:false"],
    );
    assert.equal(general.unread, 0);
    assert.equal(s.rooms.find((r) => r.name === "rust")!.unread, 2);
    assert.equal(withActive(s, "rust").rooms.find((r) => r.name === "rust")!.unread, 0);
  });
});

describe("ChatState robustness", () => {
  it("ignores unknown event types, unknown rooms and malformed fields", () => {
    const s = loggedIn();
    const odd = [
      { _et: "something_new", x: 1 },
      { _et: "user_message", r: "no-such-room", u: "a", c: "x" },
      { _et: "user_message", r: "general", u: 42, c: "x" },
      { _et: "user_joined_room", r: "general", us: "not an array" },
      { _et: "room_participation", r: "general", u: "a", s: "sideways" },
      { _et: "room_members", r: "general", ms: null },
    ] as unknown as Event[];
    assert.deepEqual(apply(s, odd), s);
  });

  it("keeps at most SCROLLBACK_LINES lines per room, dropping the oldest", () => {
    let s = loggedIn();
    for (let i = 0; i < SCROLLBACK_LINES + 5; i++) {
      s = withEvent(s, { _et: "user_message", r: "general", u: "a", c: `m${i}` });
    }
    const lines = s.rooms.find((r) => r.name === "general")!.lines;
    assert.equal(lines.length, SCROLLBACK_LINES);
    const first = lines[0]!;
    assert.equal(first.kind === "message" && first.text, "m5");
  });

  it("keeps each room's lines across a reconnect and forgets membership until the rejoin", () => {
    let s = apply(loggedIn(), [
      { _et: "user_joined_room", r: "general", us: ["me001"] },
      { _et: "user_message", r: "general", u: "me001", c: "before" },
    ]);
    s = withStatus(s, { state: "waiting", server: "tcp://x:1", attempt: 1, retryAt: 0 });
    assert.equal(s.rooms.find((r) => r.name === "general")!.joined, false);
    s = withLogin(s, session({ userId: "new01", reconnects: 1 }), ["general"], 5_000);
    const room = s.rooms.find((r) => r.name === "general")!;
    assert.equal(room.lines.length, 1);
    assert.equal(room.wanted, true);
    assert.equal(s.connectedSince, 1_000);
    assert.equal(s.flash?.text, "reconnected");
  });

  it("renames members in every shared room and says so", () => {
    const s = apply(withLogin(initialState, session({ extended: true }), [], 0), [
      { _et: "user_joined_room", r: "general", us: ["me001", "abc12"] },
      { _et: "user_renamed", u: "abc12", n: "bob", o: "abc12" },
    ]);
    const room = s.rooms.find((r) => r.name === "general")!;
    assert.deepEqual(
      room.members.map((m) => m.n),
      ["me001", "bob"],
    );
    const last = room.lines.at(-1);
    assert.equal(last?.kind === "notice" && last.text, "abc12 is now known as bob");
  });
});

describe("parseInput", () => {
  it("recognises the slash commands and their arguments", () => {
    assert.deepEqual(parseInput("/join #rust"), { kind: "join", room: "rust" });
    assert.deepEqual(parseInput("/leave"), { kind: "leave" });
    assert.deepEqual(parseInput("/leave general"), { kind: "leave", room: "general" });
    assert.deepEqual(parseInput("/nick Ada Lovelace"), { kind: "nick", name: "Ada Lovelace" });
    assert.deepEqual(parseInput("/quit"), { kind: "quit" });
    assert.deepEqual(parseInput("/help"), { kind: "help" });
  });

  it("treats plain text and //text as messages, and reports bad commands", () => {
    assert.deepEqual(parseInput("hello /join"), { kind: "message", text: "hello /join" });
    assert.deepEqual(parseInput("//shrug"), { kind: "message", text: "/shrug" });
    assert.equal(parseInput("/join").kind, "invalid");
    assert.equal(parseInput("/dance").kind, "invalid");
    assert.deepEqual(parseInput("   "), { kind: "nothing" });
  });
});

describe("line editing", () => {
  const none = NO_KEY;
  it("inserts at the cursor, deletes before it and moves with the arrows", () => {
    let ed = editorWith("helo");
    ed = editLine(ed, "", { ...none, leftArrow: true });
    ed = editLine(ed, "l", none);
    assert.deepEqual(ed, { text: "hello", cursor: 4 });
    ed = editLine(ed, "", { ...none, delete: true });
    assert.deepEqual(ed, { text: "helo", cursor: 3 });
  });

  it("splits a chunk read at once into text and key presses", () => {
    const keys = splitKeys("/join rust\rhi\x7f\r", NO_KEY);
    assert.deepEqual(
      keys.map(([input, k]) => (k.return ? "⏎" : k.delete ? "⌫" : input)),
      ["/join rust", "⏎", "hi", "⌫", "⏎"],
    );
  });

  it("reads Ctrl-letters read in one chunk with text as Ctrl keys (Ctrl-U, then a paste)", () => {
    const keys = splitKeys("\x15127.0.0.1:1\r", NO_KEY);
    assert.deepEqual(
      keys.map(([input, k]) => (k.return ? "⏎" : k.ctrl ? `^${input}` : input)),
      ["^u", "127.0.0.1:1", "⏎"],
    );
    const typed = keys.reduce(
      (ed, [input, k]) => editLine(ed, input, k),
      editorWith("localhost:8080"),
    );
    assert.equal(typed.text, "127.0.0.1:1");
  });

  it("reads a lone line feed as Enter (typed before raw mode, the tty turned \\r into \\n)", () => {
    const keys = splitKeys("\n", NO_KEY);
    assert.deepEqual(
      keys.map(([input, k]) => (k.return ? "⏎" : input)),
      ["⏎"],
    );
  });
});
