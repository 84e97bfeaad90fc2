// One measured run of one wire configuration: a server process, a clients process and a capture, driven
// through four phases separated by quiet gaps, so that every captured segment falls in exactly one:
//
//   setup      TCP handshakes, WebSocket upgrades, CONNECT/CONNACK, SUBSCRIBE/SUBACK
//   readings   `seconds` readings delivered to every client (polls, pushes, acks, TCP ACKs)
//   keepalive  one keep-alive probe per client (PINGREQ/PINGRESP, WebSocket ping/pong), where one is needed
//   teardown   DISCONNECT / close frames / FIN exchange
//
// Server and clients live in separate processes (each end of 10,000 connections then stays under a
// 20,000 file-descriptor limit, and the two ends do not share a core's event loop), started as children
// of the bench (suite.ts's mechanism) and driven by IPC messages. Clients connect from addresses in
// 127.0.0.0/8 of their own per run (2,500 clients per source address), the sensor publishing to the
// broker from 127.0.0.2, which the capture filter excludes: its one PUBLISH a second is not a client's cost.
import { fork, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CHILD_ENV } from './suite';
import { Capture, CaptureStats, kernelCounts, kernelDelta, KernelCounts, readPcap, Segment, TCP_ACK, TCP_SYN } from './wire-pcap';
import { CONFIGS, openClient, spread, startServer, WireClient, WireConfig } from './wire-peers';

export const PHASES = ['setup', 'readings', 'keepalive', 'teardown'] as const;
export type Phase = typeof PHASES[number];

export interface Count { packets: number; ip: number; payload: number }
export interface PhaseCount { up: Count; down: Count; /** TCP three-way handshakes (SYN, SYN-ACK, ACK) */ handshake: Count }

export interface RunResult {
  config: string;
  clients: number;
  connected: number;
  seconds: number;
  /** Readings received, summed over clients (a reading counts once per client). */
  delivered: number;
  /** Responses / messages received, stale poll answers included. */
  messages: number;
  phases: { [p in Phase]: PhaseCount };
  method: 'capture' | 'kernel';
  capture?: CaptureStats;
  /** Kernel counters over the readings phase, client ends of the connections (cross-check). */
  kernel: KernelCounts;
  wallSeconds: number;
}

/** Where every server of the bench listens; clients come from other addresses in 127.0.0.0/8. */
export const SERVER_ADDRESS = '127.0.0.1';
const QUIET_MS = 1500; // longer than Linux's largest delayed-ACK timeout (200 ms), with margin
const CONNECT_CONCURRENCY = 50;
const PER_SOURCE_ADDRESS = 2500;

const zero = (): Count => ({ packets: 0, ip: 0, payload: 0 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------
// Parent side

class Child {
  private proc: ChildProcess;
  private waiters: { event: string; resolve: (v: any) => void }[] = [];
  private failed: Error | null = null;
  readonly done: Promise<any>;

  constructor(spec: unknown) {
    this.proc = fork(process.argv[1], process.argv.slice(2), {
      env: { ...process.env, [CHILD_ENV]: JSON.stringify({ suite: 'wire', spec }) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let final: any;
    this.proc.on('message', (m: any) => {
      if (m && m.wire) {
        const i = this.waiters.findIndex((w) => w.event === m.wire);
        if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m.data);
      } else final = m;
    });
    this.done = new Promise((resolve, reject) => this.proc.on('exit', (code) => {
      this.failed = new Error('wire child ' + JSON.stringify(spec) + ' failed: ' + (final && !final.ok ? final.error : 'exit code ' + code));
      if (final && final.ok) resolve(final.value); else reject(this.failed);
    }));
    this.done.catch(() => { /* reported by whoever awaits */ });
  }

  /** Sends a command and waits for the child's answer event of the same name. */
  ask<T = any>(cmd: string, data?: unknown, ms = 600_000): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('wire child: no answer to ' + cmd)), ms);
      this.waiters.push({ event: cmd, resolve: (v) => { clearTimeout(t); resolve(v); } });
      this.done.catch((e) => { clearTimeout(t); reject(e); });
      this.proc.send({ cmd, data });
    });
  }

  kill(): void { this.proc.kill(); }
}

