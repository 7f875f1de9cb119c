import { fmtDuration, WARN_LIMITS, type SoakInterval, type SoakSummary } from "./soak-summary.js";

/** Column titles and widths of the interval lines; every line has the same width. */
const COLUMNS: ReadonlyArray<[title: string, width: number]> = [
  ["elapsed s", 9],
  ["rss MiB", 8],
  ["heap MiB", 9],
  ["deliv/s", 9],
  ["p50 ms", 8],
  ["p99 ms", 8],
  ["max ms", 9],
  ["lost", 6],
  ["errors", 7],
  ["srv cpu%", 9],
  ["gen cpu%", 9],
  ["other cpu%", 11],
];

export function intervalHeader(): string {
  return COLUMNS.map(([t, w]) => t.padStart(w)).join(" ");
}

/** One line per interval: absent figures (no pid, no metrics endpoint) show as `-`. */
export function intervalLine(i: SoakInterval): string {
  const cells = [
    i.elapsedS.toFixed(1),
    opt(i.rssMiB, 1),
    opt(i.heapUsedMiB, 1),
    Math.round(i.deliveriesPerSec).toLocaleString("en-US"),
    i.latencyMs.p50.toFixed(2),
    i.latencyMs.p99.toFixed(2),
    i.latencyMs.max.toFixed(1),
    String(i.lostSoFar),
    String(i.errorsSoFar),
    opt(i.serverCpuPct, 1),
    i.generatorCpuPct.toFixed(1),
    i.othersCpuPct.toFixed(1),
  ];
  return cells.map((c, k) => c.padStart(COLUMNS[k]![1])).join(" ");
}

/** The end-of-run summary, ending with the verdict line. */
export function summaryText(s: SoakSummary): string {
  const t = s.totals;
  const lines = [
    "",
    `summary (trends after a warm-up of ${s.warmUpIntervals} interval${s.warmUpIntervals > 1 ? "s" : ""}, ${fmtDuration(s.warmUpS)})`,
  ];
  if (s.rss) {
    const r = s.rss;
    lines.push(
      `  server RSS   ${r.idleMiB !== undefined ? `${r.idleMiB} MiB before load, ` : ""}${r.startMiB} MiB after warm-up, ${r.endMiB} MiB at the end (x${r.endOverStart}), peak ${r.peakMiB} MiB`,
      `  RSS slope    ${r.slopeMiBPerHour === null ? "- (too few samples)" : `${signed(r.slopeMiBPerHour)} MiB/hour (least squares)`}`,
    );
  } else {
    lines.push("  server RSS   - (no server pid)");
  }
  if (s.heap) {
    const h = s.heap;
    lines.push(
      `  heap used    ${h.startMiB} -> ${h.endMiB} MiB, slope ${h.slopeMiBPerHour === null ? "-" : `${signed(h.slopeMiBPerHour)} MiB/hour`}`,
    );
  }
  lines.push(
    `  p99 ms       per interval: min ${s.p99Ms.min}, median ${s.p99Ms.median}, max ${s.p99Ms.max} (first ${s.p99Ms.first}, last ${s.p99Ms.last})`,
    `  other procs  ${s.othersCpuPct.mean}% of a core on average, ${s.othersCpuPct.max}% at most (in an interval): other work on the machine${s.othersCpuPct.max > WARN_LIMITS.disturbedOthersPct ? ", latency figures disturbed" : ""}`,
    `  latency ms   whole run: p50 ${s.latencyMs.p50}  p95 ${s.latencyMs.p95}  p99 ${s.latencyMs.p99}  max ${s.latencyMs.max}  (${s.latencyMs.count.toLocaleString("en-US")} deliveries)`,
    `  deliveries   ${t.delivered.toLocaleString("en-US")} of ${t.expected.toLocaleString("en-US")} owed (${Math.round(s.deliveriesPerSec).toLocaleString("en-US")}/s), ${t.sent.toLocaleString("en-US")} messages sent`,
    `  lost         ${t.lost}`,
    `  errors       ${t.errors}${t.errors ? ` ${JSON.stringify(t.errorsByKind)}` : ""}`,
  );
  if (s.stoppedEarly !== undefined) lines.push(`  stopped      early: ${s.stoppedEarly}`);
  lines.push(`verdict: ${s.verdict}: ${s.reasons.join("; ")}`);
  return lines.join("\n");
}

function opt(x: number | undefined, digits: number): string {
  return x === undefined ? "-" : x.toFixed(digits);
}

function signed(x: number): string {
  return `${x >= 0 ? "+" : ""}${x}`;
}
