// Flow suite (issue 13): what one misbehaving client costs the others, Sparrow beside mosquitto in the
// same run. Three measurements, each in a fresh load process against fresh broker processes:
// - stuck subscriber: a healthy QoS 1 subscriber's rate alone, and beside a subscriber that stopped reading,
//   over the whole window and from PROBATION_MS on (after Sparrow has cut the stuck one);
// - offline queues at their bounds: broker RSS after 3,000 × 256 KB to one offline session, and after
//   1,000 × 256 KB to eight, with the same per-session and broker-wide byte bounds on both brokers;
// - kill -9: QoS 1 messages acknowledged to a publisher, then the broker killed, then what a persistent
//   subscriber gets from the restarted broker.
// Sparrow runs as the built `sparrow broker` command; mosquitto is Debian's binary with a generated config.
// SPARROW_BENCH_FLOW_PARTS=stuck (or offline, kill9; comma-separated) runs only those parts, for a look:
// a --write of such a run replaces the whole section with them alone.
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import type { PublishPacket } from '../../firmware/mqtt';
import { mosquittoVersion, waitForPort } from './broker-hosts';
import { Peer } from './broker-load';
import { formatSummary, summarize } from './stats';
import { inChild, type RunOptions, type Suite } from './suite';
import { markdownTable } from './table';
import { freePort } from '../../host-sim/platform/ports';

type Impl = 'sparrow' | 'mosquitto';

const MIB = 1024 * 1024;
/** The bounds both brokers get in the offline-queue measurement. */
const SESSION_BYTES = 64 * MIB, TOTAL_BYTES = 256 * MIB;
const BIG = 256 * 1024;
/** QoS 1 publishes a closed-loop publisher keeps unacknowledged. */
const WINDOW = 1000;
/** The stuck-subscriber rate is also reported from this time on: Sparrow's probation (stall-timeout 1 s) is over by then. */
const PROBATION_MS = 2000;
const PARTS = ['stuck', 'offline', 'kill9'];

type Spec =
  | { kind: 'stuck'; impl: Impl; stuck: boolean; ms: number }
  | { kind: 'offline'; impl: Impl; sessions: number; messages: number }
  | { kind: 'kill9'; impl: Impl; runs: number };

interface StuckResult {
  rate: number;
  /** The rate from PROBATION_MS to the end of the window. */
  rateAfter: number;
}
interface OfflineResult { rssGrowth: number; peakGrowth: number; held: number; acked: number; publisherCut: boolean }
interface Kill9Result { acked: number; recovered: number; sessionsBack: number; runs: number }

// ---- brokers ----

interface Running { proc: ChildProcess; port: number; exited: Promise<void>; stop(): Promise<void> }

/** The built CLI beside this bundle (dist/node), or the build's output when run from the sources. */
function sparrowCli(): string {
  const beside = path.join(__dirname, 'sparrow.js');
  return fs.existsSync(beside) ? beside : path.join(__dirname, '../../dist/node/sparrow.js');
}

async function startSparrow(flags: string[], port = 0): Promise<Running> {
  const proc = spawn(process.execPath, [sparrowCli(), 'broker', '--port', String(port), '--ws-port', 'off', '--sys-interval', '0', '--log-level', 'error', ...flags],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const bound = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /listening tcp (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    exited.then(() => reject(new Error('sparrow broker exited before listening')));
  });
  return running(proc, bound, exited);
}

async function startMosquitto(lines: string[], port?: number): Promise<Running> {
  const p = port || await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-flow-mosquitto-'));
  fs.chmodSync(dir, 0o777); // started as root, mosquitto runs as user mosquitto
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, [`listener ${p} 127.0.0.1`, 'allow_anonymous true', 'log_dest stderr', 'log_type error', ...lines].join('\n') + '\n');
  const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => { fs.rmSync(dir, { recursive: true, force: true }); r(); }));
  await waitForPort(p, proc);
  return running(proc, p, exited);
}

