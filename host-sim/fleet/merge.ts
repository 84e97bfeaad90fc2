// One fleet's report from its shards' reports: the shards of `--shard i/n` (machines, pods of an Indexed
// Job) or the worker processes one `sparrow sim` split itself over. Counts add up per QoS; latency
// percentiles are recomputed from the sum of the shards' histograms (a mean of percentiles means nothing);
// host figures are the worst shard's (wall time, RSS) or the mean per board (heap).
import { LatencyHistogram } from './latency';
import type { QosTotals } from './ledger';
import { AppReport, latencySummary, lossVerdict, pendingAtEnd, pendingLine, round, RunReport, type Verdict } from './report';

/** Which shards of an `i/n` split the reports cover. */
export interface Coverage {
  count: number;
  present: number[];
  missing: number[];
}

export interface MergedReport extends RunReport {
  /** The shards merged, as `i/n`, and what the set covers. */
  shards: Coverage;
  /** Every broker the shards ran against (30,000 boards across two brokers are one fleet). */
  brokers: string[];
  /** The verdict's line of the text report. */
  verdictText: string;
}

/** Why reports cannot be merged: not shard reports of one fleet. */
export class MergeError extends Error {}

const parseShard = (s: unknown): [number, number] | null => {
  const m = typeof s === 'string' ? /^(\d+)\/(\d+)$/.exec(s) : null;
  return m && +m[1] < +m[2] ? [+m[1], +m[2]] : null;
};

/** Throws a MergeError unless `r` looks like a shard's JSON report (`sparrow sim --json`). */
export function checkShardReport(r: any, name: string): RunReport {
  const fail = (what: string) => { throw new MergeError(`${name}: ${what}`); };
  if (!r || typeof r !== 'object' || Array.isArray(r)) fail('not a JSON object');
  if (r.mode !== 'tcp' && r.mode !== 'virtual') fail('not a `sparrow sim --json` report (no mode tcp or virtual)');
  if (!parseShard(r.shard)) fail(`its shard "${r.shard}" is not i/n`);
  if (!Number.isInteger(r.devices) || !Number.isInteger(r.boards)) fail('it has no devices/boards counts (a report from before shards could merge?)');
  if (!Array.isArray(r.qos) || !r.violations || !r.config) fail('it has no per-QoS totals, violations or config');
  if (!r.latencyHistogram) fail('it has no latency histogram (a report from before shards could merge?)');
  try {
    LatencyHistogram.fromJSON(r.latencyHistogram);
  } catch (e) {
    fail((e as Error).message);
  }
  return r as RunReport;
}

/**
 * What the reports' `i/n` shards cover of `expected` (default every shard of the split); throws when they
 * are not one split (different n, an index twice, an index not expected).
 */
export function coverage(reports: RunReport[], names: string[], expected?: number[]): Coverage {
  const shards = reports.map((r) => parseShard(r.shard)!);
  const count = shards[0][1];
  const seen = new Map<number, string>();
  shards.forEach(([i, n], k) => {
    if (n !== count) throw new MergeError(`${names[k]} is shard ${i}/${n}, ${names[0]} is one of ${count}: not one split of a fleet`);
    if (seen.has(i)) throw new MergeError(`${names[k]} and ${seen.get(i)} are both shard ${i}/${n}`);
    if (expected && expected.indexOf(i) < 0) throw new MergeError(`${names[k]} is shard ${i}/${n}, not one of those expected`);
    seen.set(i, names[k]);
  });
  const all = expected || Array.from({ length: count }, (_, i) => i);
  return { count, present: [...seen.keys()].sort((a, b) => a - b), missing: all.filter((i) => !seen.has(i)) };
}

/** Shards of one fleet ran the same workload: the same size, mode, seed and configuration. */
function checkSameFleet(reports: RunReport[], names: string[]): void {
  const key = (r: RunReport) => JSON.stringify({ mode: r.mode, devices: r.devices, seed: r.seed, config: r.config, app: !!r.app });
  const first = key(reports[0]);
  reports.forEach((r, k) => {
    if (key(r) !== first) throw new MergeError(`${names[k]} ran another fleet than ${names[0]} (mode, devices, seed or configuration differ)`);
  });
}

function addQos(into: QosTotals[], from: QosTotals[]): void {
  for (const q of from) {
    let t = into.find((x) => x.qos === q.qos);
    if (!t) { t = { ...q }; into.push(t); continue; }
    for (const k of Object.keys(q) as (keyof QosTotals)[]) if (k !== 'qos') t[k] += q[k];
  }
  into.sort((a, b) => a.qos - b.qos);
}

