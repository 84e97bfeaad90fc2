// The broker on an injected clock (BrokerOptions.clock): every timer and time stamp follows that clock,
// and nothing in broker/ reads Node's timers or Date.now() behind its back. Driven on the
// simulator's VirtualClock through an in-memory link the test plays as the client, so no real time passes.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { KEEP_ALIVE_TIMEOUT } from '../firmware/mqtt';
import type { Packet } from '../firmware/mqtt';
import { Broker } from '../broker/broker';
import { nodeClock, nodeTimers } from '../broker/clock';
import { createLogger } from '../broker/log';
import type { BrokerOptions } from '../broker/options';
import { brokerClock, VirtualClock, VIRTUAL_EPOCH } from '../host-sim/platform/clock';
import { ClientEnd } from './support/memory-link';

const quietLog = () => createLogger('silent');

/** A broker on virtual time (no listeners), and a way to open links to it. */
function virtualBroker(options: Partial<BrokerOptions> = {}) {
  const clock = new VirtualClock();
  const broker = new Broker({ port: null, sysInterval: 0, logger: quietLog(), clock: brokerClock(clock), ...options });
  const connect = (p?: Packet): ClientEnd => {
    const end = new ClientEnd((fn) => clock.run(fn));
    clock.run(() => broker.attach(end));
    if (p) end.send(p);
    return end;
  };
  return { clock, broker, connect, at: (ms: number) => clock.runUntil(ms) };
}

const CONNECT = (clientId: string, extra: Partial<Packet> = {}): Packet =>
  ({ cmd: 'connect', protocolVersion: 5, clientId, clean: true, keepalive: 0, ...extra } as Packet);

/**
 * Runs `fn` with Node's timers, Date.now() and performance.now() watched (they still work), and fails
 * if code in broker/ called one directly: on an injected clock it must not.
 */
async function brokerTouchesNoGlobals(fn: () => void | Promise<void>): Promise<void> {
  const g = globalThis as any;
  const names = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'queueMicrotask'];
  const saved = names.map((n) => g[n]);
  const savedNow = Date.now, savedPerfNow = performance.now, savedTick = process.nextTick, savedLimit = Error.stackTraceLimit;
  const calls: string[] = [];
  const watch = <F extends (...a: any[]) => any>(name: string, f: F, self: unknown): F => (function (...args: any[]) {
    const stack = new Error().stack || '';
    // Node's clock (broker/clock.ts) may use them: that is a real broker elsewhere in the process
    if (/[\\/]broker[\\/]/.test(stack) && !/broker[\\/]clock\.ts/.test(stack)) calls.push(name + stack.split('\n').slice(2, 4).join(''));
    return f.apply(self, args);
  }) as F;
  Error.stackTraceLimit = 50;
  names.forEach((n, i) => { g[n] = watch(n, saved[i], g); });
  Date.now = watch('Date.now', savedNow, Date);
  performance.now = watch('performance.now', savedPerfNow, performance);
  process.nextTick = watch('process.nextTick', savedTick, process);
  try {
    await fn();
  } finally {
    names.forEach((n, i) => { g[n] = saved[i]; });
    Date.now = savedNow;
    performance.now = savedPerfNow;
    process.nextTick = savedTick;
    Error.stackTraceLimit = savedLimit;
  }
  assert.deepEqual(calls, [], 'the broker read Node\'s clock or timers');
}

/** Resolves when `end` is ended, rejects after `ms` of real time. */
function ended(end: ClientEnd, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (end.ended) { resolve(); return; }
    const t = setTimeout(() => reject(new Error(what + ' did not happen within ' + ms + ' ms')), ms);
    end.onEnd = () => { clearTimeout(t); resolve(); };
  });
}

