// failoverTransport against real servers: Parley processes in this one on port 0, ports nobody
// listens on, and a proxy that cuts links.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { once } from "node:events";
import type { App } from "../../src/app.js";
import { failoverTransport } from "../../clients/lib/failover-transport.js";
import { nodeWebSocketTransport } from "../../clients/lib/node-websocket.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { tcpTransport } from "../../clients/lib/tcp-transport.js";
import type { Transport } from "../../clients/lib/transport.js";
import { FaultProxy, ManualClock, startParley, waitFor } from "./support.js";

/** long enough for any backoff delay these tests can draw */
const PAST_ANY_BACKOFF = 60_000;

const tcp = (port: number): Transport => tcpTransport({ host: "127.0.0.1", port });

/** A port on 127.0.0.1 nobody listens on (it was free a moment ago). */
async function refusedPort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return port;
}

describe("failoverTransport", () => {
  let a: App;
  let b: App;
  before(async () => {
    [a, b] = await Promise.all([startParley(), startParley()]);
  });
  after(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  it("connects through the next server at once when one refuses, and its status names the server in use", async () => {
    const down = tcp(await refusedPort());
    const up = tcp(a.ports.tcp!);
    const transport = failoverTransport([down, up]);
    assert.equal(transport.description, down.description, "before: the first to try");
    // no retryInitial: a first connection that failed would reject
    const client = new ParleyClient({ transport, heartbeatMs: 0 });
    await client.connect();
    assert.equal(client.status.state, "connected");
    assert.equal(client.status.server, up.description);
    assert.equal(transport.description, up.description);
    await client.close();
  });

  it("goes on to the next server when one cannot even start a connection (a bad URL)", async () => {
    const bad = nodeWebSocketTransport("ws://[not a host]/ws");
    const client = new ParleyClient({
      transport: failoverTransport([bad, tcp(a.ports.tcp!)]),
      heartbeatMs: 0,
    });
    await client.connect();
    assert.equal(client.status.server, `tcp://127.0.0.1:${a.ports.tcp}`);
    await client.close();
  });

  it("fails only when no server answers, naming each one's error", async () => {
    const ports = [await refusedPort(), await refusedPort()];
    const client = new ParleyClient({
      transport: failoverTransport(ports.map(tcp)),
      heartbeatMs: 0,
    });
    await assert.rejects(client.connect(), (err: Error) => {
      for (const p of ports) {
        assert.match(err.message, new RegExp(`tcp://127\\.0\\.0\\.1:${p}: .*ECONNREFUSED`));
      }
      return true;
    });
  });

  it("after a link that was up ends, reconnects to the next server, in turn, though the last one still answers", async () => {
    const proxies = [await FaultProxy.start(a.ports.tcp!), await FaultProxy.start(b.ports.tcp!)];
    const servers = proxies.map((p) => tcp(p.port));
    const clock = new ManualClock();
    const client = new ParleyClient({
      transport: failoverTransport(servers),
      clock,
      random: () => 0.5,
      heartbeatMs: 0,
    });
    try {
      await client.connect();
      assert.equal(client.status.server, servers[0]!.description);
      for (const [cut, then] of [
        [0, 1],
        [1, 0],
      ] as const) {
        const waiting = waitFor(client, "status", (s) => s.state === "waiting");
        proxies[cut]!.cut();
        await waiting;
        const ready = waitFor(client, "ready");
        clock.advance(PAST_ANY_BACKOFF);
        await ready;
        assert.equal(client.status.server, servers[then]!.description);
        assert.equal(proxies[then]!.connections, 1);
      }
    } finally {
      await client.close();
      await Promise.all(proxies.map((p) => p.close()));
    }
  });
});
