import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { App } from "../../src/app.js";
import type { StressReport } from "../../clients/stress/index.js";
import { startTestApp } from "../e2e/support/test-app.js";
import { makeTlsFixture, type TlsFixture } from "../e2e/support/tls-certs.js";
import { assertLossless, runScript, type ScriptRun } from "./stress-helpers.js";

function stress(args: string[]): Promise<ScriptRun> {
  return runScript("clients/stress/main.ts", args, { timeoutMs: 30_000 });
}

const TINY_SEED = ["--scenario", "seed", "--users", "4", "--rate", "30", "--duration", "0.5"];

describe("npm run stress -- --tls", () => {
  let pki: TlsFixture;
  let app: App;
  before(async () => {
    pki = makeTlsFixture();
    const cert = pki.serverCert("server", "AA01");
    app = await startTestApp({
      lpPort: null,
      tls: { certPath: cert.certPath, keyPath: cert.keyPath },
    });
  });
  after(async () => {
    await app?.stop();
    pki?.remove();
  });

  for (const transport of ["tcp", "ws"] as const) {
    it(`runs the seed load over TLS on ${transport} and loses nothing`, async () => {
      const port = transport === "tcp" ? app.ports.tcp! : app.ports.http!;
      const r = await stress([
        ...TINY_SEED,
        "--transport",
        transport,
        "--port",
        String(port),
        "--tls",
        "--ca",
        pki.caPath,
        "--json",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as StressReport;
      assertLossless(report);
      assert.match(report.target, transport === "tcp" ? /^tls:\/\// : /^wss:\/\//);
    });
  }

  it("fails without the CA, saying why, rather than measuring nothing", async () => {
    const r = await stress([...TINY_SEED, "--port", String(app.ports.tcp!), "--tls", "--json"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/i);
  });
});
