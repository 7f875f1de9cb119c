import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { LatencySummary } from "../../clients/stress/index.js";
import {
  leastSquaresSlope,
  summarizeSoak,
  warmUpIntervals,
  type SoakInterval,
  type SoakRun,
  type SoakSummary,
} from "../../bench/soak-summary.js";
import { startParley } from "./stress-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "parley-soak-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `npm run soak`'s script; killed (with the server it started) if it overruns `limitMs`. */
function soak(
  args: string[],
  limitMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/soak.ts", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      // a killed soak cannot stop its server: the first line names its pid
      const pid = /^soak: Parley \(.*?\) pid (\d+)/m.exec(stdout)?.[1];
      if (pid) process.kill(Number(pid), "SIGKILL");
    }, limitMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Interval lines: they start with the elapsed seconds, right-aligned. */
function intervalLines(stdout: string): string[] {
  return stdout.split("\n").filter((l) => /^\s+\d+\.\d( +(-|[\d,.]+)){11}$/.test(l));
}

describe("npm run soak", () => {
  it("runs the seed load against its own Parley, a line per interval, a summary, and exits 0 when nothing was lost", async () => {
    const json = join(dir, "soak.json");
    // 24 s of the full seed load (48 users x 200 msg/s), a line every 5 s
    const r = await soak(["--minutes", "0.4", "--interval-s", "5", "--json", json], 90_000);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^soak: Parley \(.*\) pid \d+ on tcp:\/\/127\.0\.0\.1:\d+/m);
    const lines = intervalLines(r.stdout);
    assert.ok(lines.length >= 3, r.stdout);
    assert.match(r.stdout, /^verdict: (PASS|WARN): /m);

    const s = JSON.parse(readFileSync(json, "utf8")) as SoakSummary & {
      intervals: SoakInterval[];
    };
    assert.equal(s.totals.lost, 0);
    assert.equal(s.totals.errors, 0, JSON.stringify(s.totals.errorsByKind));
    assert.equal(s.totals.delivered, s.totals.expected);
    assert.ok(s.totals.expected > 0);
    assert.equal(s.intervals.length, lines.length);
    for (const i of s.intervals) {
      assert.equal(i.lostSoFar, 0);
      assert.ok(i.received > 0 && i.rssMiB! > 0, JSON.stringify(i));
    }
    // the heap comes from the server's /metrics, which a saturated machine may not answer in time
    assert.ok(
      s.intervals.some((i) => i.heapUsedMiB! > 0),
      "a heap reading",
    );
    assert.equal(typeof s.rss?.slopeMiBPerHour, "number");
    for (const k of ["min", "median", "max"] as const) {
      assert.equal(typeof s.p99Ms[k], "number");
      assert.ok(s.p99Ms[k] > 0, `p99 ${k}`);
    }
    assert.ok(s.p99Ms.min <= s.p99Ms.median && s.p99Ms.median <= s.p99Ms.max);
    // every delivery timed once, across intervals and the final drain
    assert.equal(s.latencyMs.count, s.totals.delivered);
    // no leak that shows in 24 s: RSS after warm-up vs at the end
    assert.ok(
      s.rss!.endMiB < 2 * s.rss!.startMiB,
      `RSS ${s.rss!.startMiB} -> ${s.rss!.endMiB} MiB`,
    );
  });

  it("exits 1 with a FAIL verdict when the server drops the load (here: its flood limit)", async () => {
    // A Parley in this process that allows 5 commands/s and cuts a session held back 0.3 s.
    const parley = await startParley({ ratePerSec: 5, rateBurst: 5, floodDisconnectMs: 300 });
    try {
      const r = await soak(
        [
          "--minutes",
          "0.2",
          "--interval-s",
          "2",
          "--users",
          "4",
          "--rate",
          "50",
          "--port",
          String(parley.port),
          "--server-pid",
          String(process.pid),
        ],
        60_000,
      );
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^soak: the server at tcp:\/\/127\.0\.0\.1:\d+, pid \d+/m);
      assert.match(r.stdout, /^verdict: FAIL: .*errors/m);
      assert.match(r.stdout, /stopped early: every connection was closed/);
    } finally {
      await parley.stop();
    }
  });
});

