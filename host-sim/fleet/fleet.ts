// A fleet: many SimBoards (this shard's slice of the device ids), one checker subscriber, and either
// the in-process broker on virtual time and in-memory links (--virtual), or real TCP to the embedded
// broker or any broker URL. It runs for a duration, then drains (no new readings, no new faults) until
// the boards' queues are empty, and books the outcome in a Ledger for the report.
import * as v8 from 'v8';
import { Broker } from '../../broker/broker';
import { createLogger } from '../../broker/log';
import { DEFAULT_PREFIX } from '../../firmware/app/config';
import type { MqttClient } from '../../firmware/client';
import type { Platform } from '../../firmware/platform';
import { AppBoard, deviceId } from './app-board';
import { AppChecker } from './app-checker';
import { SimBoard, BoardState } from './board';
import { bundlePath, FirmwareImage, loadBundle, SparrowBundle, WebSocketBundle } from '../bundle';
import { Checker } from './checker';
import { brokerClock, VirtualClock } from '../platform/clock';
import { FaultPlan, hasFaults, noFaults } from '../platform/faults';
import { FaultyPlatform, FaultCounts } from '../platform/faulty';
import { Ledger } from './ledger';
import { PERFECT } from '../platform/links';
import { MemoryNetwork } from '../platform/memory-net';
import { OsLimitError, osLimitCode } from '../platform/os-limits';
import { boardSourceAddress } from '../platform/ports';
import { streamFor } from '../platform/rng';
import { TcpFleetOptions, TcpPlatform } from '../platform/tcp';
import { virtualPlatform } from '../platform/virtual';

export interface FleetOptions {
  devices: number;
  shard: { index: number; count: number };
  /** 'embedded' or a broker URL (mqtt://, mqtts://, ws://, wss://). */
  broker: string;
  virtual: boolean;
  /** Readings per second per board (0: none). */
  rate: number;
  qos: 0 | 1 | 2 | 'mixed';
  payloadBytes: number;
  faults: FaultPlan;
  /** Ms of (virtual or real) time to run before draining. */
  duration: number;
  seed: number;
  keepalive: number;
  queue: number;
  /** Topic prefix; readings go to `<prefix>/<id>`. */
  prefix: string;
  /** Messages per second sent to each board on `<prefix>/in/<id>` (the receive workload). */
  downRate: number;
  /** Longest drain, ms. */
  drain: number;
  /** Boards started per second (real TCP; a virtual fleet starts at once). */
  ramp: number;
  /** Spread boards over 127.1.x.y source addresses (real TCP to a loopback broker). */
  localAddresses: boolean;
  /** Embedded broker (real TCP): MQTT port and HTTP port (WebSocket and dashboard). */
  brokerPort: number;
  httpPort: number | null;
  insecureTls: boolean;
  /** User name and password every client of the fleet (boards, checker, feeder) logs in to the broker with. */
  login?: { username: string; password?: string };
  /** Where a board's console lines go (none: discarded). */
  console?: (id: number, line: string) => void;
  /** The library bundle profile the boards run (with `app`, the firmware image's profile). */
  profile: 'small' | 'full';
  /**
   * Boards run the firmware image (dist/espruino/firmware.<profile>.js) instead of the accounting loop:
   * device ids sensor-00000.., readings on `<prefix>/<id>/temperature` every 1/rate s, birth and will on
   * `<prefix>/<id>/status`; the report compares each board's acked counter with what the checker got.
   */
  app: boolean;
  /** --app: seconds between the boards' telemetry lines (0: event lines only). */
  telemetry: number;
  /** --app: Home Assistant's discovery prefix the boards announce their sensors under ('' for none). */
  discovery: string;
  /** --app: the object holding board `id`'s Storage files (shared with its console under --pty). */
  appFiles?: (id: number) => { [name: string]: string } | undefined;
}

const noLog = (): void => undefined;

