// `sparrow sim` over several processes when one cannot hold the fleet: every board's socket is an open
// file, and a process may hold only so many (20,000 here, not raisable). The parent splits its shard into
// k sub-shards (see subShard), starts k workers with child_process.fork (this same command, told by
// SPARROW_SIM_WORKER which sub-shard it runs), shows their summed progress, and merges their reports
// with `sparrow sim merge`'s code into one. An embedded broker stays in the parent; the workers reach it
// over TCP. A worker that dies without a report makes the merged verdict INCOMPLETE, never OK.
import { ChildProcess, fork } from 'child_process';
import type { Broker } from '../../broker/broker';
import { FleetOptions, Snapshot, startEmbeddedBroker } from '../../host-sim/fleet/fleet';
import { HistogramJson, LatencyHistogram } from '../../host-sim/fleet/latency';
import { MergedReport, mergeReports } from '../../host-sim/fleet/merge';
import { Progress } from '../../host-sim/fleet/progress';
import { formatReport, RunReport } from '../../host-sim/fleet/report';
import { Shard, shardSize, subShard } from '../../host-sim/fleet/shard';
import { boardsPerProcess, openFilesLimit, RESERVED_FILES } from '../../host-sim/platform/os-limits';
import { writeJson } from './sim-merge';

export const WORKER_ENV = 'SPARROW_SIM_WORKER';

/** What the parent tells a worker: its sub-shard and, for an embedded broker, the parent's broker URL. */
export interface WorkerSpec {
  shard: Shard;
  broker?: string;
}

/** Parent -> worker: stop early (drain and report). Worker -> parent: progress and the final report. */
export type WorkerMessage =
  | { kind: 'progress'; snapshot: Snapshot; latency: HistogramJson }
  | { kind: 'report'; report: RunReport };

/** This process's worker spec, when it is a worker. */
export function workerSpec(env = process.env): WorkerSpec | null {
  return env[WORKER_ENV] ? (JSON.parse(env[WORKER_ENV]!) as WorkerSpec) : null;
}

/**
 * Worker processes needed for `boards` boards here, from the open-files limit: 0 when this process holds
 * them. (With an embedded broker, one worker can be needed: the broker's sockets stay in this process.)
 * Throws when no split can hold them: an embedded broker is one process, and holds one socket per board.
 */
export function workersFor(boards: number, embeddedBroker: boolean, canSplit: boolean, limit = openFilesLimit()): number {
  if (limit === null || boards <= boardsPerProcess(limit, embeddedBroker)) return 0;
  const limitText = `this process may hold ${limit} open files (ulimit -n)`;
  if (embeddedBroker && boards > limit - RESERVED_FILES) {
    throw new Error(`${boards} boards need ${boards} connections to the embedded broker, one process, and ${limitText}: ` +
      'point the fleet at brokers that can hold it (-b mqtt://...), or split it over brokers with --shard i/n');
  }
  if (!canSplit) throw new Error(`${boards} boards need ${embeddedBroker ? 2 * boards : boards} sockets and ${limitText}: fewer boards, or --shard i/n over processes`);
  return Math.ceil(boards / boardsPerProcess(limit, false));
}

/** Sums the workers' latest snapshots into the fleet's. */
function sumSnapshots(snaps: Snapshot[]): Snapshot {
  const s: Snapshot = { time: 0, boards: 0, states: { connected: 0, connecting: 0, backoff: 0, stopped: 0 }, published: 0, received: 0, boardReceived: 0, inflight: 0, queued: 0, reconnects: 0, draining: snaps.length > 0 };
  for (const x of snaps) {
    s.time = Math.max(s.time, x.time);
    for (const k of ['boards', 'published', 'received', 'boardReceived', 'inflight', 'queued', 'reconnects'] as const) s[k] += x[k];
    for (const k of Object.keys(s.states) as (keyof Snapshot['states'])[]) s.states[k] += x.states[k];
    s.draining = s.draining && x.draining;
  }
  return s;
}

export interface SplitRun {
  shard: Shard;
  workers: number;
  /** The parent's embedded broker, when the fleet runs against one. */
  broker: Broker | null;
  /** The workers' latencies added up, refreshed before each tick (the parent's progress reads it). */
  latency: LatencyHistogram;
  /** Called with the summed progress of all workers. */
  tick(s: Snapshot): void;
  log(line: string): void;
}