function running(proc: ChildProcess, port: number, exited: Promise<void>): Running {
  return { proc, port, exited, stop: async () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM'); await exited; } };
}

/** Resident and peak resident memory of a process, bytes (/proc/<pid>/status). */
function memory(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number((new RegExp(field + ':\\s+(\\d+)').exec(status) || [0, 0])[1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

// ---- clients ----

/**
 * A subscriber that acknowledges what it gets; remembers each message's first 4 payload bytes as a
 * number, and calls `onMessage` after each.
 */
async function subscriber(port: number, clientId: string, clean: boolean, filter: string, onMessage = () => {}): Promise<{ peer: Peer; got: number[] }> {
  const got: number[] = [];
  const peer = await Peer.open(port, clientId, clean, (p: PublishPacket, self: Peer) => {
    const b = p.payload as Uint8Array;
    got.push(b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0) : -1);
    if (p.qos) self.send({ cmd: 'puback', messageId: p.messageId! });
    onMessage();
  });
  peer.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] });
  await peer.next('suback');
  return { peer, got };
}

/**
 * Publishes `count` QoS 1 messages of `size` bytes (sequence number first) keeping `window` unacknowledged
 * (and, with `delivered`, at most `window` published and not yet delivered); `acked` collects the
 * sequence numbers acknowledged. Resolves when all are acked, the link closes, or `stop()`.
 */
function publisher(peer: Peer, topic: string, size: number, count: number, window: number, delivered?: () => number) {
  const payload = new Uint8Array(size);
  const view = new DataView(payload.buffer);
  const idToSeq = new Map<number, number>();
  const acked: number[] = [];
  let next = 0, nextId = 1, stopped = false;
  let pump = () => {};
  const done = new Promise<void>((resolve) => {
    pump = () => {
      while (!stopped && next < count && idToSeq.size < window && !(delivered && next - delivered() >= window) && !peer.congested) {
        view.setUint32(0, next);
        const id = nextId;
        nextId = nextId === 65535 ? 1 : nextId + 1;
        idToSeq.set(id, next++);
        peer.send({ cmd: 'publish', topic, payload, qos: 1, messageId: id });
      }
      if (acked.length === count || stopped) resolve();
    };
    peer.onAck = (id) => { const seq = idToSeq.get(id); if (seq !== undefined) { idToSeq.delete(id); acked.push(seq); } pump(); };
    peer.socket.on('drain', pump);
    peer.socket.on('close', () => { stopped = true; resolve(); });
    pump();
  });
  return { done, acked, pump: () => pump(), stop() { stopped = true; } };
}

/** Resolves once `list` has not grown for `quietMs` (or after `maxMs`): the end of a redelivery. */
async function settled(list: unknown[], quietMs: number, maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  let n = -1, since = Date.now();
  while (Date.now() < end) {
    if (list.length !== n) { n = list.length; since = Date.now(); } else if (Date.now() - since >= quietMs) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- measurements (in the child) ----

async function measureStuck(spec: Extract<Spec, { kind: 'stuck' }>): Promise<StuckResult> {
  const broker = spec.impl === 'sparrow' ? await startSparrow([]) : await startMosquitto([]);
  const peers: Peer[] = [];
  try {
    let onDelivered = () => {};
    const healthy = await subscriber(broker.port, 'healthy', true, 'flow/#', () => onDelivered());
    peers.push(healthy.peer);
    if (spec.stuck) {
      const stuck = await subscriber(broker.port, 'stuck', true, 'flow/#');
      peers.push(stuck.peer);
      stuck.peer.socket.pause(); // stops reading, and never acknowledges
    }
    const pubPeer = await Peer.open(broker.port, 'pub');
    peers.push(pubPeer);
    const pub = publisher(pubPeer, 'flow/x', 64, Number.MAX_SAFE_INTEGER, WINDOW, () => healthy.got.length);
    onDelivered = pub.pump;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, PROBATION_MS));
    const atProbationEnd = healthy.got.length, t1 = performance.now();
    await new Promise((r) => setTimeout(r, t0 + spec.ms - performance.now()));
    const received = healthy.got.length, t2 = performance.now();
    pub.stop();
    return { rate: received / ((t2 - t0) / 1000), rateAfter: (received - atProbationEnd) / ((t2 - t1) / 1000) };
  } finally {
    for (const p of peers) p.socket.destroy();
    await broker.stop();
  }
}

