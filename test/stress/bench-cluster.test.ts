import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runScript, type ScriptRun } from "./stress-helpers.js";
import { describe, it } from "node:test";
import type { ClusterColumn } from "../../bench/cluster-table.js";
import { parseRedisInfo, redisDelta } from "../../bench/redis-stats.js";

function bench(args: string[]): Promise<ScriptRun> {
  return runScript("bench/cluster.ts", args, { timeoutMs: 100_000, killSignal: "SIGINT" });
}

async function adapterInstalled(): Promise<boolean> {
  try {
    await import("@socket.io/redis-adapter");
    return true;
  } catch {
    return false;
  }
}

describe("npm run bench:cluster", () => {
  it("reads Redis's INFO and leaves out the commands and connections of its own readings", () => {
    const info = (spublish: number, info: number, inBytes: number, conns: number): string =>
      [
        "# Stats",
        `total_connections_received:${conns}`,
        `total_net_input_bytes:${inBytes}`,
        "total_net_output_bytes:500",
        "# CPU",
        "used_cpu_sys:1.500000",
        "used_cpu_user:0.250000",
        "# Commandstats",
        `cmdstat_spublish:calls=${spublish},usec=10,usec_per_call=0.1,rejected_calls=0,failed_calls=0`,
        `cmdstat_info:calls=${info},usec=10,usec_per_call=1.0,rejected_calls=0,failed_calls=0`,
        "",
      ].join("\r\n");
    const a = { ...parseRedisInfo(info(10, 3, 100, 5)), own: { info: 3, " connections": 4 } };
    assert.deepEqual(a.calls, { spublish: 10, info: 3 });
    assert.equal(a.cpuMs, 1750);
    const b = { ...parseRedisInfo(info(110, 4, 900, 7)), own: { info: 4, " connections": 5 } };
    const d = redisDelta(a, b);
    assert.deepEqual(d.calls, { spublish: 100 });
    assert.equal(d.totalCalls, 100);
    assert.equal(d.netInBytes, 800);
    assert.equal(d.connections, 1);
  });

  it("runs each configuration, and prints one table: no loss, one SPUBLISH per message", async () => {
    const setups = ["single", "nodes", "workers"];
    if (await adapterInstalled()) setups.push("socketio");
    else {
      process.stdout.write(
        "# @socket.io/redis-adapter is not installed: the Socket.IO cluster column is left out\n",
      );
    }
    const dir = mkdtempSync(join(tmpdir(), "parley-bench-cluster-"));
    try {
      const json = join(dir, "cluster.json");
      const r = await bench([
        "--quick",
        "--setups",
        setups.join(","),
        "--scenarios",
        "seed",
        "--seed-duration",
        "1",
        // a test must not wait for the rest of the machine to go quiet, nor repeat runs
        "--max-others",
        "10000",
        "--attempts",
        "1",
        "--json",
        json,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split("\n");
      const header = lines.find((l) => l.startsWith("metric"));
      assert.ok(header, r.stdout);
      assert.match(header, /Parley 1 process\s+Parley 2 nodes\s+Parley 2 workers/);
      for (const row of [
        "p99 latency ms, seed load",
        "lost deliveries, seed load",
        "server CPU µs per delivery, seed",
        "machine CPU µs per delivery, seed",
        "Redis SPUBLISH per message sent",
        "Redis bytes out per message sent",
        "lossless ceiling, deliveries/s",
      ]) {
        assert.ok(
          lines.some((l) => l.startsWith(row)),
          `row ${row}:\n${r.stdout}`,
        );
      }
      const { columns } = JSON.parse(readFileSync(json, "utf8")) as { columns: ClusterColumn[] };
      assert.deepEqual(
        columns.map((c) => c.id),
        setups,
      );
      for (const c of columns) {
        const seed = c.runs.seed;
        assert.ok(typeof seed === "object", `${c.label}: ${JSON.stringify(seed)}`);
        const m = seed.report.result;
        assert.ok(m.sent > 0, `${c.label} sent`);
        assert.equal(m.lost, 0, `${c.label} lost`);
        assert.equal(m.delivered, m.sent * 2, `${c.label}: both members of each room`);
        if (c.id === "single") {
          assert.equal(seed.redis, undefined);
          continue;
        }
        const calls = seed.redis!.calls;
        // a publish per message (and a few for the joins), not one per recipient (2 here)
        const publishes = c.id === "socketio" ? calls.publish : calls.spublish;
        const perMessage = (publishes ?? 0) / m.sent;
        assert.ok(perMessage >= 0.99 && perMessage < 1.05, `${c.label}: ${perMessage} per message`);
        if (c.id === "nodes") assert.deepEqual(seed.spanning, { split: 24, rooms: 24 });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
