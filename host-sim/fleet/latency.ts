// Publish-to-delivery latencies as a log-scale histogram: 1% relative precision from 0.01 ms to days,
// in a fixed 2 KB, so a 24-hour soak of a big fleet can record every message without keeping them.
export const STEPS_PER_E = 100; // bucket i covers (expm1((i-1)/100), expm1(i/100)] ms: about 1% wide
export const BUCKETS = 2200;

/**
 * A histogram in a report's JSON: its non-empty buckets as [bucket, count] pairs (a run fills a few
 * hundred of the 2,200), so shards' histograms can be added and percentiles recomputed from the sum.
 */
export interface HistogramJson {
  stepsPerE: number;
  count: number;
  sum: number;
  max: number;
  buckets: [number, number][];
} // expm1(22) ms is over a century

export class LatencyHistogram {
  readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max = 0;
  sum = 0;

  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    const i = Math.min(BUCKETS - 1, Math.ceil(Math.log1p(v) * STEPS_PER_E));
    this.counts[i]++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  /** The latency below which a share `q` (0..1) of the samples lie, to the bucket's upper edge. */
  percentile(q: number): number {
    if (!this.count) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.max, Math.expm1(i / STEPS_PER_E));
    }
    return this.max;
  }

  /** A histogram of what was recorded since `since` (a copy taken then): the live display's window. */
  minus(since: LatencyHistogram): LatencyHistogram {
    const h = new LatencyHistogram();
    for (let i = 0; i < BUCKETS; i++) h.counts[i] = this.counts[i] - since.counts[i];
    h.count = this.count - since.count;
    h.sum = this.sum - since.sum;
    h.max = this.max;
    return h;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = this.sum = this.max = 0;
  }

  /** Adds another histogram's samples to this one (shards of one fleet). */
  add(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
  }

  toJSON(): HistogramJson {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]) buckets.push([i, this.counts[i]]);
    return { stepsPerE: STEPS_PER_E, count: this.count, sum: this.sum, max: this.max, buckets };
  }

  /** Reads `toJSON()`'s form back; throws on anything else, naming what is wrong. */
  static fromJSON(j: HistogramJson): LatencyHistogram {
    if (!j || j.stepsPerE !== STEPS_PER_E || !Array.isArray(j.buckets)) throw new Error(`not a latency histogram of ${STEPS_PER_E} buckets per e-fold`);
    const h = new LatencyHistogram();
    let count = 0;
    for (const b of j.buckets) {
      if (!Array.isArray(b) || !Number.isInteger(b[0]) || b[0] < 0 || b[0] >= BUCKETS || !(b[1] >= 0)) throw new Error('latency histogram bucket ' + JSON.stringify(b) + ' is out of range');
      h.counts[b[0]] += b[1];
      count += b[1];
    }
    if (count !== j.count) throw new Error(`latency histogram buckets hold ${count} samples, its count says ${j.count}`);
    h.count = count;
    h.sum = +j.sum || 0;
    h.max = +j.max || 0;
    return h;
  }

  copy(): LatencyHistogram {
    const h = new LatencyHistogram();
    h.counts.set(this.counts);
    h.count = this.count;
    h.sum = this.sum;
    h.max = this.max;
    return h;
  }
}