async function measureOffline(spec: Extract<Spec, { kind: 'offline' }>): Promise<OfflineResult> {
  const broker = spec.impl === 'sparrow'
    ? await startSparrow(['--max-queued-bytes', String(SESSION_BYTES), '--memory-limit', String(TOTAL_BYTES), '--max-queued-messages', '1000000'])
    : await startMosquitto([`max_queued_bytes ${SESSION_BYTES}`, 'max_queued_messages 0', `memory_limit ${TOTAL_BYTES}`]);
  try {
    const ids = Array.from({ length: spec.sessions }, (_, i) => 'offline-' + i);
    for (const id of ids) { const s = await subscriber(broker.port, id, false, 'big/#'); s.peer.socket.destroy(); }
    const before = memory(broker.proc.pid!);
    const pubPeer = await Peer.open(broker.port, 'bigpub');
    const pub = publisher(pubPeer, 'big/x', BIG, spec.messages, 16);
    await pub.done;
    const after = memory(broker.proc.pid!);
    const publisherCut = pubPeer.socket.destroyed;
    pubPeer.socket.destroy();
    let held = 0;
    for (const id of ids) {
      const s = await subscriber(broker.port, id, false, 'big/#');
      await settled(s.got, 1000, 60000);
      held += s.got.length;
      s.peer.socket.destroy();
    }
    return { rssGrowth: after.rss - before.rss, peakGrowth: after.peak - before.rss, held, acked: pub.acked.length, publisherCut };
  } finally {
    await broker.stop();
  }
}

async function measureKill9(spec: Extract<Spec, { kind: 'kill9' }>): Promise<Kill9Result> {
  let acked = 0, recovered = 0, sessionsBack = 0;
  for (let run = 0; run < spec.runs; run++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-flow-kill9-'));
    fs.chmodSync(dir, 0o777); // started as root, mosquitto runs as user mosquitto
    const port = await freePort();
    const start = () => spec.impl === 'sparrow' ? startSparrow(['--data-dir', dir], port)
      : startMosquitto(['persistence true', `persistence_location ${dir}/`], port);
    try {
      const a = await start();
      const s = await subscriber(a.port, 'keeper', false, 'k/#');
      s.peer.socket.destroy();
      const pubPeer = await Peer.open(a.port, 'kpub');
      const pub = publisher(pubPeer, 'k/x', 32, Number.MAX_SAFE_INTEGER, 100);
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 300)); // kill at an unpredictable moment
      a.proc.kill('SIGKILL');
      await a.exited;
      pub.stop();
      pubPeer.socket.destroy();
      const ackedNow = new Set(pub.acked);
      const b = await start();
      const back = await subscriber(b.port, 'keeper', false, 'k/#');
      await settled(back.got, 1000, 60000);
      const got = new Set(back.got);
      if (back.got.length) sessionsBack++;
      acked += ackedNow.size;
      for (const seq of ackedNow) if (got.has(seq)) recovered++;
      back.peer.socket.destroy();
      await b.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return { acked, recovered, sessionsBack, runs: spec.runs };
}

// ---- the report ----

const pct = (v: number) => (v * 100).toFixed(1) + ' %';
const rateK = (v: number) => (v / 1000).toFixed(1) + ' k/s';
const mib = (v: number) => (v / MIB).toFixed(0) + ' MiB';

/** The parts SPARROW_BENCH_FLOW_PARTS names, or all of them. */
function chosenParts(): string[] {
  return process.env.SPARROW_BENCH_FLOW_PARTS ? process.env.SPARROW_BENCH_FLOW_PARTS.split(',') : PARTS;
}

