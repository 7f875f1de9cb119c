// The client library against a server whose store fails for real: Parley on a private PostgreSQL
// that is taken down and brought back. A message the server could not store (STORE_UNAVAILABLE)
// stays in the outbox and reaches everyone once the store is back; a join the server undid for
// want of its store is tried again until it is live.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { App } from "../../src/app.js";
import type { FailedMessage } from "../../clients/lib/client-types.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { tcpTransport } from "../../clients/lib/tcp-transport.js";
import { startTestApp } from "../e2e/support/test-app.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { range, received, ROOM, sendAll, sender } from "./history-support.js";
import { until, waitFor } from "./support.js";

let pg: TestPostgres;
const apps: App[] = [];
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await Promise.all(apps.map((a) => a.stop()));
  await pg?.stop();
});

async function server(database: string): Promise<App> {
  const url = await pg.createDatabase(database);
  const app = await startTestApp({ store: { kind: "postgres", url } });
  apps.push(app);
  return app;
}

/** A client on the real clock: the retries are the library's own, as an app would see them. */
function client(port: number, historyOnJoin = 0): ParleyClient {
  return new ParleyClient({
    transport: tcpTransport({ host: "127.0.0.1", port }),
    heartbeatMs: 0,
    historyOnJoin,
  });
}

describe("ParleyClient when the server's store fails (PostgreSQL down, then back)", () => {
  it("keeps a message the store refused in its outbox, not failed, and delivers it once the store is back", async () => {
    const app = await server("outbox");
    const bob = await sender(app.ports.tcp!);
    const alice = client(app.ports.tcp!);
    const failed: FailedMessage[] = [];
    alice.on("failed", (f) => failed.push(f));
    await alice.connect();
    const live = waitFor(alice, "joined");
    alice.join(ROOM);
    await live;
    alice.send(ROOM, "stored");
    await until(() => received(bob).includes("stored"), 10_000, "the first message");

    await pg.takeDown();
    try {
      const cid = alice.send(ROOM, "while the store is down");
      await waitFor(
        alice,
        "event",
        (ev) => ev._et === "error" && ev.code === "STORE_UNAVAILABLE" && ev.cid === cid,
        15_000,
      );
      assert.deepEqual(
        alice.pending.map((e) => [e.cid, e.text, (e.refusals ?? 0) >= 1]),
        [[cid, "while the store is down", true]],
      );
      assert.deepEqual(failed, []);
    } finally {
      await pg.bringUp();
    }
    await until(() => alice.pending.length === 0, 60_000, "the retry to be stored");
    alice.send(ROOM, "end");
    await until(() => received(bob).includes("end"), 10_000, "the last message");
    assert.deepEqual(received(bob), ["stored", "while the store is down", "end"]);
    assert.deepEqual(failed, []);
    bob.close();
    await alice.close();
  });

  it("joins again, later, a room whose backlog the server could not read, and replays it then", async () => {
    const app = await server("join");
    const talker = await sender(app.ports.tcp!);
    // More than the server keeps in memory per room (100): the backlog must come from the store.
    sendAll(talker, range(150, "h"));
    await until(() => received(talker).length === 150, 15_000, "150 messages");
    const carol = client(app.ports.tcp!, 150);
    await carol.connect();

    await pg.takeDown();
    let joinedAt: ReturnType<typeof waitFor<"joined">>;
    try {
      const undone = waitFor(
        carol,
        "event",
        (ev) => ev._et === "error" && ev.cmd === "join_room" && ev.code === "STORE_UNAVAILABLE",
        15_000,
      );
      joinedAt = waitFor(carol, "joined", () => true, 60_000);
      carol.join(ROOM);
      await undone;
      assert.deepEqual(carol.rooms, [ROOM], "still wanted");
    } finally {
      await pg.bringUp();
    }
    const [live] = await joinedAt;
    assert.equal(live.status, "fresh");
    assert.equal(live.replayed, 150);
    talker.close();
    await carol.close();
  });
});
