// history(): pages of a room's history from a real server, matched to their requests (in order
// per room, errors included), and what happens when no answer can come.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { App } from "../../src/app.js";
import type { HistoryPage } from "../../clients/lib/client-types.js";
import { ClientError, RequestError } from "../../clients/lib/errors.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { tcpTransport } from "../../clients/lib/tcp-transport.js";
import { startTestApp } from "../e2e/support/test-app.js";
import {
  PAST_ANY_BACKOFF,
  range,
  Reader,
  received,
  ROOM,
  sendAll,
  sender,
  transportTo,
} from "./history-support.js";
import { OriginalServer } from "./original-server.js";
import { FaultProxy, until, waitFor } from "./support.js";

const apps: App[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.stop()));
});

/** A server whose room holds `n` messages h0... h(n-1), with ids 1..n. */
async function serverWith(n: number): Promise<App> {
  const app = await startTestApp();
  apps.push(app);
  const talker = await sender(app.ports.tcp!);
  sendAll(talker, range(n, "h"));
  await until(() => received(talker).length === n, 10_000, `${n} messages`);
  talker.close();
  return app;
}

const ids = (p: HistoryPage): number[] => p.messages.map((m) => m.id!);
const span = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

const code = (expected: string) => (err: unknown) => {
  assert.ok(err instanceof RequestError || err instanceof ClientError, String(err));
  assert.equal(err.code, expected);
  return true;
};

describe("ParleyClient history()", () => {
  it("pages backwards from the latest messages, oldest first, and says when there is more", async () => {
    const app = await serverWith(120);
    const reader = new Reader(transportTo("line", app.ports.tcp!));
    await reader.client.connect(); // no need to be in the room to read it
    const latest = await reader.client.history(ROOM);
    assert.deepEqual(ids(latest), span(71, 120));
    assert.deepEqual(
      { room: latest.room, first: latest.first, head: latest.head, more: latest.more },
      { room: ROOM, first: 1, head: 120, more: true },
    );
    assert.equal(typeof latest.epoch, "string");
    const older = await reader.client.history(ROOM, { before: 71, limit: 50 });
    assert.deepEqual(ids(older), span(21, 70));
    const oldest = await reader.client.history(ROOM, { before: 21, limit: 50 });
    assert.deepEqual(ids(oldest), span(1, 20));
    assert.equal(oldest.more, false);
    assert.equal(oldest.messages[0]!.c, "h0");
    assert.equal(oldest.epoch, latest.epoch);
    await reader.client.close();
  });

  it("answers several requests for one room in the order they were made, a refused one included", async () => {
    const app = await serverWith(30);
    const reader = new Reader(transportTo("websocket", app.ports.http!));
    await reader.client.connect();
    const [a, b, c, d] = [
      reader.client.history(ROOM, { limit: 10 }),
      reader.client.history(ROOM, { before: 20, limit: 5 }),
      reader.client.history(ROOM, { before: 99 }),
      reader.client.history(ROOM, { before: 10, limit: 3 }),
    ];
    assert.deepEqual(ids(await a), span(21, 30));
    assert.deepEqual(ids(await b), span(15, 19));
    await assert.rejects(c, code("BAD_OFFSET"));
    assert.deepEqual(ids(await d), span(7, 9));
    await reader.client.close();
  });

  it("caps a page at the server's maximum, and refuses a page size that is not a whole number >= 1", async () => {
    const app = await serverWith(30);
    const reader = new Reader(transportTo("line", app.ports.tcp!));
    await reader.client.connect();
    await waitFor(reader.client, "event", (ev) => ev._et === "welcome");
    const page = await reader.client.history(ROOM, { limit: 1_000 });
    assert.equal(page.messages.length, 30); // asked for 200, the server's historyPageMax
    await assert.rejects(reader.client.history(ROOM, { limit: 0 }), RangeError);
    await assert.rejects(reader.client.history("no-such-room"), code("ROOM_NOT_FOUND"));
    await reader.client.close();
  });

  it("fails a request whose answer the link lost (NOT_CONNECTED), and one unanswered in time (TIMEOUT) without taking its late answer for the next", async () => {
    const app = await serverWith(30);
    const proxy = await FaultProxy.start(app.ports.tcp!);
    const reader = new Reader(transportTo("line", proxy.port), { requestTimeoutMs: 5_000 });
    await reader.client.connect();

    proxy.pauseDownstream();
    const late = reader.client.history(ROOM, { limit: 10 });
    const next = reader.client.history(ROOM, { before: 10, limit: 3 });
    reader.clock.advance(5_000);
    await assert.rejects(late, code("TIMEOUT"));
    await assert.rejects(next, code("TIMEOUT"));
    const third = reader.client.history(ROOM, { before: 5, limit: 2 });
    proxy.resumeDownstream(); // the first answer arrives now: it is not the third's
    assert.deepEqual(ids(await third), [3, 4]);

    proxy.holdDownstream();
    const lost = reader.client.history(ROOM);
    proxy.cut();
    await assert.rejects(lost, code("NOT_CONNECTED"));
    await reader.down();
    await assert.rejects(reader.client.history(ROOM), code("NOT_CONNECTED"));
    const ready = waitFor(reader.client, "ready");
    reader.clock.advance(PAST_ANY_BACKOFF);
    await ready;
    assert.deepEqual(ids(await reader.client.history(ROOM, { limit: 2 })), [29, 30]);
    await reader.client.close();
    await proxy.close();
  });

  it("is refused at once by an original server (no history there)", async () => {
    const original = await OriginalServer.start([{ n: ROOM, d: "General" }]);
    const client = new ParleyClient({
      transport: tcpTransport({ host: "127.0.0.1", port: original.port }),
      heartbeatMs: 0,
    });
    await client.connect();
    await assert.rejects(client.history(ROOM), code("UNSUPPORTED"));
    assert.ok(original.received.every((c) => c._ct !== "history"));
    await client.close();
    original.close();
  });
});
