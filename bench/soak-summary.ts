import type { LatencySummary } from "../clients/stress/index.js";

/** What one interval of a soak measured. Memory figures are absent when they cannot be read. */
export interface SoakInterval {
  /** end of the interval, s since sending started */
  elapsedS: number;
  durationS: number;
  /** server RSS at the interval's end, MiB (needs the server's pid) */
  rssMiB?: number;
  /** highest server RSS seen during the interval (read every second), MiB */
  rssPeakMiB?: number;
  /** server V8 heap in use at the interval's end, MiB (needs its /metrics) */
  heapUsedMiB?: number;
  /** server CPU over the interval, % of one core */
  serverCpuPct?: number;
  /** this process's CPU over the interval, % of one core: near 100, the generator is the limit */
  generatorCpuPct: number;
  /**
   * CPU used by every other process on the machine (not the server, not this one), % of one core:
   * a latency spike during a high figure is someone else's work, not the server's
   */
  othersCpuPct: number;
  sent: number;
  /** deliveries received in the interval, including late ones of messages sent before it */
  received: number;
  deliveriesPerSec: number;
  /** send-to-receive time of everything received in the interval */
  latencyMs: LatencySummary;
  /** owed deliveries of messages sent at least one interval earlier that have not arrived */
  lostSoFar: number;
  /** errors in this interval: connection failures and closes, error events, unexpected deliveries */
  errors: number;
  errorsSoFar: number;
}

/** Everything a soak run hands to its summary. */
export interface SoakRun {
  intervals: SoakInterval[];
  /** server RSS after the users connected, before any message was sent, MiB */
  rssIdleMiB?: number;
  heapIdleMiB?: number;
  totals: {
    sent: number;
    expected: number;
    delivered: number;
    /** owed deliveries still missing after the final drain */
    lost: number;
    errors: number;
    errorsByKind: Record<string, number>;
  };
  /** the whole run's latency, every delivery */
  latencyMs: LatencySummary;
  sendingS: number;
  /** why the run ended before its time (interrupted, server gone ...), if it did */
  stoppedEarly?: string;
}

export type Verdict = "PASS" | "WARN" | "FAIL";

/** SoakRun.stoppedEarly of a run ended by SIGINT or SIGTERM */
export const INTERRUPTED = "interrupted";

export interface SoakSummary {
  /** intervals at the start left out of the trends (at least one, and at least 10% of the run) */
  warmUpIntervals: number;
  warmUpS: number;
  rss?: {
    idleMiB?: number;
    /** at the end of the warm-up */
    startMiB: number;
    endMiB: number;
    peakMiB: number;
    endOverStart: number;
    /** least-squares slope of RSS over the samples after the warm-up; null below two samples */
    slopeMiBPerHour: number | null;
  };
  heap?: {
    idleMiB?: number;
    startMiB: number;
    endMiB: number;
    slopeMiBPerHour: number | null;
  };
  /** p99 of each interval after the warm-up (all intervals when the run is that short) */
  p99Ms: { min: number; median: number; max: number; first: number; last: number };
  /** other processes' CPU over the intervals after the warm-up, % of one core */
  othersCpuPct: { mean: number; max: number };
  latencyMs: LatencySummary;
  deliveriesPerSec: number;
  totals: SoakRun["totals"];
  verdict: Verdict;
  /** why the verdict is not PASS, and what a PASS rests on */
  reasons: string[];
  stoppedEarly?: string;
}

/**
 * Limits past which a clean run (no loss, no errors) is still flagged WARN: they look for a trend,
 * so they judge the fitted line and the later intervals against the earlier ones, not single
 * readings. A run that is short against these (a few minutes) will rarely cross them by noise.
 */
export const WARN_LIMITS = {
  /** RSS growth along the fitted line over the measured span, as a fraction of the start RSS */
  rssGrowth: 0.2,
  /** median p99 of the last third of the intervals against the first third */
  p99Ratio: 2,
  /** ... and at least this much higher, ms (sub-millisecond p99s double by noise alone) */
  p99RiseMs: 2,
  /**
   * other processes using more than this (% of one core) in an interval disturb latency: a creep
   * is then reported as possibly theirs (the same bound as the bench's --max-others)
   */
  disturbedOthersPct: 10,
};

/** Slope of the least-squares line through (x, y) points; null below two distinct x. */
export function leastSquaresSlope(points: ReadonlyArray<readonly [number, number]>): number | null {
  const n = points.length;
  if (n < 2) return null;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) * (x - mx);
    sxy += (x - mx) * (y - my);
  }
  return sxx === 0 ? null : sxy / sxx;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Intervals left out as warm-up: the first, or the first 10% of the planned run if that is more. */
export function warmUpIntervals(plannedS: number, intervalS: number): number {
  return Math.max(1, Math.ceil((0.1 * plannedS) / intervalS - 1e-9));
}

