import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { App } from "../../src/app.js";
import { encodeLengthPrefixed, ORIGINAL_EVENTS } from "../../src/protocol/index.js";
import { startTestApp } from "./support/test-app.js";
import { LineClient, LpClient, WsClient } from "./support/chat-clients.js";

describe("one room over three transports", { timeout: 20_000 }, () => {
  let app: App;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.stop());

  it("delivers every message to TCP line, length-prefixed and WebSocket members alike", async () => {
    const line = await LineClient.open(app.ports.tcp!);
    const lp = await LpClient.open(app.ports.lp!);
    const ws = await WsClient.open(app.ports.http!);
    const lineUser = (await line.waitFor("login_successful")).u;
    const lpUser = await lp.login("lp_user");
    const wsUser = await ws.login("ws_user");

    await line.join("general");
    await lp.join("general");
    await ws.join("general");
    // The WebSocket member sees the others join with their display names.
    const joined = await ws.waitFor("room_participation", (e) => e.u === wsUser);
    assert.equal(joined.n, "ws_user");

    line.send({ _ct: "send_message", r: "general", c: "from line" });
    lp.send({ _ct: "send_message", r: "general", c: "from lp" });
    ws.send({ _ct: "send_message", r: "general", c: "from ws" });

    for (const [client, name] of [
      [line, "line"],
      [lp, "lp"],
      [ws, "ws"],
    ] as const) {
      const fromLine = await client.waitFor("user_message", (e) => e.c === "from line");
      const fromLp = await client.waitFor("user_message", (e) => e.c === "from lp");
      const fromWs = await client.waitFor("user_message", (e) => e.c === "from ws");
      assert.equal(fromLine.u, lineUser, name);
      assert.equal(fromLp.u, lpUser, name);
      assert.equal(fromLp.n, "lp_user", name);
      assert.equal(fromWs.u, wsUser, name);
      assert.equal(fromWs.n, "ws_user", name);
    }
    // The line client never said hello: it only ever sees the original event types.
    assert.ok(line.events.every((e) => ORIGINAL_EVENTS.has(e._et)));

    ws.close();
    await ws.closed;
    const left = await line.waitFor("room_participation", (e) => e.s === "left");
    assert.equal(left.u, wsUser);
    line.close();
    lp.close();
    await Promise.all([line.closed, lp.closed]);
  });

  it("reads length-prefixed frames split over writes and coalesced in one write", async () => {
    const lp = await LpClient.open(app.ports.lp!);
    await lp.login();
    const join = encodeLengthPrefixed(JSON.stringify({ _ct: "join_room", r: "rust" }));
    // split: the 4-byte prefix itself is cut in two, then the payload in two
    for (const cut of [
      [0, 2],
      [2, 7],
      [7, join.length],
    ] as const) {
      lp.raw(join.subarray(cut[0], cut[1]));
      await new Promise((r) => setTimeout(r, 15));
    }
    await lp.waitFor("user_joined_room", (e) => e.r === "rust");
    // coalesced: two frames in one write
    const a = encodeLengthPrefixed(JSON.stringify({ _ct: "send_message", r: "rust", c: "one" }));
    const b = encodeLengthPrefixed(JSON.stringify({ _ct: "send_message", r: "rust", c: "two" }));
    const both = new Uint8Array(a.length + b.length);
    both.set(a, 0);
    both.set(b, a.length);
    lp.raw(both);
    const first = await lp.waitFor("user_message");
    const second = await lp.waitFor("user_message");
    assert.deepEqual([first.c, second.c], ["one", "two"]);
    assert.equal(second.id, first.id! + 1);
    lp.close();
    await lp.closed;
  });
});
