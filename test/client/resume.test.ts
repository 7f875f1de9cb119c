// The client library resumes each room from its last offset after a network drop: the reader
// gets every message it missed, in order, exactly once, over every transport; the server's
// `gap` and `reset` reach the app; a fresh join brings a backlog, capped by the server.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { App } from "../../src/app.js";
import { startTestApp } from "../e2e/support/test-app.js";
import { delay, WireClient } from "../helpers/harness.js";
import {
  consecutive,
  keepSending,
  portOf,
  range,
  Reader,
  received,
  ROOM,
  sendAll,
  sender,
  transportTo,
  TRANSPORTS,
  type Ports,
} from "./history-support.js";
import { FaultProxy, until, waitFor } from "./support.js";

const apps: App[] = [];
const proxies: FaultProxy[] = [];
after(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await Promise.all(apps.map((a) => a.stop()));
});

async function server(overrides: Parameters<typeof startTestApp>[0] = {}) {
  const app = await startTestApp(overrides);
  apps.push(app);
  const ports: Ports = { tcp: app.ports.tcp!, lp: app.ports.lp!, http: app.ports.http! };
  return { app, ports };
}

describe("ParleyClient resume after a network drop", () => {
  for (const kind of TRANSPORTS) {
    it(`over ${kind}: a reader cut mid-conversation gets every message once, in order, while another keeps sending`, async () => {
      const { ports } = await server();
      const proxy = await FaultProxy.start(portOf(kind, ports));
      proxies.push(proxy);
      const reader = new Reader(transportTo(kind, proxy.port), { historyOnJoin: 0 });
      await reader.client.connect();
      const first = await reader.join();
      assert.equal(first.status, "fresh");
      const talker = await sender(ports.tcp);
      const pump = keepSending(talker, "m");

      await until(() => reader.messages.length >= 20, 15_000, "20 live messages");
      proxy.cut();
      await reader.down();
      const atCut = received(talker).length;
      await until(() => received(talker).length >= atCut + 40, 15_000, "40 sent while it is away");
      const back = await reader.reconnect();
      assert.equal(back.status, "exact");
      assert.equal(back.rejoin, true);
      assert.ok(back.replayed >= 1, `replayed ${back.replayed}`);
      const atBack = reader.messages.length;
      await until(() => reader.messages.length >= atBack + 20, 15_000, "20 live after the rejoin");
      await pump.stop();
      talker.send({ _ct: "send_message", r: ROOM, c: "end" });
      await reader.receives("end");

      const all = received(talker);
      assert.equal(all.at(-1), "end");
      assert.deepEqual(reader.texts(), all, "every message once, in the room's order");
      assert.ok(consecutive(reader.ids()), "offsets 1, 2, 3... without a hole or a repeat");
      talker.close();
      await reader.client.close();
    });
  }

  it("says `gap` when retention trimmed what it missed, and delivers what the server still has", async () => {
    // Retention runs every 10 s: this test waits for one run.
    const { ports } = await server({ retention: { maxMessages: 10, maxAgeMs: 86_400_000 } });
    const proxy = await FaultProxy.start(ports.tcp);
    proxies.push(proxy);
    const reader = new Reader(transportTo("line", proxy.port), { historyOnJoin: 0 });
    await reader.client.connect();
    await reader.join();
    const talker = await sender(ports.tcp);
    sendAll(talker, range(5, "before"));
    await reader.receives("before4");
    proxy.cut();
    await reader.down();
    sendAll(talker, range(30, "missed"));
    const probe = await WireClient.login(ports.tcp);
    for (const deadline = Date.now() + 30_000; ; await delay(250)) {
      assert.ok(Date.now() < deadline, "retention trimmed the room within 30 s");
      probe.send({ _ct: "history", r: ROOM, l: 1 });
      const page = await probe.next("history");
      if (page._et === "history" && page.first > 6) break;
    }
    probe.close();
    const back = await reader.reconnect();
    assert.equal(back.status, "gap");
    assert.equal(back.replayed, 10);
    assert.deepEqual(reader.texts(), [...range(5, "before"), ...range(10, "missed", 20)]);
    assert.deepEqual(
      reader.ids().slice(5),
      range(10, "").map((_, i) => 26 + i),
    );
    talker.close();
    await reader.client.close();
  });

  it("says `reset` when the room's history is gone (a new server with an empty store), and goes on from its offsets", async () => {
    const { app, ports } = await server();
    const reader = new Reader(transportTo("line", ports.tcp), { historyOnJoin: 0 });
    await reader.client.connect();
    await reader.join();
    const talker = await sender(ports.tcp);
    sendAll(talker, range(8, "old"));
    await reader.receives("old7");
    talker.close();
    await app.stop();
    await reader.down();

    const again = await startTestApp({
      tcpPort: ports.tcp,
      lpPort: ports.lp,
      httpPort: ports.http,
    });
    apps.push(again);
    const back = await reader.reconnect();
    assert.equal(back.status, "reset");
    assert.equal(back.replayed, 0);
    assert.equal(back.offset, 0);
    const fresh = await sender(ports.tcp);
    sendAll(fresh, ["new0", "new1"]);
    await reader.receives("new1");
    // ids start over in the new epoch, and are not mistaken for the old ones
    assert.deepEqual(reader.texts(), [...range(8, "old"), "new0", "new1"]);
    assert.deepEqual(reader.ids().slice(8), [1, 2]);
    fresh.close();
    await reader.client.close();
  });
});