describe("soak summary", () => {
  const latency = (p99: number): LatencySummary => ({
    count: 100,
    mean: p99 / 2,
    p50: p99 / 4,
    p95: p99 / 2,
    p99,
    max: p99 * 2,
  });
  const run = (rss: number[], p99: number[], lost = 0): SoakRun => ({
    intervals: rss.map((r, k) => ({
      elapsedS: (k + 1) * 10,
      durationS: 10,
      rssMiB: r,
      rssPeakMiB: r,
      generatorCpuPct: 20,
      othersCpuPct: 0,
      sent: 100,
      received: 200,
      deliveriesPerSec: 20,
      latencyMs: latency(p99[k]!),
      lostSoFar: 0,
      errors: 0,
      errorsSoFar: 0,
    })),
    totals: {
      sent: 1000,
      expected: 2000,
      delivered: 2000 - lost,
      lost,
      errors: 0,
      errorsByKind: {},
    },
    latencyMs: latency(5),
    sendingS: rss.length * 10,
  });

  it("fits the least-squares slope, and has none below two points", () => {
    assert.equal(
      leastSquaresSlope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
      2,
    );
    assert.equal(
      leastSquaresSlope([
        [0, 0],
        [1, 2],
        [2, 0],
        [3, 2],
      ]),
      0.4,
    );
    assert.equal(leastSquaresSlope([[1, 1]]), null);
  });

  it("leaves out the first interval, or the first 10% of the run if longer, as warm-up", () => {
    assert.equal(warmUpIntervals(30, 5), 1);
    assert.equal(warmUpIntervals(180, 10), 2);
    assert.equal(warmUpIntervals(3600, 10), 36);
  });

  it("passes a flat run, with RSS taken from the end of the warm-up and p99 from after it", () => {
    // 200 s in 10 s intervals: the first 2 are warm-up
    const rss = [150, 100, ...Array.from({ length: 18 }, (_, k) => 100 + (k % 2))];
    const p99 = [40, 9, ...Array.from({ length: 18 }, (_, k) => 3 + (k % 3 === 0 ? 1 : 0))];
    const s = summarizeSoak(run(rss, p99), 200, 10);
    assert.equal(s.warmUpIntervals, 2);
    assert.equal(s.verdict, "PASS", s.reasons.join("; "));
    assert.equal(s.rss!.startMiB, 100);
    assert.equal(s.rss!.peakMiB, 150);
    assert.ok(Math.abs(s.rss!.slopeMiBPerHour!) < 10, String(s.rss!.slopeMiBPerHour));
    assert.deepEqual([s.p99Ms.min, s.p99Ms.median, s.p99Ms.max], [3, 3, 4]);
  });

  it("warns on rising RSS or creeping p99, and fails on loss", () => {
    const leak = summarizeSoak(run([90, 100, 110, 120, 130, 140], [3, 3, 3, 3, 3, 3]), 60, 10);
    assert.equal(leak.verdict, "WARN");
    assert.ok(Math.abs(leak.rss!.slopeMiBPerHour! - 3600) < 0.5, String(leak.rss!.slopeMiBPerHour));
    assert.match(leak.reasons.join(), /RSS .* rising/);
    const flatRss = [100, 100, 100, 100, 100, 100, 100];
    const creep = summarizeSoak(run(flatRss, [2, 2, 2, 3, 9, 10, 12]), 70, 10);
    assert.equal(creep.verdict, "WARN");
    assert.match(creep.reasons.join(), /p99 .* creeping/);
    const lost = summarizeSoak(run([100, 100, 100], [3, 3, 3], 7), 30, 10);
    assert.equal(lost.verdict, "FAIL");
    assert.match(lost.reasons[0]!, /7 deliveries lost/);
    const gone = summarizeSoak(
      { ...run([100, 100], [3, 3]), stoppedEarly: "server process 7 exited" },
      30,
      10,
    );
    assert.equal(gone.verdict, "FAIL");
    // Ctrl-C: judged on what ran
    const stopped = summarizeSoak(
      { ...run([100, 100], [3, 3]), stoppedEarly: "interrupted" },
      30,
      10,
    );
    assert.equal(stopped.verdict, "PASS");
    assert.match(stopped.reasons[0]!, /^interrupted/);
  });
});
