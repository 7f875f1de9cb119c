import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { RUST_PEER_DIR, RUST_PORT } from "../../bench/rust-stress.js";
import { portFree } from "../../bench/server-process.js";

/** The pids still alive in session `sid` (the bench's own: it runs detached, as its session leader). */
function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      // after the command name: state ppid pgrp session ... (fields 3, 4, 5, 6)
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[3]) === sid && f[0] !== "Z") out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Runs the bench in a session of its own, so that whatever it started (the servers under taskset,
 * the stress tool, `timeout` and stress_test, which `timeout` moves to a process group of its own)
 * can be found afterwards by session id, even once reparented.
 */
function bench(args: string[]): Promise<{
  code: number | null;
  stdout: string;
  stderr: string;
  leftover: number[];
}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const sid = child.pid!;
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 100_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const leftover = sessionMembers(sid);
      // the test's own processes: stop them so a failure here leaves nothing running either
      for (const pid of leftover) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      resolve({ code, stdout, stderr, leftover });
    });
  });
}

const row = (out: string, label: string): string[] => {
  const line = out.split("\n").find((l) => l.startsWith(label));
  assert.ok(line, `no row ${label} in:\n${out}`);
  return line.split(/\s{2,}/);
};

describe("npm run bench with the Rust original", () => {
  it("measures it on :8080 beside Parley TCP, runs its stress_test against both, and leaves no process behind", async (t) => {
    if (!existsSync(`${RUST_PEER_DIR}/server`) || !existsSync(`${RUST_PEER_DIR}/stress_test`)) {
      t.skip(`no release build of the Rust original in ${RUST_PEER_DIR}`);
      return;
    }
    if (!(await portFree(RUST_PORT))) {
      t.skip(`port ${RUST_PORT} is in use by another process; the Rust original can only use it`);
      return;
    }
    const r = await bench([
      "--servers",
      "parley-tcp,rust",
      "--scenarios",
      "seed,rust-stress",
      "--seed-duration",
      "1",
      "--rust-stress-seconds",
      "5",
      // a test must not wait for the rest of the machine to go quiet, nor repeat runs
      "--max-others",
      "10000",
      "--attempts",
      "1",
    ]);
    assert.deepEqual(r.leftover, [], "processes the bench started are still running");
    assert.equal(r.code, 0, r.stderr);
    // :8080 could be taken by someone else between the check and the run: then the table says so
    if (/port 8080 is in use/.test(r.stdout)) {
      t.skip("port 8080 was taken during the run");
      return;
    }
    const header = row(r.stdout, "metric");
    assert.deepEqual(header.slice(1), [
      "Parley TCP",
      "Rust original",
      "Parley TCP vs Rust original",
    ]);
    assert.deepEqual(row(r.stdout, "lost deliveries, seed load").slice(1), ["0", "0", "-"]);
    const cpu = row(r.stdout, "CPU µs per delivery, seed load");
    assert.match(cpu[1]!, /^\d[\d,.]*$/);
    assert.match(cpu[2]!, /^\d[\d,.]*$/);
    assert.match(cpu[3]!, /^\d+\.\dx$/);
    // 5 s of stress_test: it adds 20 users a second, so some 80-100 users against each server
    for (const users of row(r.stdout, "stress_test: users reached").slice(1, 3)) {
      assert.ok(Number(users) >= 40, `users reached: ${users}\n${r.stdout}`);
    }
    assert.deepEqual(row(r.stdout, "stress_test: errors printed").slice(1), ["0", "0", "-"]);
    assert.match(row(r.stdout, "stress_test: server peak RSS MB")[3]!, /^\d+\.\dx$/);
    assert.ok(await portFree(RUST_PORT), "port 8080 is still held after the bench");
  });
});