describe("ParleyClient backlog on join", () => {
  it("replays the latest messages before the join goes live, then live ones follow", async () => {
    const { ports } = await server();
    const talker = await sender(ports.tcp);
    sendAll(talker, range(30, "b"));
    await until(() => received(talker).length === 30, 10_000, "30 messages");
    const reader = new Reader(transportTo("line", ports.tcp), { historyOnJoin: 10 });
    await reader.client.connect();
    const order: string[] = [];
    reader.client.on("event", (ev) => {
      if (ev._et === "user_message" || ev._et === "user_joined_room") order.push(ev._et);
    });
    const live = await reader.join();
    assert.deepEqual(
      { status: live.status, replayed: live.replayed, offset: live.offset, rejoin: live.rejoin },
      { status: "fresh", replayed: 10, offset: 30, rejoin: false },
    );
    assert.deepEqual(reader.texts(), range(10, "b", 20));
    assert.deepEqual(order, [...range(10, "").map(() => "user_message"), "user_joined_room"]);
    sendAll(talker, ["live"]);
    await reader.receives("live");
    assert.deepEqual(
      reader.ids(),
      range(11, "").map((_, i) => 21 + i),
    );

    // a per-call backlog, and none
    const five = new Reader(transportTo("websocket", ports.http), { historyOnJoin: 0 });
    await five.client.connect();
    assert.equal((await five.join(ROOM, 5)).replayed, 5);
    assert.deepEqual(five.texts(), [...range(4, "b", 26), "live"]);
    const none = new Reader(transportTo("length-prefixed", ports.lp), { historyOnJoin: 0 });
    await none.client.connect();
    assert.equal((await none.join()).replayed, 0);
    assert.deepEqual(none.messages, []);
    talker.close();
    await Promise.all([reader.client.close(), five.client.close(), none.client.close()]);
  });

  it("passes on none of a backlog whose join did not go live, so the next join's backlog repeats nothing", async () => {
    const { ports } = await server();
    const talker = await sender(ports.tcp);
    sendAll(talker, range(30, "b"));
    await until(() => received(talker).length === 30, 10_000, "30 messages");
    const proxy = await FaultProxy.start(ports.tcp);
    proxies.push(proxy);
    const reader = new Reader(transportTo("line", proxy.port), { historyOnJoin: 10 });
    await reader.client.connect();
    // the link is lost after the backlog's 10 messages, before the join goes live
    proxy.cutBefore('"_et":"user_joined_room"');
    reader.client.join(ROOM);
    await reader.down();
    assert.deepEqual(reader.messages, []);
    assert.deepEqual(reader.joins, []);
    const live = await reader.reconnect();
    assert.deepEqual(
      { status: live.status, replayed: live.replayed },
      { status: "fresh", replayed: 10 },
    );
    assert.deepEqual(reader.texts(), range(10, "b", 20));
    talker.close();
    await reader.client.close();
  });

  it("asks again within the server's maximum when the backlog asked is above it", async () => {
    const { ports } = await server({ limits: { historyPageMax: 20 } });
    const talker = await sender(ports.tcp);
    sendAll(talker, range(30, "c"));
    await until(() => received(talker).length === 30, 10_000, "30 messages");
    const reader = new Reader(transportTo("line", ports.tcp), { historyOnJoin: 25 });
    await reader.client.connect();
    const refused: string[] = [];
    reader.client.on("event", (ev) => ev._et === "error" && refused.push(ev.code));
    const live = await reader.join();
    assert.equal(live.replayed, 20);
    assert.deepEqual(reader.texts(), range(20, "c", 10));
    assert.deepEqual(refused, ["BAD_LIMIT"]);
    assert.deepEqual(reader.client.rooms, [ROOM]);
    talker.close();
    await reader.client.close();
  });

  it("passes on only what is new when the room is joined again after leaving it", async () => {
    const { ports } = await server();
    const talker = await sender(ports.tcp);
    const reader = new Reader(transportTo("line", ports.tcp), { historyOnJoin: 10 });
    await reader.client.connect();
    await reader.join();
    sendAll(talker, range(6, "seen"));
    await reader.receives("seen5");
    const left = waitFor(
      reader.client,
      "event",
      (ev) => ev._et === "room_participation" && ev.s === "left",
    );
    reader.client.leave(ROOM);
    await left;
    sendAll(talker, range(3, "away"));
    await until(() => received(talker).length === 9, 10_000, "9 messages");
    const again = await reader.join();
    assert.equal(again.status, "fresh");
    assert.equal(again.replayed, 3, "the backlog's 6 seen messages are not passed on again");
    assert.deepEqual(reader.texts(), [...range(6, "seen"), ...range(3, "away")]);
    assert.ok(consecutive(reader.ids()));
    talker.close();
    await reader.client.close();
  });
});