describe('broker: time from an injected clock', () => {
  it('keepalive cuts a silent client at 1.5x its keepalive of virtual time, then the will goes after its delay', () => brokerTouchesNoGlobals(() => {
    const { connect, at } = virtualBroker();
    const watcher = connect(CONNECT('watcher'));
    watcher.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'status/#', qos: 0 }] } as Packet);
    const silent = connect(CONNECT('silent', {
      keepalive: 10, properties: { sessionExpiryInterval: 300 },
      will: { topic: 'status/silent', payload: 'gone', qos: 0, properties: { willDelayInterval: 30 } },
    } as Partial<Packet>));
    at(14999);
    assert.ok(!silent.ended, 'still within 1.5 x keepalive');
    at(15000);
    assert.ok(silent.ended, 'cut at 15 s of virtual time');
    const d = silent.received.find((p) => p.cmd === 'disconnect');
    assert.equal(d && d.reasonCode, KEEP_ALIVE_TIMEOUT);
    at(15000 + 29999);
    assert.equal(watcher.publishes().length, 0, 'the will waits for its delay');
    at(15000 + 30000);
    assert.deepEqual(watcher.publishes().map((p) => p.topic), ['status/silent']);
  }));

  it('message and session expiry count virtual time, and so does $SYS uptime, from the virtual epoch', () => brokerTouchesNoGlobals(async () => {
    const { clock, broker, connect, at } = virtualBroker();
    const pub = connect(CONNECT('pub'));
    pub.send({ cmd: 'publish', topic: 'a/b', payload: 'x', qos: 0, retain: true, properties: { messageExpiryInterval: 60 } } as Packet);
    const napper = connect(CONNECT('napper', { properties: { sessionExpiryInterval: 120 } } as Partial<Packet>));
    at(1000);
    napper.send({ cmd: 'disconnect', reasonCode: 0 } as Packet);
    at(59999);
    const early = connect(CONNECT('early'));
    early.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#', qos: 0 }] } as Packet);
    assert.deepEqual(early.publishes().map((p) => [p.topic, p.properties.messageExpiryInterval]), [['a/b', 1]], 'retained, with 1 s left');
    at(60000);
    const late = connect(CONNECT('late'));
    late.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#', qos: 0 }] } as Packet);
    assert.equal(late.publishes().length, 0, 'expired after 60 s of virtual time');
    assert.ok(broker.sessions.has('napper'));
    at(1000 + 120000);
    assert.ok(!broker.sessions.has('napper'), 'the session expired 120 s after its client left');
    const uptime = broker.stats.snapshot({ clients: 0, sessions: 0, subscriptions: 0, retained: 0, queuedBytes: 0, version: '' }).find(([t]) => t === '$SYS/broker/uptime');
    assert.deepEqual(uptime, ['$SYS/broker/uptime', '121 seconds']);
    assert.equal(broker.clock.now(), VIRTUAL_EPOCH + 121000);
    await clock.run(() => broker.close());
  }));

  it('real time alone fires nothing: a real-clock broker gives up on CONNECT, the virtual one waits for its clock', async () => {
    const real = new Broker({ port: null, sysInterval: 0, logger: quietLog(), connectTimeout: 20 });
    const { broker, connect, at } = virtualBroker({ connectTimeout: 20 });
    const realEnd = new ClientEnd();
    real.attach(realEnd);
    const virtualEnd = connect();
    try {
      await ended(realEnd, 5000, 'the real-clock broker\'s connect timeout');
      assert.ok(!virtualEnd.ended, 'more than 20 ms of real time passed, none of virtual time');
      at(20);
      assert.ok(virtualEnd.ended, 'closed once the virtual clock reached 20 ms');
    } finally {
      await real.close();
      await broker.close();
    }
  });

  it('no code in broker/ but clock.ts names Node\'s timers or Date.now() (the browser dashboard aside)', () => {
    const root = path.join(__dirname, '../broker');
    const files = fs.readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.startsWith('dashboard') && f !== 'clock.ts');
    assert.ok(files.includes('connection.ts'));
    const global = /(?<![.\w])(setTimeout|clearTimeout|setInterval|clearInterval|setImmediate|queueMicrotask)\s*\(|\b(Date\.now|performance\.now|process\.nextTick|process\.hrtime)\b|new Date\(\s*\)/;
    const found = files.flatMap((f) => fs.readFileSync(path.join(root, f), 'utf8').split('\n')
      .map((line, i) => ({ at: `${f}:${i + 1}`, code: line.replace(/\/\/.*$|\/\*.*?\*\//g, '') }))
      .filter((l) => global.test(l.code)).map((l) => l.at));
    assert.deepEqual(found, []);
  });
});

/** The longest Session Expiry Interval that still expires (0xFFFFFFFF means never), in seconds. */
const LONGEST_EXPIRY = 0xfffffffe;
/** Just past what Node's setTimeout can wait (2^31-1 ms), in whole seconds. */
const PAST_NODE_LIMIT = Math.ceil(0x80000000 / 1000);

/** Resolves after a real `ms`: a later timer of Node's own, so a timer due first has had its turn. */
const after = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('broker: keepalive', () => {
  it('MQTT-3.1.2-24: keepalive counts whole packets; a 1-byte-a-second trickle of an unfinished one does not keep a 2 s connection open', () => {
    const { connect, at } = virtualBroker();
    const c = connect(CONNECT('trickle', { keepalive: 2 }));
    c.send({ cmd: 'pingreq' } as Packet); // a whole packet at 0 s
    // a PUBLISH announcing 100 bytes, sent a byte a second: never complete
    const unfinished = new Uint8Array([0x30, 100, 0, 1, 0x61, ...new Array(95).fill(0x78)]);
    for (let i = 0; i < 10 && !c.ended; i++) {
      at(i * 1000);
      c.sendBytes(unfinished.subarray(i, i + 1));
    }
    assert.ok(c.ended, 'cut by keepalive');
    const d = c.received.find((p) => p.cmd === 'disconnect');
    assert.equal(d && d.reasonCode, KEEP_ALIVE_TIMEOUT);
    assert.ok(c.received.some((p) => p.cmd === 'pingresp'));
  });
});

describe('broker: long timers (up to 2^32-1 s)', () => {
  it('Node\'s clock waits out a delay over 2^31-1 ms instead of firing at once', async () => {
    let fired = 0;
    const t1 = nodeClock.setTimeout(() => fired++, 0x80000000);
    const t2 = nodeClock.setTimeout(() => fired++, 0xfffffffe * 1000);
    await after(30);
    nodeClock.clearTimeout(t1);
    nodeClock.clearTimeout(t2);
    assert.equal(fired, 0);
  });

  it('a delay longer than one step is waited in steps, to its deadline, and can be cleared in any step', async () => {
    const timers = nodeTimers(10);
    const started = Date.now();
    const at = await new Promise<number>((r) => timers.setTimeout(() => r(Date.now()), 45));
    assert.ok(at - started >= 45, `fired after ${at - started} ms`);
    let fired = false;
    const t = timers.setTimeout(() => { fired = true; }, 40);
    await after(25); // two steps in
    timers.clearTimeout(t);
    await after(40);
    assert.equal(fired, false);
  });

  it('a real-clock broker keeps a session whose expiry is over 24.8 days', async () => {
    const broker = new Broker({ port: null, sysInterval: 0, logger: quietLog() });
    const end = new ClientEnd();
    broker.attach(end);
    end.send(CONNECT('month', { properties: { sessionExpiryInterval: PAST_NODE_LIMIT } } as Partial<Packet>));
    end.send({ cmd: 'disconnect', reasonCode: 0 } as Packet);
    await after(30);
    assert.ok(broker.sessions.has('month'), 'the session ended at once');
    await broker.close();
  });

  it('session expiry, will delay and message expiry at 2^31 ms and 2^32-2 s of virtual time, to the millisecond', () => brokerTouchesNoGlobals(async () => {
    const { clock, broker, connect, at } = virtualBroker();
    const watcher = connect(CONNECT('watcher', { properties: { sessionExpiryInterval: 0xffffffff } } as Partial<Packet>));
    watcher.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'w/#', qos: 0 }] } as Packet);
    const will = (topic: string, delay: number) => ({ topic, payload: 'gone', qos: 0, properties: { willDelayInterval: delay } });
    const short = connect(CONNECT('short', { properties: { sessionExpiryInterval: LONGEST_EXPIRY }, will: will('w/short', PAST_NODE_LIMIT) } as Partial<Packet>));
    const long = connect(CONNECT('long', { properties: { sessionExpiryInterval: LONGEST_EXPIRY }, will: will('w/long', LONGEST_EXPIRY) } as Partial<Packet>));
    const pub = connect(CONNECT('pub'));
    pub.send({ cmd: 'publish', topic: 'r/x', payload: 'kept', qos: 0, retain: true, properties: { messageExpiryInterval: LONGEST_EXPIRY } } as Packet);
    short.send({ cmd: 'disconnect', reasonCode: 0x04 } as Packet);
    long.send({ cmd: 'disconnect', reasonCode: 0x04 } as Packet);
    at(PAST_NODE_LIMIT * 1000 - 1);
    assert.equal(watcher.publishes().length, 0);
    at(PAST_NODE_LIMIT * 1000);
    assert.deepEqual(watcher.publishes().map((p) => p.topic), ['w/short'], 'the will after 2^31 ms');
    at(LONGEST_EXPIRY * 1000 - 1);
    assert.ok(broker.sessions.has('short') && broker.sessions.has('long'));
    const reader = connect(CONNECT('reader'));
    reader.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'r/#', qos: 0 }] } as Packet);
    assert.deepEqual(reader.publishes().map((p) => p.properties.messageExpiryInterval), [1], 'retained with 1 s left');
    at(LONGEST_EXPIRY * 1000);
    assert.ok(!broker.sessions.has('short') && !broker.sessions.has('long'), 'both sessions expired');
    assert.deepEqual(watcher.publishes().map((p) => p.topic), ['w/short', 'w/long'], 'the session end sends the waiting will');
    const late = connect(CONNECT('late'));
    late.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'r/#', qos: 0 }] } as Packet);
    assert.equal(late.publishes().length, 0, 'the retained message expired');
    assert.ok(broker.sessions.has('watcher'), '0xFFFFFFFF never expires');
    await clock.run(() => broker.close());
  }));
});
