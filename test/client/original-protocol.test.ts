import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ORIGINAL_COMMANDS } from "../../src/protocol/index.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { tcpTransport } from "../../clients/lib/tcp-transport.js";
import type { FailedMessage } from "../../clients/lib/parley-client.js";
import { ManualClock, waitFor } from "./support.js";
import { OriginalServer } from "./original-server.js";

const ROOMS = [
  { n: "general", d: "General" },
  { n: "rust", d: "Rust" },
];

function client(port: number, clock = new ManualClock()): ParleyClient {
  return new ParleyClient({
    transport: tcpTransport({ host: "127.0.0.1", port }),
    name: "alice",
    clock,
    random: () => 0.5,
  });
}

describe("ParleyClient against an original-protocol server", () => {
  let server: OriginalServer;
  before(async () => {
    server = await OriginalServer.start(ROOMS);
  });
  after(() => server.close());

  it("sends only original commands, rejoins after a drop and delivers what was queued offline", async () => {
    const clock = new ManualClock();
    const alice = client(server.port, clock);
    const bob = client(server.port);
    const session = await alice.connect();
    assert.equal(session.extended, false);
    await bob.connect();
    for (const c of [alice, bob]) {
      const joined = waitFor(c, "event", (ev) => ev._et === "user_joined_room");
      c.join("general");
      await joined;
    }
    const bobTexts: string[] = [];
    bob.on("event", (ev) => ev._et === "user_message" && bobTexts.push(ev.c));
    assert.throws(() => alice.setName("alicia"), /no display names/);

    const down = waitFor(alice, "status", (s) => s.state === "waiting");
    const bobDown = waitFor(bob, "status", (s) => s.state === "waiting");
    server.dropAll();
    await Promise.all([down, bobDown]);
    alice.send("general", "queued offline");

    const bobBack = waitFor(bob, "event", (ev) => ev._et === "user_joined_room");
    bob.reconnectNow();
    await bobBack;
    const echo = waitFor(alice, "event", (ev) => ev._et === "user_message");
    clock.advance(60_000);
    await echo;
    assert.equal(alice.pending.length, 0);
    const end = waitFor(bob, "event", (ev) => ev._et === "user_message" && ev.c === "end");
    alice.send("general", "end");
    await end;
    assert.deepEqual(bobTexts, ["queued offline", "end"]);
    for (const cmd of server.received)
      assert.ok(ORIGINAL_COMMANDS.has(cmd._ct as string), String(cmd._ct));
    await Promise.all([alice.close(), bob.close()]);
  });

  it("reports a message lost with the connection instead of resending it (no dedup there)", async () => {
    const clock = new ManualClock();
    const alice = client(server.port, clock);
    await alice.connect();
    const joined = waitFor(alice, "event", (ev) => ev._et === "user_joined_room");
    alice.join("rust");
    await joined;
    server.holding = true; // the server reads the message but never handles it
    const failed: FailedMessage[] = [];
    alice.on("failed", (f) => failed.push(f));
    alice.send("rust", "maybe lost");
    const down = waitFor(alice, "status", (s) => s.state === "waiting");
    assert.equal(alice.pending[0]?.sent, true); // written on the link, awaiting its echo
    server.dropAll();
    await down;
    server.holding = false;
    assert.deepEqual(
      failed.map((f) => [f.text, f.code]),
      [["maybe lost", "UNCONFIRMED"]],
    );
    assert.equal(alice.pending.length, 0);
    await alice.close();
  });
});
