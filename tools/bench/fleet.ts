// Fleet scale (issue 15): how many simulated boards one machine holds, and how fast virtual time runs.
//  - TCP: 18,000 Sparrow boards (the built ES5 bundle on real sockets) against one mosquitto, a QoS 1
//    reading every 10 s each for 60 s, next to as many MQTT.js clients doing the same: boards connected,
//    live heap per board, delivered / accepted.
//  - Two brokers: 30,000 boards as two shards of one fleet, each shard a process against its own
//    mosquitto (one process holds fewer than 20,000 sockets here), merged as `sparrow sim merge` does;
//    MQTT.js the same way, two processes of 15,000.
//  - Virtual: 100,000 boards each receiving one message a second through the in-process broker:
//    simulated seconds per wall-clock second, heap per board, peak RSS.
// Each measurement runs in its own child process (suite.ts), on loopback only. SPARROW_BENCH_FLEET_TCP,
// SPARROW_BENCH_FLEET_SPLIT and SPARROW_BENCH_FLEET_VIRTUAL (comma-separated) change the sizes, and
// SPARROW_BENCH_FLEET_SECONDS the TCP runs' length; --quick runs small fleets.
import mqtt from 'mqtt';
import * as v8 from 'v8';
import { Fleet } from '../../host-sim/fleet/fleet';
import type { QosTotals } from '../../host-sim/fleet/ledger';
import { MergedReport, mergeReports } from '../../host-sim/fleet/merge';
import { buildReport, RunReport } from '../../host-sim/fleet/report';
import { boardSourceAddress } from '../../host-sim/platform/ports';
import { startMosquitto, type Mosquitto } from '../../test/support/mosquitto';
import type { RunOptions, Suite } from './suite';
import { inChild } from './suite';
import { markdownTable } from './table';

const TCP_SECONDS = Number(process.env.SPARROW_BENCH_FLEET_SECONDS) || 60;
const READING_EVERY_S = 10;
const VIRTUAL_SECONDS = 60;
/** The checker may fall behind by more than the tests' mosquitto queues: what it has not yet read must not be dropped. */
const UNLIMITED_QUEUE = { maxQueuedMessages: 0 };

interface Sizes { tcp: number; split: number; virtual: number[] }

function sizes(quick: boolean): Sizes {
  const env = process.env;
  return {
    tcp: Number(env.SPARROW_BENCH_FLEET_TCP) || (quick ? 2000 : 18000),
    split: Number(env.SPARROW_BENCH_FLEET_SPLIT) || (quick ? 4000 : 30000),
    virtual: (env.SPARROW_BENCH_FLEET_VIRTUAL || (quick ? '10000' : '10000,100000')).split(',').map(Number),
  };
}

/** One process's TCP run: clients, how many were connected (at once at best, and at the end), heap, deliveries. */
interface TcpResult {
  impl: string;
  boards: number;
  connectedMax: number;
  connectedEnd: number;
  heapPerBoard: number;
  rss: number;
  delivered: number;
  accepted: number;
  /** Acknowledged by the broker and never delivered. */
  lost: number;
  /** Still queued or in flight on the clients when the run ended (MQTT.js: accepted and not acknowledged). */
  pending: number;
  report?: RunReport;
}

interface VirtualResult { boards: number; simulated: number; wall: number; cpu: number; heapPerBoard: number; peakRss: number; received: number }

const liveHeap = () => { (globalThis as { gc?: () => void }).gc?.(); return v8.getHeapStatistics().used_heap_size; };
const peakRss = () => process.resourceUsage().maxRSS * 1024;

async function sparrowTcp(url: string, devices: number, shard = { index: 0, count: 1 }): Promise<TcpResult> {
  const fleet = new Fleet({
    devices, shard, broker: url, qos: 1, rate: 1 / READING_EVERY_S, duration: TCP_SECONDS * 1000, drain: 60000, ramp: 1000, prefix: 'bench/sparrow',
  });
  let connectedMax = 0, connectedEnd = 0;
  await fleet.run((s) => { connectedMax = Math.max(connectedMax, s.states.connected); if (!s.draining) connectedEnd = s.states.connected; }, 1000);
  const report = buildReport(fleet, '', true);
  const t = qos1Totals(report, connectedMax);
  return {
    impl: 'Sparrow bundle', boards: fleet.boards.length, connectedMax, connectedEnd, heapPerBoard: fleet.heapPerBoard, rss: peakRss(),
    delivered: t.delivered, accepted: t.accepted, lost: t.lost, pending: t.pending, report,
  };
}

/** A TCP run's QoS 1 totals. A run that published nothing has no figure to give, and says why instead. */
export function qos1Totals(report: RunReport, connectedMax: number): QosTotals {
  const t = report.qos.find((q) => q.qos === 1);
  if (!t) throw new Error(`the Sparrow fleet published nothing in ${report.simulatedSeconds} s (at most ${connectedMax} of ${report.boards} boards connected): no figures to report`);
  return t;
}

