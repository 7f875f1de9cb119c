import assert from "node:assert/strict";
import { runScript, type ScriptRun } from "./stress-helpers.js";
import { describe, it } from "node:test";

function bench(args: string[]): Promise<ScriptRun> {
  return runScript("bench/run.ts", args, { timeoutMs: 60_000 });
}

describe("npm run bench -- --tls", () => {
  it("runs the seed load against Parley's line TCP over TLS, with a certificate made for the run, and tabulates it", async () => {
    const r = await bench([
      "--tls",
      "--servers",
      "parley-tls",
      "--scenarios",
      "seed",
      "--seed-duration",
      "0.5",
      "--max-others",
      "10000",
      "--attempts",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const header = r.stdout.split("\n").find((l) => l.startsWith("metric"));
    assert.match(header ?? "", /Parley TCP\+TLS/, r.stdout);
    const cpu = r.stdout.split("\n").find((l) => l.startsWith("CPU µs per delivery, seed load"));
    assert.match(cpu ?? "", /\s\d[\d,.]*$/, r.stdout);
    const lost = r.stdout.split("\n").find((l) => l.startsWith("lost deliveries, seed load"));
    assert.match(lost ?? "", /\s0$/, r.stdout);
  });
});
