// End to end in a real terminal: tmux runs the server and the TUIs (each a real process, as a
// person would start them); keys go in with send-keys and the screens are read with capture-pane.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WireClient } from "../helpers/harness.js";
import { FaultProxy } from "../client/support.js";
import { BACKLOG_DIVIDER } from "../../clients/tui/room-history.js";

const dir = mkdtempSync(join(tmpdir(), "parley-tui-e2e-"));
/** A private tmux server on a socket in our temp dir: the test never touches anyone else's. */
const SOCKET = join(dir, "tmux.sock");
const SESSION = "e2e";
const serverLog = join(dir, "server.log");
const node = process.execPath;

/**
 * Waits are generous (a busy 2-core machine starts a tsx process in seconds, not milliseconds);
 * they bound a failure, a passing run never waits them out.
 */
const WAIT_MS = 30_000;
/** Between looks at a screen: each look starts a tmux client, and a tight loop of them would take
 * the CPU from the TUIs it waits for. */
const POLL_MS = 100;

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

const target = (window: string): string => `${SESSION}:${window}`;

/** The visible screen. */
function screen(window: string): string {
  return tmux("capture-pane", "-p", "-t", target(window));
}

/** Polls `check` until it is true; fails after `ms`, saying `what` (read then). */
async function until(check: () => boolean, what: () => string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function shows(window: string, text: string, ms = WAIT_MS): Promise<void> {
  await until(
    () => screen(window).includes(text),
    () => `"${text}" in window ${window}; screen:\n${screen(window)}`,
    ms,
  );
}

/**
 * Whether the program in `window` reads its terminal key by key (ink's raw mode). Before that,
 * the tty's line editing gets the keys: Ctrl-U erases its line buffer, Enter becomes a line feed,
 * and nothing reaches the program before a line is complete. A screen can be drawn before ink
 * switches, so a test that types must wait for this too.
 */
function rawMode(window: string): boolean {
  const tty = tmux("display-message", "-p", "-t", target(window), "#{pane_tty}").trim();
  try {
    const modes = execFileSync("stty", ["-F", tty, "-a"], { encoding: "utf8" });
    return /(^|\s)-icanon(\s|$)/.test(modes);
  } catch {
    return false; // the pane is gone (its program died): the wait fails, showing the screen
  }
}

/** Waits until `window` shows `text` and its TUI reads keys. */
async function ready(window: string, text: string): Promise<void> {
  await shows(window, text);
  await until(
    () => rawMode(window),
    () => `raw mode in window ${window}; screen:\n${screen(window)}`,
  );
}

/** How many times `text` is on the screen of `window`. */
function count(window: string, text: string): number {
  return screen(window).split(text).length - 1;
}

/** Types `text` literally, then Enter. */
function type(window: string, text: string): void {
  tmux("send-keys", "-t", target(window), "-l", text);
  tmux("send-keys", "-t", target(window), "Enter");
}

function log(): string {
  return existsSync(serverLog) ? readFileSync(serverLog, "utf8") : "";
}

/** Starts the server in its window (again, after a stop) and returns its line-TCP port. */
async function startServer(port: number): Promise<number> {
  // A fresh log, so the port read below is this server's, not the last one's.
  rmSync(serverLog, { force: true });
  tmux(
    "respawn-pane",
    "-k",
    "-c",
    process.cwd(),
    "-t",
    target("server"),
    `${node} --import tsx src/main.ts --host 127.0.0.1 --port ${port} --lp-port off --http-port off --store sqlite:${join(dir, "history.db")} 2>&1 | tee ${serverLog}`,
  );
  await until(
    () => /"tcp":\d+/.test(log()),
    () => `the server listening; log:\n${log()}\nscreen:\n${screen("server")}`,
  );
  return Number(/"tcp":(\d+)/.exec(log())![1]);
}

const statusFile = (window: string): string => join(dir, `${window}.status`);

/**
 * Starts parley-tui with `args` in a new window. The shell then writes the TUI's exit status to
 * a file: neither what it prints (tmux may handle the pane's exit before its last output, and
 * the screen shows only "Pane is dead") nor tmux's pane_dead (tmux 3.3a now and then misses a
 * pane's exit when two of its panes exit within a moment) is reliable.
 */
function startTui(window: string, args: string): void {
  tmux(
    "new-window",
    "-d",
    "-c",
    process.cwd(),
    "-t",
    SESSION,
    "-n",
    window,
    `${node} --import tsx clients/tui/main.tsx ${args}; echo $? > ${statusFile(window)}`,
  );
}

/** Waits for the TUI in `window` to exit and returns its exit status. */
async function exitStatus(window: string): Promise<string> {
  // The shell creates the file, then writes the status and a newline.
  const read = (): string =>
    existsSync(statusFile(window)) ? readFileSync(statusFile(window), "utf8") : "";
  await until(
    () => read().endsWith("\n"),
    () => `parley-tui to exit in window ${window}; screen:\n${screen(window)}`,
  );
  return read().trim();
}

/** A port on 127.0.0.1 nobody listens on (it was free a moment ago). */
async function refusedPort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return port;
}

