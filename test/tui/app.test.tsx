// The whole TUI (App + ChatController + ParleyClient) against a real Parley on port 0, driven
// through ink-testing-library's stdin.
import "./interactive-ink.js";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { once } from "node:events";
import { render } from "ink-testing-library";
import type { App as ParleyApp } from "../../src/app.js";
import { App } from "../../clients/tui/app.js";
import { ChatController } from "../../clients/tui/chat-controller.js";
import { parseAddress } from "../../clients/lib/address.js";
import { transportFor } from "../../clients/lib/node.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { startParley, until, waitFor } from "../client/support.js";
import { OriginalServer } from "../client/original-server.js";
import { ORIGINAL_COMMANDS } from "../../src/protocol/index.js";
import type { RoomView } from "../../clients/tui/chat-state.js";
import { BACKLOG_DIVIDER, START_DIVIDER } from "../../clients/tui/room-history.js";
import { WireClient } from "../helpers/harness.js";

const SIZE = { width: 160, height: 30 };

function tui(
  address: string,
  options: { connectAtStart?: boolean } = {},
): {
  controller: ChatController;
  stdin: { write(s: string): void };
  frame: () => string;
  unmount: () => void;
} {
  const controller = new ChatController(
    (a) => new ParleyClient({ transport: transportFor(parseAddress(a)), heartbeatMs: 0 }),
  );
  const r = render(
    <App controller={controller} initialAddress={address} size={SIZE} {...options} />,
  );
  return { controller, stdin: r.stdin, frame: () => r.lastFrame() ?? "", unmount: r.unmount };
}

/** A port on 127.0.0.1 nobody listens on (it was free a moment ago). */
async function refusedPort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return port;
}

async function shows(frame: () => string, ...texts: string[]): Promise<void> {
  await until(
    () => texts.every((t) => frame().includes(t)),
    5_000,
    () => `${JSON.stringify(texts)} on screen; last frame:\n${frame()}`,
  );
}

describe("TUI against a real server", () => {
  let server: ParleyApp;
  before(async () => {
    server = await startParley();
  });
  after(() => server.stop());

  it("shows why the connection failed on the connect page", async () => {
    const t = tui(`127.0.0.1:${await refusedPort()}`);
    await shows(t.frame, "Server Host and Port");
    t.stdin.write("\r");
    await shows(t.frame, "Error:", "ECONNREFUSED");
    t.unmount();
  });

  it("connects at once to an address given at start, without a key pressed", async () => {
    const t = tui(`127.0.0.1:${server.ports.tcp}`, { connectAtStart: true });
    await shows(t.frame, "Rooms", "Join at least one room to start chatting!", "● online");
    assert.equal(t.controller.getState().page, "chat");
    t.unmount();
  });

  it("shows why a connection at start failed, and connects once the address is edited", async () => {
    const refused = `127.0.0.1:${await refusedPort()}`;
    const t = tui(refused, { connectAtStart: true });
    await shows(t.frame, "Server Host and Port", refused, "Error:", "ECONNREFUSED");
    // Ctrl-U clears the field (the address stays in the error line); the corrected address goes
    // in and Enter connects.
    const seen = (): number => t.frame().split(refused).length - 1;
    assert.equal(seen(), 2);
    t.stdin.write("\x15");
    await until(
      () => seen() === 1,
      5_000,
      () => `the address field cleared:\n${t.frame()}`,
    );
    t.stdin.write(`127.0.0.1:${server.ports.tcp}\r`);
    await shows(t.frame, "● online");
    t.unmount();
  });

  it("shows a malformed address given at start as an error on the connect page", async () => {
    const t = tui("127.0.0.1:99999", { connectAtStart: true });
    await shows(t.frame, "Server Host and Port", "Error:", "port must be 1-65535");
    assert.equal(t.controller.getState().page, "connect");
    t.unmount();
  });

  it("connects, joins, chats, renames, leaves and quits", async () => {
    const t = tui(`127.0.0.1:${server.ports.tcp}`);
    await shows(t.frame, "Server Host and Port");
    t.stdin.write("\r");
    await shows(t.frame, "Rooms", "Join at least one room to start chatting!", "● online");
    t.stdin.write("/join general\r");
    await shows(t.frame, 'on #general for "General discussions', "has joined the room");

    const bob = new ParleyClient({
      transport: transportFor({ kind: "tcp", host: "127.0.0.1", port: server.ports.tcp! }),
      name: "bob",
      heartbeatMs: 0,
    });
    await bob.connect();
    bob.join("general");
    await shows(t.frame, "bob has joined the room", "Room Users (2)");

    const heard = waitFor(bob, "event", (ev) => ev._et === "user_message" && ev.c === "hello bob");
    t.stdin.write("hello bob\r");
    await heard;
    bob.send("general", "hi there");
    await shows(t.frame, "@bob: hi there");

    t.stdin.write("/nick alicia\r");
    await shows(t.frame, "User: @alicia");

    const left = waitFor(bob, "event", (ev) => ev._et === "room_participation" && ev.s === "left");
    t.stdin.write("/leave\r");
    await left;
    await shows(t.frame, "left #general");

    t.stdin.write("/quit\r");
    await shows(t.frame, "Bye.");
    assert.equal(t.controller.getState().page, "bye");
    await bob.close();
    t.unmount();
  });
});