async function mqttJsTcp(url: string, n: number, first = 0): Promise<TcpResult> {
  let delivered = 0, taken = 0, acked = 0;
  const checker = mqtt.connect(url, { clientId: 'bench-mqttjs-checker-' + first, clean: true });
  checker.on('message', (topic) => { if (+topic.slice(13) >= first && +topic.slice(13) < first + n) delivered++; });
  await checker.subscribeAsync('bench/mqttjs/+', { qos: 1 });
  const heapBefore = liveHeap();
  const clients: mqtt.MqttClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  const t0 = Date.now();
  let connectedMax = 0;
  const sample = setInterval(() => { connectedMax = Math.max(connectedMax, clients.filter((c) => c.connected).length); }, 1000);
  for (let i = 0; i < n; i++) {
    const id = first + i;
    // MQTT.js 5's TCP transport ignores localAddress (it passes only host and port to net): all connect from 127.0.0.1
    const c = mqtt.connect(url, { clientId: 'bench-mqttjs-' + id, clean: false, keepalive: 60, localAddress: boardSourceAddress(id) } as mqtt.IClientOptions);
    clients.push(c);
    timers.push(setTimeout(function tick() {
      taken++;
      c.publish('bench/mqttjs/' + id, '0 0 ' + '.'.repeat(60), { qos: 1 }, (err) => { if (!err) acked++; });
      timers[i] = setTimeout(tick, READING_EVERY_S * 1000);
    }, Math.random() * READING_EVERY_S * 1000));
    if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 1000)); // the same ramp as the boards: 1,000 a second
  }
  const heapPerBoard = (liveHeap() - heapBefore) / n;
  await new Promise((r) => setTimeout(r, Math.max(0, TCP_SECONDS * 1000 - (Date.now() - t0))));
  clearInterval(sample);
  const connectedEnd = clients.filter((c) => c.connected).length;
  connectedMax = Math.max(connectedMax, connectedEnd);
  for (const t of timers) clearTimeout(t);
  // the acknowledged readings (PUBACK came back) are what must arrive
  const until = Date.now() + 60000;
  while (delivered < acked && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  for (const c of clients) c.end(true);
  checker.end(true);
  // MQTT.js accepts every publish into its store; those without a PUBACK at the end are still pending
  return { impl: 'MQTT.js 5', boards: n, connectedMax, connectedEnd, heapPerBoard, rss: peakRss(), delivered, accepted: taken, lost: Math.max(0, acked - delivered), pending: taken - acked };
}

async function virtualReceive(n: number): Promise<VirtualResult> {
  const fleet = new Fleet({ devices: n, virtual: true, rate: 0, downRate: 1, duration: VIRTUAL_SECONDS * 1000, drain: 10000, prefix: 'bench/v' });
  // CPU time beside wall time: on a shared machine the wall clock also counts the other tenants' turns
  const cpu0 = process.cpuUsage();
  await fleet.run();
  const cpu = process.cpuUsage(cpu0);
  const received = fleet.boards.reduce((s, b) => s + b.received, 0);
  return { boards: n, simulated: fleet.elapsed() / 1000, wall: fleet.wallMs / 1000, cpu: (cpu.user + cpu.system) / 1e6, heapPerBoard: fleet.heapPerBoard, peakRss: peakRss(), received };
}

/** The split fleet: one mosquitto per shard, each shard a child process; MQTT.js clients the same way. */
async function twoBrokers(impl: string, devices: number, log: (m: string) => void, flags: string[]): Promise<{ merged: TcpResult; fleet?: MergedReport }> {
  const brokers: Mosquitto[] = [await startMosquitto(UNLIMITED_QUEUE), await startMosquitto(UNLIMITED_QUEUE)];
  try {
    log(`two brokers: ${devices} ${impl} clients as 2 processes, one per mosquitto`);
    const parts = await Promise.all(brokers.map((m, index) => inChild<TcpResult>('fleet', { kind: 'shard', impl, url: m.url, devices, index, count: 2 }, flags)));
    const merged: TcpResult = {
      impl: parts[0].impl, boards: 0, connectedMax: 0, connectedEnd: 0, heapPerBoard: 0, rss: Math.max(...parts.map((p) => p.rss)), delivered: 0, accepted: 0, lost: 0, pending: 0,
    };
    for (const p of parts) {
      for (const k of ['boards', 'connectedMax', 'connectedEnd', 'delivered', 'accepted', 'lost', 'pending'] as const) merged[k] += p[k];
      merged.heapPerBoard += p.heapPerBoard * p.boards;
    }
    merged.heapPerBoard /= Math.max(1, merged.boards);
    const reports = parts.map((p) => p.report).filter((r): r is RunReport => !!r);
    return { merged, fleet: reports.length ? mergeReports(reports, reports.map((r) => 'shard ' + r.shard)) : undefined };
  } finally {
    for (const m of brokers) await m.stop();
  }
}

