import assert from "node:assert/strict";
import { runScript, type ScriptRun } from "./stress-helpers.js";
import { describe, it } from "node:test";

function bench(args: string[]): Promise<ScriptRun> {
  return runScript("bench/run.ts", args, { timeoutMs: 25_000 });
}

describe("npm run bench", () => {
  it("starts each server pinned, measures it, and prints one table with a note per skipped server", async () => {
    const r = await bench([
      "--servers",
      "parley-ws,ws-peer",
      "--scenarios",
      "seed",
      "--seed-duration",
      "0.5",
      // a test must not wait for the rest of the machine to go quiet, nor repeat runs
      "--max-others",
      "10000",
      "--attempts",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const header = r.stdout.split("\n").find((l) => l.startsWith("metric"));
    assert.ok(header, r.stdout);
    assert.match(header, /Parley WS\s+ws/);
    const p99 = r.stdout.split("\n").find((l) => l.startsWith("p99 latency ms, seed load"));
    assert.ok(p99, r.stdout);
    const cells = p99.split(/\s{2,}/);
    // the ws peer ran: a number; Parley WS ran too, or was skipped with a note saying why
    assert.match(cells[2]!, /^\d[\d,.]*$/, p99);
    if (cells[1] === "-") assert.match(r.stdout, /- Parley WS seed: skipped: /);
    else assert.match(cells[1]!, /^\d[\d,.]*$/);
    const lost = r.stdout.split("\n").find((l) => l.startsWith("lost deliveries, seed load"));
    assert.match(lost!, /\s0$/);
  });
});
