// Hostile and careless clients: slowloris, slot exhaustion from one address, and quiet readers.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import { delay, spawnServer, startServer, WireClient } from "../helpers/harness.js";

/** Opens a raw TCP connection from `localAddress` (any 127.x.y.z works on Linux loopback). */
async function rawConnect(port: number, localAddress = "127.0.0.1"): Promise<Socket> {
  const s = connect({ host: "127.0.0.1", port, localAddress });
  s.on("error", () => {});
  await once(s, "connect");
  return s;
}

/** Resolves true if the server sends login_successful, false if it closes first. */
function admitted(s: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    let text = "";
    s.on("data", (b: Buffer) => {
      text += b.toString();
      if (text.includes("login_successful")) resolve(true);
    });
    s.on("close", () => resolve(text.includes("login_successful")));
  });
}

function sample(text: string, series: string): number {
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  return 0;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe("hardening", () => {
  it("cuts 3,000 connections that send half a line and stop (FRAME_TIMEOUT) while a room keeps its latency", async () => {
    const server = await spawnServer([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--lp-port",
      "0",
      "--http-port",
      "0",
      "--frame-timeout-ms",
      "2000",
      "--log-level",
      "info",
    ]);
    const ports = server.ports as { tcp: number; lp: number; http: number };
    try {
      const a = await WireClient.login(ports.tcp);
      const b = await WireClient.login(ports.tcp);
      await a.join("general");
      await b.join("general");
      const latencies: number[] = [];
      let seq = 0;
      const probe = async (): Promise<void> => {
        const n = seq++;
        const sent = performance.now();
        a.send({ _ct: "send_message", r: "general", c: `probe ${n}` });
        await b.next((e) => e._et === "user_message" && e.c === `probe ${n}`, 10_000);
        latencies.push(performance.now() - sent);
      };
      for (let i = 0; i < 20; i++) await probe();
      const baseline = percentile(latencies, 99);
      latencies.length = 0;

      // The attack: half a line (or half a length-prefixed frame) each, then nothing.
      const attackers: Socket[] = [];
      const closed: Promise<unknown>[] = [];
      for (let i = 0; i < 3_000; i++) {
        const lp = i % 2 === 1;
        const s = await rawConnect(lp ? ports.lp : ports.tcp);
        s.write(lp ? Buffer.from([0, 0, 0, 40, 0x7b]) : '{"_ct":"join_room","r":"gen');
        s.resume(); // reads (and drops) what the server says; only its own line is stalled
        closed.push(once(s, "close"));
        attackers.push(s);
        if (i % 100 === 0) await probe();
      }
      const attackStarted = performance.now();
      while (performance.now() - attackStarted < 2_500) await probe();
      await Promise.race([
        Promise.all(closed),
        delay(15_000).then(() => {
          throw new Error(
            `${attackers.filter((s) => !s.destroyed && !s.readableEnded).length} half-line connections still open`,
          );
        }),
      ]);
      for (let i = 0; i < 10; i++) await probe();
      const during = percentile(latencies, 99);
      console.log(
        `slowloris: observer p99 ${baseline.toFixed(2)} ms before, ${during.toFixed(2)} ms during (${latencies.length} probes)`,
      );
      // Generous: the machine is shared, but a server busy holding or reading 3,000 stalled
      // connections would be far slower than this.
      assert.ok(
        during < Math.max(250, baseline * 20),
        `observer p99 ${during.toFixed(1)} ms during the attack (baseline ${baseline.toFixed(1)})`,
      );
      const metrics = await (await fetch(`http://127.0.0.1:${ports.http}/metrics`)).text();
      assert.equal(
        sample(metrics, 'parley_connections_closed_total{transport="tcp",code="FRAME_TIMEOUT"}') +
          sample(
            metrics,
            'parley_connections_closed_total{transport="tcp-lp",code="FRAME_TIMEOUT"}',
          ),
        3_000,
      );
      assert.equal(a.isClosed || b.isClosed, false);
      a.close();
      b.close();
    } finally {
      server.proc.kill("SIGTERM");
      await server.exited;
    }
  });

  it("closes a connection that sends no command within the first-command timeout; one that did stays", async () => {
    const server = await startServer({ limits: { firstCommandTimeoutMs: 400, idleTimeoutMs: 0 } });
    const silent = await WireClient.login(server.port);
    const talker = await WireClient.login(server.port);
    await talker.join("general");
    await silent.closed;
    assert.equal(server.metrics.closedBy.get("IDLE_TIMEOUT"), 1);
    await delay(600);
    assert.equal(talker.isClosed, false);
    talker.close();
    await server.stop();
  });

  it("keeps a reader in a room that is quiet for longer than the idle timeout, and still delivers to it", async () => {
    const server = await startServer({
      limits: { idleTimeoutMs: 300, firstCommandTimeoutMs: 300 },
    });
    const reader = await WireClient.login(server.port); // an original client: never sends again
    await reader.join("general");
    const lurker = await WireClient.login(server.port);
    await lurker.hello(); // in no room: the idle timeout applies
    await delay(1_500);
    const writer = await WireClient.login(server.port);
    await writer.join("general");
    writer.send({ _ct: "send_message", r: "general", c: "still there?" });
    const got = await reader.next((e) => e._et === "user_message");
    assert.equal(got._et === "user_message" && got.c, "still there?");
    assert.equal(reader.isClosed, false);
    assert.equal(lurker.isClosed, true);
    assert.equal(server.metrics.closedBy.get("IDLE_TIMEOUT"), 1);
    reader.close();
    writer.close();
    await server.stop();
  });

  it("limits connections per address: one address at its limit does not stop another", async () => {
    const server = await startServer({
      limits: { maxConnectionsPerIp: 5, connectRatePerIp: 0, perIpExempt: [] },
    });
    const held: Socket[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await rawConnect(server.port, "127.0.0.2");
      assert.equal(await admitted(s), true);
      held.push(s);
    }
    const sixth = await rawConnect(server.port, "127.0.0.2");
    assert.equal(await admitted(sixth), false);
    const other = await rawConnect(server.port, "127.0.0.3");
    assert.equal(await admitted(other), true, "another address is not affected");
    assert.equal(server.metrics.refusedBy.get("per_ip_limit"), 1);
    held[0]!.destroy();
    await delay(100);
    const again = await rawConnect(server.port, "127.0.0.2");
    assert.equal(await admitted(again), true, "a slot freed by a close is usable again");
    for (const s of [...held, other, again]) s.destroy();
    await server.stop();
  });

  it("limits the connect rate per address, and refills it over time", async () => {
    const server = await startServer({
      limits: {
        maxConnectionsPerIp: 0,
        connectRatePerIp: 5,
        connectBurstPerIp: 5,
        perIpExempt: [],
      },
    });
    const results = await Promise.all(
      Array.from({ length: 12 }, async () => admitted(await rawConnect(server.port, "127.0.0.4"))),
    );
    assert.equal(results.filter(Boolean).length, 5);
    assert.equal(server.metrics.refusedBy.get("per_ip_rate"), 7);
    await delay(1_100);
    assert.equal(await admitted(await rawConnect(server.port, "127.0.0.4")), true);
    await server.stop();
  });

  it("exempts loopback by default: 400 quick connections from 127.0.0.1 are all admitted", async () => {
    const server = await startServer();
    const sockets = await Promise.all(
      Array.from({ length: 400 }, () => rawConnect(server.port, "127.0.0.1")),
    );
    const ok = await Promise.all(sockets.map(admitted));
    assert.equal(ok.filter(Boolean).length, 400);
    for (const s of sockets) s.destroy();
    await server.stop();
  });
});