const kib = (b: number) => (b / 1024).toFixed(1) + ' KiB';
const mib = (b: number) => (b / 2 ** 20).toFixed(0) + ' MiB';
const thousands = (n: number) => n.toLocaleString('en-US');
const tcpRow = (r: TcpResult) => [r.impl, thousands(r.boards), `${thousands(r.connectedMax)} / ${thousands(r.connectedEnd)}`, kib(r.heapPerBoard), mib(r.rss),
  `${thousands(r.delivered)} / ${thousands(r.accepted)}`, thousands(r.lost), thousands(r.pending)];

export const fleet: Suite = {
  name: 'fleet',
  section: 'Fleet scale (simulator)',
  async child(spec: any): Promise<unknown> {
    if (spec.kind === 'virtual') return virtualReceive(spec.boards);
    if (spec.kind === 'shard') {
      if (spec.impl === 'sparrow') return sparrowTcp(spec.url, spec.devices, { index: spec.index, count: spec.count });
      const per = Math.ceil(spec.devices / spec.count);
      return mqttJsTcp(spec.url, Math.min(per, spec.devices - spec.index * per), spec.index * per);
    }
    const m = await startMosquitto(UNLIMITED_QUEUE);
    try {
      return spec.impl === 'sparrow' ? await sparrowTcp(m.url, spec.boards) : await mqttJsTcp(m.url, spec.boards);
    } finally {
      await m.stop();
    }
  },
  async run(o: RunOptions): Promise<string> {
    const flags = ['--max-old-space-size=8192', '--expose-gc'];
    const size = sizes(!!o.quick);
    const tcp: TcpResult[] = [];
    for (const impl of ['sparrow', 'mqttjs']) {
      o.log(`TCP: ${size.tcp} ${impl} clients against one mosquitto`);
      try { tcp.push(await inChild<TcpResult>('fleet', { kind: 'tcp', impl, boards: size.tcp }, flags)); } catch (e) { o.log(`TCP ${impl}: ${(e as Error).message.split('\n')[0]}`); }
    }
    const split: TcpResult[] = [];
    let fleetReport: MergedReport | undefined;
    for (const impl of ['sparrow', 'mqttjs']) {
      try {
        const r = await twoBrokers(impl, size.split, o.log, flags);
        split.push(r.merged);
        if (r.fleet) fleetReport = r.fleet;
      } catch (e) { o.log(`two brokers ${impl}: ${(e as Error).message.split('\n')[0]}`); }
    }
    const virt: VirtualResult[] = [];
    for (const n of size.virtual) {
      o.log(`virtual: ${n} boards receiving 1 msg/s for ${VIRTUAL_SECONDS} simulated s`);
      try { virt.push(await inChild<VirtualResult>('fleet', { kind: 'virtual', boards: n }, flags)); } catch (e) { o.log(`virtual ${n}: ${(e as Error).message.split('\n')[0]}`); break; }
    }
    const tcpHeader = ['Clients', 'Started', 'Connected (most at once / at the end)', 'Live heap per client', 'Peak RSS', 'Delivered / accepted', 'Lost (acknowledged, not delivered)', 'Pending at the end'];
    const align = ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'] as const;
    const lines = [
      `### TCP: a QoS 1 reading every ${READING_EVERY_S} s per client against one mosquitto (${TCP_SECONDS} s, loopback, 127.x source addresses)`, '',
      markdownTable(tcpHeader, tcp.map(tcpRow), [...align]),
      '', `### Two brokers: one fleet as two processes, each against its own mosquitto (same workload)`, '',
      markdownTable(tcpHeader, split.map(tcpRow), [...align]),
    ];
    if (fleetReport) {
      const l = fleetReport.latencyMs;
      lines.push('', `Sparrow's two shard reports merged (\`sparrow sim merge\`): ${fleetReport.verdictText}; latency p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms over ${thousands(l.count)} readings.`);
    }
    lines.push(
      '', `### Virtual time: each board receives one message per second through the in-process broker (${VIRTUAL_SECONDS} simulated s)`, '',
      markdownTable(['Boards', 'Simulated s', 'Wall s', 'Simulated / wall', 'CPU s', 'Simulated / CPU', 'Live heap per board', 'Peak RSS', 'Messages received'],
        virt.map((r) => [thousands(r.boards), r.simulated.toFixed(0), r.wall.toFixed(1), (r.simulated / r.wall).toFixed(2) + '×', r.cpu.toFixed(1), (r.simulated / r.cpu).toFixed(2) + '×',
          kib(r.heapPerBoard), mib(r.peakRss), thousands(r.received)]),
        ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right']),
      '', 'Live heap per board/client: V8 heap in use after a full GC, once every client has started, minus before, divided by their number',
      '(the virtual figure includes the broker\'s per-connection state). Buffers outside the V8 heap (socket and client buffers) show in the RSS.',
      'CPU s: user + system time of the simulator process (all its threads, the GC\'s too), which other tenants of a shared machine do not inflate.',
      'A single run each (fleet runs take minutes); the machine is shared, so treat the wall-clock ratios as lower bounds.',
    );
    return lines.join('\n');
  },
};
