// The load for the broker benchmark: publishers and subscribers on raw TCP sockets speaking through the
// firmware codec, which encodes into reused buffers and decodes without copying, so the load costs a
// small fraction of what a broker spends per message and the broker is what saturates.
//
// Each message carries [publisher index u32][sequence u32][send time f64] in a 16-byte payload, so the
// subscriber measures latency on the same clock and counts what arrived per publisher.
import * as net from 'net';
import { performance } from 'perf_hooks';
import { encode, PacketReader } from '../../firmware/mqtt';
import type { AckPacket, DecodedPacket, Packet, PublishPacket } from '../../firmware/mqtt';
import { processCpuSeconds } from './broker-hosts';

export type Shape = 'fan-in' | 'fan-out';
export type Mode = 'closed' | 'rate';

export interface LoadCell { shape: Shape; qos: 0 | 1; mode: Mode }

/** What one load process measures: every cell in turn, against one broker. */
export interface LoadSpec {
  kind: 'load';
  port: number;
  /** The broker's process, whose CPU time is read around each measured window. */
  pid: number;
  cells: LoadCell[];
  /** Closed loop: messages published and not yet delivered (to every subscriber), over all publishers. */
  window: number;
  /** Fixed rate: messages published per second, over all publishers. */
  rate: number;
  warmMs: number;
  measureMs: number;
}

export interface LoadResult {
  /** Deliveries per second (a fan-out message counts once per subscriber) in the measured window. */
  delivered: number;
  /** Published messages per second in the measured window. */
  published: number;
  p50: number;
  p99: number;
  /** Deliveries missing after the drain, over deliveries expected, for the whole run. */
  loss: number;
  /** Broker CPU seconds per wall second in the measured window (1 = one core busy). */
  brokerCpu: number;
  /** The load process's own CPU share in the window: near 1 would make the load the bottleneck. */
  loadCpu: number;
}

const PUBLISHERS = { 'fan-in': 10, 'fan-out': 1 };
const SUBSCRIBERS = { 'fan-in': 1, 'fan-out': 10 };
const PAYLOAD = 16;
const MAX_SAMPLES = 1 << 22;
/** Stop writing to a publisher socket holding this much: the broker is not reading (back-pressure). */
const SOCKET_HIGH = 1 << 20;

/** One MQTT 3.1.1 connection: codec in, batched writes out (one socket write per tick). */
export class Peer {
  private reader = new PacketReader({ protocolVersion: 4 });
  private out = new Uint8Array(256 * 1024);
  private outPos = 0;
  private scheduled = false;
  private waiting: { cmd: string; resolve(p: DecodedPacket): void }[] = [];
  onPublish: (p: PublishPacket) => void = () => {};
  onAck: (messageId: number) => void = () => {};

  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      const e = this.reader.push(chunk, this.onPacket);
      if (e) throw new Error('load client: ' + e.message);
    });
    socket.on('error', () => { /* the run's end closes sockets; errors show as missing messages */ });
  }

  /** Connects; `onPublish` is set first, so that messages a resumed session sends with the CONNACK are not missed. */
  static open(port: number, clientId: string, clean = true, onPublish?: (p: PublishPacket, peer: Peer) => void): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', async () => {
        const p = new Peer(s);
        if (onPublish) p.onPublish = (packet) => onPublish(packet, p);
        p.send({ cmd: 'connect', protocolVersion: 4, clientId, clean, keepalive: 0 });
        await p.next('connack');
        resolve(p);
      });
      s.once('error', reject);
    });
  }

  private onPacket = (p: DecodedPacket): void => {
    if (p.cmd === 'publish') { this.onPublish(p as PublishPacket); return; }
    if (p.cmd === 'puback') { this.onAck((p as AckPacket).messageId); return; }
    const i = this.waiting.findIndex((w) => w.cmd === p.cmd);
    if (i >= 0) this.waiting.splice(i, 1)[0].resolve(p);
  };

  next(cmd: string): Promise<DecodedPacket> {
    return new Promise((resolve) => this.waiting.push({ cmd, resolve }));
  }

  send(p: Packet): void {
    let n = encode(p, 4, this.out, this.outPos);
    if (n < 0) {
      this.flush();
      if (-n > this.out.length) this.out = new Uint8Array(-n); // a packet bigger than the batch buffer
      n = encode(p, 4, this.out, 0);
    }
    this.outPos += n;
    if (!this.scheduled) { this.scheduled = true; process.nextTick(this.flush); }
  }

  flush = (): void => {
    this.scheduled = false;
    if (!this.outPos) return;
    this.socket.write(Buffer.from(this.out.subarray(0, this.outPos))); // copied: the buffer is reused at once
    this.outPos = 0;
  };

  get congested(): boolean { return this.socket.writableLength > SOCKET_HIGH; }
}

