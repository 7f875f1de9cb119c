import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { StressReport } from "../../clients/stress/index.js";
import { assertLossless, startParley, runScript, type ScriptRun } from "./stress-helpers.js";

function run(args: string[]): Promise<ScriptRun> {
  return runScript("clients/stress/main.ts", args, { timeoutMs: 20_000 });
}

describe("npm run stress (the command)", () => {
  let parley: Awaited<ReturnType<typeof startParley>>;
  before(async () => {
    parley = await startParley();
  });
  after(() => parley.stop());

  it("prints a JSON report for --json, with this process's CPU and RSS as the server's", async () => {
    const r = await run([
      "--scenario",
      "seed",
      "--users",
      "4",
      "--rate",
      "30",
      "--duration",
      "0.5",
      "--port",
      String(parley.port),
      "--server-pid",
      String(process.pid),
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as StressReport;
    assert.equal(report.scenario, "seed");
    assertLossless(report);
    assert.ok(report.result.server && report.result.server.rssKiB > 0);
    assert.equal(r.stderr, "", "no progress line when stderr is not a terminal");
  });

  it("prints a readable summary by default", async () => {
    const r = await run([
      "--scenario",
      "fanout",
      "--users",
      "5",
      "--rate",
      "10",
      "--duration",
      "0.3",
      "--port",
      String(parley.port),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^scenario fanout over tcp/);
    assert.match(r.stdout, /latency ms {3}p50 [\d.]+ {2}p95 [\d.]+ {2}p99 [\d.]+ {2}max [\d.]+/);
    assert.match(r.stdout, /loss {9}0 \(0%\)/);
  });

  it("exits 1 with a clear message when the server is unreachable, 2 on a bad option", async () => {
    const closed = await startParley();
    const port = closed.port;
    await closed.stop();
    const r = await run(["--scenario", "seed", "--port", String(port)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot connect to tcp:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    const bad = await run(["--scenario", "everything"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--scenario must be one of seed, ramp, fanout, idle, ceiling/);
  });
});
