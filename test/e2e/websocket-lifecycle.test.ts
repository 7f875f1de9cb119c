import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { WsClient } from "./support/chat-clients.js";
import { startTestApp } from "./support/test-app.js";

// Long enough for login and join to finish on a busy machine before the silent peer is cut.
const HEARTBEAT_MS = 400;

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

describe("WebSocket connection lifecycle", { timeout: 20_000 }, () => {
  it("cuts a WebSocket that does not answer pings, and keeps one that does", async () => {
    const app = await startTestApp({ wsHeartbeatMs: HEARTBEAT_MS });
    try {
      // Counted from before the connect: the server's heartbeat ticks for all connections at
      // once, so the first ping may come at any time after it, the cut one interval later.
      const opened = Date.now();
      const silent = await WsClient.open(app.ports.http!, { autoPong: false });
      const live = await WsClient.open(app.ports.http!);
      const silentId = await silent.login("silent");
      await live.login("live");
      await silent.join("general");
      await live.join("general");

      // A peer is cut at the second ping it has not answered: between 1 and 2 intervals + slack.
      await within(silent.closed, HEARTBEAT_MS * 2 + 500, "silent peer cut");
      const elapsed = Date.now() - opened;
      assert.ok(elapsed >= HEARTBEAT_MS, `cut after ${elapsed} ms, before a ping was due`);
      assert.equal(silent.closeCode, 1006); // terminated: no close handshake with a dead peer
      const left = await live.waitFor("room_participation", (e) => e.s === "left");
      assert.equal(left.u, silentId);

      // The answering peer lives through several more intervals.
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 4));
      assert.equal(live.isClosed, false);
      live.send({ _ct: "send_message", r: "general", c: "still here" });
      await live.waitFor("user_message", (e) => e.c === "still here");
      live.close();
      await live.closed;
    } finally {
      await app.stop();
    }
  });

  it("refuses a WebSocket past the connection limit with a disconnect event and status 1013", async () => {
    const app = await startTestApp({ limits: { maxConnections: 1 } });
    try {
      const first = await WsClient.open(app.ports.http!);
      await first.waitFor("login_successful");
      const second = await WsClient.open(app.ports.http!);
      const bye = await second.waitFor("disconnect");
      assert.equal(bye.code, "SERVER_FULL");
      assert.equal(bye.reconnect, true);
      await second.closed;
      assert.equal(second.closeCode, 1013);
      assert.match(second.closeReason, /^SERVER_FULL: /);
      assert.ok(!second.saw((e) => e._et === "login_successful"));
      first.close();
      await first.closed;
    } finally {
      await app.stop();
    }
  });

  it("ends a session that quits with a normal close (1000)", async () => {
    const app = await startTestApp();
    try {
      const ws = await WsClient.open(app.ports.http!);
      await ws.waitFor("login_successful");
      ws.send({ _ct: "quit" });
      await ws.closed;
      assert.equal(ws.closeCode, 1000);
      assert.equal(ws.closeReason, "QUIT");
    } finally {
      await app.stop();
    }
  });

  it("closes open WebSockets with SERVER_SHUTDOWN (4005) when the server stops", async () => {
    const app = await startTestApp();
    const ws = await WsClient.open(app.ports.http!);
    await ws.login();
    await app.stop();
    assert.equal((await ws.waitFor("disconnect")).code, "SERVER_SHUTDOWN");
    await ws.closed;
    assert.equal(ws.closeCode, 4005);
  });

  it("negotiates permessage-deflate only when --ws-deflate is on", async () => {
    for (const wsDeflate of [false, true]) {
      const app = await startTestApp({ wsDeflate });
      try {
        const ws = await WsClient.open(app.ports.http!, { perMessageDeflate: true });
        await ws.join("general");
        ws.send({ _ct: "send_message", r: "general", c: "z".repeat(2000) });
        await ws.waitFor("user_message");
        assert.equal(ws.ws.extensions.includes("permessage-deflate"), wsDeflate);
        ws.close();
        await ws.closed;
      } finally {
        await app.stop();
      }
    }
  });

  it("holds back a WebSocket above its rate (slow_down) and still answers every command", async () => {
    const app = await startTestApp({ limits: { rateBurst: 20, ratePerSec: 200 } });
    try {
      const ws = await WsClient.open(app.ports.http!);
      await ws.login();
      for (let i = 0; i < 40; i++) ws.send({ _ct: "ping", t: i });
      assert.ok((await ws.waitFor("slow_down")).retry_ms > 0);
      for (let i = 0; i < 40; i++) await ws.waitFor("pong", (e) => e.t === i);
      ws.close();
      await ws.closed;
    } finally {
      await app.stop();
    }
  });

  it("refuses WebSocket upgrades (503) and reports not ready while shutting down", async () => {
    const app = await startTestApp({ limits: { shutdownGraceMs: 5_000 } });
    // A TCP peer that never closes its side keeps the drain going.
    const hold = connect({ host: "127.0.0.1", port: app.ports.tcp!, allowHalfOpen: true });
    await new Promise((r) => hold.once("data", r));
    const stopped = app.stop();
    await new Promise((r) => hold.once("end", r));
    await assert.rejects(WsClient.open(app.ports.http!), /503/);
    assert.equal((await fetch(`http://127.0.0.1:${app.ports.http}/readyz`)).status, 503);
    hold.destroy();
    await stopped;
  });

  it("runs with any transport turned off", async () => {
    const app = await startTestApp({ tcpPort: null, lpPort: null });
    try {
      assert.deepEqual(Object.keys(app.ports), ["http"]);
      const ws = await WsClient.open(app.ports.http!);
      await ws.login();
      ws.close();
      await ws.closed;
    } finally {
      await app.stop();
    }
    const noHttp = await startTestApp({ httpPort: null });
    try {
      assert.deepEqual(Object.keys(noHttp.ports).sort(), ["lp", "tcp"]);
    } finally {
      await noHttp.stop();
    }
  });
});
