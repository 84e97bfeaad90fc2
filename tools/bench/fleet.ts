// Fleet scale (issue 5): how many simulated boards one machine holds, and how fast virtual time runs.
//  - TCP: N Sparrow boards (the built ES5 bundle on real sockets) against mosquitto, one QoS 1 reading a
//    second each, next to N plain MQTT.js clients doing the same: boards held, heap per board, delivered ratio.
//  - Virtual: N boards each receiving one message a second through the in-process broker: simulated
//    seconds per wall-clock second, and heap per board.
// Each measurement runs in its own child process (suite.ts), bounded to a few minutes, on loopback only.
import mqtt from 'mqtt';
import { Fleet } from '../../host-sim/fleet/fleet';
import { boardSourceAddress } from '../../host-sim/platform/ports';
import { startMosquitto } from '../../test/support/mosquitto';
import type { RunOptions, Suite } from './suite';
import { inChild } from './suite';
import { markdownTable } from './table';

const TCP_BOARDS = Number(process.env.SPARROW_BENCH_FLEET_TCP) || 2000;
// 100,000 boards take about ten times the 10,000 run (≈1.8 GB heap): SPARROW_BENCH_FLEET_VIRTUAL=100000 to include them
const VIRTUAL_BOARDS = (process.env.SPARROW_BENCH_FLEET_VIRTUAL || '1000,10000').split(',').map(Number);
const TCP_SECONDS = 20;
const VIRTUAL_SECONDS = 60;

interface TcpResult { impl: string; boards: number; held: number; heapPerBoard: number; delivered: number; expected: number }
interface VirtualResult { boards: number; simulated: number; wall: number; heapPerBoard: number; received: number }

async function sparrowTcp(url: string, n: number): Promise<TcpResult> {
  const fleet = new Fleet({ devices: n, broker: url, qos: 1, rate: 1, duration: TCP_SECONDS * 1000, drain: 20000, ramp: 500, prefix: 'bench/sparrow' });
  let held = 0;
  await fleet.run((s) => { if (!s.draining) held = s.states.connected; }, 1000);
  const t = fleet.ledger.totals()[0];
  return { impl: 'Sparrow bundle', boards: n, held, heapPerBoard: fleet.heapPerBoard, delivered: t.delivered, expected: t.published };
}

async function mqttJsTcp(url: string, n: number): Promise<TcpResult> {
  let delivered = 0, expected = 0;
  const checker = mqtt.connect(url, { clientId: 'bench-mqttjs-checker', clean: true });
  checker.on('message', () => { delivered++; });
  await checker.subscribeAsync('bench/mqttjs/+', { qos: 1 });
  const heapBefore = process.memoryUsage().heapUsed;
  const clients: mqtt.MqttClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    // MQTT.js 5's TCP transport ignores localAddress (it passes only host and port to net): all connect from 127.0.0.1
    const c = mqtt.connect(url, { clientId: 'bench-mqttjs-' + i, clean: false, keepalive: 60, localAddress: boardSourceAddress(i) } as mqtt.IClientOptions);
    clients.push(c);
    timers.push(setTimeout(function tick() {
      expected++;
      c.publish('bench/mqttjs/' + i, '0 0 ' + '.'.repeat(60), { qos: 1 });
      timers[i] = setTimeout(tick, 1000);
    }, Math.random() * 1000));
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 1000)); // the same ramp as the boards
  }
  const heapPerBoard = (process.memoryUsage().heapUsed - heapBefore) / n;
  await new Promise((r) => setTimeout(r, Math.max(0, TCP_SECONDS * 1000 - (Date.now() - t0))));
  const held = clients.filter((c) => c.connected).length;
  for (const t of timers) clearTimeout(t);
  const until = Date.now() + 20000;
  while (delivered < expected && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  for (const c of clients) c.end(true);
  checker.end(true);
  return { impl: 'MQTT.js 5', boards: n, held, heapPerBoard, delivered, expected };
}

async function virtualReceive(n: number): Promise<VirtualResult> {
  const fleet = new Fleet({ devices: n, virtual: true, rate: 0, downRate: 1, duration: VIRTUAL_SECONDS * 1000, drain: 10000, prefix: 'bench/v' });
  await fleet.run();
  const received = fleet.boards.reduce((s, b) => s + b.received, 0);
  return { boards: n, simulated: fleet.elapsed() / 1000, wall: fleet.wallMs / 1000, heapPerBoard: fleet.heapPerBoard, received };
}

export const fleet: Suite = {
  name: 'fleet',
  section: 'Fleet scale (simulator)',
  async child(spec: any): Promise<unknown> {
    if (spec.kind === 'virtual') return virtualReceive(spec.boards);
    const m = await startMosquitto();
    try {
      return spec.impl === 'sparrow' ? await sparrowTcp(m.url, spec.boards) : await mqttJsTcp(m.url, spec.boards);
    } finally {
      await m.stop();
    }
  },
  async run(o: RunOptions): Promise<string> {
    const flags = ['--max-old-space-size=8192', '--expose-gc'];
    const tcp: TcpResult[] = [];
    for (const impl of ['sparrow', 'mqttjs']) {
      o.log(`TCP: ${TCP_BOARDS} ${impl} clients against mosquitto`);
      tcp.push(await inChild<TcpResult>('fleet', { kind: 'tcp', impl, boards: TCP_BOARDS }, flags));
    }
    const virt: VirtualResult[] = [];
    for (const n of VIRTUAL_BOARDS) {
      o.log(`virtual: ${n} boards receiving 1 msg/s for ${VIRTUAL_SECONDS} simulated s`);
      try { virt.push(await inChild<VirtualResult>('fleet', { kind: 'virtual', boards: n }, flags)); } catch (e) { o.log(`virtual ${n}: ${(e as Error).message.split('\n')[0]}`); break; }
    }
    const kb = (b: number) => (b / 1024).toFixed(1) + ' KiB';
    return [
      `### TCP: one QoS 1 reading per second per client against mosquitto (${TCP_SECONDS} s, loopback, 127.1.x.y source addresses)`, '',
      markdownTable(['Clients', 'Started', 'Held at the end', 'Heap per client', 'Delivered / published'],
        tcp.map((r) => [r.impl, String(r.boards), String(r.held), kb(r.heapPerBoard), `${r.delivered} / ${r.expected} (${(r.delivered / Math.max(1, r.expected) * 100).toFixed(2)} %)`]),
        ['left', 'right', 'right', 'right', 'right']),
      '', `### Virtual time: each board receives one message per second through the in-process broker (${VIRTUAL_SECONDS} simulated s)`, '',
      markdownTable(['Boards', 'Simulated s', 'Wall s', 'Simulated / wall', 'Heap per board', 'Messages received'],
        virt.map((r) => [String(r.boards), r.simulated.toFixed(0), r.wall.toFixed(1), (r.simulated / r.wall).toFixed(2) + '×', kb(r.heapPerBoard), String(r.received)]),
        ['right', 'right', 'right', 'right', 'right', 'right']),
      '', 'Heap per board/client: V8 heap growth over the fleet\'s start, divided by its size (the virtual figure includes the broker\'s per-connection state).',
      'A single run each (fleet runs take minutes); the machine is shared, so treat the wall-clock ratios as lower bounds.',
    ].join('\n');
  },
};
