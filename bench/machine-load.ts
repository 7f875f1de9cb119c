import { readFileSync } from "node:fs";

/**
 * CPU used on this machine by processes other than the benchmark's own, so that a run disturbed
 * by someone else's work (a test suite, a build) is seen and repeated instead of reported.
 *
 * Busy time of the whole machine comes from /proc/stat (interrupts excluded); the benchmark's share is its own CPU time
 * plus its reaped children's (/proc/self/stat cutime and cstime: the server and the load generator
 * once they have exited and been waited for). All in ms.
 */
export interface LoadMark {
  atMs: number;
  machineBusyMs: number;
  ownMs: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

export function loadMark(): LoadMark {
  const stat = readFileSync("/proc/stat", "latin1");
  const cpu = stat.slice(0, stat.indexOf("\n")).trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = user + nice + system + steal. Interrupt
  // and softirq time is left out: on loopback it is mostly the kernel moving the benchmark's own
  // packets, which no process is charged for.
  const busy = cpu[0]! + cpu[1]! + cpu[2]! + cpu[7]!;
  const self = readFileSync("/proc/self/stat", "latin1");
  const f = self
    .slice(self.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
  // fields 14..17 (utime stime cutime cstime) are f[11..14]
  const own = f[11]! + f[12]! + f[13]! + f[14]!;
  return { atMs: performance.now(), machineBusyMs: busy * TICK_MS, ownMs: own * TICK_MS };
}

/** Others' CPU between two marks, in percent of one core. */
export function othersPercent(a: LoadMark, b: LoadMark): number {
  const wall = b.atMs - a.atMs;
  if (wall <= 0) return 0;
  const others = b.machineBusyMs - a.machineBusyMs - (b.ownMs - a.ownMs);
  return Math.max(0, (others / wall) * 100);
}

/**
 * Waits until others use less than `maxPercent` of a core over a one-second window, for at most
 * `timeoutMs`. Resolves with the last window's figure.
 */
export async function waitForQuiet(maxPercent: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const a = loadMark();
    await new Promise((r) => setTimeout(r, 1000));
    const p = othersPercent(a, loadMark());
    if (p < maxPercent || performance.now() > deadline) return p;
  }
}
