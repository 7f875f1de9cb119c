import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** One reading of a process's CPU time and memory, from /proc (Linux only). */
export interface ProcessSample {
  /** user + system CPU time of all its threads, ms (resolution: one clock tick, usually 10 ms) */
  cpuMs: number;
  /** resident set size, KiB (VmRSS) */
  rssKiB: number;
  /**
   * its anonymous part, KiB (RssAnon): the process's own memory, without file-backed pages such
   * as its executable's code (about 40 MB for node, shared by every node process); undefined on
   * kernels that do not report it
   */
  anonKiB?: number;
  /** performance.now() when read */
  atMs: number;
}

let ticksPerSecond: number | undefined;

/** sysconf(_SC_CLK_TCK), read once through getconf; 100 on every Linux seen in practice. */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** Reads /proc/PID/stat and /proc/PID/status; undefined when the process is gone. */
export function sampleProcess(pid: number): ProcessSample | undefined {
  let stat: string;
  let status: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    status = readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    return undefined;
  }
  return parseProcess(stat, status, clockTicks(), performance.now());
}

/**
 * Parses the two files. In `stat`, the command name (field 2) may hold spaces and parentheses, so
 * fields are counted after its last `)`: utime and stime are fields 14 and 15.
 */
export function parseProcess(
  stat: string,
  status: string,
  ticks: number,
  atMs: number,
): ProcessSample | undefined {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so field N is fields[N - 3]
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || !rss) return undefined;
  const anon = /^RssAnon:\s+(\d+)\s+kB/m.exec(status);
  return {
    cpuMs: ((utime + stime) * 1000) / ticks,
    rssKiB: Number(rss[1]),
    ...(anon && { anonKiB: Number(anon[1]) }),
    atMs,
  };
}

/** CPU use between two samples, in percent of one core. */
export function cpuPercent(a: ProcessSample, b: ProcessSample): number {
  const wall = b.atMs - a.atMs;
  return wall <= 0 ? 0 : ((b.cpuMs - a.cpuMs) / wall) * 100;
}