export function summarizeSoak(run: SoakRun, plannedS: number, intervalS: number): SoakSummary {
  const all = run.intervals;
  const warm = warmUpIntervals(plannedS, intervalS);
  // RSS readings are instants: the one ending the warm-up is the start. Latencies cover whole
  // intervals: those after the warm-up. A run cut short keeps what it has.
  const memPoints = all.length > warm ? all.slice(warm - 1) : all.slice(-1);
  const latIntervals = all.length > warm ? all.slice(warm) : all;
  const rssPoints = memPoints.filter((i) => i.rssMiB !== undefined);
  const heapPoints = memPoints.filter((i) => i.heapUsedMiB !== undefined);
  const summary: SoakSummary = {
    warmUpIntervals: warm,
    warmUpS: round(Math.min(plannedS, warm * intervalS), 1),
    verdict: "PASS",
    reasons: [],
    ...(rssPoints.length > 0 && {
      rss: {
        ...(run.rssIdleMiB !== undefined && { idleMiB: run.rssIdleMiB }),
        startMiB: rssPoints[0]!.rssMiB!,
        endMiB: rssPoints.at(-1)!.rssMiB!,
        peakMiB: Math.max(...all.map((i) => i.rssPeakMiB ?? i.rssMiB ?? 0)),
        endOverStart: round(rssPoints.at(-1)!.rssMiB! / rssPoints[0]!.rssMiB!, 3),
        slopeMiBPerHour: slopePerHour(rssPoints, (i) => i.rssMiB!),
      },
    }),
    ...(heapPoints.length > 0 && {
      heap: {
        ...(run.heapIdleMiB !== undefined && { idleMiB: run.heapIdleMiB }),
        startMiB: heapPoints[0]!.heapUsedMiB!,
        endMiB: heapPoints.at(-1)!.heapUsedMiB!,
        slopeMiBPerHour: slopePerHour(heapPoints, (i) => i.heapUsedMiB!),
      },
    }),
    p99Ms: p99Stats(latIntervals),
    othersCpuPct: {
      mean: round(
        latIntervals.reduce((t, i) => t + i.othersCpuPct, 0) / Math.max(1, latIntervals.length),
        1,
      ),
      max: Math.max(0, ...latIntervals.map((i) => i.othersCpuPct)),
    },
    latencyMs: run.latencyMs,
    deliveriesPerSec: round(run.totals.delivered / Math.max(0.001, run.sendingS), 1),
    totals: run.totals,
    ...(run.stoppedEarly !== undefined && { stoppedEarly: run.stoppedEarly }),
  };
  judge(summary, rssPoints, latIntervals);
  return summary;
}

/** MiB per hour along the least-squares line of `value` over elapsed time. */
function slopePerHour(
  points: readonly SoakInterval[],
  value: (i: SoakInterval) => number,
): number | null {
  const slope = leastSquaresSlope(points.map((i) => [i.elapsedS / 3600, value(i)]));
  return slope === null ? null : round(slope, 1);
}

function p99Stats(intervals: readonly SoakInterval[]): SoakSummary["p99Ms"] {
  const p99 = intervals.filter((i) => i.latencyMs.count > 0).map((i) => i.latencyMs.p99);
  if (p99.length === 0) return { min: 0, median: 0, max: 0, first: 0, last: 0 };
  return {
    min: Math.min(...p99),
    median: round(median(p99), 3),
    max: Math.max(...p99),
    first: p99[0]!,
    last: p99.at(-1)!,
  };
}

/** FAIL on loss, errors or a run cut short; WARN on a rising RSS line or p99 creep; else PASS. */
function judge(
  s: SoakSummary,
  rss: readonly SoakInterval[],
  latIntervals: readonly SoakInterval[],
): void {
  const fail: string[] = [];
  if (s.totals.lost > 0) fail.push(`${s.totals.lost} deliveries lost`);
  if (s.totals.errors > 0) {
    fail.push(`${s.totals.errors} errors (${JSON.stringify(s.totals.errorsByKind)})`);
  }
  // Ctrl-C is the user's choice: judge what was measured. A server that died, or that closed
  // every connection, is a failure.
  if (s.stoppedEarly !== undefined && s.stoppedEarly !== INTERRUPTED) {
    fail.push(`stopped early: ${s.stoppedEarly}`);
  }
  const warn: string[] = [];
  const ok: string[] = [`0 lost of ${s.totals.expected.toLocaleString("en-US")}`, "0 errors"];
  if (s.rss) {
    const spanH = (rss.at(-1)!.elapsedS - rss[0]!.elapsedS) / 3600;
    const slope = s.rss.slopeMiBPerHour;
    if (slope === null) {
      ok.push("RSS: too few samples after the warm-up for a trend");
    } else {
      const growth = (slope * spanH) / s.rss.startMiB;
      const what = `RSS ${fmtSigned(slope)} MiB/h (${fmtSigned(growth * 100)}% along the fit over ${fmtDuration(spanH * 3600)})`;
      if (growth > WARN_LIMITS.rssGrowth) warn.push(`${what}: rising`);
      else ok.push(what);
    }
  }
  if (latIntervals.length >= 3) {
    const third = Math.max(1, Math.floor(latIntervals.length / 3));
    const early = median(latIntervals.slice(0, third).map((i) => i.latencyMs.p99));
    const late = median(latIntervals.slice(-third).map((i) => i.latencyMs.p99));
    const what = `p99 median ${round(early, 2)} ms in the first third, ${round(late, 2)} ms in the last`;
    if (late > early * WARN_LIMITS.p99Ratio && late - early > WARN_LIMITS.p99RiseMs) {
      const others = s.othersCpuPct.max;
      warn.push(
        `${what}: creeping${others > WARN_LIMITS.disturbedOthersPct ? ` (other processes used up to ${others}% of a core meanwhile: may be their doing)` : ""}`,
      );
    } else {
      ok.push(what);
    }
  }
  if (fail.length > 0) {
    s.verdict = "FAIL";
    s.reasons = [...fail, ...warn];
  } else if (warn.length > 0) {
    s.verdict = "WARN";
    s.reasons = warn;
  } else {
    s.reasons = ok;
  }
  if (s.stoppedEarly === INTERRUPTED) s.reasons.unshift("interrupted: judged on what ran");
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function fmtSigned(x: number): string {
  return `${x >= 0 ? "+" : ""}${round(x, 1)}`;
}

export function fmtDuration(s: number): string {
  if (s < 120) return `${round(s, 1)} s`;
  if (s < 7200) return `${round(s / 60, 1)} min`;
  return `${round(s / 3600, 2)} h`;
}