describe("parley-tui in a real terminal", () => {
  let port = 0;

  before(async () => {
    tmux("new-session", "-d", "-s", SESSION, "-n", "server", "-x", "140", "-y", "35");
    // Keep a window whose program exited, with its last screen (for a failure's message).
    tmux("set-option", "-g", "-w", "remain-on-exit", "on");
    port = await startServer(0);
  });
  after(() => {
    try {
      tmux("kill-server");
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("without --server, waits on the connect page (prefilled) and connects to the typed address", async () => {
    startTui("carol", "--name carol");
    await ready("carol", "localhost:8080");
    // Nothing starts by itself: a connection at start would, within a moment, say "Connecting…"
    // or "Error:" here, or leave this page. (Only a pause can show that nothing happens; it
    // cannot fail a TUI that waits, however slow the machine.)
    await new Promise((r) => setTimeout(r, 1_000));
    assert.match(screen("carol"), /Press <Enter> to connect/);
    assert.doesNotMatch(screen("carol"), /Connecting…|Error:/);
    tmux("send-keys", "-t", target("carol"), "C-u");
    type("carol", `127.0.0.1:${port}`);
    await ready("carol", "● online");
    // The name is claimed after the login: it may show a moment after "● online".
    await shows("carol", "User: @carol");
    type("carol", "/quit");
    assert.equal(await exitStatus("carol"), "0");
  });

  it("with --server at a refused address, shows why on the connect page and takes a corrected one", async () => {
    const refused = `127.0.0.1:${await refusedPort()}`;
    startTui("dave", `--server ${refused}`);
    await ready("dave", "ECONNREFUSED");
    assert.match(screen("dave"), /Server Host and Port/);
    tmux("send-keys", "-t", target("dave"), "C-u");
    type("dave", `127.0.0.1:${port}`);
    await ready("dave", "● online");
    type("dave", "/quit");
    assert.equal(await exitStatus("dave"), "0");
  });

  it("with --server, connects without a key; a message crosses, both survive a server restart, history from before it shows on join, and what one missed while away fills in", async () => {
    // alice's network goes through a proxy of the test's, to take her away later.
    const proxy = await FaultProxy.start(port);
    // No key is pressed before "● online": --server connects at once.
    startTui("alice", `--server 127.0.0.1:${proxy.port} --name alice`);
    startTui("bob", `--server 127.0.0.1:${port} --name bob`);
    for (const w of ["alice", "bob"]) await ready(w, "● online");

    type("alice", "/join general");
    await shows("alice", 'on #general for "General discussions and community bonding"');
    type("bob", "/join general");
    await shows("alice", "bob has joined the room");

    type("alice", "hello from alice");
    await shows("bob", "@alice: hello from alice");
    assert.match(screen("bob"), /Room Users \(2\)[\s\S]*@bob \(you\)/);

    // The server goes away: both TUIs say so and keep what is typed meanwhile.
    tmux("send-keys", "-t", target("server"), "C-c");
    await shows("alice", "↻ retry in");
    await shows("bob", "↻ retry in");
    type("bob", "sent while the server was down");
    await shows("bob", "(sending…)");

    assert.equal(await startServer(port), port);
    // Retries back off (full jitter, doubling from 250 ms to a 30 s cap): the next one may be a
    // while after the server is back.
    const RECONNECT_MS = 45_000;
    await shows("alice", "reconnected", RECONNECT_MS);
    await shows("bob", "reconnected", RECONNECT_MS);
    // bob's queued message went out once he was back, and the server's echo confirmed it.
    await until(
      () => !screen("bob").includes("(sending…)"),
      () => `bob's message confirmed; screen:\n${screen("bob")}`,
    );
    assert.equal(count("bob", "@bob: sent while the server was down"), 1);
    // alice gets it once, live or in her rejoin's replay (whoever was back first)
    await shows("alice", "@bob: sent while the server was down");
    assert.equal(count("alice", "@bob: sent while the server was down"), 1);
    // A login empties the member list, so two members on alice's screen now are both back in
    // the room on the new server (her old list said 2 as well, hence "reconnected" first).
    await shows("alice", "Room Users (2)");
    type("bob", "back again");
    await shows("alice", "@bob: back again");

    // A TUI started after the restart shows what was said before it (the server's SQLite
    // history), above the divider, then its own join.
    startTui("frank", `--server 127.0.0.1:${port} --name frank`);
    await ready("frank", "● online");
    type("frank", "/join general");
    await shows("frank", "frank has joined the room");
    const f = screen("frank");
    const order = [
      "@alice: hello from alice",
      "@bob: sent while the server was down",
      "@bob: back again",
      BACKLOG_DIVIDER,
      "frank has joined the room",
    ].map((t) => f.indexOf(t));
    assert.ok(
      order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!)),
      `history, divider, join in order; screen:\n${f}`,
    );

    // alice's network goes down while others talk: when she is back, what she missed comes
    // first, in order, once.
    proxy.refuse();
    proxy.cut();
    await shows("alice", "↻ retry in");
    const walt = await WireClient.login(port);
    await walt.hello("walt");
    await walt.join("general");
    walt.send({ _ct: "send_message", r: "general", c: "said while alice was away" });
    await shows("bob", "@walt: said while alice was away");
    proxy.accept();
    await shows("alice", "@walt: said while alice was away", RECONNECT_MS);
    walt.send({ _ct: "send_message", r: "general", c: "after alice is back" });
    await shows("alice", "@walt: after alice is back");
    const a = screen("alice");
    const seq = [
      "@bob: back again",
      "@walt: said while alice was away",
      "@walt: after alice is back",
    ];
    assert.ok(
      seq.every(
        (t, i) => a.split(t).length === 2 && (i === 0 || a.indexOf(t) > a.indexOf(seq[i - 1]!)),
      ),
      `each once, in order; screen:\n${a}`,
    );
    walt.close();

    for (const w of ["alice", "bob", "frank"]) type(w, "/quit");
    for (const w of ["alice", "bob", "frank"]) {
      assert.equal(await exitStatus(w), "0", `${w}'s exit status`);
    }
    await proxy.close();
  });

  it("shows escape sequences in a message as symbols: the terminal's title and clipboard stay as they were", async () => {
    // tmux turns an application's OSC 52 into a paste buffer, and OSC 2 sets the pane's title.
    tmux("set-option", "-g", "set-clipboard", "on");
    startTui("erin", `--server 127.0.0.1:${port} --name erin`);
    await ready("erin", "● online");
    type("erin", "/join general");
    await shows("erin", "erin has joined the room");

    const mallory = await WireClient.login(port);
    await mallory.join("general");
    const clip = Buffer.from("pwned-clip").toString("base64");
    mallory.send({
      _ct: "send_message",
      r: "general",
      c: `title \u001b]2;pwned-title\u0007 clip \u001b]52;c;${clip}\u0007 clear \u001b[2J end`,
    });
    await shows("erin", `title ␛]2;pwned-title␇ clip ␛]52;c;${clip}␇ clear ␛[2J end`);
    assert.doesNotMatch(
      tmux("display-message", "-p", "-t", target("erin"), "#{pane_title}"),
      /pwned/,
    );
    assert.doesNotMatch(tmux("list-buffers"), /pwned/);
    mallory.close();
    type("erin", "/quit");
    assert.equal(await exitStatus("erin"), "0");
  });
});
