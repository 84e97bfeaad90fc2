// The outcome of a run: delivery accounting per QoS, latency percentiles, faults, memory, as text for
// the terminal and as JSON. A virtual run's JSON holds only what the seed decides, so the same seed
// gives the same bytes; host measurements (wall time, heap) join it only for real runs or --host-stats.
import type { Fleet } from './fleet';
import { HistogramJson, LatencyHistogram } from './latency';
import type { QosTotals } from './ledger';

/** INCOMPLETE only for a merged fleet that lacks some shards' reports. */
export type Verdict = 'OK' | 'PENDING' | 'FAILED' | 'INCOMPLETE';

export interface RunReport {
  mode: 'virtual' | 'tcp';
  broker: string;
  seed: number;
  shard: string;
  /** Boards in the whole fleet (this shard runs `boards` of them). */
  devices: number;
  boards: number;
  simulatedSeconds: number;
  config: { rate: number; qos: number | string; payloadBytes: number; keepalive: number; queue: number; faults: string; duration: number };
  qos: QosTotals[];
  /** Accepted QoS >= 1 readings lost, and QoS 2 readings delivered twice: both must be 0. */
  violations: { lostQos1: number; lostQos2: number; duplicatesQos2: number };
  /** FAILED (a violation), PENDING (none, but QoS 1/2 readings still queued or in flight at the end: not yet known), or OK. */
  verdict: Verdict;
  latencyMs: { count: number; p50: number; p90: number; p99: number; max: number; mean: number };
  /** The latencies themselves, so `sparrow sim merge` recomputes a fleet's percentiles from its shards'. */
  latencyHistogram: HistogramJson;
  reconnects: number;
  faults: { cuts: number; halfOpens: number; outages: number };
  received: { checker: number; foreign: number; boards: number };
  memory: { storeBytesPerBoard: number };
  host?: { wallSeconds: number; heapBytesPerBoard: number; rssBytes: number; speedup?: number };
  /** --app: the firmware image's boards, their own counters against what the checker received. */
  app?: AppReport;
}

/** One --app board: its counters (summed over its boots) and what the checker got from it. */
export interface AppBoardRow {
  /** The id the board goes by at the end; `formerIds` the ones it was provisioned away from during the run. */
  id: string;
  formerIds?: string[];
  sent: number;
  acked: number;
  refused: number;
  dropped: number;
  /** Commands and other messages the board received. */
  commands: number;
  /** QoS 1 publishes still in flight or queued on the board at the end. */
  pending: number;
  /** What the checker received from the board: readings + births + answers (not "offline" statuses, see below). */
  received: number;
  readings: number;
  births: number;
  answers: number;
  /** "offline" statuses seen live: wills, and the app's own before a commanded reboot. */
  offlines: number;
  reboots: number;
  /** What ran the board last: the fleet's image, or an image flashed to its Storage (flash.sh at its --pty console). */
  firmware: 'fleet' | 'flashed';
  /** The retained status as the checker saw it last. */
  status: string | null;
  /** acked - received when positive: acknowledged by the broker and never delivered. */
  missing: number;
}

export interface AppReport {
  image: string;
  interval: number;
  totals: { sent: number; acked: number; received: number; readings: number; refused: number; dropped: number; pending: number; offlines: number };
  boards: AppBoardRow[];
  /** Boards with received < acked (loss), by id. */
  lossBoards: string[];
  /** Boards that booted an image flashed to their Storage during the run, by id. */
  flashedBoards: string[];
}

/**
 * --app accounting. Readings carry no sequence number, so it is per board: each QoS 1 publish the
 * broker acknowledged (births, readings, answers to commands) must reach the checker at least once,
 * so received >= acked; more is a legal QoS 1 duplicate (a resend after a lost PUBACK). The app's own
 * "offline" before a reboot is left out of both sides as far as the counters allow: it is published
 * after the last status line of that boot, whose counters are the ones summed.
 */
