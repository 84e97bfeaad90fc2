// Publish-to-delivery latencies as a log-scale histogram: 1% relative precision from 0.01 ms to days,
// in a fixed 2 KB, so a 24-hour soak of a big fleet can record every message without keeping them.
const STEPS_PER_E = 100; // bucket i covers (expm1((i-1)/100), expm1(i/100)] ms: about 1% wide
const BUCKETS = 2200; // expm1(22) ms is over a century

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

  copy(): LatencyHistogram {
    const h = new LatencyHistogram();
    h.counts.set(this.counts);
    h.count = this.count;
    h.sum = this.sum;
    h.max = this.max;
    return h;
  }
}
