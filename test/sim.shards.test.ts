// Shards of a fleet: which ids a shard runs (from --shard, or from a Kubernetes Indexed Job's
// environment), and how shards' reports merge into one fleet's (percentiles from added histograms).
import { strict as assert } from 'assert';
import { LatencyHistogram } from '../host-sim/fleet/latency';
import { checkShardReport, MergeError, mergeReports } from '../host-sim/fleet/merge';
import type { RunReport } from '../host-sim/fleet/report';
import { resolveShard, shardSize, subShard } from '../host-sim/fleet/shard';
import { parseReport } from '../tools/cli/sim-merge';
import { workersFor } from '../tools/cli/sim-workers';

const idsOf = (index: number, count: number, devices: number) => {
  const ids: number[] = [];
  for (let id = index; id < devices; id += count) ids.push(id);
  return ids;
};

/** A shard report as `sparrow sim --json` writes it, with `latencies` recorded in its histogram. */
function shardReport(shard: string, latencies: number[], lost = 0): RunReport {
  const h = new LatencyHistogram();
  for (const l of latencies) h.record(l);
  const n = latencies.length;
  return {
    mode: 'tcp', broker: 'mqtt://127.0.0.1:1883', seed: 1, shard, devices: 8, boards: 2, simulatedSeconds: 10,
    config: { rate: 1, qos: 1, payloadBytes: 64, keepalive: 60, queue: 32, faults: '', duration: 10 },
    qos: [{ qos: 1, published: n + lost, accepted: n + lost, refused: 0, dropped: 0, acknowledged: n, failed: 0, delivered: n, duplicates: 0, pending: 0, lost, unexpected: 0 }],
    violations: { lostQos1: lost, lostQos2: 0, duplicatesQos2: 0 },
    latencyMs: { count: n, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 }, latencyHistogram: h.toJSON(),
    reconnects: 0, faults: { cuts: 0, halfOpens: 0, outages: 0 }, received: { checker: n, foreign: 0, boards: 0 }, memory: { storeBytesPerBoard: 256 },
    verdict: lost ? 'FAILED' : 'OK',
  };
}

