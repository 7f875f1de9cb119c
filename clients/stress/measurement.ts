import { LatencyHistogram, type LatencySummary } from "./latency-histogram.js";
import { cpuPercent, type ProcessSample } from "./process-sampler.js";

/** What one measured window (a whole scenario, or one ceiling step) reports. */
export interface Measurement {
  /** length of the sending period, s (rates below are per second of it) */
  durationS: number;
  sent: number;
  sentPerSec: number;
  sentPerMin: number;
  /** deliveries owed: for each message, the room's confirmed members when it was sent */
  expected: number;
  delivered: number;
  deliveriesPerSec: number;
  deliveriesPerMin: number;
  /** expected - delivered, after draining (never negative) */
  lost: number;
  lossPct: number;
  /** deliveries of our messages to a user who never asked to join that room */
  unexpected: number;
  /** send-to-receive time per delivery */
  latencyMs: LatencySummary;
  /** connection failures and closes, error/slow_down events, unexpected deliveries in the window */
  errors: number;
  /** the measured server, when --server-pid was given: from the start of sending to the drain end */
  server?: {
    cpuPct: number;
    cpuMs: number;
    /** server CPU time / deliveries, µs */
    cpuUsPerDelivery: number;
    rssKiB: number;
    rssPeakKiB: number;
  };
  /** this load generator's own CPU use (near 100% means it, not the server, may be the limit) */
  client: { cpuPct: number };
}

/** Counters of one window; the engine's receive path increments them directly. */
export class Window {
  sent = 0;
  expected = 0;
  delivered = 0;
  unexpected = 0;
  /** deliveries of messages sent before a member's join was confirmed (not owed, not counted) */
  beforeJoin = 0;
  /** deliveries of messages from an earlier window */
  stale = 0;
  errors = 0;
  readonly latency = new LatencyHistogram();
  /**
   * Latency of the stale deliveries, kept apart from `latency` (which covers this window's own
   * messages): a run that switches windows while sending (the soak) adds it to see everything
   * received in the window, late ones included.
   */
  readonly lateLatency = new LatencyHistogram();
  readonly startedMs = performance.now();
  sendEndedMs = 0;
  private readonly clientCpu = process.cpuUsage();
  private rssPeak = 0;

  constructor(
    /** sequence numbers below this belong to earlier windows */
    readonly firstSeq: number,
    private readonly serverStart: ProcessSample | undefined,
  ) {
    if (serverStart) this.rssPeak = serverStart.rssKiB;
  }

  noteServerRss(rssKiB: number): void {
    if (rssKiB > this.rssPeak) this.rssPeak = rssKiB;
  }

  finish(serverEnd: ProcessSample | undefined): Measurement {
    const end = performance.now();
    const sendEnd = this.sendEndedMs || end;
    const durationS = Math.max(0.001, (sendEnd - this.startedMs) / 1000);
    const cpu = process.cpuUsage(this.clientCpu);
    const lost = Math.max(0, this.expected - this.delivered);
    const m: Measurement = {
      durationS: round(durationS, 3),
      sent: this.sent,
      sentPerSec: round(this.sent / durationS, 1),
      sentPerMin: Math.round((this.sent / durationS) * 60),
      expected: this.expected,
      delivered: this.delivered,
      deliveriesPerSec: round(this.delivered / durationS, 1),
      deliveriesPerMin: Math.round((this.delivered / durationS) * 60),
      lost,
      lossPct: this.expected === 0 ? 0 : round((lost / this.expected) * 100, 4),
      unexpected: this.unexpected,
      latencyMs: this.latency.summary(),
      errors: this.errors + this.unexpected,
      client: { cpuPct: round(((cpu.user + cpu.system) / 1000 / (end - this.startedMs)) * 100, 1) },
    };
    if (this.serverStart && serverEnd) {
      this.noteServerRss(serverEnd.rssKiB);
      const cpuMs = serverEnd.cpuMs - this.serverStart.cpuMs;
      m.server = {
        cpuPct: round(cpuPercent(this.serverStart, serverEnd), 1),
        cpuMs: round(cpuMs, 1),
        cpuUsPerDelivery: this.delivered === 0 ? 0 : round((cpuMs * 1000) / this.delivered, 3),
        rssKiB: serverEnd.rssKiB,
        rssPeakKiB: this.rssPeak,
      };
    }
    return m;
  }
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
