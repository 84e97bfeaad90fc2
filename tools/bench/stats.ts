// Summaries of repeated runs. Benchmarks report the median (robust to one run disturbed by the OS or a
// late GC) together with the whole min–max range, so a reader sees how far a single run can stray.

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(values: number[]): Summary {
  if (values.length === 0) throw new Error('no runs to summarize');
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
}

/** Messages per second, in millions with three significant digits: "1.23 M/s". */
export function formatRate(perSecond: number): string {
  const m = perSecond / 1e6;
  return (m >= 100 ? m.toFixed(0) : m >= 10 ? m.toFixed(1) : m.toFixed(2)) + ' M/s';
}

/** Bytes per message. Fractions below 10 B are kept: "0.4 B" says more than "0 B" about a stray allocation. */
export function formatBytes(bytes: number): string {
  const b = Math.abs(bytes) < 0.05 ? 0 : bytes; // no "-0.0 B" from rounding noise
  return (Math.abs(b) < 10 ? b.toFixed(1) : Math.round(b).toLocaleString('en-US')) + ' B';
}

/** "median (min–max)"; the range is left out when every run gave the same printed value. */
export function formatSummary(s: Summary, format: (v: number) => string): string {
  const lo = format(s.min), hi = format(s.max);
  if (lo === hi) return format(s.median);
  // the unit is printed once, after the median
  const strip = (t: string) => t.replace(/ [^ ]+$/, '');
  return format(s.median) + ' (' + strip(lo) + '–' + strip(hi) + ')';
}

/**
 * Ratio of two medians, "5.3×". The ratio of medians (not the median of per-run ratios) because the
 * two sides run in separate processes and are not paired run by run.
 */
export function ratio(a: number, b: number): number {
  return b === 0 ? (a === 0 ? 1 : Infinity) : a / b;
}

export function formatRatio(r: number): string {
  if (!isFinite(r)) return '∞';
  return (r >= 10 ? r.toFixed(1) : r >= 0.01 || r === 0 ? r.toFixed(2) : r.toPrecision(1)) + '×';
}
