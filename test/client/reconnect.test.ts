import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { once } from "node:events";
import type { App } from "../../src/app.js";
import type { UserMessageEvent } from "../../src/protocol/index.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { tcpTransport, type TcpFraming } from "../../clients/lib/tcp-transport.js";
import { ClientError } from "../../clients/lib/errors.js";
import { FaultProxy, ManualClock, startParley, until, waitFor } from "./support.js";

const ROOM = "general";
/** long enough for any backoff delay these tests can draw */
const PAST_ANY_BACKOFF = 60_000;

interface Peer {
  client: ParleyClient;
  clock: ManualClock;
  /** texts of the user_message events received, in order */
  texts: string[];
  messages: UserMessageEvent[];
}

function peer(port: number, framing: TcpFraming, name: string): Peer {
  const clock = new ManualClock();
  const client = new ParleyClient({
    transport: tcpTransport({ host: "127.0.0.1", port, framing }),
    name,
    clock,
    random: () => 0.5,
    heartbeatMs: 0,
  });
  const p: Peer = { client, clock, texts: [], messages: [] };
  client.on("event", (ev) => {
    if (ev._et === "user_message") {
      p.texts.push(ev.c);
      p.messages.push(ev);
    }
  });
  return p;
}

async function joined(p: Peer, room = ROOM): Promise<void> {
  const seen = waitFor(p.client, "event", (ev) => ev._et === "user_joined_room" && ev.r === room);
  p.client.join(room);
  await seen;
}

/** Resolves when `p` has received a message with `text` (sent by anyone). */
function receives(p: Peer, text: string): Promise<unknown> {
  if (p.texts.includes(text)) return Promise.resolve();
  return waitFor(p.client, "event", (ev) => ev._et === "user_message" && ev.c === text);
}

async function reconnect(p: Peer): Promise<void> {
  const ready = waitFor(p.client, "ready");
  const rejoined = waitFor(p.client, "event", (ev) => ev._et === "user_joined_room");
  p.clock.advance(PAST_ANY_BACKOFF);
  await ready;
  await rejoined;
}

const apps: App[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.stop()));
});

for (const framing of ["line", "length-prefixed"] as const) {
  describe(`ParleyClient over TCP ${framing}`, () => {
    it("rejoins its rooms, reclaims its name and delivers the outbox exactly once after the server restarts", async () => {
      const app = await startParley();
      const ports = { tcp: app.ports.tcp!, lp: app.ports.lp! };
      const port = framing === "line" ? ports.tcp : ports.lp;
      const alice = peer(port, framing, "alice");
      const bob = peer(ports.tcp, "line", "bob");
      await alice.client.connect();
      await bob.client.connect();
      await joined(alice);
      await joined(bob);
      alice.client.send(ROOM, "before");
      await receives(bob, "before");

      const aliceDown = waitFor(alice.client, "status", (s) => s.state === "waiting");
      const bobDown = waitFor(bob.client, "status", (s) => s.state === "waiting");
      await app.stop();
      await Promise.all([aliceDown, bobDown]);
      alice.client.send(ROOM, "while down 1");
      alice.client.send(ROOM, "while down 2");
      assert.equal(alice.client.pending.length, 2);

      const app2 = await startParley(ports);
      apps.push(app2);
      await reconnect(bob); // bob first, so that he is in the room when alice's outbox lands
      const aliceBack = waitFor(
        bob.client,
        "event",
        (ev) => ev._et === "room_participation" && ev.s === "joined" && ev.n === "alice",
      );
      await reconnect(alice);
      await aliceBack;
      await receives(bob, "while down 2");
      // her echoes come on her own connection, maybe a moment after bob's copies
      await until(() => alice.client.pending.length === 0, 5_000, "alice's outbox to empty");
      assert.deepEqual(alice.client.rooms, [ROOM]);
      assert.equal(alice.client.session?.name, "alice");
      assert.equal(alice.client.session?.reconnects, 1);

      // Barrier: anything alice's connection carried before "end" has reached bob by then.
      alice.client.send(ROOM, "end");
      await receives(bob, "end");
      assert.deepEqual(bob.texts, ["before", "while down 1", "while down 2", "end"]);
      await Promise.all([alice.client.close(), bob.client.close()]);
    });

    it("resends a message whose echo was lost with the connection, and everyone sees it once", async () => {
      const app = await startParley();
      apps.push(app);
      const port = framing === "line" ? app.ports.tcp! : app.ports.lp!;
      const proxy = await FaultProxy.start(port);
      const alice = peer(proxy.port, framing, "alice2");
      const bob = peer(app.ports.tcp!, "line", "bob2");
      await alice.client.connect();
      await bob.client.connect();
      await joined(alice);
      await joined(bob);

      proxy.holdDownstream();
      const cid = alice.client.send(ROOM, "m1");
      await receives(bob, "m1"); // the server broadcast it...
      assert.deepEqual(alice.texts, []); // ...but alice never got her echo
      assert.equal(alice.client.pending[0]?.cid, cid);

      const down = waitFor(alice.client, "status", (s) => s.state === "waiting");
      proxy.cut();
      await down;
      const echo = waitFor(
        alice.client,
        "event",
        (ev) => ev._et === "user_message" && ev.c === "m1",
      );
      await reconnect(alice);
      await echo;
      assert.equal(alice.client.pending.length, 0);

      alice.client.send(ROOM, "end");
      await receives(bob, "end");
      await receives(alice, "end");
      assert.deepEqual(bob.texts, ["m1", "end"]);
      assert.deepEqual(alice.texts, ["m1", "end"]);
      assert.equal(alice.messages[0]?.cid, cid);
      await Promise.all([alice.client.close(), bob.client.close()]);
      await proxy.close();
    });
  });
}

