import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { runServerToExit, spawnServer } from "../helpers/harness.js";
import { LineClient } from "./support/chat-clients.js";
import { startTestApp } from "./support/test-app.js";
import { makeTlsFixture, type ServerCert, type TlsFixture } from "./support/tls-certs.js";

/** Waits until the server's output has `n` lines matching `pattern`. */
async function logged(output: () => string, pattern: RegExp, n = 1): Promise<void> {
  const deadline = Date.now() + 15_000;
  const count = (): number =>
    output()
      .split("\n")
      .filter((l) => pattern.test(l)).length;
  while (count() < n) {
    if (Date.now() > deadline) throw new Error(`no ${String(pattern)} in: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const serialOf = (c: LineClient): string =>
  (c.socket as TLSSocket).getPeerCertificate().serialNumber;

describe("TLS certificate reload on SIGHUP (a real server process)", () => {
  let pki: TlsFixture;
  let first: ServerCert;
  let second: ServerCert;
  /** the paths the server is given; a "deploy" copies a pair over them */
  let live: { cert: string; key: string };
  before(() => {
    pki = makeTlsFixture();
    first = pki.serverCert("first", "6A01");
    second = pki.serverCert("second", "6B02");
    live = { cert: join(pki.dir, "live.crt"), key: join(pki.dir, "live.key") };
  });
  after(() => pki?.remove());

  it("serves new connections with the new pair while open ones go on, and keeps the pair in use when the new key is broken", async () => {
    copyFileSync(first.certPath, live.cert);
    copyFileSync(first.keyPath, live.key);
    const server = await spawnServer([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--lp-port",
      "off",
      "--store",
      "memory",
      "--tls-cert",
      live.cert,
      "--tls-key",
      live.key,
    ]);
    const trust = { ca: pki.ca };
    try {
      const early = await LineClient.open(server.ports.tcp!, trust);
      await early.join("general");
      assert.equal(serialOf(early), first.serial);

      copyFileSync(second.certPath, live.cert);
      copyFileSync(second.keyPath, live.key);
      server.proc.kill("SIGHUP");
      await logged(server.output, /"tls certificate reloaded"/);
      const late = await LineClient.open(server.ports.tcp!, trust);
      await late.join("general");
      assert.equal(serialOf(late), second.serial, "a new connection gets the new certificate");
      early.send({ _ct: "send_message", r: "general", c: "still here" });
      await late.waitFor("user_message", (e) => e.c === "still here");
      await early.waitFor("user_message", (e) => e.c === "still here");
      assert.equal(early.isClosed, false, "the connection made before the reload goes on");

      writeFileSync(live.key, "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n");
      server.proc.kill("SIGHUP");
      await logged(server.output, /"tls reload failed: keeping the current certificate"/);
      assert.match(server.output(), /"code":"TLS_CREDENTIALS_INVALID"/);
      const after = await LineClient.open(server.ports.tcp!, trust);
      await after.join("general");
      assert.equal(serialOf(after), second.serial, "the pair in use stays");
      after.send({ _ct: "send_message", r: "general", c: "after a bad reload" });
      for (const c of [early, late]) {
        await c.waitFor("user_message", (e) => e.c === "after a bad reload");
      }
      for (const c of [early, late, after]) c.close();
    } finally {
      server.proc.kill("SIGTERM");
    }
    assert.equal(await server.exited, 0, server.output());
  });
});

describe("App.reloadTls", () => {
  it("swaps the pair on every listener (line, length-prefixed, HTTPS) and counts each reload", async () => {
    const pki = makeTlsFixture();
    const first = pki.serverCert("first", "8A01");
    const second = pki.serverCert("second", "8B02");
    const live = { certPath: join(pki.dir, "live.crt"), keyPath: join(pki.dir, "live.key") };
    copyFileSync(first.certPath, live.certPath);
    copyFileSync(first.keyPath, live.keyPath);
    const app = await startTestApp({ tls: live });
    try {
      const serials = (): Promise<string[]> =>
        Promise.all([
          peerSerial(app.ports.tcp!, pki.ca),
          peerSerial(app.ports.lp!, pki.ca),
          peerSerial(app.ports.http!, pki.ca),
        ]);
      assert.deepEqual(await serials(), [first.serial, first.serial, first.serial]);
      copyFileSync(second.certPath, live.certPath);
      copyFileSync(second.keyPath, live.keyPath);
      const ok = await app.reloadTls();
      assert.equal(ok.ok, true);
      assert.deepEqual(await serials(), [second.serial, second.serial, second.serial]);
      writeFileSync(live.certPath, "not a certificate\n");
      const bad = await app.reloadTls();
      assert.equal(bad.ok, false);
      assert.equal(!bad.ok && bad.code, "TLS_CREDENTIALS_INVALID");
      assert.deepEqual(await serials(), [second.serial, second.serial, second.serial]);
      const text = await app.metrics.render();
      assert.match(text, /^parley_tls_reloads_total\{result="ok"\} 1$/m);
      assert.match(text, /^parley_tls_reloads_total\{result="failed"\} 1$/m);
    } finally {
      await app.stop();
      pki.remove();
    }
  });

  it("answers TLS_OFF on a server without TLS", async () => {
    const app = await startTestApp({ lpPort: null, httpPort: null });
    const r = await app.reloadTls();
    assert.equal(!r.ok && r.code, "TLS_OFF");
    await app.stop();
  });
});

/** The serial of the certificate a new TLS connection to `port` is shown. */
function peerSerial(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      resolve(s.getPeerCertificate().serialNumber);
      s.destroy();
    });
    s.once("error", reject);
  });
}

describe("TLS settings at start", () => {
  let pki: TlsFixture;
  let pair: ServerCert;
  let other: ServerCert;
  before(() => {
    pki = makeTlsFixture();
    pair = pki.serverCert("pair", "7A01");
    other = pki.serverCert("other", "7B01");
  });
  after(() => pki?.remove());
  const base = ["--host", "127.0.0.1", "--port", "0", "--lp-port", "off", "--store", "memory"];

  it("exits 2 when only one of --tls-cert and --tls-key is given", async () => {
    const r = await runServerToExit([...base, "--tls-cert", pair.certPath]);
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /--tls-cert and --tls-key go together/);
    const keyOnly = await runServerToExit([...base, "--tls-key", pair.keyPath]);
    assert.equal(keyOnly.code, 2, keyOnly.output);
  });

  it("exits 1 with the file named when a file cannot be read", async () => {
    const missing = join(pki.dir, "missing.key");
    const r = await runServerToExit([...base, "--tls-cert", pair.certPath, "--tls-key", missing]);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /cannot read the TLS key file .*missing\.key/);
  });

  it("exits 1 when the key is not the certificate's", async () => {
    const r = await runServerToExit([
      ...base,
      "--tls-cert",
      pair.certPath,
      "--tls-key",
      other.keyPath,
    ]);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /not a usable certificate and key/);
  });
});
