import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time of processes this benchmark does not reap itself (PostgreSQL's postmaster and its
 * backends), read from /proc. Linux only; all in ms.
 */

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** Fields of /proc/PID/stat after the command name; field N of proc(5) is at index N - 3. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

export function parentPid(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[1]) : undefined;
}

/** The live children of `pid` (every thread's: a child belongs to the thread that forked it). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${t}/children`, "latin1").trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * CPU used so far by `pid` and everything under it: its own time, its reaped children's
 * (cutime, cstime), and the live descendants' own time, recursively. 0 when it is gone.
 */
export function treeCpuMs(pid: number): number {
  const f = statFields(pid);
  if (!f) return 0;
  // utime stime cutime cstime: fields 14..17
  let ms = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS;
  for (const child of childPids(pid)) ms += treeCpuMs(child);
  return ms;
}

/**
 * Busy time of the whole machine so far, every kind (user nice system irq softirq steal):
 * loopback traffic's kernel work, charged to no process, included.
 */
export function machineBusyMs(): number {
  const stat = readFileSync("/proc/stat", "latin1");
  const cpu = stat.slice(0, stat.indexOf("\n")).trim().split(/\s+/).slice(1).map(Number);
  return (cpu[0]! + cpu[1]! + cpu[2]! + cpu[5]! + cpu[6]! + cpu[7]!) * TICK_MS;
}
