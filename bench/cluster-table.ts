import type { StressReport } from "../clients/stress/index.js";
import type { RedisDelta } from "./redis-stats.js";

/** One stress run against one configuration, with what the benchmark read around it. */
export interface ClusterRun {
  report: StressReport;
  /** Redis from just before the stress tool started to just after it ended (set-up included) */
  redis?: RedisDelta;
  /** CPU of PostgreSQL (its postmaster and every backend) over the same span, ms */
  postgresCpuMs?: number;
  /** busy time of the whole machine over the same span (every process, interrupts too), ms */
  machineCpuMs: number;
  /** seed rooms (2 members each) whose members were on different nodes, of those seen */
  spanning?: { split: number; rooms: number };
  /** CPU of processes not the benchmark's during the run, % of one core */
  othersPct: number;
}

/** A configuration's runs by scenario; a string says why that run has no figures. */
export interface ClusterColumn {
  id: string;
  label: string;
  runs: Partial<Record<"seed" | "ceiling", ClusterRun | string>>;
}

interface Row {
  label: string;
  digits: number;
  /** ratio to the baseline column: "higher" or "lower" is better; absent: no ratio */
  better?: "higher" | "lower";
  value(c: ClusterColumn): number | undefined;
  /** a cell that is not one number */
  text?(c: ClusterColumn): string | undefined;
}

const run = (c: ClusterColumn, scenario: "seed" | "ceiling"): ClusterRun | undefined => {
  const r = c.runs[scenario];
  return typeof r === "object" ? r : undefined;
};
const seed = (c: ClusterColumn): ClusterRun | undefined => run(c, "seed");
const delivered = (c: ClusterColumn): number | undefined => seed(c)?.report.result.delivered;
const sent = (c: ClusterColumn): number | undefined => seed(c)?.report.result.sent;
/** `x` per delivery of the seed run, µs, for `x` in ms */
const usPerDelivery = (c: ClusterColumn, ms: number | undefined): number | undefined => {
  const d = delivered(c);
  return ms === undefined || !d ? undefined : (ms * 1000) / d;
};
const perMessage = (c: ClusterColumn, x: number | undefined): number | undefined => {
  const s = sent(c);
  return x === undefined || !s ? undefined : x / s;
};
const redis = (c: ClusterColumn): RedisDelta | undefined => seed(c)?.redis;

export const CLUSTER_ROWS: Row[] = [
  {
    label: "deliveries/s, seed load",
    digits: 0,
    value: (c) => seed(c)?.report.result.deliveriesPerSec,
  },
  {
    label: "p50 latency ms, seed load",
    digits: 2,
    better: "lower",
    value: (c) => seed(c)?.report.result.latencyMs.p50,
  },
  {
    label: "p99 latency ms, seed load",
    digits: 2,
    better: "lower",
    value: (c) => seed(c)?.report.result.latencyMs.p99,
  },
  {
    label: "lost deliveries, seed load",
    digits: 0,
    value: (c) => seed(c)?.report.result.lost,
  },
  {
    label: "rooms with members on 2 nodes, seed",
    digits: 0,
    value: () => undefined,
    text: (c) => {
      const s = seed(c)?.spanning;
      return s ? `${s.split}/${s.rooms}` : undefined;
    },
  },
  {
    label: "server CPU µs per delivery, seed",
    digits: 2,
    better: "lower",
    value: (c) => seed(c)?.report.result.server?.cpuUsPerDelivery,
  },
  {
    label: "Redis CPU µs per delivery, seed",
    digits: 2,
    better: "lower",
    value: (c) => usPerDelivery(c, redis(c)?.cpuMs),
  },
  {
    label: "PostgreSQL CPU µs per delivery, seed",
    digits: 2,
    value: (c) => usPerDelivery(c, seed(c)?.postgresCpuMs),
  },
  {
    label: "machine CPU µs per delivery, seed",
    digits: 2,
    better: "lower",
    value: (c) => usPerDelivery(c, seed(c)?.machineCpuMs),
  },
  {
    label: "load generator CPU % of a core, seed",
    digits: 1,
    value: (c) => seed(c)?.report.result.client.cpuPct,
  },
  {
    label: "deliveries per message sent, seed",
    digits: 2,
    value: (c) => perMessage(c, delivered(c)),
  },
  {
    label: "Redis SPUBLISH per message sent",
    digits: 3,
    value: (c) => perMessage(c, redis(c) && (redis(c)!.calls.spublish ?? 0)),
  },
  {
    label: "Redis PUBLISH per message sent",
    digits: 3,
    value: (c) => perMessage(c, redis(c) && (redis(c)!.calls.publish ?? 0)),
  },
  {
    label: "other Redis commands per message sent",
    digits: 3,
    value: (c) => {
      const r = redis(c);
      return r && perMessage(c, r.totalCalls - (r.calls.spublish ?? 0) - (r.calls.publish ?? 0));
    },
  },
  {
    label: "Redis bytes in per message sent",
    digits: 0,
    better: "lower",
    value: (c) => perMessage(c, redis(c)?.netInBytes),
  },
  {
    label: "Redis bytes out per message sent",
    digits: 0,
    better: "lower",
    value: (c) => perMessage(c, redis(c)?.netOutBytes),
  },
  {
    label: "lossless ceiling, deliveries/s",
    digits: 0,
    better: "higher",
    value: (c) => run(c, "ceiling")?.report.ceiling?.lastGood?.deliveriesPerSec,
  },
  {
    label: "load generator CPU % at the ceiling",
    digits: 1,
    value: (c) => {
      const r = run(c, "ceiling")?.report.ceiling;
      return r?.steps.find((s) => s.ratePerUser === r.lastGood?.ratePerUser)?.measurement.client
        .cpuPct;
    },
  },
];

const num = (v: number | undefined, digits: number): string =>
  v === undefined || !Number.isFinite(v)
    ? "-"
    : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * The table: one column per configuration, then how many times better `subject` is than
 * `baseline` on the rows where that reads sensibly ("2.0x" = better; lower-is-better rows are
 * inverted so that the ratio always reads the same way).
 */
export function clusterTable(
  columns: ClusterColumn[],
  compare: { subject: string; baseline: string; label: string } | undefined,
  markdown: boolean,
): string {
  const subject = columns.find((c) => c.id === compare?.subject);
  const baseline = columns.find((c) => c.id === compare?.baseline);
  const ratio = subject && baseline;
  const header = [
    "metric",
    ...columns.map((c) => c.label),
    ...(ratio && compare ? [compare.label] : []),
  ];
  const rows = CLUSTER_ROWS.map((row) => {
    const cells = columns.map((c) => row.text?.(c) ?? num(row.value(c), row.digits));
    if (ratio) {
      const a = row.value(subject);
      const b = row.value(baseline);
      const x =
        a === undefined || b === undefined || row.better === undefined
          ? NaN
          : row.better === "higher"
            ? a / b
            : b / a;
      cells.push(Number.isFinite(x) ? `${x.toFixed(1)}x` : "-");
    }
    return [row.label, ...cells];
  });
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const pad = (r: string[]): string[] =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)));
  const line = (r: string[]): string =>
    markdown ? `| ${pad(r).join(" | ")} |` : pad(r).join("  ");
  const rule = markdown
    ? `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`
    : widths.map((w) => "-".repeat(w)).join("  ");
  return [line(header), rule, ...rows.map(line)].join("\n");
}
