import type { Histogram, Registry } from "prom-client";

export interface TallyHistogramOptions {
  name: string;
  help: string;
  /** bucket upper bounds, ascending */
  buckets: readonly number[];
  registers: Registry[];
}

/**
 * A label-less Prometheus histogram for the hot path: observe() only bumps a bucket and a sum in
 * place (no allocation, no label hashing), and the cumulative series are built when /metrics is
 * scraped. prom-client's own Histogram.observe creates a closure and hashes its labels on every
 * call, which is per-message work at the seed load.
 *
 * It is registered as a prom-client metric: the Registry only calls `get()` (and `reset()`), so
 * this renders exactly as a prom-client histogram does (`_bucket{le}`, `_sum`, `_count`).
 */
export class TallyHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram" as const;
  readonly aggregator = "sum" as const;
  private readonly bounds: Float64Array;
  /** observations per bucket (not cumulative); the last slot is above every bound (+Inf) */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(options: TallyHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = Float64Array.from(options.buckets);
    this.counts = new Float64Array(options.buckets.length + 1);
    // The Registry's contract is get()/reset()/name; its TypeScript type names prom-client's classes.
    for (const r of options.registers) r.registerMetric(this as unknown as Histogram);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** The series as prom-client's Registry renders them (called at scrape time only). */
  get(): Promise<{
    name: string;
    help: string;
    type: "histogram";
    aggregator: "sum";
    values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }>;
  }> {
    const bucket = `${this.name}_bucket`;
    const values: Array<{
      metricName: string;
      labels: Record<string, string | number>;
      value: number;
    }> = [];
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += this.counts[i]!;
      values.push({ metricName: bucket, labels: { le: this.bounds[i]! }, value: acc });
    }
    values.push(
      { metricName: bucket, labels: { le: "+Inf" }, value: this.count },
      { metricName: `${this.name}_sum`, labels: {}, value: this.sum },
      { metricName: `${this.name}_count`, labels: {}, value: this.count },
    );
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }
}
