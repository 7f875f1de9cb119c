import "./interactive-ink.js";
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cleanup, render } from "ink-testing-library";
import { ChatPage, type ChatActions } from "../../clients/tui/components/chat-page.js";
import {
  initialState,
  withActive,
  withEvent,
  withLogin,
  withStatus,
} from "../../clients/tui/chat-state.js";
import { terminalText } from "../../clients/tui/terminal-text.js";
import type { Event } from "../../src/protocol/index.js";
import { until } from "../client/support.js";

afterEach(cleanup);

const ESC = "\u001b";
const BEL = "\u0007";

describe("terminalText", () => {
  it("shows C0 controls as control pictures, DEL as ␡ and C1 controls as U+FFFD", () => {
    assert.equal(terminalText(`${ESC}[2J`), "␛[2J");
    assert.equal(terminalText(`${ESC}]52;c;cHduZWQ=${BEL}`), "␛]52;c;cHduZWQ=␇");
    assert.equal(terminalText("a\rb\bc\td\u0000e\u007ff"), "a␍b␈c␉d␀e␡f");
    assert.equal(
      terminalText("\u009b2J \u009d0;t\u009c \u0085"),
      "\ufffd2J \ufffd0;t\ufffd \ufffd",
    );
  });

  it("keeps line feeds, printable text, emoji and right-to-left text, and the length in code points", () => {
    const plain = "two\nlines, émoji 👩‍💻🇫🇷, שלום, \u202Eoverride, <b>&amp;";
    assert.equal(terminalText(plain), plain);
    const hostile = `x${ESC}[31my${BEL}\r\u009b`;
    assert.equal([...terminalText(hostile)].length, [...hostile].length);
  });
});

const noActions: ChatActions = {
  selectRoom: () => {},
  leave: () => {},
  submit: () => {},
  reconnectNow: () => {},
  loadOlder: () => {},
  quit: () => {},
};

// Ink's own styling (colours, bold) is SGR; whatever else is left must not be a control character.
// eslint-disable-next-line no-control-regex
const INK_SGR = /\u001b\[[0-9;]*m/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe("the TUI with escape sequences from the server", () => {
  it("shows control characters in messages, names, room names, descriptions and errors as visible symbols, never as terminal escapes", async () => {
    // A server other than Parley may send anything, room names included.
    const room = `ops${ESC}[5m`;
    let s = withLogin(
      initialState,
      {
        sessionId: "s".repeat(21),
        userId: "me001",
        name: "alice",
        rooms: [{ n: room, d: `ops talk${ESC}]0;window title${BEL}` }],
        extended: true,
        reconnects: 0,
      },
      [],
      1_000_000,
    );
    s = withStatus(s, { state: "connected", server: "tcp://localhost:8080", attempt: 0 });
    s = withActive(s, room);
    const eve = `eve${ESC}]8;;http://x${BEL}`;
    const events: Event[] = [
      { _et: "user_joined_room", r: room, us: ["me001", "eve01"], ms: [{ u: "eve01", n: eve }] },
      { _et: "user_message", r: room, u: "eve01", n: eve, c: `clip ${ESC}]52;c;cHduZWQ=${BEL}` },
      { _et: "user_message", r: room, u: "eve01", n: eve, c: `wipe ${ESC}[2J${ESC}[H end` },
      { _et: "user_message", r: room, u: "eve01", n: eve, c: `red ${ESC}[31mRED${ESC}[0m` },
      { _et: "user_message", r: room, u: "eve01", n: eve, c: `over\rwrite\b\u009b2J` },
      { _et: "error", code: "X", message: `bad ${ESC}]2;title${BEL}` },
    ];
    s = events.reduce((st, ev) => withEvent(st, ev), s);

    const { lastFrame } = render(
      <ChatPage state={s} actions={noActions} now={1_000_000} width={160} height={30} />,
    );
    const shown = [
      "●#ops␛[5m",
      'on #ops␛[5m for "ops talk␛]0;window title␇"',
      "@eve␛]8;;http://x␇: clip ␛]52;c;cHduZWQ=␇",
      "@eve␛]8;;http://x␇: wipe ␛[2J␛[H end",
      "@eve␛]8;;http://x␇: red ␛[31mRED␛[0m",
      "@eve␛]8;;http://x␇: over␍write␈\ufffd2J",
      "@eve␛]8;;http://x␇",
      "X: bad ␛]2;title␇",
    ];
    const read = (): string => lastFrame() ?? "";
    await until(
      () => shown.every((t) => read().includes(t)),
      3_000,
      () => `a frame with ${JSON.stringify(shown)}; last frame:\n${read()}`,
    );
    const frame = read().replace(INK_SGR, "");
    assert.doesNotMatch(frame, CONTROL);
  });
});