/**
 * V8 heap in use: what is alive after a full collection when node runs with --expose-gc (the benchmarks
 * do), else including garbage. (Not process.memoryUsage(): it opens /proc/self/stat, which throws EMFILE
 * when the fleet holds every file the process may open.)
 */
function liveHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
  return v8.getHeapStatistics().used_heap_size;
}

/** Virtual ms between the checks of a virtual run's stop conditions. */
const VIRTUAL_STEP = 100;
/** Longest wait for the checker's subscription (the fleet's ms): a broker that does not answer by then is not there. */
const CHECKER_WAIT = 10000;

export const FLEET_DEFAULTS: FleetOptions = {
  devices: 10, shard: { index: 0, count: 1 }, broker: 'embedded', virtual: false, rate: 1, qos: 1, payloadBytes: 64,
  faults: noFaults(), duration: 60000, seed: 1, keepalive: 60, queue: 32, prefix: DEFAULT_PREFIX, downRate: 0,
  drain: 120000, ramp: 1000, localAddresses: true, brokerPort: 1883, httpPort: 8080, insecureTls: true, profile: 'full',
  app: false, telemetry: 10, discovery: '',
};

/** One moment of the fleet, for the live display. */
export interface Snapshot {
  time: number;
  boards: number;
  states: { [s in BoardState]: number };
  published: number;
  received: number;
  boardReceived: number;
  inflight: number;
  queued: number;
  reconnects: number;
  draining: boolean;
}

/** The embedded broker of a real-TCP fleet, on the options' ports, or on free ones when those are taken. */
export async function startEmbeddedBroker(o: Pick<FleetOptions, 'brokerPort' | 'httpPort'>): Promise<Broker> {
  const start = (port: number, http: number | null) => Broker.start({ port, host: '127.0.0.1', wsPort: http, sysInterval: 10, logger: createLogger('warn') });
  try {
    return await start(o.brokerPort, o.httpPort);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    return start(0, o.httpPort === null ? null : 0); // the usual ports are taken: any free ones
  }
}

export class Fleet {
  readonly o: FleetOptions;
  readonly ledger = new Ledger();
  readonly boards: SimBoard[] = [];
  readonly faultCounts: FaultCounts = { cuts: 0, halfOpens: 0, outages: 0 };
  readonly clock: VirtualClock | null;
  readonly net: MemoryNetwork | null;
  broker: Broker | null = null;
  brokerUrl = '';
  checker: Checker | null = null;
  bundle: SparrowBundle;
  /** --app: the firmware image (evaluated once), its boards and its checker. */
  image: FirmwareImage | null = null;
  readonly appBoards: AppBoard[] = [];
  appChecker: AppChecker | null = null;
  /** Time the run started (virtual ms, or performance.now()). */
  private started = 0;
  private stopRequested = false;
  /** What ended the run early: an OS limit hit by a socket (the run cannot go on, and must not hang). */
  private failure: Error | null = null;
  draining = false;
  /** Heap bytes per board, measured after the boards started. */
  heapPerBoard = 0;
  wallMs = 0;
  private feeder: MqttClient | null = null;
  /** What every board's TCP platform shares: one object and one error hook for the fleet, not one per board. */
  private readonly tcpShared: TcpFleetOptions;

