// The client's WebSocket transport, to the contract of Parley's WS endpoint (ws://host:port/ws,
// one JSON command or event per text frame). Until that endpoint is merged, a real `ws` server
// bridges each WebSocket to a TCP line connection of a real Parley, frame for line.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { once } from "node:events";
import { WebSocketServer } from "ws";
import type { App } from "../../src/app.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { nodeWebSocketTransport } from "../../clients/lib/node-websocket.js";
import { tcpTransport } from "../../clients/lib/tcp-transport.js";
import { ManualClock, startParley, waitFor } from "./support.js";

describe("ParleyClient over WebSocket", () => {
  let app: App;
  let wss: WebSocketServer;
  let url: string;

  before(async () => {
    app = await startParley();
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/ws" });
    await once(wss, "listening");
    url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/ws`;
    wss.on("connection", (ws) => {
      const tcp = connect({ host: "127.0.0.1", port: app.ports.tcp! });
      let buf = "";
      tcp.setEncoding("utf8");
      tcp.on("data", (chunk: string) => {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, "");
          buf = buf.slice(nl + 1);
          if (line) ws.send(line);
        }
      });
      ws.on("message", (data: Buffer, isBinary) => {
        if (!isBinary) tcp.write(data.toString("utf8") + "\r\n");
      });
      ws.on("close", () => tcp.destroy());
      tcp.on("close", () => ws.terminate());
      tcp.on("error", () => ws.terminate());
    });
  });
  after(async () => {
    await new Promise((r) => wss.close(r));
    await app.stop();
  });

  it("logs in, joins, and survives a dropped WebSocket without losing or repeating a message", async () => {
    const clock = new ManualClock();
    const alice = new ParleyClient({
      transport: nodeWebSocketTransport(url),
      name: "ws-alice",
      clock,
      random: () => 0.5,
      heartbeatMs: 0,
    });
    const bob = new ParleyClient({
      transport: tcpTransport({ host: "127.0.0.1", port: app.ports.tcp! }),
      heartbeatMs: 0,
    });
    const session = await alice.connect();
    assert.equal(session.extended, true);
    await bob.connect();
    for (const c of [alice, bob]) {
      const joined = waitFor(c, "event", (ev) => ev._et === "user_joined_room");
      c.join("ai");
      await joined;
    }
    const bobTexts: string[] = [];
    bob.on("event", (ev) => ev._et === "user_message" && bobTexts.push(ev.c));

    const echo = waitFor(alice, "event", (ev) => ev._et === "user_message" && ev.c === "over ws");
    alice.send("ai", "over ws");
    await echo;

    const down = waitFor(alice, "status", (s) => s.state === "waiting");
    for (const ws of wss.clients) ws.terminate();
    await down;
    alice.send("ai", "queued");
    const back = waitFor(alice, "event", (ev) => ev._et === "welcome");
    clock.advance(60_000);
    await back;
    assert.equal(alice.session?.name, "ws-alice");
    const end = waitFor(bob, "event", (ev) => ev._et === "user_message" && ev.c === "end");
    alice.send("ai", "end");
    await end;
    assert.deepEqual(bobTexts, ["over ws", "queued", "end"]);
    await Promise.all([alice.close(), bob.close()]);
  });
});
