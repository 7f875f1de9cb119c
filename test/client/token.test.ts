// The client library's `token` option against a real Parley with --auth required: the token goes
// in hello (and on the WebSocket URL), and a function is asked again for each reconnection.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { App } from "../../src/app.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { nodeWebSocketTransport } from "../../clients/lib/node-websocket.js";
import { tcpTransport } from "../../clients/lib/tcp-transport.js";
import type { Transport } from "../../clients/lib/transport.js";
import { startTestApp } from "../e2e/support/test-app.js";
import { hsToken, SECRET } from "../e2e/support/tokens.js";
import { until, waitFor } from "./support.js";

/** Token lifetime: long enough to log in and join on a busy machine, short enough to wait out. */
const LIFETIME_S = 4;

describe("client library: token option", { timeout: 60_000 }, () => {
  let app: App;
  before(async () => {
    app = await startTestApp({ auth: { mode: "required", secret: SECRET, clockToleranceMs: 0 } });
  });
  after(() => app.stop());

  const transports: Array<[string, () => Transport]> = [
    [
      "WebSocket (token on the URL)",
      () => nodeWebSocketTransport(`ws://127.0.0.1:${app.ports.http}/ws`),
    ],
    [
      "length-prefixed TCP (token in hello)",
      () => tcpTransport({ host: "127.0.0.1", port: app.ports.lp!, framing: "length-prefixed" }),
    ],
  ];
  for (const [label, transport] of transports) {
    it(`reconnects with a fresh token from its function when the token expires: ${label}`, async () => {
      const sub = `u-${label.split(" ")[0]!.toLowerCase()}`;
      const issued: string[] = [];
      const client = new ParleyClient({
        transport: transport(),
        token: async () => {
          const tok = await hsToken({
            sub,
            claims: { name: `${sub}-${issued.length + 1}`.replace(/[^A-Za-z0-9_-]/g, "") },
            exp: Math.floor(Date.now() / 1000) + LIFETIME_S,
          });
          issued.push(tok);
          return tok;
        },
        heartbeatMs: 0,
        stableAfterMs: 500,
        backoff: { baseMs: 50 },
      });
      try {
        const first = await client.connect();
        client.join("rust");
        await waitFor(client, "joined", (j) => j.room === "rust");
        assert.equal(issued.length, 1);
        // The server ends the session at exp with reconnect: true; the client asks for a new token.
        const rejoin = waitFor(client, "joined", (j) => j.room === "rust" && j.rejoin, 20_000);
        const [second] = await waitFor(client, "ready", () => true, 15_000);
        assert.equal(issued.length, 2);
        assert.notEqual(second.sessionId, first.sessionId);
        await until(() => client.session?.name === `${sub}-2`, 5_000, "the new token's name");
        await rejoin;
        const cid = client.send("rust", "after a fresh token");
        await waitFor(
          client,
          "event",
          (ev) => ev._et === "user_message" && ev.cid === cid && ev.n === `${sub}-2`,
        );
      } finally {
        await client.close();
      }
    });
  }

  it("names the WebSocket session from the URL token before any hello", async () => {
    const client = new ParleyClient({
      transport: nodeWebSocketTransport(`ws://127.0.0.1:${app.ports.http}/ws`),
      token: await hsToken({ sub: "u-url", claims: { name: "UrlToken" } }),
      heartbeatMs: 0,
    });
    try {
      // login_successful's name is the token's: the upgrade, not a later hello, authenticated it
      assert.equal((await client.connect()).name, "UrlToken");
    } finally {
      await client.close();
    }
  });

  it("fails the first connection when the token function fails, and on a refused token", async () => {
    const failing = new ParleyClient({
      transport: tcpTransport({
        host: "127.0.0.1",
        port: app.ports.lp!,
        framing: "length-prefixed",
      }),
      token: () => Promise.reject(new Error("identity provider down")),
      heartbeatMs: 0,
    });
    await assert.rejects(failing.connect(), /no token: identity provider down/);
    assert.equal(failing.status.state, "closed");

    const refused = new ParleyClient({
      transport: tcpTransport({
        host: "127.0.0.1",
        port: app.ports.lp!,
        framing: "length-prefixed",
      }),
      token: await hsToken({ sub: "u-late", exp: Math.floor(Date.now() / 1000) - 60 }),
      heartbeatMs: 0,
      retryInitial: true,
    });
    await refused.connect(); // login_successful comes before hello's verdict
    await until(() => refused.status.state === "closed", 5_000, "the client to stop");
    assert.match(refused.status.lastError ?? "", /UNAUTHORIZED: expired/);
  });
});
