import type { Measurement } from "./measurement.js";
import type { ScenarioName } from "./stress-options.js";

export interface CeilingStep {
  /** messages/s per sending user asked for in this step */
  ratePerUser: number;
  measurement: Measurement;
  /** why this step is not good (empty when it is) */
  problems: string[];
}

/** The outcome of one stress run; `--json` prints exactly this. */
export interface StressReport {
  scenario: ScenarioName;
  transport: string;
  target: string;
  /** true when only original-protocol commands were sent */
  originalOnly: boolean;
  /** the scenario's parameters as run */
  params: Record<string, number | string>;
  connections: {
    /** users that connected, logged in and joined their rooms */
    ready: number;
    failed: number;
    /** ready users the server closed before the end */
    closedEarly: number;
  };
  /** the main measured window (ceiling: the last good step, or the first step if none was good) */
  result: Measurement;
  errors: { total: number; byKind: Record<string, number> };
  /** scheduling ticks that ran late by this much at worst: the generator itself was busy, ms */
  generatorMaxTickLagMs: number;
  idle?: {
    connections: number;
    rssBeforeKiB: number;
    rssAfterKiB: number;
    rssPerConnectionKiB: number;
  };
  ceiling?: {
    steps: CeilingStep[];
    /** the last step with no loss, no errors and p99 within bound; absent if none */
    lastGood?: { ratePerUser: number; deliveriesPerSec: number; sentPerSec: number; p99Ms: number };
    stopReason: string;
  };
  ramp?: { peakUsers: number };
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A human-readable summary for a terminal. */
export function formatReport(r: StressReport): string {
  const m = r.result;
  const lines = [
    `scenario ${r.scenario} over ${r.transport} at ${r.target}${r.originalOnly ? " (original protocol only)" : ""}`,
    `  params       ${Object.entries(r.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
    `  connections  ${fmt(r.connections.ready)} ready, ${fmt(r.connections.failed)} failed, ${fmt(r.connections.closedEarly)} closed early`,
  ];
  if (r.scenario !== "idle") {
    lines.push(
      `  sent         ${fmt(m.sent)} in ${fmt(m.durationS, 1)} s: ${fmt(m.sentPerSec)}/s, ${fmt(m.sentPerMin)}/min`,
      `  deliveries   ${fmt(m.delivered)} of ${fmt(m.expected)} expected: ${fmt(m.deliveriesPerSec)}/s, ${fmt(m.deliveriesPerMin)}/min`,
      `  loss         ${fmt(m.lost)} (${m.lossPct}%)${m.unexpected ? `, ${fmt(m.unexpected)} unexpected` : ""}`,
      `  latency ms   p50 ${m.latencyMs.p50}  p95 ${m.latencyMs.p95}  p99 ${m.latencyMs.p99}  max ${m.latencyMs.max}  (mean ${m.latencyMs.mean})`,
    );
  }
  lines.push(
    `  errors       ${fmt(r.errors.total)}${
      r.errors.total
        ? " (" +
          Object.entries(r.errors.byKind)
            .map(([k, v]) => `${k}: ${v}`)
            .join(", ") +
          ")"
        : ""
    }`,
  );
  if (m.server) {
    lines.push(
      `  server       CPU ${m.server.cpuPct}% of a core (${fmt(m.server.cpuMs)} ms${
        m.delivered ? `, ${m.server.cpuUsPerDelivery} µs/delivery` : ""
      }), RSS ${fmt(m.server.rssKiB)} KiB (peak ${fmt(m.server.rssPeakKiB)})`,
    );
  }
  lines.push(
    `  generator    CPU ${m.client.cpuPct}% of a core, worst tick lag ${fmt(r.generatorMaxTickLagMs, 1)} ms`,
  );
  if (r.idle) {
    lines.push(
      `  idle         ${fmt(r.idle.connections)} connections: RSS ${fmt(r.idle.rssBeforeKiB)} -> ${fmt(r.idle.rssAfterKiB)} KiB, ${r.idle.rssPerConnectionKiB} KiB per connection`,
    );
  }
  if (r.ceiling) {
    lines.push("  ceiling steps:");
    for (const s of r.ceiling.steps) {
      const sm = s.measurement;
      lines.push(
        `    ${fmt(s.ratePerUser, 1).padStart(9)} msg/s/user  ${fmt(sm.sentPerSec).padStart(9)} sent/s  ${fmt(sm.deliveriesPerSec).padStart(9)} deliv/s  p99 ${String(sm.latencyMs.p99).padStart(8)} ms  lost ${sm.lost}${sm.server ? `  server ${sm.server.cpuPct}%` : ""}  gen ${sm.client.cpuPct}%${s.problems.length ? "  <- " + s.problems.join("; ") : ""}`,
      );
    }
    const g = r.ceiling.lastGood;
    lines.push(
      g
        ? `  lossless ceiling: ${fmt(g.deliveriesPerSec)} deliveries/s (${fmt(g.sentPerSec)} sent/s, ${g.ratePerUser} msg/s/user, p99 ${g.p99Ms} ms); stopped: ${r.ceiling.stopReason}`
        : `  no good step; stopped: ${r.ceiling.stopReason}`,
    );
  }
  return lines.join("\n");
}
