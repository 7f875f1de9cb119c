import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { authMiddleware } from "../../src/core/index.js";
import { perIpLimitMiddleware } from "../../src/middleware/per-ip-limits.js";
import { startServer, WireClient } from "../helpers/harness.js";

describe("connection limits and middleware", () => {
  it("refuses connections beyond max-connections and admits again once one leaves", async () => {
    const server = await startServer({ limits: { maxConnections: 2 } });
    const a = await WireClient.login(server.port);
    const b = await WireClient.login(server.port);
    const refused = await WireClient.connect(server.port);
    await refused.closed;
    // an original client gets no event it cannot decode: the refusal is the close itself
    assert.deepEqual(refused.events, []);
    assert.equal(server.metrics.refused, 1);
    a.close();
    await a.closed;
    let c: WireClient | undefined;
    for (let i = 0; i < 50 && !c; i++) {
      const attempt = await WireClient.connect(server.port);
      const ok = await attempt.next("login_successful", 200).then(
        () => true,
        () => false,
      );
      if (ok) c = attempt;
      else attempt.close();
    }
    assert.ok(c, "a connection was admitted after one left");
    b.close();
    c.close();
    await server.stop();
  });

  it("tells a length-prefixed client why it was refused", async () => {
    const server = await startServer({ limits: { maxConnections: 1 } });
    const a = await WireClient.login(server.port);
    const refused = await WireClient.connect(server.lpPort, { lengthPrefixed: true });
    const e = await refused.next("disconnect");
    assert.equal(e._et === "disconnect" && e.code, "SERVER_FULL");
    assert.equal(e._et === "disconnect" && e.reconnect, true);
    await refused.closed;
    a.close();
    await server.stop();
  });

  it("limits connections per IP address with the per-IP middleware", async () => {
    const server = await startServer({
      middleware: [
        perIpLimitMiddleware({
          maxConnections: 2,
          connectRatePerSec: 0,
          connectBurst: 0,
          exempt: [],
        }),
      ],
    });
    const a = await WireClient.login(server.port);
    const b = await WireClient.login(server.port);
    const c = await WireClient.connect(server.port);
    await c.closed;
    assert.deepEqual(c.events, []);
    a.close();
    b.close();
    await server.stop();
  });

  it("runs an auth hook that can refuse a connection or name its user", async () => {
    let n = 0;
    const server = await startServer({
      middleware: [authMiddleware(() => (++n === 1 ? "trusted-user" : false))],
    });
    const first = await WireClient.login(server.port);
    assert.equal(first.login.n, "trusted-user");
    const second = await WireClient.connect(server.port);
    await second.closed;
    assert.deepEqual(second.events, []);
    first.close();
    await server.stop();
  });

  it("closes a connection in no room that stays silent past the idle timeout, telling an extension client why", async () => {
    const server = await startServer({ limits: { idleTimeoutMs: 300 } });
    const quiet = await WireClient.login(server.port);
    await quiet.hello();
    const chatty = await WireClient.login(server.port);
    const timer = setInterval(() => chatty.send({ _ct: "ping" }), 50);
    const bye = await quiet.next("disconnect", 3_000);
    assert.equal(bye._et === "disconnect" && bye.code, "IDLE_TIMEOUT");
    await quiet.closed;
    assert.equal(chatty.isClosed, false);
    clearInterval(timer);
    chatty.close();
    await server.stop();
  });
});
