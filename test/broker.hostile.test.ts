// Hostile and broken input: each bad connection is closed with the right reason and one log line, the
// broker keeps running and other clients do not notice. Ends with a small network fuzz and back-pressure.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { encodePacket } from '../firmware/mqtt';
import { Cleanup, client, inbox, RawClient, startBroker, subscribe, type TestBroker } from './support/broker';
import { until } from './support/wait';
import type { Connection } from '../broker/connection';

describe('broker: hostile input', () => {
  let tb: TestBroker;
  const cleanup = new Cleanup();
  beforeEach(async () => { tb = await startBroker({ connectTimeout: 300, maxSubscriptions: 500 }); });
  afterEach(async () => { await cleanup.run(); await tb.broker.close(); });

  /** A bystander that must keep working while others misbehave. */
  async function bystander() {
    const c = await client(tb.url, { clientId: 'bystander', protocolVersion: 5 }, cleanup);
    const box = inbox(c);
    await subscribe(c, 'ok/#', { qos: 1 });
    return async () => {
      const n = box.list.length;
      await c.publishAsync('ok/still', 'alive', { qos: 1 });
      await box.next(n + 1);
    };
  }

  const linesAbout = (r: RawClient) => tb.logs.filter((l) => l.includes(':' + r.localPort + ':') && !l.includes(' DEBUG '));

  it('garbage bytes before CONNECT: closed, one log line, others unaffected', async () => {
    const check = await bystander();
    const r = await RawClient.connectSocket(tb.port, 4, cleanup);
    r.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await r.waitClosed();
    assert.equal(linesAbout(r).length, 1, linesAbout(r).join('\n'));
    await check();
  });

  it('garbage after CONNECT (MQTT 5): DISCONNECT with the decoder\'s reason code', async () => {
    const check = await bystander();
    const r = await RawClient.open(tb.port, { clientId: 'junk' }, 5, cleanup);
    r.write(Buffer.from([0x00, 0x00])); // packet type 0 is reserved: malformed
    const d: any = await r.next('disconnect');
    assert.equal(d.reasonCode, 0x81);
    await r.waitClosed();
    await check();
  });

  it('a 4-byte remaining length announcing 256 MB is refused at once (0x95), nothing is buffered', async () => {
    const check = await bystander();
    const r = await RawClient.open(tb.port, { clientId: 'huge' }, 5, cleanup);
    r.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f, 0, 1, 116]));
    const d: any = await r.next('disconnect');
    assert.equal(d.reasonCode, 0x95);
    await r.waitClosed();
    const r4 = await RawClient.connectSocket(tb.port, 4, cleanup);
    r4.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    await r4.waitClosed();
    assert.equal(linesAbout(r4).length, 1);
    await check();
  });

  it('a 5-byte remaining length is malformed (MQTT-1.5.5-1)', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'five' }, 5, cleanup);
    r.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    assert.equal(((await r.next('disconnect')) as any).reasonCode, 0x81);
  });

  it('slowloris: connections that do not finish CONNECT within the connect timeout are closed', async () => {
    const check = await bystander();
    const slow = await Promise.all(Array.from({ length: 20 }, () => RawClient.connectSocket(tb.port, 4, cleanup)));
    const connect = encodePacket({ cmd: 'connect', clientId: 'slow' });
    for (const r of slow) r.write(connect.subarray(0, 5)); // a start, then nothing
    const t0 = Date.now();
    await Promise.all(slow.map((r) => r.waitClosed(3000)));
    assert.ok(Date.now() - t0 < 2000);
    await check();
    assert.equal(tb.broker.connections.size, 1);
  });

  it('a flood of subscriptions: over the per-client limit is refused, the broker stays responsive', async () => {
    const check = await bystander();
    const r = await RawClient.open(tb.port, { clientId: 'flood' }, 5, cleanup);
    for (let k = 0; k < 20; k++) {
      r.send({ cmd: 'subscribe', messageId: k + 1, subscriptions: Array.from({ length: 50 }, (_, i) => ({ topic: `f/${k}/${i}/+`, qos: 1 as const })) });
    }
    const acks: any[] = [];
    for (let k = 0; k < 20; k++) acks.push(await r.next('suback'));
    const granted = acks.flatMap((a) => a.granted);
    assert.equal(granted.filter((g: number) => g === 1).length, 500);
    assert.equal(granted.filter((g: number) => g === 0x97).length, 500);
    await check();
    r.destroy();
    await until(() => tb.broker.tree.size === 1, 'flood subscriptions gone with the session');
  });

  it('many connections with garbage at once do not disturb a client', async () => {
    const check = await bystander();
    const bad = await Promise.all(Array.from({ length: 50 }, () => RawClient.connectSocket(tb.port, 4, cleanup)));
    bad.forEach((r, i) => r.write(Buffer.from([0x10 + (i % 16) * 16, i, 0xff, 0, i])));
    await Promise.all(bad.map((r) => r.waitClosed(3000)));
    await check();
  });

  it('network fuzz: random and mutated packets close only their own connection', async function () {
    this.timeout(30000);
    const check = await bystander();
    const valid = [
      encodePacket({ cmd: 'publish', topic: 'ok/fuzz', payload: 'x', qos: 1, messageId: 3 }, { protocolVersion: 5 }),
      encodePacket({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'ok/#', qos: 2 }] }, { protocolVersion: 5 }),
      encodePacket({ cmd: 'pubrel', messageId: 3 }, { protocolVersion: 5 }),
      encodePacket({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['ok/#'] }, { protocolVersion: 5 }),
    ];
    const input = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([p, at, v]) => {
        const m = new Uint8Array(p);
        m[at % m.length] = v;
        return m;
      }),
    );
    let runs = 0;
    await fc.assert(fc.asyncProperty(fc.boolean(), fc.array(input, { minLength: 1, maxLength: 4 }), async (connected, chunks) => {
      runs++;
      const r = connected
        ? await RawClient.open(tb.port, { clientId: 'fz' + runs }, 5, cleanup)
        : await RawClient.connectSocket(tb.port, 5, cleanup);
      for (const c of chunks) r.write(c);
      r.send({ cmd: 'pingreq' });
      // the broker answers the ping, closes the connection, or waits for the rest of a partial packet
      await r.next('pingresp', 150).catch(() => undefined);
      r.destroy();
    }), { numRuns: 150, seed: 4242 });
    await check();
    await until(() => tb.broker.connections.size === 1, 'fuzz connections gone');
    assert.ok(!tb.logs.some((l) => l.includes('internal error')), tb.logs.filter((l) => l.includes('internal error')).join('\n'));
  });
});