function settingsError(): string | null {
  const unknown = chosenParts().filter((p) => !PARTS.includes(p));
  return unknown.length ? `SPARROW_BENCH_FLOW_PARTS: unknown part ${unknown.join(', ')} (parts: ${PARTS.join(', ')})` : null;
}

/** What each part's table needs besides the run options. */
interface PartContext { options: RunOptions; impls: Impl[]; mosquitto: string }

async function run(options: RunOptions): Promise<string> {
  const mosquitto = mosquittoVersion();
  if (!mosquitto) throw new Error('the flow suite compares with mosquitto: apt-get install mosquitto');
  const only = chosenParts();
  const ctx: PartContext = { options, impls: ['sparrow', 'mosquitto'], mosquitto };
  const sections: string[] = [];
  if (only.includes('stuck')) sections.push(await stuckPart(ctx));
  if (only.includes('offline')) sections.push(await offlinePart(ctx));
  if (only.includes('kill9')) sections.push(await kill9Part(ctx));
  return sections.join('\n\n');
}

async function stuckPart({ options, impls, mosquitto }: PartContext): Promise<string> {
  const runs = options.runs, ms = options.quick ? 5000 : 20000;
  const results: { [k: string]: StuckResult[] } = {};
  const loads: number[] = [];
  // alone and beside a stuck one alternate, so that both see the same machine load
  for (let r = 0; r < runs; r++) {
    for (const impl of impls) {
      for (const stuck of [false, true]) {
        loads.push(os.loadavg()[0]);
        const res = await inChild<StuckResult>('flow', { kind: 'stuck', impl, stuck, ms } as Spec);
        (results[impl + stuck] = results[impl + stuck] || []).push(res);
        options.log(`stuck ${impl}${stuck ? ' beside a stuck subscriber' : ' alone'}: ${rateK(res.rate)}, from ${PROBATION_MS / 1000} s on ${rateK(res.rateAfter)}`);
      }
    }
  }
  const rows: string[][] = [];
  for (const impl of impls) {
    for (const [window, rateOf] of [[`0–${ms / 1000} s`, (x: StuckResult) => x.rate], [`${PROBATION_MS / 1000}–${ms / 1000} s`, (x: StuckResult) => x.rateAfter]] as const) {
      const alone = summarize(results[impl + false].map(rateOf)), beside = summarize(results[impl + true].map(rateOf));
      rows.push([impl === 'sparrow' ? 'Sparrow' : 'mosquitto ' + mosquitto, window, formatSummary(alone, rateK), formatSummary(beside, rateK), pct(beside.median / alone.median)]);
    }
  }
  const load = summarize(loads);
  return `### A stuck subscriber beside a healthy one\n\nOne publisher, closed loop (at most ${WINDOW} QoS 1 publishes not yet delivered to the healthy subscriber), 64-byte payloads; a healthy QoS 1 subscriber that acknowledges at once, `
    + `alone, or beside a QoS 1 subscriber on the same topics that stopped reading before the publisher started. The healthy subscriber's messages per second over ${ms / 1000} s from the first publish, `
    + `and over the same window from ${PROBATION_MS / 1000} s on; median (min–max) of ${runs} runs, each on a fresh broker with its defaults, alone and beside alternating. `
    + `Sparrow keeps the stuck subscriber on probation (its publishers go on) and disconnects it after \`--stall-timeout\` (1 s) without progress, or sooner at \`--max-queued-messages\`; `
    + 'mosquitto keeps it connected and drops what it cannot queue (max_queued_messages 1000). '
    + `The machine's 1-minute load average at the start of each run: ${formatSummary(load, (v) => v.toFixed(1))} (2 cores, shared with other work).\n\n`
    + markdownTable(['broker', 'window', 'healthy alone', 'beside a stuck one', 'ratio (target ≥ 90 %)'], rows, ['left', 'left', 'right', 'right', 'right']);
}

