/**
 * A fixed-size log-linear histogram of latencies in microseconds (HdrHistogram's idea, ~0.1%
 * precision): values below 2,048 µs are counted exactly, larger ones in 1,024 sub-buckets per
 * power of two. Recording is a few integer operations and never allocates, so it can sit on the
 * per-delivery path of the load generator. The exact maximum is kept aside.
 */
const EXACT = 2048;
const SUB_BITS = 10;
const SUB = 1 << SUB_BITS;
/** Largest value kept apart from the max: 2^31 µs (about 36 minutes); larger ones are clamped. */
const MAX_VALUE = 2 ** 31 - 1;
const BUCKETS = EXACT + (31 - SUB_BITS - 1) * SUB;

export interface LatencySummary {
  count: number;
  /** all in milliseconds */
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private maxValue = 0;

  get count(): number {
    return this.total;
  }

  /** Records one latency in microseconds (negative values count as 0). */
  record(micros: number): void {
    let v = micros > 0 ? Math.floor(micros) : 0;
    if (v > MAX_VALUE) v = MAX_VALUE;
    this.counts[bucketOf(v)]!++;
    this.total++;
    this.sum += v;
    if (v > this.maxValue) this.maxValue = v;
  }

  /** The value (µs) at or below which `q` (0..1) of the recorded values lie. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperOf(i), this.maxValue);
    }
    return this.maxValue;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.sum += other.sum;
    if (other.maxValue > this.maxValue) this.maxValue = other.maxValue;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.maxValue = 0;
  }

  /** Percentiles in milliseconds; p50 <= p95 <= p99 <= max by construction. */
  summary(): LatencySummary {
    const ms = (us: number): number => Math.round(us) / 1000;
    return {
      count: this.total,
      mean: this.total === 0 ? 0 : ms(this.sum / this.total),
      p50: ms(this.quantile(0.5)),
      p95: ms(this.quantile(0.95)),
      p99: ms(this.quantile(0.99)),
      max: ms(this.maxValue),
    };
  }
}

function bucketOf(v: number): number {
  if (v < EXACT) return v;
  const exponent = 31 - Math.clz32(v); // >= 11
  const shift = exponent - SUB_BITS;
  return EXACT + (shift - 1) * SUB + ((v >>> shift) - SUB);
}

/** Largest value that falls in bucket i. */
function upperOf(i: number): number {
  if (i < EXACT) return i;
  const shift = Math.floor((i - EXACT) / SUB) + 1;
  const mantissa = ((i - EXACT) % SUB) + SUB;
  return (mantissa + 1) * 2 ** shift - 1;
}