/** Measures each cell in turn against a broker already listening on spec.port; fresh connections per cell. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult[]> {
  const out: LoadResult[] = [];
  for (let i = 0; i < spec.cells.length; i++) out.push(await runCell(spec, spec.cells[i], i));
  return out;
}

async function runCell(spec: LoadSpec, cell: LoadCell, n: number): Promise<LoadResult> {
  const nPub = PUBLISHERS[cell.shape], nSub = SUBSCRIBERS[cell.shape];
  const base = 'bench/' + process.pid + '-' + n + '/';
  const topics = Array.from({ length: nPub }, (_, i) => base + (cell.shape === 'fan-in' ? 'p' + i : 'all'));
  const filter = cell.shape === 'fan-in' ? base + '+' : base + 'all';

  // received[s][p]: messages from publisher p that subscriber s got; reached[s][p]: one past the highest
  // sequence number seen. Brokers keep order per publisher and topic, so a gap is a message lost, and
  // the closed loop counts it as done: a lossy broker is charged its loss, not a window that clogs.
  const received = Array.from({ length: nSub }, () => new Float64Array(nPub));
  const reached = Array.from({ length: nSub }, () => new Float64Array(nPub));
  const sent = new Float64Array(nPub);
  let deliveries = 0, measuring = false, t0 = 0, t1 = 0;
  const samples = new Float64Array(MAX_SAMPLES);
  let nSamples = 0;

  const subs: Peer[] = [];
  for (let s = 0; s < nSub; s++) {
    const peer = await Peer.open(spec.port, 'bench-sub-' + process.pid + '-' + n + '-' + s);
    const counts = received[s], seen = reached[s];
    const ack: Packet = { cmd: 'puback', messageId: 0 };
    peer.onPublish = (p) => {
      const b = p.payload as Uint8Array;
      const pub = b[0] | (b[1] << 8) | (b[2] << 16);
      const seq = (b[4] | (b[5] << 8) | (b[6] << 16)) + b[7] * 16777216;
      counts[pub]++;
      if (seq >= seen[pub]) seen[pub] = seq + 1;
      deliveries++;
      if (measuring) {
        const sentAt = new DataView(b.buffer, b.byteOffset + 8, 8).getFloat64(0, true);
        if (sentAt >= t0 && nSamples < MAX_SAMPLES) samples[nSamples++] = performance.now() - sentAt;
      }
      if (p.qos) { (ack as { messageId: number }).messageId = p.messageId!; peer.send(ack); }
      wake();
    };
    peer.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: cell.qos }] });
    await peer.next('suback');
    subs.push(peer);
  }
  const pubs: Peer[] = [];
  for (let i = 0; i < nPub; i++) pubs.push(await Peer.open(spec.port, 'bench-pub-' + process.pid + '-' + n + '-' + i));

  const payload = new Uint8Array(PAYLOAD);
  const view = new DataView(payload.buffer);
  const packets: PublishPacket[] = topics.map((topic) => ({ cmd: 'publish', topic, payload, qos: cell.qos, messageId: 1 }));
  const publish = (i: number, n: number) => {
    const peer = pubs[i], p = packets[i];
    for (let k = 0; k < n; k++) {
      const seq = sent[i]++;
      view.setUint32(0, i, true);
      view.setUint32(4, seq >>> 0, true);
      view.setFloat64(8, performance.now(), true);
      if (cell.qos) p.messageId = (seq % 65535) + 1;
      peer.send(p);
    }
  };
  /** Delivered to every subscriber (the slowest one counts). */
  const done = (i: number) => {
    let min = Infinity;
    for (let s = 0; s < nSub; s++) if (reached[s][i] < min) min = reached[s][i];
    return min;
  };

  let running = true;
  let wakeScheduled = false;
  const perPublisher = Math.max(1, Math.floor(spec.window / nPub));
  const refill = () => {
    wakeScheduled = false;
    if (!running) return;
    for (let i = 0; i < nPub; i++) {
      const room = perPublisher - (sent[i] - done(i));
      if (room > 0 && !pubs[i].congested) publish(i, room);
    }
  };
  const wake = cell.mode === 'closed' ? () => { if (!wakeScheduled) { wakeScheduled = true; setImmediate(refill); } } : () => {};

  let started = 0;
  const tick = () => {
    if (!running) return;
    const due = Math.floor(((performance.now() - started) / 1000) * spec.rate / nPub);
    for (let i = 0; i < nPub; i++) if (due > sent[i] && !pubs[i].congested) publish(i, due - sent[i]);
    setTimeout(tick, 1);
  };

  started = performance.now();
  if (cell.mode === 'closed') refill(); else tick();
  await sleep(spec.warmMs);

  // the measured window
  const cpu0 = processCpuSeconds(spec.pid), own0 = process.cpuUsage();
  const deliveries0 = deliveries, sent0 = sum(sent);
  t0 = performance.now();
  measuring = true;
  await sleep(spec.measureMs);
  t1 = performance.now();
  measuring = false;
  const cpu1 = processCpuSeconds(spec.pid), own = process.cpuUsage(own0);
  const seconds = (t1 - t0) / 1000;
  const deliveredInWindow = deliveries - deliveries0, sentInWindow = sum(sent) - sent0;

  // drain: everything published must arrive, unless the broker dropped it
  running = false;
  const expected = sum(sent) * nSub;
  let last = -1, lastChange = performance.now();
  while (deliveries < expected && performance.now() - lastChange < 1000) {
    if (deliveries !== last) { last = deliveries; lastChange = performance.now(); }
    await sleep(20);
  }
  for (const p of [...pubs, ...subs]) p.socket.destroy();

  const lat = samples.subarray(0, nSamples).sort();
  const pct = (q: number) => (nSamples ? lat[Math.min(nSamples - 1, Math.floor(q * nSamples))] : NaN);
  return {
    delivered: deliveredInWindow / seconds,
    published: sentInWindow / seconds,
    p50: pct(0.5),
    p99: pct(0.99),
    loss: expected ? (expected - deliveries) / expected : 0,
    brokerCpu: (cpu1 - cpu0) / seconds,
    loadCpu: (own.user + own.system) / 1e6 / seconds,
  };
}

function sum(a: Float64Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += a[i];
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
