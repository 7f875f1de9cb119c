// End to end in a real terminal: tmux runs the server and two TUIs (each a real process, as a
// person would start them); keys go in with send-keys and the screens are read with capture-pane.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "../client/support.js";
import { WireClient } from "../helpers/harness.js";

const dir = mkdtempSync(join(tmpdir(), "parley-tui-e2e-"));
/** A private tmux server on a socket in our temp dir: the test never touches anyone else's. */
const SOCKET = join(dir, "tmux.sock");
const SESSION = "e2e";
const serverLog = join(dir, "server.log");
const node = process.execPath;

/**
 * The environment of a person's shell, not of this test: node:test's NODE_TEST_CONTEXT would
 * turn the child node processes into test-runner children, and CI variables make ink print only
 * the final frame (it assumes a log, not a terminal). The tmux server copies the environment of
 * the first client.
 */
const SHELL_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) =>
      k !== "NODE_TEST_CONTEXT" &&
      k !== "CI" &&
      k !== "CONTINUOUS_INTEGRATION" &&
      !k.startsWith("CI_"),
  ),
);

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-S", SOCKET, ...args], { encoding: "utf8", env: SHELL_ENV });
}

/** The visible screen, or with `history` also the lines scrolled off its top. */
function screen(window: string, history = false): string {
  return tmux("capture-pane", "-p", ...(history ? ["-S", "-"] : []), "-t", `${SESSION}:${window}`);
}

async function shows(window: string, text: string, ms = 10_000, history = false): Promise<void> {
  await until(
    () => screen(window, history).includes(text),
    ms,
    () => `"${text}" in window ${window}; screen:\n${screen(window, history)}`,
  );
}

/** Types `text` literally, then Enter. */
function type(window: string, text: string): void {
  tmux("send-keys", "-t", `${SESSION}:${window}`, "-l", text);
  tmux("send-keys", "-t", `${SESSION}:${window}`, "Enter");
}

function startServer(port: number): void {
  rmSync(serverLog, { force: true }); // a restart must not be read from the last run's log
  tmux(
    "respawn-pane",
    "-k",
    "-c",
    process.cwd(),
    "-t",
    `${SESSION}:server`,
    `${node} --import tsx src/main.ts --host 127.0.0.1 --port ${port} --lp-port off --http-port off 2>&1 | tee ${serverLog}`,
  );
}

function startTui(window: string, port: number, name: string): void {
  tmux(
    "new-window",
    "-d",
    "-c",
    process.cwd(),
    "-t",
    SESSION,
    "-n",
    window,
    // The shell reports how the TUI ended on the screen it gives back. Not tmux's pane_dead
    // status: tmux 3.3a now and then misses a pane's exit (SIGCHLD and pty EOF) when two of
    // its panes exit within a moment, leaving the pane alive next to a zombie.
    `${node} --import tsx clients/tui/main.tsx --server 127.0.0.1:${port} --name ${name}; echo "parley-tui exited with status $?"`,
  );
}

function log(): string {
  return existsSync(serverLog) ? readFileSync(serverLog, "utf8") : "";
}

describe("parley-tui in a real terminal", () => {
  let port = 0;

  before(() => {
    tmux("new-session", "-d", "-s", SESSION, "-n", "server", "-x", "140", "-y", "35");
    // Keep a window whose program exited, with its last screen (the exit status the shell printed).
    tmux("set-option", "-g", "-w", "remain-on-exit", "on");
  });
  after(() => {
    try {
      tmux("kill-server");
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows a message sent in one TUI in the other, and survives a server restart", async () => {
    startServer(0);
    await until(() => /"tcp":\d+/.test(log()), 15_000, "the server");
    port = Number(/"tcp":(\d+)/.exec(log())![1]);

    startTui("alice", port, "alice");
    startTui("bob", port, "bob");
    for (const w of ["alice", "bob"]) {
      await shows(w, `127.0.0.1:${port}`, 30_000); // tsx compiles the TUI first
      tmux("send-keys", "-t", `${SESSION}:${w}`, "Enter");
      await shows(w, "● online");
    }
    type("alice", "/join general");
    await shows("alice", 'on #general for "General discussions and community bonding"');
    type("bob", "/join general");
    await shows("alice", "bob has joined the room");

    type("alice", "hello from alice");
    await shows("bob", "@alice: hello from alice");
    assert.match(screen("bob"), /Room Users \(2\)[\s\S]*@bob \(you\)/);

    // The server goes away: both TUIs say so and keep what is typed meanwhile.
    tmux("send-keys", "-t", `${SESSION}:server`, "C-c");
    await shows("bob", "↻ retry in");
    type("bob", "sent while the server was down");
    await shows("bob", "(sending…)");

    startServer(port);
    await shows("alice", "reconnected", 20_000);
    await shows("bob", "reconnected", 20_000);
    // bob's queued message went out once he was back (alice may not have been back yet: the
    // server keeps no history), and the server's echo confirmed it.
    await until(
      () => !screen("bob").includes("(sending…)"),
      10_000,
      () => `bob's message confirmed; screen:\n${screen("bob")}`,
    );
    assert.equal(screen("bob").split("@bob: sent while the server was down").length, 2);
    await shows("alice", "bob has joined the room");
    type("bob", "back again");
    await shows("alice", "@bob: back again");

    for (const w of ["alice", "bob"]) type(w, "/quit");
    // Leaving the alternate screen gives back the shell's screen, where the status shows (ink's
    // last newlines may have scrolled it off the top).
    for (const w of ["alice", "bob"])
      await shows(w, "parley-tui exited with status 0", 10_000, true);
  });

  it("shows escape sequences in a message as symbols: the terminal's title and clipboard stay as they were", async () => {
    startServer(0);
    await until(() => /"tcp":\d+/.test(log()), 15_000, "the server");
    port = Number(/"tcp":(\d+)/.exec(log())![1]);
    // tmux turns an application's OSC 52 into a paste buffer, and OSC 2 sets the pane's title.
    tmux("set-option", "-g", "set-clipboard", "on");
    startTui("carol", port, "carol");
    await shows("carol", `127.0.0.1:${port}`, 30_000); // tsx compiles the TUI first
    tmux("send-keys", "-t", `${SESSION}:carol`, "Enter");
    await shows("carol", "● online");
    type("carol", "/join general");
    await shows("carol", "Room Users (1)");

    const mallory = await WireClient.login(port);
    await mallory.join("general");
    const clip = Buffer.from("pwned-clip").toString("base64");
    mallory.send({
      _ct: "send_message",
      r: "general",
      c: `title \u001b]2;pwned-title\u0007 clip \u001b]52;c;${clip}\u0007 clear \u001b[2J end`,
    });
    await shows("carol", `title ␛]2;pwned-title␇ clip ␛]52;c;${clip}␇ clear ␛[2J end`);
    assert.doesNotMatch(
      tmux("display-message", "-p", "-t", `${SESSION}:carol`, "#{pane_title}"),
      /pwned/,
    );
    assert.doesNotMatch(tmux("list-buffers"), /pwned/);
    mallory.close();

    type("carol", "/quit");
    await shows("carol", "parley-tui exited with status 0", 10_000, true);
  });
});