  constructor(options: Partial<FleetOptions>) {
    this.o = { ...FLEET_DEFAULTS, ...options };
    this.tcpShared = {
      insecureTls: this.o.insecureTls,
      onSocketError: (e, board) => {
        const code = osLimitCode(e);
        if (code && !this.failure) this.failure = new OsLimitError(code, `${board.id < 0 ? 'the checker' : 'board ' + board.id}, ${this.boards.length + this.appBoards.length} boards started`);
      },
    };
    // SPARROW_SIM_BUNDLE runs another build of the library bundle (a saved copy, an older release)
    const library = loadBundle(process.env.SPARROW_SIM_BUNDLE || bundlePath(this.o.profile));
    // a ws:// broker: every client of the library gets the WebSocket module on its platform, as a board would
    const ws = /^wss?:/.test(this.o.broker) ? loadBundle<WebSocketBundle>(bundlePath(this.o.profile, 'sparrow-ws')) : null;
    const withWs: SparrowBundle = ws ? { ...library, create: (p) => library.create(ws.withWebSocket(p)) } : library;
    this.bundle = this.o.login ? withLogin(withWs, this.o.login) : withWs;
    if (this.o.app) {
      if (!(this.o.rate > 0)) throw new Error('--app boards sample every 1/rate seconds: the rate must be above 0');
      this.image = loadBundle<FirmwareImage>(process.env.SPARROW_SIM_FIRMWARE || bundlePath(this.o.profile, 'firmware'));
      if (typeof this.image.createApp !== 'function') throw new Error('the firmware image has no createApp export');
    }
    if (this.o.virtual) {
      this.clock = new VirtualClock();
      this.net = new MemoryNetwork(this.clock);
    } else {
      this.clock = null;
      this.net = null;
    }
  }

  /** Board ids of this shard: every count-th id from index. */
  ids(): number[] {
    const ids: number[] = [];
    for (let id = this.o.shard.index; id < this.o.devices; id += this.o.shard.count) ids.push(id);
    return ids;
  }

  now(): number {
    return this.clock ? this.clock.now() : performance.now();
  }

  /** Time stamps in readings: epoch ms in real time, so checkers on other machines can read them. */
  stamp(): number {
    return this.clock ? this.clock.now() : performance.timeOrigin + performance.now();
  }

  elapsed(): number {
    return this.now() - this.started;
  }

  /** Asks a running fleet to stop early (SIGINT): it drains briefly and reports. */
  requestStop(): void {
    this.stopRequested = true;
  }

  get stopping(): boolean {
    return this.stopRequested;
  }

  async startBroker(): Promise<void> {
    const o = this.o;
    if (o.virtual) {
      if (o.broker !== 'embedded') throw new Error('--virtual runs the in-process broker; it cannot reach ' + o.broker);
      const broker = await Broker.start({
        port: null, wsPort: null, tlsPort: null, sysInterval: 0, logger: createLogger('silent'), clock: brokerClock(this.clock!),
      });
      this.broker = broker;
      this.net!.listen('broker', 1883, (link) => broker.attach(link));
      this.brokerUrl = 'mqtt://broker:1883';
      return;
    }
    if (o.broker !== 'embedded') { this.brokerUrl = o.broker; return; }
    this.broker = await startEmbeddedBroker(o);
    this.brokerUrl = 'mqtt://127.0.0.1:' + this.broker.ports.tcp;
  }

  /** The platform of board `id` (or of the checker, id -1): virtual or real, without faults. */
  private platformFor(id: number, log: (line: string) => void): Platform {
    const o = this.o, random = streamFor(o.seed, id, 1);
    if (this.clock) {
      return virtualPlatform({
        clock: this.clock, net: this.net!, shape: id < 0 ? PERFECT : o.faults.shape, random,
        linkRandom: streamFor(o.seed, id, 2), address: 'board-' + id, log,
      });
    }
    const loopback = /^(mqtts?|wss?):\/\/(127\.|localhost)/.test(this.brokerUrl);
    // past ~28k connections from one source address the ephemeral ports run out: use many
    const localAddress = o.localAddresses && loopback && id >= 0 ? boardSourceAddress(id) : undefined;
    return new TcpPlatform(id, localAddress, random, log, this.tcpShared);
  }

  private qosOf(id: number): 0 | 1 | 2 {
    return this.o.qos === 'mixed' ? ((id % 3) as 0 | 1 | 2) : this.o.qos;
  }