describe('broker: back-pressure', () => {
  let tb: TestBroker;
  const cleanup = new Cleanup();
  // a stall-timeout well above the test process's own pauses on a loaded machine: this subscriber is slow, not stuck
  beforeEach(async () => { tb = await startBroker({ queueHigh: 200, queueLow: 50, maxInflight: 50, stallTimeout: 2000 }); });
  afterEach(async () => { await cleanup.run(); await tb.broker.close(); });

  it('a slow QoS 1 subscriber, once it shows it is reading, pauses the publisher instead of losing messages; all arrive', async function () {
    this.timeout(30000);
    const N = 3000;
    const payload = 'x'.repeat(300);
    const sub = await RawClient.open(tb.port, { clientId: 'slowsub' }, 4, cleanup);
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'bp', qos: 1 }] });
    await sub.next('suback');
    const s = tb.broker.sessions.get('slowsub')!;
    const conn = s.conn as Connection;
    let maxQueue = 0, paused = false;
    // the subscriber reads and acknowledges, slowly: a message per millisecond at most
    const seen: number[] = [];
    const reading = (async () => {
      while (seen.length < N) {
        const p: any = await sub.next('publish');
        maxQueue = Math.max(maxQueue, s.queue.length);
        paused = paused || tb.broker.stats.backpressurePauses > 0;
        seen.push(Number(Buffer.from(p.payload).toString().split(' ')[0]));
        sub.send({ cmd: 'puback', messageId: p.messageId });
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const pub = await client(tb.url, { clientId: 'fastpub', protocolVersion: 4 }, cleanup);
    let acked = 0;
    const publish = (from: number, to: number) => { for (let i = from; i < to; i++) pub.publish('bp', i + ' ' + payload, { qos: 1 }, () => { acked++; }); };
    publish(0, 300); // fills its queue: on probation, it shows it reads
    await until(() => conn.paces, 'the subscriber earned pacing');
    publish(300, N); // now its full queue pauses the publisher
    await reading;
    assert.deepEqual(seen, Array.from({ length: N }, (_, i) => i));
    await until(() => acked === N, 'all publishes acknowledged');
    assert.ok(paused, 'the publisher was paused');
    assert.equal(tb.broker.stats.messagesDropped, 0);
    assert.equal(tb.broker.stats.clientsStalled, 0, 'a slow reader is not a stuck one');
    // bounded: the high-water mark plus what one 64 KB socket read of the publisher holds (~210 packets)
    assert.ok(maxQueue < 300 + 2 * 220, `queue reached ${maxQueue}`);
  });
});