export interface RunOptions { config: WireConfig; clients: number; seconds: number; runIndex: number; dir?: string; log(m: string): void; useCapture: boolean }

export async function measure(o: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const server = new Child({ role: 'server', config: o.config.id });
  let clients: Child | null = null;
  let capture: Capture | null = null;
  try {
    const { port } = await server.ask<{ port: number }>('start');
    const file = path.join(o.dir || os.tmpdir(), 'sparrow-wire-' + o.config.id + '-' + o.clients + '-' + process.pid + '.pcap');
    if (o.useCapture) capture = await Capture.start(file, 'tcp port ' + port + ' and not host 127.0.0.2');
    clients = new Child({ role: 'clients', config: o.config.id, clients: o.clients, port, block: 20 + (o.runIndex % 200) });
    const { connected } = await clients.ask<{ connected: number }>('open');
    o.log(o.config.id + ': ' + connected + '/' + o.clients + ' clients set up in ' + ((Date.now() - started) / 1000).toFixed(1) + ' s');
    await sleep(QUIET_MS);
    const block = '127.' + (20 + (o.runIndex % 200)) + '.0.0/16';
    const k1 = await kernelCounts(port, block);
    const t1 = Date.now();
    // readings k = 0..seconds-1 at t1 + 500 + k s; polls at t1 + 600..1400 + k s (so poll k sees reading k)
    await Promise.all([clients.ask('start', { count: o.seconds }), server.ask('publish', { count: o.seconds, delayMs: 500 })]);
    await sleep(o.seconds * 1000 + 500 - (Date.now() - t1));
    // a loaded machine delivers late: wait until every reading has arrived, or nothing more arrives for 2 s
    let delivered = -1;
    for (let still = 0, expected = connected * o.seconds; still < 4;) {
      const now = (await clients.ask<{ delivered: number }>('count')).delivered;
      if (now >= expected) break;
      still = now === delivered ? still + 1 : 0;
      delivered = now;
      await sleep(500);
    }
    await sleep(QUIET_MS);
    const k2 = await kernelCounts(port, block);
    const t2 = Date.now();
    const counted = await clients.ask<{ delivered: number; messages: number }>('count');
    delivered = counted.delivered;
    if (o.config.keepalive.by === 'client') await clients.ask('ping');
    if (o.config.keepalive.by === 'server') await server.ask('ping');
    await sleep(1000 + QUIET_MS);
    const t3 = Date.now();
    await clients.ask('close');
    await sleep(1000 + QUIET_MS);
    const stats = capture ? await capture.stop() : undefined;
    capture = null;
    await Promise.all([clients.ask('exit'), server.ask('exit')]);
    await Promise.all([clients.done, server.done]);
    const kernel = kernelDelta(k1, k2);
    const phases = o.useCapture ? countPhases(readPcap(file), port, [t1 * 1000, t2 * 1000, t3 * 1000]) : kernelPhases(kernel);
    if (o.useCapture) fs.unlinkSync(file);
    return {
      config: o.config.id, clients: o.clients, connected, seconds: o.seconds, delivered, messages: counted.messages, phases, method: o.useCapture ? 'capture' : 'kernel',
      capture: stats, kernel, wallSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    if (capture) await capture.stop().catch(() => undefined);
    clients?.kill();
    server.kill();
  }
}

/** Sorts captured segments into phases by time, and into directions by the server's port. */
export function countPhases(segments: Segment[], serverPort: number, bounds: number[]): { [p in Phase]: PhaseCount } {
  const out = {} as { [p in Phase]: PhaseCount };
  for (const p of PHASES) out[p] = { up: zero(), down: zero(), handshake: zero() };
  // the third segment of a handshake: the client's first segment after the SYN-ACK, when it is a pure ACK
  const synAcked = new Set<string>();
  for (const s of segments) {
    let i = 0;
    while (i < bounds.length && s.t >= bounds[i]) i++;
    const ph = out[PHASES[i]];
    // by the server's end, not the port alone: a client on another 127.x address may get the server's port number as its own
    const up = !(s.src === SERVER_ADDRESS && s.sport === serverPort);
    const c = up ? ph.up : ph.down;
    c.packets++; c.ip += s.ip; c.payload += s.payload;
    const key = up ? s.src + ':' + s.sport : s.dst + ':' + s.dport;
    let hs = false;
    if (s.flags & TCP_SYN) { hs = true; if (!up) synAcked.add(key); }
    else if (up && synAcked.has(key)) { synAcked.delete(key); hs = s.payload === 0 && (s.flags & TCP_ACK) !== 0; }
    if (hs) { ph.handshake.packets++; ph.handshake.ip += s.ip; ph.handshake.payload += s.payload; }
  }
  return out;
}

/** Without a capture: the readings phase from kernel counters, headers estimated (52 B: IPv4 20 + TCP 20 + timestamps 12). */
function kernelPhases(k: KernelCounts): { [p in Phase]: PhaseCount } {
  const out = {} as { [p in Phase]: PhaseCount };
  for (const p of PHASES) out[p] = { up: zero(), down: zero(), handshake: zero() };
  out.readings.up = { packets: k.segsOut, payload: k.bytesSent, ip: k.bytesSent + 52 * k.segsOut };
  out.readings.down = { packets: k.segsIn, payload: k.bytesReceived, ip: k.bytesReceived + 52 * k.segsIn };
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Child side

function answer(event: string, data?: unknown): void { process.send!({ wire: event, data }); }

function commands(handlers: { [cmd: string]: (data: any) => unknown | Promise<unknown> }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    process.on('message', async (m: any) => {
      if (!m || !m.cmd) return;
      try {
        const data = await handlers[m.cmd](m.data);
        answer(m.cmd, data);
        if (m.cmd === 'exit') {
          resolve(data);
          // closed sockets and ws timers may linger; the result has been sent by then
          setTimeout(() => process.exit(0), 1000).unref();
        }
      } catch (e) { reject(e); }
    });
  });
}