/** Runs the workers to the end; resolves with their merged report (INCOMPLETE when some gave none). */
export function runWorkers(run: SplitRun): Promise<MergedReport> {
  const k = run.workers, snaps: (Snapshot | null)[] = new Array(k).fill(null), hists: (LatencyHistogram | null)[] = new Array(k).fill(null);
  const reports: (RunReport | null)[] = new Array(k).fill(null);
  const children: ChildProcess[] = [];
  let exited = 0;
  const stopAll = () => { for (const c of children) if (c.connected) c.send({ kind: 'stop' }); };
  const onSignal = (signal: NodeJS.Signals) => { run.log(`${signal}: stopping the ${k} workers (they drain briefly, then report)`); stopAll(); };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return new Promise((resolve, reject) => {
    for (let j = 0; j < k; j++) {
      const spec: WorkerSpec = { shard: subShard(run.shard, j, k), broker: run.broker ? 'mqtt://127.0.0.1:' + run.broker.ports.tcp : undefined };
      const child = fork(process.argv[1], process.argv.slice(2), {
        execArgv: process.execArgv, env: { ...process.env, [WORKER_ENV]: JSON.stringify(spec) }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      children.push(child);
      child.on('message', (m: WorkerMessage) => {
        if (m.kind === 'report') reports[j] = m.report;
        else {
          snaps[j] = m.snapshot;
          hists[j] = LatencyHistogram.fromJSON(m.latency);
          run.latency.reset();
          for (const h of hists) if (h) run.latency.add(h);
          run.tick(sumSnapshots(snaps.filter((s): s is Snapshot => !!s)));
        }
      });
      child.on('exit', (code, signal) => {
        if (!reports[j]) {
          run.log(`worker ${j + 1} of ${k} (shard ${spec.shard.index}/${spec.shard.count}) ended (${signal || 'exit code ' + code}) without a report; stopping the others`);
          stopAll();
        }
        if (++exited < k) return;
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        const got = reports.filter((r): r is RunReport => !!r);
        const expected = Array.from({ length: k }, (_, i) => subShard(run.shard, i, k).index);
        if (!got.length) { reject(new Error(`none of the ${k} workers gave a report`)); return; }
        try {
          resolve(mergeReports(got, got.map((r) => 'worker ' + r.shard), { shard: run.shard.index + '/' + run.shard.count, expected }));
        } catch (e) {
          reject(e);
        }
      });
    }
  });
}

/** The worker's side: progress and the report to the parent, and the parent's stop request to the fleet. */
export function serveParent(requestStop: () => void): { tick(s: Snapshot, latency: LatencyHistogram): void; report(r: RunReport): Promise<void> } {
  process.on('message', (m: { kind: string }) => { if (m.kind === 'stop') requestStop(); });
  return {
    tick: (s, latency) => { if (process.connected) process.send!({ kind: 'progress', snapshot: s, latency: latency.toJSON() } as WorkerMessage); },
    report: (r) => new Promise((resolve) => {
      process.send!({ kind: 'report', report: r } as WorkerMessage, () => { process.disconnect(); resolve(); });
    }),
  };
}

/** `sparrow sim` split over `workers` processes: the parent's side, to the merged report and its exit code. */
export async function splitCommand(o: FleetOptions & { json?: string; interval: number }, workers: number): Promise<number> {
  const out = o.json === '-' ? process.stderr : process.stdout;
  const log = (line: string) => console.error('sparrow sim: ' + line);
  let broker: Broker | null = null;
  if (o.broker === 'embedded') {
    broker = await startEmbeddedBroker(o);
    out.write(`embedded broker: mqtt://127.0.0.1:${broker.ports.tcp}` + (broker.ports.ws ? `, WebSocket on ws://127.0.0.1:${broker.ports.ws}/mqtt` : '') + '\n');
  }
  log(`${shardSize(o.shard, o.devices)} boards and their ${broker ? 'embedded broker are' : 'sockets are'} more than one process can hold here ` +
    `(open-files limit ${openFilesLimit()}): the boards run in ${workers} worker process${workers > 1 ? 'es' : ''}${broker ? ', the broker here' : ''}`);
  const latency = new LatencyHistogram();
  const progress = new Progress(out, o.app ? null : latency);
  let nextTick = 0;
  try {
    const merged = await runWorkers({
      shard: o.shard, workers, broker, latency, log,
      tick: (s) => { if (performance.now() >= nextTick) { nextTick = performance.now() + o.interval; progress.update(s); } },
    });
    out.write('\n' + formatReport(merged, merged.verdictText) + '\n');
    if (o.json) writeJson(o.json, merged);
    return merged.verdict === 'OK' ? 0 : 1;
  } catch (e) {
    log((e as Error).message);
    return 1;
  } finally {
    if (broker) await broker.close();
  }
}
