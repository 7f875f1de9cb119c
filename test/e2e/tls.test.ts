import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { get as httpsGet } from "node:https";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import type { App } from "../../src/app.js";
import { startApp } from "../../src/app.js";
import { defaultConfig } from "../../src/config.js";
import { CounterMetrics, type Limits, silentLogger } from "../../src/core/index.js";
import type { Event } from "../../src/protocol/index.js";
import { ROOMS } from "../helpers/harness.js";
import { LineClient, LpClient, WsClient } from "./support/chat-clients.js";
import { startTestApp } from "./support/test-app.js";
import { makeTlsFixture, type ServerCert, type TlsFixture } from "./support/tls-certs.js";

/** GET over HTTPS trusting `ca` (none: the system's CAs only). */
function getHttps(
  port: number,
  path: string,
  ca?: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      { host: "127.0.0.1", port, path, servername: "localhost", ...(ca && { ca }) },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error("timed out")));
  });
}

/** The counter value of one labelled series in Prometheus text (0 when absent). */
function series(metricsText: string, name: string, labels: string): number {
  const line = metricsText.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

/** Resolves with every byte a socket received once it has closed. */
function closedWith(socket: Socket): Promise<string> {
  let got = "";
  socket.on("data", (d: Buffer) => (got += d.toString("latin1")));
  socket.on("error", () => {});
  return new Promise((resolve) => socket.once("close", () => resolve(got)));
}

describe("TLS on every listener", () => {
  let pki: TlsFixture;
  let cert: ServerCert;
  let app: App;
  const trust = (): { ca: Buffer } => ({ ca: pki.ca });

  before(async () => {
    pki = makeTlsFixture();
    cert = pki.serverCert("server", "5A01");
    app = await startTestApp({
      tls: { certPath: cert.certPath, keyPath: cert.keyPath },
      // short, so that a client that never starts a handshake is seen cut in the test
      tlsHandshakeTimeoutMs: 1_000,
    });
  });
  after(async () => {
    await app?.stop();
    pki?.remove();
  });

  it("carries one room's chat over line TCP, length-prefixed TCP and WSS, with TLS 1.2 at least", async () => {
    const line = await LineClient.open(app.ports.tcp!, trust());
    const lp = await LpClient.open(app.ports.lp!, trust());
    const ws = await WsClient.openUrl(`wss://localhost:${app.ports.http!}/ws`, trust());
    for (const c of [line, lp, ws]) await c.join("general");
    const tlsSocket = line.socket as TLSSocket;
    assert.equal(tlsSocket.getPeerCertificate().serialNumber, cert.serial);
    assert.match(tlsSocket.getProtocol() ?? "", /^TLSv1\.[23]$/);
    line.send({ _ct: "send_message", r: "general", c: "over tls" });
    for (const c of [line, lp, ws]) {
      await c.waitFor("user_message", (e) => e.c === "over tls");
    }
    lp.send({ _ct: "send_message", r: "general", c: "framed over tls" });
    await ws.waitFor("user_message", (e) => e.c === "framed over tls");
    for (const c of [line, lp, ws]) c.close();
  });

  it("serves /readyz and /metrics over HTTPS, with the certificate's expiry", async () => {
    const ready = await getHttps(app.ports.http!, "/readyz", pki.ca);
    assert.equal(ready.status, 200);
    assert.match(ready.body, /^ready\n/);
    const metrics = await getHttps(app.ports.http!, "/metrics", pki.ca);
    const expiry = /^parley_tls_certificate_not_after_seconds (\S+)$/m.exec(metrics.body);
    assert.ok(expiry, "the expiry gauge is served");
    assert.ok(Number(expiry[1]) * 1000 > Date.now(), "and lies in the future");
  });

  it("is refused by a client that does not trust the certificate, on every listener", async () => {
    await assert.rejects(LineClient.open(app.ports.tcp!, {}), /unable to verify/i);
    await assert.rejects(LpClient.open(app.ports.lp!, {}), /unable to verify/i);
    await assert.rejects(
      WsClient.openUrl(`wss://localhost:${app.ports.http!}/ws`),
      /unable to verify/i,
    );
    await assert.rejects(getHttps(app.ports.http!, "/readyz"), /unable to verify/i);
  });

  it("refuses TLS 1.1 and counts it as a protocol failure", async () => {
    const before = await app.metrics.render();
    const old = tlsConnect({
      host: "127.0.0.1",
      port: app.ports.tcp!,
      ca: pki.ca,
      servername: "localhost",
      minVersion: "TLSv1",
      maxVersion: "TLSv1.1",
    });
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => old.once("error", resolve));
    assert.match(String(err.code), /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS/);
    const name = "parley_tls_handshake_failures_total";
    const labels = 'listener="tcp",reason="protocol"';
    const after = await app.metrics.render();
    assert.equal(series(after, name, labels), series(before, name, labels) + 1);
  });

  it("cuts plain-text clients on the TLS ports at once or at the handshake deadline, before any session, and goes on serving", async () => {
    const before = await app.metrics.render();
    // an original client speaking first: not a TLS record, cut at once, never sees a chat event
    const speaker = netConnect({ host: "127.0.0.1", port: app.ports.tcp! });
    const spoke = closedWith(speaker);
    speaker.write('{"_ct":"join_room","r":"general"}\r\n');
    // original clients waiting for login_successful: they never start a handshake
    const waiters = [app.ports.tcp!, app.ports.lp!, app.ports.http!].map((port) =>
      netConnect({ host: "127.0.0.1", port }),
    );
    const waited = waiters.map(closedWith);
    // a plain HTTP request to the HTTPS port
    const browser = netConnect({ host: "127.0.0.1", port: app.ports.http! });
    const browsed = closedWith(browser);
    browser.write("GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(app.chat.connectionCount, 0, "no session for a connection mid-handshake");

    assert.doesNotMatch(await spoke, /login_successful/);
    assert.doesNotMatch(await browsed, /ready/);
    const started = Date.now();
    for (const got of await Promise.all(waited)) assert.equal(got, "");
    assert.ok(Date.now() - started < 15_000, "cut near the 1 s handshake deadline");

    const after = await app.metrics.render();
    const name = "parley_tls_handshake_failures_total";
    const grew = (labels: string): number =>
      series(after, name, labels) - series(before, name, labels);
    assert.equal(grew('listener="tcp",reason="timeout"'), 1);
    assert.equal(grew('listener="tcp-lp",reason="timeout"'), 1);
    assert.equal(grew('listener="https",reason="timeout"'), 1);
    assert.equal(grew('listener="tcp",reason="protocol"'), 1);
    assert.equal(grew('listener="https",reason="protocol"'), 1);
    // and a TLS client is served as before
    const c = await LineClient.open(app.ports.tcp!, trust());
    await c.join("general");
    c.close();
  });
});

describe("TLS connections under the server's limits", () => {
  let pki: TlsFixture;
  before(() => {
    pki = makeTlsFixture();
  });
  after(() => pki?.remove());

  async function tlsApp(limits: Partial<Limits>): Promise<{ app: App; metrics: CounterMetrics }> {
    const cert = pki.serverCert(`limits-${Math.random().toString(36).slice(2)}`, "5B01");
    const config = defaultConfig();
    Object.assign(config, {
      host: "127.0.0.1",
      tcpPort: 0,
      lpPort: 0,
      httpPort: 0,
      store: { kind: "memory" },
      tls: { certPath: cert.certPath, keyPath: cert.keyPath },
    });
    Object.assign(config.limits, { shutdownGraceMs: 2_000 }, limits);
    const metrics = new CounterMetrics();
    const app = await startApp({ config, rooms: ROOMS, logger: silentLogger, metrics });
    return { app, metrics };
  }

  it("counts connections per IP by the TCP peer's address: the third from 127.0.0.1 is refused with SERVER_FULL", async () => {
    const { app, metrics } = await tlsApp({ maxConnectionsPerIp: 2, perIpExempt: [] });
    const a = await LpClient.open(app.ports.lp!, { ca: pki.ca });
    const b = await LineClient.open(app.ports.tcp!, { ca: pki.ca });
    await a.waitFor("login_successful");
    await b.waitFor("login_successful");
    const third = await LpClient.open(app.ports.lp!, { ca: pki.ca });
    const bye = await third.waitFor("disconnect");
    assert.equal(bye.code, "SERVER_FULL");
    await third.closed;
    assert.equal(metrics.refusedBy.get("per_ip_limit"), 1);
    a.close();
    b.close();
    await app.stop();
  });

  it("holds a sender back and cuts a TLS reader that stopped reading after the write deadline (SLOW_CONSUMER), while a reading member gets everything", async () => {
    const { app, metrics } = await tlsApp({
      writeDeadlineMs: 1_500,
      ratePerSec: 1_000_000,
      rateBurst: 1_000_000,
    });
    const opts = { ca: pki.ca };
    const sender = await LineClient.open(app.ports.tcp!, opts);
    const reader = await LpClient.open(app.ports.lp!, opts);
    const stuck = await LineClient.open(app.ports.tcp!, opts);
    for (const c of [sender, reader, stuck]) await c.join("general");
    stuck.socket.pause();
    const pad = "x".repeat(2000);
    const n = 6_000; // 12 MB: more than loopback's buffers hold for a reader that stopped
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      lines.push(JSON.stringify({ _ct: "send_message", r: "general", c: `${i} ${pad}` }));
    }
    sender.socket.write(lines.join("\n") + "\n");
    const deadline = Date.now() + 60_000;
    const messages = (): Event[] => reader.events.filter((e) => e._et === "user_message");
    while (messages().length < n) {
      assert.ok(Date.now() < deadline && !reader.isClosed, `reader got ${messages().length}/${n}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    messages().forEach((e, i) => assert.ok(e._et === "user_message" && e.c.startsWith(`${i} `)));
    assert.equal(metrics.slowConsumersBy.get("write_deadline"), 1);
    assert.ok(metrics.sendersHeldBack >= 1, "the sender was held back, not cut");
    assert.equal(sender.isClosed, false);
    stuck.socket.resume();
    await stuck.closed;
    sender.close();
    reader.close();
    await app.stop();
  });
});