export async function child(spec: { role: 'server' | 'clients'; config: string; clients?: number; port?: number; block?: number }): Promise<unknown> {
  const config = CONFIGS.find((c) => c.id === spec.config);
  if (!config) throw new Error('unknown wire configuration ' + spec.config);
  if (spec.role === 'server') {
    let server: Awaited<ReturnType<typeof startServer>>;
    return commands({
      start: async () => { server = await startServer(config); return { port: server.port }; },
      publish: ({ count, delayMs }) => {
        const t0 = Date.now() + delayMs;
        server.schedule(t0, count);
        for (let k = 0; k < count; k++) setTimeout(() => server.publish(k), t0 + k * 1000 - Date.now());
      },
      ping: () => server.ping(1000),
      exit: () => server.close(),
    });
  }
  const n = spec.clients!, list: WireClient[] = [];
  return commands({
    open: async () => {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < n; i = next++) {
          const localAddress = '127.' + spec.block + '.0.' + (1 + Math.floor(i / PER_SOURCE_ADDRESS));
          try { list.push(await openClient(config, { port: spec.port!, localAddress }, i)); } catch { /* reported as not connected */ }
        }
      };
      await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
      return { connected: list.length };
    },
    start: ({ count }) => {
      if (config.transport === 'http-long') spread(list, 400, (c) => c.start(count, 0));
      else list.forEach((c, i) => c.start(count, 600 + Math.floor((i * 800) / list.length)));
    },
    count: () => ({ delivered: list.reduce((s, c) => s + c.delivered, 0), messages: list.reduce((s, c) => s + c.messages, 0) }),
    ping: () => spread(list, 1000, (c) => c.ping()),
    close: () => spread(list, 1000, (c) => c.close()),
    exit: () => ({}),
  });
}