export function buildAppReport(fleet: Fleet): AppReport {
  const rows: AppBoardRow[] = [];
  const t = { sent: 0, acked: 0, received: 0, readings: 0, refused: 0, dropped: 0, pending: 0, offlines: 0 };
  for (const b of fleet.appBoards) {
    // the board's counters span every id it went by (a new --id provisioned at its console): so does what the checker got
    const c = b.counters(), checker = fleet.appChecker, r = checker ? b.ids.map((id) => checker.record(id)) : [];
    const sum = (k: 'readings' | 'births' | 'answers' | 'offlines') => r.reduce((n, x) => n + x[k], 0);
    const readings = sum('readings'), births = sum('births'), answers = sum('answers');
    const received = readings + births + answers;
    const row: AppBoardRow = {
      id: b.deviceId, sent: c.sent, acked: c.acked, refused: c.refused, dropped: c.dropped, commands: c.received, pending: b.pending,
      received, readings, births, answers, offlines: sum('offlines'), reboots: b.reboots, firmware: b.firmware, status: r.length ? r[r.length - 1].status : null,
      missing: Math.max(0, c.acked - received),
    };
    if (b.ids.length > 1) row.formerIds = b.ids.slice(0, -1);
    rows.push(row);
    t.sent += c.sent; t.acked += c.acked; t.received += received; t.readings += readings; t.refused += c.refused; t.dropped += c.dropped;
    t.pending += row.pending; t.offlines += row.offlines;
  }
  return {
    image: 'firmware.' + fleet.o.profile + '.js', interval: 1 / fleet.o.rate, totals: t, boards: rows,
    lossBoards: rows.filter((r) => r.missing > 0).map((r) => r.id),
    flashedBoards: fleet.appBoards.filter((b) => b.flashedBoots > 0).map((b) => b.deviceId),
  };
}

/** QoS 1/2 readings (with --app: the boards' QoS 1 publishes) still queued or in flight when the run ended. */
export function pendingAtEnd(r: RunReport): number {
  return r.app ? r.app.totals.pending : r.qos.reduce((n, q) => n + (q.qos > 0 ? q.pending : 0), 0);
}

/** A loss or duplicate fails the run; otherwise readings not yet delivered leave it undecided, never OK. */
export function verdictOf(r: RunReport): Verdict {
  const v = r.violations;
  if (v.lostQos1 + v.lostQos2 + v.duplicatesQos2 > 0) return 'FAILED';
  return pendingAtEnd(r) > 0 ? 'PENDING' : 'OK';
}

/** The last line of the text report for a run without violations that still had readings pending. */
export function pendingLine(r: RunReport): string {
  return `PENDING: ${pendingAtEnd(r)} accepted QoS 1/2 readings still queued or in flight when the drain ended: ` +
    'neither delivered nor lost yet (a longer --drain lets them finish)';
}

/** Resident set size, 0 where it cannot be read (it opens a file: not when a run ended on EMFILE). */
function rssBytes(): number {
  try {
    return process.memoryUsage.rss();
  } catch {
    return 0;
  }
}

export const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;

export function latencySummary(h: LatencyHistogram): RunReport['latencyMs'] {
  return { count: h.count, p50: round(h.percentile(0.5)), p90: round(h.percentile(0.9)), p99: round(h.percentile(0.99)), max: round(h.max), mean: round(h.count ? h.sum / h.count : 0) };
}