async function offlinePart({ options, impls }: PartContext): Promise<string> {
  const runs = Math.min(options.runs, 3);
  const offRows: string[][] = [];
  for (const [sessions, messages] of [[1, 3000], [8, 1000]]) {
    for (const impl of impls) {
      const res: OfflineResult[] = [];
      for (let r = 0; r < runs; r++) res.push(await inChild<OfflineResult>('flow', { kind: 'offline', impl, sessions, messages } as Spec));
      const m = summarize(res.map((x) => x.rssGrowth)), peak = summarize(res.map((x) => x.peakGrowth)), held = summarize(res.map((x) => x.held));
      options.log(`offline ${impl} ${sessions}×${messages}: RSS +${mib(m.median)}, held ${held.median}`);
      offRows.push([impl === 'sparrow' ? 'Sparrow' : 'mosquitto', `${messages.toLocaleString('en-US')} × 256 KB to ${sessions} offline session${sessions > 1 ? 's' : ''}`,
        formatSummary(m, mib), formatSummary(peak, mib), `${held.median.toLocaleString('en-US')} (${mib(held.median * BIG)})`,
        res.every((x) => x.acked === messages) ? 'all' : res.map((x) => x.acked).join(', ') + (res.some((x) => x.publisherCut) ? ' (publisher disconnected)' : '')]);
    }
  }
  return `### Offline queues at their bounds\n\nBoth brokers bounded the same way: ${mib(SESSION_BYTES)} per session (Sparrow \`--max-queued-bytes\`, mosquitto \`max_queued_bytes\`), `
    + `${mib(TOTAL_BYTES)} in all (Sparrow \`--memory-limit\`, bytes of queued messages, counted per session; mosquitto \`memory_limit\`, its whole heap). `
    + `RSS growth of the broker process from before the first publish to the last PUBACK, the peak (VmHWM) over the same start, and the messages each broker delivered when the sessions came back. Median of ${runs} runs.\n\n`
    + markdownTable(['broker', 'load', 'RSS growth', 'peak growth', 'messages kept', 'publishes acknowledged'], offRows, ['left', 'left', 'right', 'right', 'right', 'left']);
}

async function kill9Part({ options, impls }: PartContext): Promise<string> {
  const killRuns = options.quick ? 4 : 12;
  const killRows: string[][] = [];
  for (const impl of impls) {
    const res = await inChild<Kill9Result>('flow', { kind: 'kill9', impl, runs: killRuns } as Spec);
    options.log(`kill -9 ${impl}: ${res.recovered} of ${res.acked} acknowledged messages back, session back in ${res.sessionsBack} of ${res.runs}`);
    killRows.push([impl === 'sparrow' ? 'Sparrow `--data-dir`' : 'mosquitto `persistence true`', String(res.runs), `${res.sessionsBack} of ${res.runs}`,
      res.acked.toLocaleString('en-US'), res.recovered.toLocaleString('en-US'), (res.acked - res.recovered).toLocaleString('en-US')]);
  }
  return `### kill -9\n\nA persistent QoS 1 subscriber goes offline; a publisher sends QoS 1 messages (closed loop, 100 unacknowledged) and the broker is killed with SIGKILL 0.3–0.6 s in; `
    + 'a new broker on the same data starts and the subscriber comes back. Acknowledged messages counted over all runs; "lost" were acknowledged to the publisher and never delivered. '
    + 'mosquitto writes its persistence file at `autosave_interval` (default 1800 s) and at a clean shutdown, so a kill before that loses the session.\n\n'
    + markdownTable(['broker', 'runs', 'session back', 'acknowledged', 'delivered after restart', 'lost'], killRows, ['left', 'right', 'right', 'right', 'right', 'right']);
}

async function child(spec: Spec): Promise<unknown> {
  if (spec.kind === 'stuck') return measureStuck(spec);
  if (spec.kind === 'offline') return measureOffline(spec);
  return measureKill9(spec);
}

export const flow: Suite = {
  name: 'flow',
  section: 'Broker flow control: stuck subscribers, offline-queue bounds, kill -9 (beside mosquitto)',
  run,
  child: (spec) => child(spec as Spec),
  settingsError,
};
