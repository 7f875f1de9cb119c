// parley-tui over TLS in a real terminal: tls:// with --ca trusts the test CA; without it, the
// connect page says why the server was refused.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { App } from "../../src/app.js";
import { LineClient } from "./support/chat-clients.js";
import { startTestApp } from "./support/test-app.js";
import { makeTlsFixture, type TlsFixture } from "./support/tls-certs.js";
import { Tmux } from "./support/tmux.js";

describe("parley-tui over TLS", () => {
  let t: Tmux;
  let pki: TlsFixture;
  let app: App;
  before(async () => {
    pki = makeTlsFixture();
    const cert = pki.serverCert("server", "BB01");
    app = await startTestApp({ tls: { certPath: cert.certPath, keyPath: cert.keyPath } });
    t = new Tmux("idle", { width: 120, height: 30 });
  });
  after(async () => {
    t?.close();
    await app?.stop();
    pki?.remove();
  });

  it("connects to tls://host:port with --ca and chats", async () => {
    const peer = await LineClient.open(app.ports.tcp!, { ca: pki.ca });
    await peer.join("general");
    t.startTui("tina", `--server tls://127.0.0.1:${app.ports.tcp!} --ca ${pki.caPath} --name tina`);
    await t.ready("tina", "● online");
    await t.shows("tina", "User: @tina");
    t.type("tina", "/join general");
    await peer.waitFor("room_participation", (e) => e.s === "joined", 30_000);
    t.type("tina", "hello from the terminal");
    await peer.waitFor("user_message", (e) => e.c === "hello from the terminal", 30_000);
    t.type("tina", "/quit");
    assert.equal(await t.exitStatus("tina"), "0");
    peer.close();
  });

  it("without --ca, shows that the certificate was not trusted", async () => {
    t.startTui("una", `--server tls://127.0.0.1:${app.ports.tcp!}`);
    await t.shows("una", "unable to verify");
    assert.doesNotMatch(t.screen("una"), /● online/);
  });
});
