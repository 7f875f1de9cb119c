import type { StressReport } from "../clients/stress/index.js";
import type { RustStressReport } from "./rust-stress.js";

/**
 * One server's reports, by scenario: the stress tool's, or (scenario rust-stress) the Rust
 * original's stress_test's; a string is why that run has no report.
 */
export type ServerResults = Record<string, StressReport | RustStressReport | string>;

export interface Column {
  id: string;
  label: string;
  results: ServerResults;
}

interface Row {
  label: string;
  /** true when a larger value is better (ratios are then value / baseline) */
  higherIsBetter: boolean;
  digits: number;
  /** false: no ratio (counts that should be zero) */
  ratio?: boolean;
  value(r: ServerResults): number | undefined;
}

const report = (r: ServerResults, scenario: string): StressReport | undefined => {
  const x = r[scenario];
  return typeof x === "object" && !("kind" in x) ? x : undefined;
};

const rustStress = (r: ServerResults): RustStressReport | undefined => {
  const x = r["rust-stress"];
  return typeof x === "object" && "kind" in x ? x : undefined;
};

export const ROWS: Row[] = [
  {
    label: "lossless ceiling, deliveries/s",
    higherIsBetter: true,
    digits: 0,
    value: (r) => report(r, "ceiling")?.ceiling?.lastGood?.deliveriesPerSec,
  },
  {
    label: "CPU µs per delivery, seed load",
    higherIsBetter: false,
    digits: 2,
    value: (r) => report(r, "seed")?.result.server?.cpuUsPerDelivery,
  },
  {
    label: "server CPU % of a core, seed load",
    higherIsBetter: false,
    digits: 1,
    value: (r) => report(r, "seed")?.result.server?.cpuPct,
  },
  {
    label: "p99 latency ms, seed load",
    higherIsBetter: false,
    digits: 2,
    value: (r) => report(r, "seed")?.result.latencyMs.p99,
  },
  {
    label: "lost deliveries, seed load",
    higherIsBetter: false,
    digits: 0,
    ratio: false,
    value: (r) => report(r, "seed")?.result.lost,
  },
  {
    label: "RSS per idle connection, KiB",
    higherIsBetter: false,
    digits: 2,
    value: (r) => report(r, "idle")?.idle?.rssPerConnectionKiB,
  },
  {
    label: "fanout p99 latency ms",
    higherIsBetter: false,
    digits: 1,
    value: (r) => report(r, "fanout")?.result.latencyMs.p99,
  },
  {
    label: "stress_test: server CPU s",
    higherIsBetter: false,
    digits: 1,
    value: (r) => rustStress(r)?.serverCpuS,
  },
  {
    label: "stress_test: server peak RSS MB",
    higherIsBetter: false,
    digits: 1,
    value: (r) => rustStress(r)?.serverPeakRssMB,
  },
  {
    label: "stress_test: server peak private MB",
    higherIsBetter: false,
    digits: 1,
    value: (r) => rustStress(r)?.serverPeakAnonMB,
  },
  {
    label: "stress_test: users reached",
    higherIsBetter: true,
    digits: 0,
    ratio: false,
    value: (r) => rustStress(r)?.usersReached,
  },
  {
    label: "stress_test: errors printed",
    higherIsBetter: false,
    digits: 0,
    ratio: false,
    value: (r) => rustStress(r)?.errors,
  },
];

const num = (v: number | undefined, digits: number): string =>
  v === undefined
    ? "-"
    : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * The comparison table: one column per server, then, for each baseline present (in the order
 * given, e.g. Socket.IO then the Rust original) and each other server, how many times better that
 * server is than the baseline on that row ("3.2x" = better, "0.5x" = worse; lower-is-better rows
 * are inverted so that the ratio always reads the same way). A missing baseline adds no columns.
 */
export function comparisonTable(
  columns: Column[],
  baselineIds: readonly string[],
  markdown: boolean,
): string {
  const pairs = baselineIds.flatMap((id) => {
    const baseline = columns.find((c) => c.id === id);
    return baseline ? columns.filter((c) => c !== baseline).map((c) => ({ c, baseline })) : [];
  });
  const header = [
    "metric",
    ...columns.map((c) => c.label),
    ...pairs.map(({ c, baseline }) => `${c.label} vs ${baseline.label}`),
  ];
  const rows = ROWS.map((row) => {
    const values = columns.map((c) => row.value(c.results));
    const ratios = pairs.map(({ c, baseline }) => {
      const v = row.value(c.results);
      const base = row.value(baseline.results);
      if (v === undefined || base === undefined || row.ratio === false) return "-";
      const ratio = row.higherIsBetter ? v / base : base / v;
      return Number.isFinite(ratio) ? `${ratio.toFixed(1)}x` : "-";
    });
    return [row.label, ...values.map((v) => num(v, row.digits)), ...ratios];
  });
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    markdown
      ? `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`
      : r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const out = [line(header)];
  out.push(
    markdown
      ? `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`
      : widths.map((w) => "-".repeat(w)).join("  "),
  );
  for (const r of rows) out.push(line(r));
  return out.join("\n");
}
