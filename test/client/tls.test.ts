// The client library over TLS: tls:// (line-delimited), lps:// (length-prefixed) and wss://,
// against a real Parley with a certificate from an openssl-made CA.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { App } from "../../src/app.js";
import { formatAddress, parseAddress } from "../../clients/lib/address.js";
import { transportFor } from "../../clients/lib/node.js";
import { ParleyClient } from "../../clients/lib/parley-client.js";
import { startTestApp } from "../e2e/support/test-app.js";
import { makeTlsFixture, type TlsFixture } from "../e2e/support/tls-certs.js";
import { waitFor } from "./support.js";

describe("TLS addresses", () => {
  it("reads tls:// and lps:// as line-delimited and length-prefixed TCP over TLS, and writes them back", () => {
    const line = parseAddress("tls://example.org:7443");
    assert.deepEqual(line, { kind: "tcp", host: "example.org", port: 7443, tls: true });
    const lp = parseAddress("lps://[::1]:7444");
    assert.deepEqual(lp, { kind: "lp", host: "::1", port: 7444, tls: true });
    assert.equal(formatAddress(line), "tls://example.org:7443");
    assert.equal(formatAddress(lp), "lps://[::1]:7444");
    assert.equal(formatAddress(parseAddress("lp://a:1")), "lp://a:1");
  });
});

describe("ParleyClient over TLS", () => {
  let pki: TlsFixture;
  let app: App;
  before(async () => {
    pki = makeTlsFixture();
    const cert = pki.serverCert("server", "9A01");
    app = await startTestApp({ tls: { certPath: cert.certPath, keyPath: cert.keyPath } });
  });
  after(async () => {
    await app?.stop();
    pki?.remove();
  });

  const client = (address: string, name: string, ca?: Buffer): ParleyClient =>
    new ParleyClient({
      transport: transportFor(parseAddress(address), undefined, ca ? { ca } : {}),
      name,
      heartbeatMs: 0,
    });

  it("talks in one room over tls://, lps:// and wss:// when it trusts the server's CA", async () => {
    const clients = [
      client(`tls://127.0.0.1:${app.ports.tcp!}`, "line-tls", pki.ca),
      client(`lps://127.0.0.1:${app.ports.lp!}`, "lp-tls", pki.ca),
      client(`wss://localhost:${app.ports.http!}/ws`, "wss", pki.ca),
    ];
    for (const c of clients) {
      await c.connect();
      const joined = waitFor(c, "event", (ev) => ev._et === "user_joined_room");
      c.join("general");
      await joined;
    }
    assert.match(clients[0]!.status.server, /^tls:\/\//);
    assert.match(clients[1]!.status.server, /^lps:\/\//);
    const heard = clients.map((c) =>
      waitFor(c, "event", (ev) => ev._et === "user_message" && ev.c === "hello over tls"),
    );
    clients[1]!.send("general", "hello over tls");
    await Promise.all(heard);
    await Promise.all(clients.map((c) => c.close()));
  });

  it("does not connect when it does not trust the certificate, and says why", async () => {
    for (const address of [
      `tls://127.0.0.1:${app.ports.tcp!}`,
      `wss://localhost:${app.ports.http!}/ws`,
    ]) {
      const c = client(address, "doubter");
      await assert.rejects(c.connect(), /unable to verify/i, address);
      assert.match(c.status.lastError ?? "", /unable to verify/i);
      await c.close();
    }
  });
});
