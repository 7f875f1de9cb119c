// End to end in a real terminal: tmux runs the server and the TUIs (each a real process, as a
// person would start them); keys go in with send-keys and the screens are read with capture-pane.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { once } from "node:events";
import { join } from "node:path";
import { WireClient } from "../helpers/harness.js";
import { FaultProxy } from "../client/support.js";
import { BACKLOG_DIVIDER } from "../../clients/tui/room-history.js";
import { Tmux, until } from "./support/tmux.js";

let t: Tmux;
const serverLog = (): string => join(t.dir, "server.log");
const node = process.execPath;

function log(): string {
  return existsSync(serverLog()) ? readFileSync(serverLog(), "utf8") : "";
}

/** Starts the server in its window (again, after a stop) and returns its line-TCP port. */
async function startServer(port: number): Promise<number> {
  // A fresh log, so the port read below is this server's, not the last one's.
  rmSync(serverLog(), { force: true });
  t.run(
    "respawn-pane",
    "-k",
    "-c",
    process.cwd(),
    "-t",
    t.target("server"),
    `${node} --import tsx src/main.ts --host 127.0.0.1 --port ${port} --lp-port off --http-port off --store sqlite:${join(t.dir, "history.db")} 2>&1 | tee ${serverLog()}`,
  );
  await until(
    () => /"tcp":\d+/.test(log()),
    () => `the server listening; log:\n${log()}\nscreen:\n${t.screen("server")}`,
  );
  return Number(/"tcp":(\d+)/.exec(log())![1]);
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
    t = new Tmux("server", { width: 140, height: 35 });
    port = await startServer(0);
  });
  after(() => t?.close());

  it("without --server, waits on the connect page (prefilled) and connects to the typed address", async () => {
    t.startTui("carol", "--name carol");
    await t.ready("carol", "localhost:8080");
    // Nothing starts by itself: a connection at start would, within a moment, say "Connecting…"
    // or "Error:" here, or leave this page. (Only a pause can show that nothing happens; it
    // cannot fail a TUI that waits, however slow the machine.)
    await new Promise((r) => setTimeout(r, 1_000));
    assert.match(t.screen("carol"), /Press <Enter> to connect/);
    assert.doesNotMatch(t.screen("carol"), /Connecting…|Error:/);
    t.keys("carol", "C-u");
    t.type("carol", `127.0.0.1:${port}`);
    await t.ready("carol", "● online");
    // The name is claimed after the login: it may show a moment after "● online".
    await t.shows("carol", "User: @carol");
    t.type("carol", "/quit");
    assert.equal(await t.exitStatus("carol"), "0");
  });

  it("with --server at a refused address, shows why on the connect page and takes a corrected one", async () => {
    const refused = `127.0.0.1:${await refusedPort()}`;
    t.startTui("dave", `--server ${refused}`);
    await t.ready("dave", "ECONNREFUSED");
    assert.match(t.screen("dave"), /Server Host and Port/);
    t.keys("dave", "C-u");
    t.type("dave", `127.0.0.1:${port}`);
    await t.ready("dave", "● online");
    t.type("dave", "/quit");
    assert.equal(await t.exitStatus("dave"), "0");
  });

  it("with --server, connects without a key; a message crosses, both survive a server restart, history from before it shows on join, and what one missed while away fills in", async () => {
    // alice's network goes through a proxy of the test's, to take her away later.
    const proxy = await FaultProxy.start(port);
    // No key is pressed before "● online": --server connects at once.
    t.startTui("alice", `--server 127.0.0.1:${proxy.port} --name alice`);
    t.startTui("bob", `--server 127.0.0.1:${port} --name bob`);
    for (const w of ["alice", "bob"]) await t.ready(w, "● online");

    t.type("alice", "/join general");
    await t.shows("alice", 'on #general for "General discussions and community bonding"');
    t.type("bob", "/join general");
    await t.shows("alice", "bob has joined the room");

    t.type("alice", "hello from alice");
    await t.shows("bob", "@alice: hello from alice");
    assert.match(t.screen("bob"), /Room Users \(2\)[\s\S]*@bob \(you\)/);

    // The server goes away: both TUIs say so and keep what is typed meanwhile.
    t.keys("server", "C-c");
    await t.shows("alice", "↻ retry in");
    await t.shows("bob", "↻ retry in");
    t.type("bob", "sent while the server was down");
    await t.shows("bob", "(sending…)");

    assert.equal(await startServer(port), port);
    // Retries back off (full jitter, doubling from 250 ms to a 30 s cap): the next one may be a
    // while after the server is back.
    const RECONNECT_MS = 45_000;
    await t.shows("alice", "reconnected", RECONNECT_MS);
    await t.shows("bob", "reconnected", RECONNECT_MS);
    // bob's queued message went out once he was back, and the server's echo confirmed it.
    await until(
      () => !t.screen("bob").includes("(sending…)"),
      () => `bob's message confirmed; screen:\n${t.screen("bob")}`,
    );
    assert.equal(t.count("bob", "@bob: sent while the server was down"), 1);
    // alice gets it once, live or in her rejoin's replay (whoever was back first)
    await t.shows("alice", "@bob: sent while the server was down");
    assert.equal(t.count("alice", "@bob: sent while the server was down"), 1);
    // A login empties the member list, so two members on alice's screen now are both back in
    // the room on the new server (her old list said 2 as well, hence "reconnected" first).
    await t.shows("alice", "Room Users (2)");
    t.type("bob", "back again");
    await t.shows("alice", "@bob: back again");

    // A TUI started after the restart shows what was said before it (the server's SQLite
    // history), above the divider, then its own join.
    t.startTui("frank", `--server 127.0.0.1:${port} --name frank`);
    await t.ready("frank", "● online");
    t.type("frank", "/join general");
    await t.shows("frank", "frank has joined the room");
    const f = t.screen("frank");
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
    await t.shows("alice", "↻ retry in");
    const walt = await WireClient.login(port);
    await walt.hello("walt");
    await walt.join("general");
    walt.send({ _ct: "send_message", r: "general", c: "said while alice was away" });
    await t.shows("bob", "@walt: said while alice was away");
    proxy.accept();
    await t.shows("alice", "@walt: said while alice was away", RECONNECT_MS);
    walt.send({ _ct: "send_message", r: "general", c: "after alice is back" });
    await t.shows("alice", "@walt: after alice is back");
    const a = t.screen("alice");
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

    for (const w of ["alice", "bob", "frank"]) t.type(w, "/quit");
    for (const w of ["alice", "bob", "frank"]) {
      assert.equal(await t.exitStatus(w), "0", `${w}'s exit status`);
    }
    await proxy.close();
  });

  it("shows escape sequences in a message as symbols: the terminal's title and clipboard stay as they were", async () => {
    // tmux turns an application's OSC 52 into a paste buffer, and OSC 2 sets the pane's title.
    t.run("set-option", "-g", "set-clipboard", "on");
    t.startTui("erin", `--server 127.0.0.1:${port} --name erin`);
    await t.ready("erin", "● online");
    t.type("erin", "/join general");
    await t.shows("erin", "erin has joined the room");

    const mallory = await WireClient.login(port);
    await mallory.join("general");
    const clip = Buffer.from("pwned-clip").toString("base64");
    mallory.send({
      _ct: "send_message",
      r: "general",
      c: `title \u001b]2;pwned-title\u0007 clip \u001b]52;c;${clip}\u0007 clear \u001b[2J end`,
    });
    await t.shows("erin", `title ␛]2;pwned-title␇ clip ␛]52;c;${clip}␇ clear ␛[2J end`);
    assert.doesNotMatch(
      t.run("display-message", "-p", "-t", t.target("erin"), "#{pane_title}"),
      /pwned/,
    );
    assert.doesNotMatch(t.run("list-buffers"), /pwned/);
    mallory.close();
    t.type("erin", "/quit");
    assert.equal(await t.exitStatus("erin"), "0");
  });
});
