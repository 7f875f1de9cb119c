import "./interactive-ink.js";
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cleanup, render } from "ink-testing-library";
import { ChatPage, type ChatActions } from "../../clients/tui/components/chat-page.js";
import { ConnectPage } from "../../clients/tui/components/connect-page.js";
import {
  type ChatState,
  initialState,
  withActive,
  withEvent,
  withLogin,
  withStatus,
} from "../../clients/tui/chat-state.js";
import type { Event } from "../../src/protocol/index.js";
import { until } from "../client/support.js";

const KEY = {
  left: "\u001B[D",
  right: "\u001B[C",
  up: "\u001B[A",
  down: "\u001B[B",
  pageUp: "\u001B[5~",
  pageDown: "\u001B[6~",
  enter: "\r",
};

afterEach(cleanup);

/**
 * Waits until the last frame contains every text; returns it. With `flat`, texts may wrap:
 * the frame is read as one line with borders and runs of spaces collapsed (single-column pages).
 */
async function frameWith(lastFrame: () => string | undefined, ...texts: string[]): Promise<string> {
  const read = (): string => lastFrame() ?? "";
  await until(
    () => texts.every((t) => read().includes(t)),
    3_000,
    () => `a frame with ${JSON.stringify(texts)}; last frame:\n${read()}`,
  );
  return read();
}

function flat(frame: string | undefined): string {
  return (frame ?? "").replace(/[│┌┐└┘─]/g, " ").replace(/\s+/g, " ");
}

function recorder(): { actions: ChatActions; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    actions: {
      selectRoom: (r) => calls.push(`select ${r}`),
      leave: (r) => calls.push(`leave ${r}`),
      submit: (l) => calls.push(`submit ${l}`),
      reconnectNow: () => calls.push("reconnect"),
      loadOlder: () => calls.push("older"),
      quit: () => calls.push("quit"),
    },
  };
}

/** A chat in progress: alice in #general with bob, two unread messages in #rust. */
function chatState(extra: Event[] = []): ChatState {
  let s = withLogin(
    initialState,
    {
      sessionId: "s".repeat(21),
      userId: "me001",
      name: "alice",
      rooms: [
        { n: "general", d: "General discussions" },
        { n: "rust", d: "Talk about Rust" },
        { n: "ml", d: "Machine learning" },
      ],
      extended: true,
      reconnects: 0,
    },
    [],
    1_000_000,
  );
  s = withStatus(s, { state: "connected", server: "tcp://localhost:8080", attempt: 0 });
  s = withActive(s, "general");
  const events: Event[] = [
    { _et: "user_joined_room", r: "general", us: ["me001"], ms: [{ u: "me001", n: "alice" }] },
    { _et: "room_participation", r: "general", u: "me001", s: "joined", n: "alice" },
    { _et: "user_joined_room", r: "rust", us: ["me001"] },
    { _et: "room_participation", r: "general", u: "bob01", s: "joined", n: "bob" },
    { _et: "user_message", r: "general", u: "bob01", c: "hi alice", n: "bob" },
    { _et: "user_message", r: "rust", u: "bob01", c: "r1", n: "bob" },
    { _et: "user_message", r: "rust", u: "bob01", c: "r2", n: "bob" },
    ...extra,
  ];
  return events.reduce((st, ev) => withEvent(st, ev), s);
}

describe("ConnectPage", () => {
  it("prefills localhost:8080 and shows the last connection error", async () => {
    const { lastFrame: raw } = render(
      <ConnectPage
        connecting={false}
        error="connect ECONNREFUSED 127.0.0.1:8080"
        onConnect={() => {}}
        onQuit={() => {}}
        width={100}
        height={20}
      />,
    );
    await frameWith(
      () => flat(raw()),
      "Server Host and Port",
      "localhost:8080",
      "Error: connect ECONNREFUSED 127.0.0.1:8080",
    );
  });

  it("connects to the edited address on Enter", async () => {
    const seen: string[] = [];
    const { stdin, lastFrame } = render(
      <ConnectPage
        connecting={false}
        error={undefined}
        onConnect={(a) => seen.push(a)}
        onQuit={() => {}}
        width={100}
        height={20}
      />,
    );
    await frameWith(lastFrame, "localhost:8080");
    stdin.write("\x7f\x7f\x7f\x7f8082\r");
    await until(() => seen.length > 0, 3_000, "onConnect");
    assert.deepEqual(seen, ["localhost:8082"]);
  });
});