export function buildReport(fleet: Fleet, faultsText: string, hostStats: boolean): RunReport {
  const o = fleet.o, h = fleet.ledger.latency;
  const qos = fleet.ledger.totals();
  const pick = (q: number) => qos.find((t) => t.qos === q);
  const snap = fleet.snapshot();
  if (o.app) return appRunReport(fleet, faultsText, hostStats);
  const report: RunReport = {
    mode: o.virtual ? 'virtual' : 'tcp',
    broker: o.broker === 'embedded' ? 'embedded' : o.broker,
    seed: o.seed, shard: o.shard.index + '/' + o.shard.count, devices: o.devices, boards: fleet.boards.length,
    simulatedSeconds: round(fleet.elapsed() / 1000),
    config: { rate: o.rate, qos: o.qos, payloadBytes: o.payloadBytes, keepalive: o.keepalive, queue: o.queue, faults: faultsText, duration: o.duration / 1000 },
    qos,
    violations: { lostQos1: pick(1)?.lost || 0, lostQos2: pick(2)?.lost || 0, duplicatesQos2: pick(2)?.duplicates || 0 },
    latencyMs: latencySummary(h),
    latencyHistogram: h.toJSON(),
    reconnects: snap.reconnects,
    faults: { ...fleet.faultCounts },
    received: { checker: fleet.ledger.received, foreign: fleet.ledger.foreign, boards: snap.boardReceived },
    memory: { storeBytesPerBoard: Math.max(256, o.queue * (o.payloadBytes + o.prefix.length + 12)) },
    verdict: 'OK',
  };
  report.verdict = verdictOf(report);
  if (!o.virtual || hostStats) {
    report.host = {
      wallSeconds: round(fleet.wallMs / 1000), heapBytesPerBoard: Math.round(fleet.heapPerBoard), rssBytes: rssBytes(),
    };
    if (o.virtual) report.host.speedup = round(fleet.elapsed() / Math.max(1, fleet.wallMs), 1);
  }
  return report;
}

function appRunReport(fleet: Fleet, faultsText: string, hostStats: boolean): RunReport {
  const o = fleet.o, app = buildAppReport(fleet), snap = fleet.snapshot();
  const report: RunReport = {
    mode: o.virtual ? 'virtual' : 'tcp',
    broker: o.broker === 'embedded' ? 'embedded' : o.broker,
    seed: o.seed, shard: o.shard.index + '/' + o.shard.count, devices: o.devices, boards: fleet.appBoards.length,
    simulatedSeconds: round(fleet.elapsed() / 1000),
    config: { rate: o.rate, qos: 1, payloadBytes: 0, keepalive: 60, queue: 32, faults: faultsText, duration: o.duration / 1000 },
    qos: [],
    // "lost" here is acknowledged and never received, per board
    violations: { lostQos1: app.boards.reduce((n, r) => n + r.missing, 0), lostQos2: 0, duplicatesQos2: 0 },
    latencyMs: latencySummary(new LatencyHistogram()),
    latencyHistogram: new LatencyHistogram().toJSON(),
    reconnects: snap.reconnects,
    faults: { ...fleet.faultCounts },
    received: { checker: fleet.appChecker ? fleet.appChecker.received : 0, foreign: 0, boards: app.totals.received },
    memory: { storeBytesPerBoard: 4096 },
    app,
    verdict: 'OK',
  };
  report.verdict = verdictOf(report);
  if (!o.virtual || hostStats) {
    report.host = { wallSeconds: round(fleet.wallMs / 1000), heapBytesPerBoard: Math.round(fleet.heapPerBoard), rssBytes: rssBytes() };
    if (o.virtual) report.host.speedup = round(fleet.elapsed() / Math.max(1, fleet.wallMs), 1);
  }
  return report;
}

function formatAppReport(r: RunReport, a: AppReport, verdict?: string): string {
  const lines = [
    `sparrow sim --app: ${r.boards} boards running ${a.image} (${shardText(r.shard)}), ${r.mode === 'virtual' ? 'virtual time' : 'real TCP'}, broker ${r.broker}, ` +
      `${r.simulatedSeconds} s simulated, a reading every ${round(a.interval)} s, seed ${r.seed}`,
    '',
  ];
  const t = a.totals;
  lines.push(`boards' counters: sent ${t.sent}, acked ${t.acked}, refused ${t.refused}, dropped ${t.dropped}, still pending ${t.pending}`);
  lines.push(`checker received from the boards: ${t.received} (${t.readings} readings, the rest births and answers); ${t.offlines} "offline" statuses (wills, reboots)`);
  const shown = a.boards.filter((b) => b.missing > 0 || b.received !== b.acked || b.pending > 0).slice(0, 20);
  if (shown.length) {
    lines.push('', 'board          acked  received  pending  offline  status');
    for (const b of shown) lines.push(`${b.id.padEnd(13)}  ${String(b.acked).padStart(5)}  ${String(b.received).padStart(8)}  ${String(b.pending).padStart(7)}  ${String(b.offlines).padStart(7)}  ${b.status}`);
  }
  if (a.flashedBoards.length) {
    lines.push(`re-flashed at their consoles (counted over all their boots): ${a.flashedBoards.slice(0, 10).join(', ')}${a.flashedBoards.length > 10 ? ', ...' : ''}`);
  }
  lines.push(`reconnects ${r.reconnects}; faults: ${r.faults.cuts} cuts, ${r.faults.halfOpens} half-open, ${r.faults.outages} outages`);
  if (r.host) lines.push(`wall time ${r.host.wallSeconds} s` + (r.host.speedup ? ` (${r.host.speedup}× real time)` : '') + `; host heap ${heapText(r.host.heapBytesPerBoard)}`);
  lines.push(verdict ? verdict : a.lossBoards.length
    ? `FAILED: ${a.lossBoards.length} boards with fewer messages received than acknowledged: ${a.lossBoards.slice(0, 10).join(', ')}${a.lossBoards.length > 10 ? ', ...' : ''}`
    : r.verdict === 'PENDING' ? pendingLine(r)
      : 'OK: every board\'s acknowledged publishes reached the checker (received >= acked on every board)');
  return lines.join('\n');
}

