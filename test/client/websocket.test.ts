// The client library over Parley's real WebSocket endpoint (ws://host:port/ws, one JSON command
// or event per text frame), with the `ws` package's WebSocket class (Node 20 has no global one).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { App } from "../../src/app.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { nodeWebSocketTransport } from "../../clients/lib/node-websocket.js";
import { tcpTransport } from "../../clients/lib/tcp-transport.js";
import { FaultProxy, ManualClock, startParley, waitFor } from "./support.js";

const ROOMS = ["ai", "general"];
/** long enough for any backoff delay these tests can draw */
const PAST_ANY_BACKOFF = 60_000;

interface Peer {
  client: ParleyClient;
  clock: ManualClock;
  /** "room:text" of every user_message received, in order */
  seen: string[];
}

function peer(client: (clock: ManualClock) => ParleyClient): Peer {
  const clock = new ManualClock();
  const p: Peer = { client: client(clock), clock, seen: [] };
  p.client.on("event", (ev) => ev._et === "user_message" && p.seen.push(`${ev.r}:${ev.c}`));
  return p;
}

function wsPeer(port: number, name: string): Peer {
  return peer(
    (clock) =>
      new ParleyClient({
        transport: nodeWebSocketTransport(`ws://127.0.0.1:${port}/ws`),
        name,
        clock,
        random: () => 0.5,
        heartbeatMs: 0,
      }),
  );
}

function tcpPeer(port: number, name: string): Peer {
  return peer(
    (clock) =>
      new ParleyClient({
        transport: tcpTransport({ host: "127.0.0.1", port }),
        name,
        clock,
        random: () => 0.5,
        heartbeatMs: 0,
      }),
  );
}

async function joinAll(p: Peer): Promise<void> {
  for (const room of ROOMS) {
    const joined = waitFor(
      p.client,
      "event",
      (ev) => ev._et === "user_joined_room" && ev.r === room,
    );
    p.client.join(room);
    await joined;
  }
}

/** Resolves when `p` has received `text` in `room`. */
function receives(p: Peer, room: string, text: string): Promise<unknown> {
  if (p.seen.includes(`${room}:${text}`)) return Promise.resolve();
  return waitFor(
    p.client,
    "event",
    (ev) => ev._et === "user_message" && ev.r === room && ev.c === text,
  );
}

/** Lets the backoff timer fire; resolves once logged in again and back in every room. */
async function reconnect(p: Peer): Promise<void> {
  const ready = waitFor(p.client, "ready");
  const rejoined = ROOMS.map((room) =>
    waitFor(p.client, "event", (ev) => ev._et === "user_joined_room" && ev.r === room),
  );
  p.clock.advance(PAST_ANY_BACKOFF);
  await ready;
  await Promise.all(rejoined);
}

const apps: App[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.stop()));
});

describe("ParleyClient over Parley's WebSocket endpoint", () => {
  it("rejoins its rooms, reclaims its name and delivers the outbox exactly once after the server restarts on the same port", async () => {
    const app = await startParley();
    const ports = { tcp: app.ports.tcp!, lp: app.ports.lp!, http: app.ports.http! };
    const alice = wsPeer(ports.http, "ws-alice");
    const bob = tcpPeer(ports.tcp, "tcp-bob");
    const session = await alice.client.connect();
    assert.equal(session.extended, true);
    await bob.client.connect();
    await joinAll(alice);
    await joinAll(bob);
    alice.client.send("ai", "before");
    await receives(bob, "ai", "before");

    const aliceDown = waitFor(alice.client, "status", (s) => s.state === "waiting");
    const bobDown = waitFor(bob.client, "status", (s) => s.state === "waiting");
    await app.stop();
    const [status] = await aliceDown;
    assert.match(status.lastError ?? "", /SERVER_SHUTDOWN/);
    await bobDown;
    alice.client.send("ai", "while down 1");
    alice.client.send("general", "while down 2");
    alice.client.send("ai", "while down 3");
    assert.deepEqual(
      alice.client.pending.map((e) => e.text),
      ["while down 1", "while down 2", "while down 3"],
    );

    const app2 = await startParley(ports);
    apps.push(app2);
    assert.equal(app2.ports.http, ports.http);
    await reconnect(bob); // bob first, so that he is in both rooms when alice's outbox lands
    const aliceBack = waitFor(
      bob.client,
      "event",
      (ev) => ev._et === "room_participation" && ev.s === "joined" && ev.n === "ws-alice",
    );
    const emptied = waitFor(alice.client, "outbox", (n) => n === 0);
    await reconnect(alice);
    await aliceBack;
    await emptied;
    assert.deepEqual(alice.client.rooms, ROOMS);
    assert.equal(alice.client.session?.name, "ws-alice");
    assert.equal(alice.client.session?.reconnects, 1);

    // Barrier: anything alice's connection carried before "end" has reached bob by then.
    alice.client.send("ai", "end");
    await receives(bob, "ai", "end");
    await receives(alice, "ai", "end");
    const expected = [
      "ai:before",
      "ai:while down 1",
      "general:while down 2",
      "ai:while down 3",
      "ai:end",
    ];
    assert.deepEqual(bob.seen, expected);
    assert.deepEqual(alice.seen, expected);
    await Promise.all([alice.client.close(), bob.client.close()]);
  });

  it("resends a message whose echo was lost with the WebSocket, and everyone sees it once", async () => {
    const app = await startParley();
    apps.push(app);
    // A TCP proxy in front of the HTTP port: the WebSocket's bytes pass through it.
    const proxy = await FaultProxy.start(app.ports.http!);
    const alice = wsPeer(proxy.port, "ws-alice2");
    const bob = wsPeer(app.ports.http!, "ws-bob2");
    await alice.client.connect();
    await bob.client.connect();
    await joinAll(alice);
    await joinAll(bob);

    proxy.holdDownstream();
    const cid = alice.client.send("general", "m1");
    await receives(bob, "general", "m1"); // the server broadcast it...
    assert.deepEqual(alice.seen, []); // ...but alice never got her echo
    assert.deepEqual(
      alice.client.pending.map((e) => e.cid),
      [cid],
    );

    const down = waitFor(alice.client, "status", (s) => s.state === "waiting");
    proxy.cut();
    await down;
    const echo = waitFor(alice.client, "event", (ev) => ev._et === "user_message" && ev.c === "m1");
    await reconnect(alice);
    const [replayed] = await echo;
    assert.equal(replayed._et === "user_message" && replayed.cid, cid);
    assert.equal(replayed._et === "user_message" && alice.client.isOwn(replayed), true);
    assert.equal(alice.client.pending.length, 0);

    alice.client.send("general", "end");
    await receives(bob, "general", "end");
    await receives(alice, "general", "end");
    assert.deepEqual(bob.seen, ["general:m1", "general:end"]);
    assert.deepEqual(alice.seen, ["general:m1", "general:end"]);
    await Promise.all([alice.client.close(), bob.client.close()]);
    await proxy.close();
  });
});