  /**
   * Runs the whole fleet: broker, checker, boards, the duration, the drain. `tick` (when given: a
   * snapshot walks every board) runs about every `tickMs` of wall time.
   */
  async run(tick: ((s: Snapshot) => void) | null = null, tickMs = 1000): Promise<void> {
    try {
      await this.runAll(tick, tickMs);
    } catch (e) {
      // stop every board and the broker, so that a failed run exits instead of reconnecting for ever
      await this.shutdown().catch(() => undefined);
      throw e;
    }
  }

  private async runAll(tick: ((s: Snapshot) => void) | null, tickMs: number): Promise<void> {
    const o = this.o, wallStart = performance.now();
    await this.startBroker();
    this.started = this.now();
    const checkerId = o.prefix.replace(/\//g, '-') + '-checker-' + o.shard.index;
    try {
      await this.startChecker(checkerId);
    } catch (e) {
      await this.shutdown();
      throw e;
    }
    const heapBefore = liveHeap();
    await this.startBoards();
    if (o.downRate > 0) await this.startFeeder();
    this.heapPerBoard = (liveHeap() - heapBefore) / Math.max(1, this.boards.length + this.appBoards.length);
    const end = this.started + o.duration;
    let nextTick = performance.now() + tickMs;
    const doTick = () => {
      if (tick && performance.now() >= nextTick) { nextTick = performance.now() + tickMs; tick(this.snapshot()); }
    };
    await this.until(() => this.now() >= end, Infinity, 'the end of the run', doTick);
    this.draining = true;
    for (const b of this.boards) { b.stopPublishing(); this.stopFaults(b.o.platform); }
    for (const b of this.appBoards) { b.stopSampling(); this.stopFaults(b.o.platform); }
    if (this.feeder) this.feeder.end();
    // drain: queues empty, then a little longer for the last messages to reach the checker
    const drainEnd = this.now() + (this.stopRequested ? Math.min(o.drain, 5000) : o.drain);
    this.stopRequested = false;
    await this.until(() => this.now() >= drainEnd || this.drained(), Infinity, 'the queues to drain', doTick);
    const received = () => (this.appChecker ? this.appChecker.received : this.ledger.received);
    let quietSince = this.now(), lastReceived = received();
    await this.until(() => {
      if (received() !== lastReceived) { lastReceived = received(); quietSince = this.now(); }
      return this.now() - quietSince >= 2000 || this.now() >= drainEnd;
    }, Infinity, 'the last deliveries', doTick);
    if (tick) tick(this.snapshot());
    this.wallMs = performance.now() - wallStart;
    await this.shutdown();
  }

  /**
   * The checker subscribes first, so that it sees every reading. A broker that cannot be reached or
   * refuses it ends the run here, with its reason, in a bounded time (a stop request too: no boards ran).
   */
  private async startChecker(clientId: string): Promise<void> {
    const o = this.o;
    const checker = o.app
      ? (this.appChecker = new AppChecker(this.bundle, this.platformFor(-1, () => {}), this.brokerUrl, o.prefix, () => this.now(), clientId))
      : (this.checker = new Checker(this.bundle, this.platformFor(-1, () => {}), this.brokerUrl, o.prefix, this.ledger, () => this.stamp(), clientId));
    this.within(() => checker.start());
    let lastClose = '', refused = '';
    checker.client!.on('close', (reason: string) => { lastClose = reason; });
    checker.client!.on('error', (e: { message?: string }) => { refused = (e && e.message) || String(e); });
    const why = () => refused || lastClose || 'no answer';
    try {
      await this.until(() => checker.subscribed || !!refused || !!checker.refusal || this.stopRequested, CHECKER_WAIT, 'the checker');
    } catch {
      throw new Error(`cannot reach the broker ${this.brokerUrl} within ${CHECKER_WAIT / 1000} s: ${why()}`);
    }
    if (refused) throw new Error(`the broker ${this.brokerUrl} refused the checker: ${refused}`);
    if (checker.refusal) throw new Error(`the fleet cannot be checked at ${this.brokerUrl}: ${checker.refusal}`);
    if (!checker.subscribed) throw new Error('stopped before the fleet started: nothing to report');
  }

  /** Every board's queue is empty (app boards: as their status says now). */
  private drained(): boolean {
    if (!this.boards.every((b) => b.queued === 0)) return false;
    let ok = true;
    // a stopped board's queue stays as it is (a flashed board is stopped when the drain starts)
    if (this.appBoards.length) this.within(() => { for (const b of this.appBoards) if (b.state !== 'stopped' && b.poll() && b.pending) { ok = false; break; } });
    return ok;
  }

  private stopFaults(p: FaultyPlatform): void {
    const c = p.counts;
    p.stop();
    this.faultCounts.cuts += c.cuts;
    this.faultCounts.halfOpens += c.halfOpens;
    this.faultCounts.outages += c.outages;
  }

  private async startBoards(): Promise<void> {
    const o = this.o;
    const ids = this.ids();
    const interval = o.rate > 0 ? 1000 / o.rate : 0;
    const faulty = hasFaults(o.faults);
    let started = 0;
    const stamp = () => this.stamp();
    const startOne = (id: number) => {
      const log = o.console ? (line: string) => o.console!(id, line) : noLog;
      const platform = new FaultyPlatform(this.platformFor(id, log));
      if (this.image) {
        const config = { id: deviceId(id), broker: this.brokerUrl, interval: interval / 1000, telemetry: o.telemetry, prefix: o.prefix, discovery: o.discovery, ...o.login };
        const files = o.appFiles ? o.appFiles(id) : undefined;
        const follow = (prefix: string, then: () => void) => this.appChecker!.follow(prefix, then);
        const board = new AppBoard({ id, image: this.image, platform, config, seed: o.seed, console: log, files, follow });
        this.appBoards.push(board);
        board.start();
        if (faulty) platform.start(o.faults, streamFor(o.seed, id, 3));
        return;
      }
      this.ledger.addDevice(id, this.qosOf(id));
      const board = new SimBoard({
        id, bundle: this.bundle, platform, url: this.brokerUrl, qos: this.qosOf(id), interval, payloadBytes: o.payloadBytes,
        prefix: o.prefix, ledger: this.ledger, keepalive: o.keepalive, queue: o.queue, stamp,
        inbox: o.downRate > 0 ? o.prefix + '/in/' + id : undefined,
      });
      this.boards.push(board);
      board.start();
      if (faulty) platform.start(o.faults, streamFor(o.seed, id, 3));
    };
    if (this.clock) {
      this.clock.run(() => { for (const id of ids) startOne(id); });
      return;
    }
    // real sockets: a ramp, so the broker's accept queue is not flooded by a SYN storm
    const t0 = performance.now();
    while (started < ids.length && !this.stopRequested) {
      if (this.failure) throw this.failure;
      const due = Math.min(ids.length, Math.ceil(((performance.now() - t0) / 1000) * o.ramp) + 1);
      while (started < due) startOne(ids[started++]);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The receive workload: one client sends each board `downRate` messages a second, round robin. */
  private async startFeeder(): Promise<void> {
    const o = this.o;
    const feeder = this.bundle.create(this.platformFor(-2, () => {})).connect(this.brokerUrl, {
      clientId: o.prefix.replace(/\//g, '-') + '-feeder-' + o.shard.index, keepalive: 0, reconnectPeriod: 500,
    });
    this.feeder = feeder;
    const ids = this.ids();
    // one send per board per period, spread evenly over it, on the fleet's own clock
    const period = 1000 / o.downRate, step = period / ids.length;
    const plat = this.clock ? { setTimeout: (f: () => void, ms: number) => this.clock!.setTimeout(f, ms) } : { setTimeout: (f: () => void, ms: number) => setTimeout(f, ms) };
    let k = 0, batchAt = this.now();
    const batch = Math.max(1, Math.ceil(ids.length / 1000)); // sends per timer, so 100k boards need 1000 timers per period, not 100k
    const send = () => {
      if (this.draining) return;
      for (let j = 0; j < batch; j++) {
        feeder.publish(o.prefix + '/in/' + ids[k], 'x', { qos: 0 });
        k = (k + 1) % ids.length;
      }
      batchAt += step * batch;
      plat.setTimeout(send, Math.max(0, batchAt - this.now()));
    };
    await this.until(() => feeder.connected, 30000, 'the feeder to connect');
    this.within(() => send());
  }

  /** Runs `fn` in the fleet's world: when virtual, on the clock, with the work it deferred done before it returns. */
  private within<T>(fn: () => T): T {
    return this.clock ? this.clock.run(fn) : fn();
  }

  /**
   * Lets the fleet live until `done()`, a stop request, or `limit` ms of its time. Virtual: advances the
   * clock in fixed steps of virtual time and checks `done()` after each, so where a run stops never
   * depends on the speed of the machine; it yields to the event loop (SIGINT, the display) every 50 ms
   * of wall time. Real: polls every 10 ms.
   */
  private async until(done: () => boolean, limit: number, what: string, each: () => void = () => {}): Promise<void> {
    const deadline = this.now() + limit;
    let yielded = performance.now();
    while (!done()) {
      if (this.failure) throw this.failure;
      if (this.stopRequested && !this.draining) return;
      if (this.now() >= deadline) throw new Error('timed out waiting for ' + what);
      if (this.clock) {
        this.clock.runUntil(Math.min(deadline, this.clock.now() + VIRTUAL_STEP));
        each();
        if (performance.now() - yielded < 50) continue;
        await new Promise((r) => setImmediate(r));
        yielded = performance.now();
      } else {
        await new Promise((r) => setTimeout(r, 10));
        each();
      }
    }
  }

  snapshot(): Snapshot {
    const states = { connected: 0, connecting: 0, backoff: 0, stopped: 0 };
    let inflight = 0, queued = 0, reconnects = 0, boardReceived = 0;
    if (this.appBoards.length || this.appChecker) {
      let sent = 0;
      this.within(() => {
        for (const b of this.appBoards) {
          const s = b.poll();
          states[b.state]++;
          if (!s) continue;
          inflight += s.inflight;
          queued += s.queued;
          reconnects += s.reconnects;
          const c = b.counters();
          sent += c.sent;
          boardReceived += c.received;
        }
      });
      return {
        time: this.elapsed(), boards: this.appBoards.length, states, published: sent, received: this.appChecker ? this.appChecker.received : 0, boardReceived,
        inflight, queued, reconnects, draining: this.draining,
      };
    }
    for (const b of this.boards) {
      states[b.state]++;
      inflight += b.inflight;
      queued += b.queued;
      boardReceived += b.received;
      if (b.client) reconnects += b.client.reconnects;
    }
    return {
      time: this.elapsed(), boards: this.boards.length, states, published: this.ledger.published, received: this.ledger.received, boardReceived,
      inflight, queued, reconnects, draining: this.draining,
    };
  }

  private async shutdown(): Promise<void> {
    this.within(() => {
      for (const b of this.boards) b.stop();
      for (const b of this.appBoards) b.stop();
      if (this.checker) this.checker.stop();
      if (this.appChecker) this.appChecker.stop();
    });
    const broker = this.broker;
    if (broker) await this.within(() => broker.close());
  }
}

/** The bundle with every client it makes logging in with `login` (a broker that wants a password). */
function withLogin(bundle: SparrowBundle, login: { username: string; password?: string }): SparrowBundle {
  return { ...bundle, create: (p) => {
    const factory = bundle.create(p);
    return { connect: (url, options) => factory.connect(url, { ...options, ...login }) };
  } };
}
