import { spawn } from "node:child_process";
import { type ProcessSample, sampleProcess } from "../clients/stress/index.js";

/**
 * The Rust original's own load, `examples/stress_test` (release build beside its server, see that
 * folder's README): it connects to localhost:8080 (fixed), ramps to 2,400 users over 180 s (each
 * in 5 of the 24 rooms, one message every 10 s) and never stops by itself, so it runs under
 * `timeout`. It prints nothing but `total users: N` (about once a second) and a line per user
 * whose connection ended; it measures nothing, so the server's CPU and memory are read here from
 * /proc of the server's pid, as the stress tool's process sampler does.
 */

/** Where the release builds live (outside the repository; shared by the sessions). */
export const RUST_PEER_DIR = "/work/shared/peers/rust-chat-server";

/** The port both the original server and its stress_test have compiled in. */
export const RUST_PORT = 8080;

/** 60 s to 1,200 users, 120 s more to 2,400, then 20 s at the top. */
export const RUST_STRESS_FULL_S = 200;

/** How often the server's RSS is read for the peak (CPU time is cumulative: read at both ends). */
const SAMPLE_EVERY_MS = 250;

export interface RustStressReport {
  /** discriminates this from the stress tool's StressReport in a column's results */
  kind: "rust-stress";
  /** how long stress_test ran before `timeout` stopped it, s */
  durationS: number;
  /** the last `total users: N` it printed */
  usersReached: number;
  /** lines telling of a user's connection ending in an error (`some error occurred = ...`) */
  errors: number;
  /** the first error line, for the note */
  firstError?: string;
  /** users whose connection ended without an error (`exited without problems`): the server hung up */
  exitedClean: number;
  /** server CPU time (user + system, all threads) over the run, s */
  serverCpuS: number;
  /** the server's highest resident set size seen during the run, MB (10^6 bytes) */
  serverPeakRssMB: number;
  /**
   * the highest anonymous part of it (RssAnon), MB: the server's own memory without its
   * executable's file-backed pages (node's binary maps about 40 MB; a Rust binary 1-2 MB)
   */
  serverPeakAnonMB?: number;
  /**
   * its resident set size when the run began (started, listening, no client yet), MB: what the
   * peak owes to the runtime rather than the load (Parley run from source carries tsx's compiler)
   */
  serverStartRssMB: number;
}

/**
 * Runs stress_test for `seconds` pinned to `cpu` against whatever listens on :8080 (the server
 * whose pid is `serverPid`). Rejects when stress_test cannot run or the server dies meanwhile.
 */
export function runRustStress(
  serverPid: number,
  seconds: number,
  cpu: number,
): Promise<RustStressReport> {
  return new Promise((resolve, reject) => {
    const first = sampleProcess(serverPid);
    if (!first) {
      reject(new Error(`server pid ${serverPid} is gone before the run`));
      return;
    }
    let peakKiB = first.rssKiB;
    let peakAnonKiB = first.anonKiB;
    let last = first;
    const note = (s: ProcessSample): void => {
      peakKiB = Math.max(peakKiB, s.rssKiB);
      if (s.anonKiB !== undefined) peakAnonKiB = Math.max(peakAnonKiB ?? 0, s.anonKiB);
    };
    const sampler = setInterval(() => {
      const s = sampleProcess(serverPid);
      if (!s) return;
      last = s;
      note(s);
    }, SAMPLE_EVERY_MS);
    // taskset execs timeout, whose child stress_test inherits the affinity; timeout's SIGTERM ends
    // stress_test at once (it has no handler) and timeout then exits 124.
    const child = spawn(
      "taskset",
      ["-c", String(cpu), "timeout", String(seconds), `${RUST_PEER_DIR}/stress_test`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const started = performance.now();
    const report: RustStressReport = {
      kind: "rust-stress",
      durationS: 0,
      usersReached: 0,
      errors: 0,
      exitedClean: 0,
      serverCpuS: 0,
      serverPeakRssMB: 0,
      serverStartRssMB: mb(first.rssKiB),
    };
    // Lines are read as they come (a 200 s run prints a few hundred; an error storm could print
    // thousands): only the counts and the first error are kept.
    let pending = "";
    const onData = (d: Buffer): void => {
      pending += d.toString();
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) countLine(report, line);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", (err) => {
      clearInterval(sampler);
      reject(err);
    });
    child.once("close", (code) => {
      clearInterval(sampler);
      countLine(report, pending);
      const end = sampleProcess(serverPid);
      if (!end) {
        reject(new Error(`the server (pid ${serverPid}) died during stress_test`));
        return;
      }
      // 124: timeout stopped it, the normal end; anything else: it could not run or crashed
      if (code !== 124) {
        reject(new Error(`stress_test exited ${code} before its ${seconds} s`));
        return;
      }
      note(end);
      note(last);
      report.durationS = Math.round((performance.now() - started) / 100) / 10;
      report.serverCpuS = Math.round(end.cpuMs - first.cpuMs) / 1000;
      report.serverPeakRssMB = mb(peakKiB);
      if (peakAnonKiB !== undefined) report.serverPeakAnonMB = mb(peakAnonKiB);
      resolve(report);
    });
  });
}

/** KiB to MB (10^6 bytes), one decimal. */
const mb = (kib: number): number => Math.round((kib * 1024) / 1e5) / 10;

function countLine(r: RustStressReport, raw: string): void {
  const line = raw.trim();
  if (line === "") return;
  const users = /^total users: (\d+)$/.exec(line);
  if (users) r.usersReached = Number(users[1]);
  else if (line === "exited without problems") r.exitedClean++;
  else {
    // `some error occurred = ...`, or anything else it was not expected to print
    r.errors++;
    r.firstError ??= line.slice(0, 200);
  }
}
