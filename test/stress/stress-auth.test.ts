import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { App } from "../../src/app.js";
import type { StressReport } from "../../clients/stress/index.js";
import { defaultConfig } from "../../src/config.js";
import { startTestApp } from "../e2e/support/test-app.js";
import { assertLossless, runScript, type ScriptRun } from "./stress-helpers.js";

function stress(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ScriptRun> {
  return runScript("clients/stress/main.ts", args, {
    timeoutMs: 30_000,
    env: { ...process.env, PARLEY_JWT_SECRET: "", ...env },
  });
}

const SECRET = "a-stress-test-secret-of-32-bytes-at-least";
const TINY_SEED = ["--scenario", "seed", "--users", "4", "--rate", "30", "--duration", "0.5"];

describe("npm run stress -- --jwt-secret (a server with --auth required)", () => {
  let app: App;
  before(async () => {
    app = await startTestApp({
      lpPort: null,
      auth: { ...defaultConfig().auth, mode: "required", secret: SECRET },
    });
  });
  after(async () => {
    await app?.stop();
  });

  for (const transport of ["tcp", "ws"] as const) {
    it(`signs each user a token, sends it in hello and loses nothing on ${transport}`, async () => {
      const port = transport === "tcp" ? app.ports.tcp! : app.ports.http!;
      const r = await stress([
        ...TINY_SEED,
        "--transport",
        transport,
        "--port",
        String(port),
        "--jwt-secret",
        SECRET,
        "--json",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assertLossless(JSON.parse(r.stdout) as StressReport);
    });
  }

  it("takes the secret from PARLEY_JWT_SECRET", async () => {
    const r = await stress([...TINY_SEED, "--port", String(app.ports.tcp!), "--json"], {
      PARLEY_JWT_SECRET: SECRET,
    });
    assert.equal(r.code, 0, r.stderr);
    assertLossless(JSON.parse(r.stdout) as StressReport);
  });

  it("measures nothing without a token: the server refuses every user", async () => {
    const r = await stress([...TINY_SEED, "--port", String(app.ports.tcp!), "--json"]);
    const report = JSON.parse(r.stdout) as StressReport;
    assert.equal(report.connections.ready, 0, "no user got in");
    assert.equal(report.connections.failed, 4, "every user counted as failed");
  });

  it("measures nothing with a token signed by another secret", async () => {
    const r = await stress([
      ...TINY_SEED,
      "--port",
      String(app.ports.tcp!),
      "--jwt-secret",
      "another-secret-that-is-also-32-bytes-long",
      "--json",
    ]);
    const report = JSON.parse(r.stdout) as StressReport;
    assert.equal(report.connections.ready, 0, "no user got in");
    assert.equal(report.connections.failed, 4, "every user counted as failed");
  });
});