describe("ChatPage", () => {
  it("shows rooms with the active one and unread markers, user info, room, messages, members and help", async () => {
    const { actions } = recorder();
    const { lastFrame } = render(
      <ChatPage state={chatState()} actions={actions} now={1_065_000} width={160} height={30} />,
    );
    const frame = await frameWith(
      lastFrame,
      "Rooms",
      "●#general",
      "#rust *2",
      "User: @alice (me001)",
      "Chatting for: 1m 05s",
      "● online",
      "Server: localhost:8080",
      'on #general for "General discussions"',
      "alice has joined the room",
      "bob has joined the room",
      "@bob: hi alice",
      "Room Users (2)",
      "@alice (you)",
      "@bob",
      "Select a widget",
      "to activate Message Input",
    );
    assert.ok(!frame.includes("r1"), "another room's messages are not shown");
  });

  it("moves the help with the focus as widgets are hovered and activated", async () => {
    const { actions } = recorder();
    const { stdin, lastFrame } = render(
      <ChatPage state={chatState()} actions={actions} now={1_000_000} width={160} height={30} />,
    );
    await frameWith(lastFrame, "to activate Message Input");
    stdin.write(KEY.left);
    await frameWith(lastFrame, "to activate Messages");
    stdin.write(KEY.left);
    await frameWith(lastFrame, "to activate Room List");
    stdin.write("e");
    await frameWith(lastFrame, "Select the room to talk in", "to join room");
    stdin.write("\u001B");
    await frameWith(lastFrame, "Select a widget");
  });

  it("selects a room with the arrow keys and Enter, and leaves one with l", async () => {
    const { actions, calls } = recorder();
    const { stdin, lastFrame } = render(
      <ChatPage state={chatState()} actions={actions} now={1_000_000} width={160} height={30} />,
    );
    await frameWith(lastFrame, "Select a widget");
    stdin.write(KEY.left);
    stdin.write(KEY.left);
    stdin.write("e");
    await frameWith(lastFrame, ">●#general");
    stdin.write(KEY.down);
    await frameWith(lastFrame, ">●#rust");
    stdin.write("l");
    stdin.write(KEY.down);
    await frameWith(lastFrame, "> #ml");
    stdin.write(KEY.enter);
    await until(() => calls.length === 2, 3_000, "two actions");
    assert.deepEqual(calls, ["leave rust", "select ml"]);
  });

  it("sends typed lines, slash commands included, even when read in one chunk", async () => {
    const { actions, calls } = recorder();
    const { stdin, lastFrame } = render(
      <ChatPage state={chatState()} actions={actions} now={1_000_000} width={160} height={30} />,
    );
    await frameWith(lastFrame, "Select a widget");
    stdin.write("/join rust\rhello there\r");
    await until(() => calls.length === 2, 3_000, "two submits");
    assert.deepEqual(calls, ["submit /join rust", "submit hello there"]);
    await frameWith(lastFrame, "Type your message");
  });

  it("scrolls back through older messages with PgUp and forward with PgDn", async () => {
    const many: Event[] = Array.from({ length: 60 }, (_, i) => ({
      _et: "user_message" as const,
      r: "general",
      u: "bob01",
      c: `line ${i}`,
      n: "bob",
    }));
    const { actions } = recorder();
    const { stdin, lastFrame } = render(
      <ChatPage
        state={chatState(many)}
        actions={actions}
        now={1_000_000}
        width={160}
        height={24}
      />,
    );
    let frame = await frameWith(lastFrame, "line 59");
    assert.ok(!frame.includes("line 30"));
    stdin.write(KEY.pageUp);
    stdin.write(KEY.pageUp);
    frame = await frameWith(lastFrame, "scrolled back", "newer (PgDn)");
    assert.ok(!frame.includes("line 59"));
    stdin.write(KEY.pageDown);
    stdin.write(KEY.pageDown);
    await frameWith(lastFrame, "line 59");
  });

  it("shows the reconnect state, the server it will try, and our unsent messages while offline", async () => {
    let s = chatState();
    s = withStatus(s, {
      state: "waiting",
      server: "ws://node-3.chat.example.com:8081/ws",
      attempt: 2,
      retryAt: 1_003_000,
    });
    s = { ...s, pending: [{ cid: "1", room: "general", text: "are you there?" }] };
    const { actions } = recorder();
    const { lastFrame } = render(
      <ChatPage state={s} actions={actions} now={1_000_000} width={160} height={30} />,
    );
    await frameWith(
      lastFrame,
      "↻ retry in 3s (r)",
      // too long for the column: its end, which tells a cluster's nodes apart, stays
      "Server: …example.com:8081/ws",
      "1 unsent",
      "@alice: are you there? (sending…)",
      "r to reconnect now",
    );
  });
});