function addApp(into: AppReport | undefined, from: AppReport): AppReport {
  if (!into) return { ...from, totals: { ...from.totals }, boards: from.boards.slice(), lossBoards: from.lossBoards.slice(), flashedBoards: from.flashedBoards.slice() };
  for (const k of Object.keys(from.totals) as (keyof AppReport['totals'])[]) into.totals[k] += from.totals[k];
  into.boards.push(...from.boards);
  into.lossBoards.push(...from.lossBoards);
  into.flashedBoards.push(...from.flashedBoards);
  return into;
}

/**
 * OK only when every shard is there and nothing accepted was lost or is still pending; otherwise what is
 * wrong, worst first: FAILED (an accepted QoS 1/2 reading lost, or a QoS 2 delivered twice), INCOMPLETE
 * (shards missing), PENDING (readings neither delivered nor lost yet).
 */
export function mergedVerdict(r: RunReport, missing: number[], count: number, shards: number): { verdict: Verdict; text: string } {
  const lost = lossVerdict(r.violations);
  if (lost) return { verdict: 'FAILED', text: lost };
  if (missing.length) {
    return { verdict: 'INCOMPLETE', text: `INCOMPLETE: no report from shard${missing.length > 1 ? 's' : ''} ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''} of ${count}: the figures leave out their boards` };
  }
  if (pendingAtEnd(r) > 0) return { verdict: 'PENDING', text: pendingLine(r) };
  return { verdict: 'OK', text: `OK: ${shards} shard${shards > 1 ? 's' : ''}, no accepted QoS 1/2 reading lost, none pending, no QoS 2 duplicate` };
}

/**
 * Merges shard reports (already checked with checkShardReport) of one fleet. `names` name them in errors
 * (file names). `own`: the inputs are the worker sub-shards of one shard, labelled `own.shard`, and
 * `own.expected` are the sub-shard indices it was split into.
 */
export function mergeReports(reports: RunReport[], names: string[], own?: { shard: string; expected: number[] }): MergedReport {
  if (!reports.length) throw new MergeError('no reports to merge');
  checkSameFleet(reports, names);
  const cover = coverage(reports, names, own && own.expected);
  const first = reports[0], hist = new LatencyHistogram(), qos: QosTotals[] = [];
  let app: AppReport | undefined;
  const sum = (f: (r: RunReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  for (const r of reports) {
    hist.add(LatencyHistogram.fromJSON(r.latencyHistogram));
    addQos(qos, r.qos);
    if (r.app) app = addApp(app, r.app);
  }
  const boards = sum((r) => r.boards);
  const merged: MergedReport = {
    ...first,
    broker: [...new Set(reports.map((r) => r.broker))].join(', '),
    shard: own ? own.shard : `${cover.present.length} of ${cover.count}`,
    boards,
    simulatedSeconds: Math.max(...reports.map((r) => r.simulatedSeconds)),
    qos,
    violations: { lostQos1: sum((r) => r.violations.lostQos1), lostQos2: sum((r) => r.violations.lostQos2), duplicatesQos2: sum((r) => r.violations.duplicatesQos2) },
    latencyMs: latencySummary(hist),
    latencyHistogram: hist.toJSON(),
    reconnects: sum((r) => r.reconnects),
    faults: { cuts: sum((r) => r.faults.cuts), halfOpens: sum((r) => r.faults.halfOpens), outages: sum((r) => r.faults.outages) },
    received: { checker: sum((r) => r.received.checker), foreign: sum((r) => r.received.foreign), boards: sum((r) => r.received.boards) },
    shards: cover,
    brokers: [...new Set(reports.map((r) => r.broker))],
    verdict: 'OK',
    verdictText: '',
  };
  if (app) merged.app = app;
  const hosts = reports.map((r) => r.host).filter((h): h is NonNullable<RunReport['host']> => !!h);
  if (hosts.length) {
    merged.host = {
      wallSeconds: Math.max(...hosts.map((h) => h.wallSeconds)),
      heapBytesPerBoard: Math.round(sum((r) => (r.host ? r.host.heapBytesPerBoard * r.boards : 0)) / Math.max(1, boards)),
      rssBytes: Math.max(...hosts.map((h) => h.rssBytes)),
    };
    if (first.mode === 'virtual') merged.host.speedup = round(merged.simulatedSeconds / Math.max(0.001, merged.host.wallSeconds), 1);
  } else delete merged.host;
  const v = mergedVerdict(merged, cover.missing, cover.count, cover.present.length);
  merged.verdict = v.verdict;
  merged.verdictText = v.text;
  return merged;
}