describe("ParleyClient display name", () => {
  it("reclaims its name once the server lets go of the stale session that held it", async () => {
    const app = await startParley();
    apps.push(app);
    const proxy = await FaultProxy.start(app.ports.tcp!);
    const clock = new ManualClock();
    const client = new ParleyClient({
      transport: tcpTransport({ host: "127.0.0.1", port: proxy.port }),
      name: "carol",
      clock,
      random: () => 0.5,
      heartbeatMs: 0,
      reclaimDelayMs: 1_000,
    });
    await client.connect();
    await waitFor(client, "event", (ev) => ev._et === "welcome");
    assert.equal(client.session?.name, "carol");

    const down = waitFor(client, "status", (s) => s.state === "waiting");
    proxy.orphanUpstreams(); // the server still holds the old session, and the name
    await down;
    const taken = waitFor(
      client,
      "event",
      (ev) => ev._et === "error" && ev.code === "NAME_TAKEN" && ev.cmd === "hello",
    );
    clock.advance(PAST_ANY_BACKOFF);
    await taken;
    assert.notEqual(client.session?.name, "carol");

    proxy.dropOrphans(); // the server notices the old connection is gone
    await until(() => app.chat.connectionCount === 1, 5_000, "the server to end the stale session");
    const renamed = waitFor(client, "event", (ev) => ev._et === "user_renamed" && ev.n === "carol");
    clock.advance(1_000); // the first retry
    await renamed;
    assert.equal(client.session?.name, "carol");
    await client.close();
    await proxy.close();
  });
});