describe('sim shards: ids, the Job environment, merging', () => {
  it('--shard i/n, or JOB_COMPLETION_INDEX with --shards n or SPARROW_SHARDS, names the same shard', () => {
    assert.deepEqual(resolveShard('2/5', undefined, {}), { index: 2, count: 5 });
    assert.deepEqual(resolveShard(undefined, '5', { JOB_COMPLETION_INDEX: '2' }), { index: 2, count: 5 });
    assert.deepEqual(resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '2', SPARROW_SHARDS: '5' }), { index: 2, count: 5 });
    assert.deepEqual(resolveShard(undefined, undefined, {}), { index: 0, count: 1 });
    // an explicit --shard wins over a pod's environment (a worker of a split pod)
    assert.deepEqual(resolveShard('7/10', undefined, { JOB_COMPLETION_INDEX: '2', SPARROW_SHARDS: '5' }), { index: 7, count: 10 });
  });

  it('a pod that cannot tell its shard refuses to run, saying why, instead of running every board', () => {
    const bad: [string | undefined, string | undefined, { [k: string]: string }, RegExp][] = [
      [undefined, undefined, { JOB_COMPLETION_INDEX: '1' }, /no shard count: pass --shards N/],
      [undefined, '4', {}, /no JOB_COMPLETION_INDEX/],
      [undefined, '4', { JOB_COMPLETION_INDEX: '4' }, /not below the shard count 4/],
      [undefined, '0', { JOB_COMPLETION_INDEX: '0' }, /--shards wants a whole number >= 1/],
      [undefined, '4', { JOB_COMPLETION_INDEX: 'x' }, /is not a shard index/],
      ['1/4', '4', {}, /use one/],
      ['4/4', undefined, {}, /--shard wants i\/n/],
    ];
    for (const [shard, shards, env, message] of bad) assert.throws(() => resolveShard(shard, shards, env), message);
  });

  it('the k sub-shards of shard i/n run exactly its ids, each once', () => {
    for (const [i, n, k] of [[0, 1, 3], [2, 5, 2], [1, 3, 4]]) {
      const parent = idsOf(i, n, 1000);
      const subs = Array.from({ length: k }, (_, j) => subShard({ index: i, count: n }, j, k)).flatMap((s) => idsOf(s.index, s.count, 1000));
      assert.deepEqual(subs.sort((a, b) => a - b), parent);
      assert.equal(shardSize({ index: i, count: n }, 1000), parent.length);
    }
  });

  it('a split is needed where the boards\' sockets pass the open-files limit; an embedded broker counts twice', () => {
    assert.equal(workersFor(18000, false, true, 20000), 0);
    assert.equal(workersFor(30000, false, true, 20000), 2);
    assert.equal(workersFor(15000, true, true, 20000), 1); // the broker stays in the parent, the boards go to one worker
    assert.throws(() => workersFor(25000, true, true, 20000), /connections to the embedded broker, one process/);
    assert.throws(() => workersFor(30000, false, false, 20000), /fewer boards, or --shard/);
  });

  it('merged percentiles come from the added histograms, not from averaging the shards\' percentiles', () => {
    // shard 0: 90 fast readings; shard 1: 10 slow ones. The fleet's p90 is fast, its p99 slow.
    const fast = Array.from({ length: 90 }, (_, i) => 1 + i / 100), slow = Array.from({ length: 10 }, (_, i) => 500 + i);
    const a = shardReport('0/2', fast), b = shardReport('1/2', slow);
    const m = mergeReports([a, b], ['a.json', 'b.json']);
    const all = new LatencyHistogram();
    for (const l of fast.concat(slow)) all.record(l);
    assert.equal(m.latencyHistogram.count, 100);
    assert.deepEqual(m.latencyHistogram, all.toJSON());
    assert.equal(m.latencyMs.p90, Math.round(all.percentile(0.9) * 1000) / 1000);
    assert.ok(m.latencyMs.p90 < 2, 'p90 ' + m.latencyMs.p90);
    assert.ok(m.latencyMs.p99 >= 500, 'p99 ' + m.latencyMs.p99);
    assert.equal(m.qos[0].delivered, 100);
    assert.equal(m.boards, 4);
    assert.deepEqual(m.verdict, 'OK');
  });

  it('the verdict: lost beats missing shards, a missing shard is INCOMPLETE, never OK', () => {
    assert.equal(mergeReports([shardReport('0/3', [1]), shardReport('2/3', [1])], ['a', 'c']).verdictText, 'INCOMPLETE: no report from shard 1 of 3: the figures leave out their boards');
    const lost = mergeReports([shardReport('0/3', [1], 2), shardReport('2/3', [1])], ['a', 'c']);
    assert.equal(lost.verdict, 'FAILED');
    assert.equal(lost.violations.lostQos1, 2);
  });

  it('reports of different fleets, or the same shard twice, do not merge', () => {
    const other = { ...shardReport('1/2', [1]), devices: 9 };
    assert.throws(() => mergeReports([shardReport('0/2', [1]), other], ['a', 'b']), /ran another fleet/);
    assert.throws(() => mergeReports([shardReport('0/2', [1]), shardReport('0/2', [2])], ['a', 'b']), /both shard 0\/2/);
    assert.throws(() => mergeReports([shardReport('0/2', [1]), shardReport('1/3', [2])], ['a', 'b']), /not one split/);
    assert.throws(() => checkShardReport({ mode: 'tcp', shard: '0/2' }, 'x.json'), MergeError);
    const noHistogram: any = shardReport('0/2', [1]);
    delete noHistogram.latencyHistogram;
    assert.throws(() => checkShardReport(noHistogram, 'x.json'), /no latency histogram/);
    const badCount: any = shardReport('0/2', [1, 2]);
    badCount.latencyHistogram.count = 5;
    assert.throws(() => checkShardReport(badCount, 'x.json'), /buckets hold 2 samples, its count says 5/);
  });

  it('a pod\'s log (progress lines, then the JSON report) reads as its report', () => {
    const r = shardReport('1/2', [3]);
    const log = 't=10s connected=2 connecting=0\n{ not this\nsparrow sim: 2 boards\n' + JSON.stringify(r, null, 2) + '\n';
    assert.deepEqual(parseReport(log, 'pod.log'), r);
    assert.throws(() => parseReport('t=1s connected=2\n', 'pod.log'), /neither JSON nor a log with a JSON report/);
  });
});