describe("TUI room history against a real server", () => {
  it("shows a room's recent messages on join above a divider, and older ones as the user scrolls up to them", async () => {
    const server = await startParley();
    const talker = await WireClient.login(server.ports.tcp!);
    await talker.hello();
    await talker.join("rust");
    talker.socket.write(
      Array.from({ length: 80 }, (_, i) =>
        JSON.stringify({ _ct: "send_message", r: "rust", c: `old${i}` }),
      ).join("\n") + "\n",
    );
    await talker.collect("user_message", 80);
    const t = tui(`127.0.0.1:${server.ports.tcp}`, { connectAtStart: true });
    await shows(t.frame, "● online");
    t.stdin.write("/join rust\r");
    await shows(t.frame, `@${talker.userId}: old79`, BACKLOG_DIVIDER, "has joined the room");
    const rust = (): RoomView => t.controller.getState().rooms.find((r) => r.name === "rust")!;
    assert.equal(rust().lines.filter((l) => l.kind === "message").length, 50);

    // PgUp from anywhere; near the top the previous page comes in above, then the start.
    for (const deadline = Date.now() + 10_000; !t.frame().includes(START_DIVIDER);) {
      assert.ok(Date.now() < deadline, `the start of the history on screen:\n${t.frame()}`);
      t.stdin.write("\x1b[5~");
      await new Promise((r) => setTimeout(r, 100));
    }
    await shows(t.frame, ": old0");
    const texts = rust().lines.flatMap((l) => (l.kind === "message" ? [l.text] : []));
    assert.deepEqual(
      texts,
      Array.from({ length: 80 }, (_, i) => `old${i}`),
    );
    talker.close();
    t.unmount();
    await server.stop();
  });
});

describe("TUI against an original-protocol server", () => {
  it("tracks members by user id from the original events and sends no extension command", async () => {
    const server = await OriginalServer.start([
      { n: "general", d: "General" },
      { n: "rust", d: "Rust" },
    ]);
    const t = tui(`127.0.0.1:${server.port}`);
    await shows(t.frame, "Server Host and Port");
    t.stdin.write("\r");
    await shows(t.frame, "Rooms", "● online");
    t.stdin.write("/join general\r");
    await shows(t.frame, "Room Users (1)");

    const bob = new ParleyClient({
      transport: transportFor({ kind: "tcp", host: "127.0.0.1", port: server.port }),
      heartbeatMs: 0,
    });
    const { userId } = await bob.connect();
    bob.join("general");
    await shows(t.frame, `${userId} has joined the room`, "Room Users (2)", `@${userId}`);
    bob.send("general", "plain old protocol");
    await shows(t.frame, `@${userId}: plain old protocol`);
    t.stdin.write("/nick alicia\r");
    await shows(t.frame, "this server has no display names");
    await bob.close();
    await shows(t.frame, `${userId} has left the room`, "Room Users (1)");

    t.stdin.write("/quit\r");
    await shows(t.frame, "Bye.");
    for (const cmd of server.received) assert.ok(ORIGINAL_COMMANDS.has(cmd._ct as string));
    t.unmount();
    await server.close();
  });
});