describe("ParleyClient reconnect policy", () => {
  it("waits longer after each failed attempt, up to the cap (injected clock, no sleeps)", async () => {
    const app = await startParley();
    const port = app.ports.tcp!;
    const clock = new ManualClock();
    const client = new ParleyClient({
      transport: tcpTransport({ host: "127.0.0.1", port }),
      clock,
      random: () => 0.999999,
      backoff: { baseMs: 100, maxMs: 2_000, factor: 2 },
      heartbeatMs: 0,
    });
    await client.connect();
    const delays: number[] = [];
    client.on("status", (s) => {
      if (s.state === "waiting") delays.push(s.retryAt! - clock.now());
    });
    let waiting = waitFor(client, "status", (s) => s.state === "waiting");
    await app.stop(); // the port is now closed: every attempt is refused
    for (let i = 0; i < 7; i++) {
      await waiting;
      waiting = waitFor(client, "status", (s) => s.state === "waiting");
      clock.advance(PAST_ANY_BACKOFF);
    }
    await waiting;
    assert.deepEqual(delays, [99, 199, 399, 799, 1_599, 1_999, 1_999, 1_999]);
    await client.close();
  });

  it("goes back to the shortest delay once a connection has lasted", async () => {
    const app = await startParley();
    const ports = { tcp: app.ports.tcp!, lp: app.ports.lp! };
    const clock = new ManualClock();
    const client = new ParleyClient({
      transport: tcpTransport({ host: "127.0.0.1", port: ports.tcp }),
      clock,
      random: () => 0.999999,
      backoff: { baseMs: 100, maxMs: 2_000 },
      stableAfterMs: 5_000,
      heartbeatMs: 0,
    });
    await client.connect();
    let waiting = waitFor(client, "status", (s) => s.state === "waiting");
    await app.stop();
    await waiting;
    waiting = waitFor(client, "status", (s) => s.state === "waiting");
    clock.advance(PAST_ANY_BACKOFF); // refused: the second delay is longer
    const [second] = await waiting;
    assert.equal(second.retryAt! - clock.now(), 199);

    const app2 = await startParley(ports);
    const ready = waitFor(client, "ready");
    clock.advance(PAST_ANY_BACKOFF);
    await ready;
    clock.advance(5_000); // the connection lasts
    waiting = waitFor(client, "status", (s) => s.state === "waiting");
    await app2.stop();
    const [afterStable] = await waiting;
    assert.equal(afterStable.retryAt! - clock.now(), 99);
    await client.close();
  });

  it("rejects connect() with the error when the first connection fails", async () => {
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const client = new ParleyClient({ transport: tcpTransport({ host: "127.0.0.1", port }) });
    await assert.rejects(client.connect(), /ECONNREFUSED/);
    assert.equal(client.status.state, "closed");
    assert.match(client.status.lastError ?? "", /ECONNREFUSED/);
  });

  it("refuses more unconfirmed messages than the outbox bound while offline", async () => {
    const app = await startParley();
    const clock = new ManualClock();
    const client = new ParleyClient({
      transport: tcpTransport({ host: "127.0.0.1", port: app.ports.tcp! }),
      clock,
      outboxLimit: 2,
      heartbeatMs: 0,
    });
    await client.connect();
    client.join(ROOM);
    const waiting = waitFor(client, "status", (s) => s.state === "waiting");
    await app.stop();
    await waiting;
    client.send(ROOM, "1");
    client.send(ROOM, "2");
    assert.throws(
      () => client.send(ROOM, "3"),
      (err: unknown) => err instanceof ClientError && err.code === "OUTBOX_FULL",
    );
    const failed: string[] = [];
    client.on("failed", (f) => failed.push(`${f.text}:${f.code}`));
    await client.close();
    assert.deepEqual(failed, ["1:CLOSED", "2:CLOSED"]);
  });

  it("drops a link whose heartbeat goes unanswered and reconnects", async () => {
    const app = await startParley();
    apps.push(app);
    const proxy = await FaultProxy.start(app.ports.tcp!);
    const clock = new ManualClock();
    const client = new ParleyClient({
      transport: tcpTransport({ host: "127.0.0.1", port: proxy.port }),
      clock,
      heartbeatMs: 1_000,
    });
    await client.connect();
    const pong = waitFor(client, "event", (ev) => ev._et === "pong");
    clock.advance(1_000);
    await pong; // a live link answers
    proxy.holdDownstream(); // now it goes silent, as a half-open connection does
    const waiting = waitFor(client, "status", (s) => s.state === "waiting");
    clock.advance(1_000); // ping
    clock.advance(1_000); // no reply since: dead
    const [status] = await waiting;
    assert.match(status.lastError ?? "", /no reply/);
    await client.close();
    await proxy.close();
  });
});