/** "shard 2/4", or "4 of 4 shards" for a merged fleet. */
const shardText = (shard: string) => (shard.indexOf('/') >= 0 ? 'shard ' + shard : shard + ' shards');

/** The FAILED line of a run that lost an accepted reading or duplicated a QoS 2 one; '' when it did not. */
export function lossVerdict(v: RunReport['violations']): string {
  return v.lostQos1 + v.lostQos2 + v.duplicatesQos2 ? `FAILED: ${v.lostQos1} QoS 1 and ${v.lostQos2} QoS 2 accepted readings lost, ${v.duplicatesQos2} QoS 2 duplicates` : '';
}

/** The report as text; `verdict` replaces the last line (a merged fleet's, which knows of missing shards). */
export function formatReport(r: RunReport, verdict?: string): string {
  if (r.app) return formatAppReport(r, r.app, verdict);
  const lines = [
    `sparrow sim: ${r.boards} boards (${shardText(r.shard)}), ${r.mode === 'virtual' ? 'virtual time' : 'real TCP'}, broker ${r.broker}, ${r.simulatedSeconds} s simulated, seed ${r.seed}`,
    '',
    'QoS  published  accepted  refused  dropped  delivered  duplicates  pending  lost',
  ];
  for (const q of r.qos) {
    lines.push(`${String(q.qos).padStart(3)}  ${[q.published, q.accepted, q.refused, q.dropped, q.delivered, q.duplicates, q.pending, q.lost]
      .map((v, i) => String(v).padStart([9, 8, 7, 7, 9, 10, 7, 4][i])).join('  ')}`);
  }
  const l = r.latencyMs;
  lines.push('', `latency (publish to checker): p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms (${l.count} readings)`);
  lines.push(`reconnects ${r.reconnects}; faults: ${r.faults.cuts} cuts, ${r.faults.halfOpens} half-open, ${r.faults.outages} outages`);
  if (r.received.boards) lines.push(`messages received by boards: ${r.received.boards}`);
  lines.push(`memory: message store ${r.memory.storeBytesPerBoard} B per board` + (r.host ? `; host heap ${heapText(r.host.heapBytesPerBoard)}, RSS ${(r.host.rssBytes / 2 ** 20).toFixed(0)} MiB` : ''));
  if (r.host) lines.push(`wall time ${r.host.wallSeconds} s` + (r.host.speedup ? ` (${r.host.speedup}× real time)` : ''));
  lines.push(verdict || (r.verdict === 'FAILED' ? lossVerdict(r.violations)
    : r.verdict === 'PENDING' ? pendingLine(r) : 'OK: no accepted QoS 1/2 reading lost, none pending, no QoS 2 duplicate'));
  return lines.join('\n');
}

/** Heap growth over the boards' start, per board; a collection in between can make it meaningless. */
function heapText(bytesPerBoard: number): string {
  return bytesPerBoard > 0 ? `${bytesPerBoard} B per board` : 'per board not measured (a GC ran while the boards started)';
}
