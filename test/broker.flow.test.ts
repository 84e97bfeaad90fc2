// Flow control between clients: one client that stops reading must not stall the others, queues are
// bounded in messages and bytes (per session and broker-wide), and a publisher is never disconnected
// for a limit it was not told.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cleanup, client, inbox, RawClient, startBroker, subscribe } from './support/broker';
import { until } from './support/wait';

describe('broker: flow control', function () {
  this.timeout(30000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  function dataDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-flow-'));
    cleanup.add(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  for (const qos of [1, 2] as const) {
    it(`with --data-dir, a 3.1.1 client's 3,000 QoS ${qos} publishes in one write are all acknowledged, none disconnected (it was never told Receive Maximum)`, async () => {
      const tb = await startBroker({ dataDir: dataDir() });
      cleanup.add(() => tb.broker.close());
      const r = await RawClient.open(tb.port, { clientId: 'burst' + qos }, 4, cleanup);
      for (let id = 1; id <= 3000; id++) {
        // retained, so every publish writes to the store and its ack waits for the commit
        r.send({ cmd: 'publish', topic: 'burst/' + id, payload: 'x', qos, retain: true, messageId: id });
      }
      const ack = qos === 1 ? 'puback' : 'pubrec';
      await until(() => r.packets.filter((p) => p.cmd === ack).length === 3000 || r.closed, '3,000 acks', 20000);
      assert.equal(r.closed, false, 'disconnected');
      assert.deepEqual(r.packets.filter((p) => p.cmd === ack).map((p: any) => p.messageId), Array.from({ length: 3000 }, (_, i) => i + 1));
      assert.equal(tb.broker.retained.size, 3000);
    });
  }

  it('a subscriber that stops reading (and only pings) is disconnected after --stall-timeout; the healthy one gets everything, and so does the stuck one\'s session later', async () => {
    const stallTimeout = 500;
    const tb = await startBroker({ queueHigh: 200, queueLow: 50, maxInflight: 50, stallTimeout });
    cleanup.add(() => tb.broker.close());
    const N = 3000;
    const stuckSession = { clientId: 'stuck', clean: false, properties: { sessionExpiryInterval: 300 } };
    const stuck = await RawClient.open(tb.port, { ...stuckSession, keepalive: 1 }, 5, cleanup);
    stuck.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flow/#', qos: 1 }] });
    await stuck.next('suback');
    stuck.socket.pause(); // stops reading, but keeps its keepalive alive
    const ping = setInterval(() => stuck.send({ cmd: 'pingreq' }), 200);
    cleanup.add(() => clearInterval(ping));
    const healthy = await client(tb.url, { clientId: 'healthy' }, cleanup);
    await subscribe(healthy, 'flow/#', { qos: 1 });
    const pub = await client(tb.url, { clientId: 'pub' }, cleanup);
    let acked = 0;
    for (let i = 0; i < N; i++) pub.publish('flow/x', String(i), { qos: 1 }, () => { acked++; });
    await until(() => tb.broker.stats.backpressurePauses > 0, 'the publisher paused on the stuck queue');
    const pausedAt = Date.now();
    await until(() => tb.broker.stats.clientsStalled === 1, 'the stuck subscriber disconnected', 5000);
    assert.ok(Date.now() - pausedAt >= stallTimeout - 50, 'not before its bound');
    const got = await inbox(healthy).next(N, 20000);
    assert.deepEqual(got.map((m) => Number(m.payload)), Array.from({ length: N }, (_, i) => i));
    await until(() => acked === N, 'every publish acknowledged');
    const s = tb.broker.sessions.get('stuck')!;
    assert.equal(s.conn, null);
    assert.equal(s.queue.length + s.inflight.size, N, 'its session kept every message');
    assert.ok(tb.broker.queuedBytes >= s.bytes && s.bytes > 0);
    clearInterval(ping);
    stuck.destroy();
    const back = await client(tb.url, { ...stuckSession, protocolVersion: 5 }, cleanup);
    const again = await inbox(back).next(N, 20000);
    assert.deepEqual(again.map((m) => Number(m.payload)), Array.from({ length: N }, (_, i) => i));
    await until(() => s.queue.length + s.inflight.size === 0, 'all acknowledged');
    assert.equal(s.bytes, 0);
  });

  /** The broker's $SYS values now, as a subscriber sees them. */
  async function sysValues(tb: Awaited<ReturnType<typeof startBroker>>): Promise<{ [topic: string]: string }> {
    const c = await client(tb.url, { clientId: 'sys-' + Math.random() }, cleanup);
    await subscribe(c, '$SYS/broker/#');
    const box = inbox(c);
    const before = box.list.length; // the retained values of the last update, if any
    tb.broker.publishSys();
    const n = tb.broker.stats.snapshot({ clients: 0, sessions: 0, subscriptions: 0, retained: 0, queuedBytes: 0, version: '' }).length;
    const got = await box.next(before + n);
    const out: { [topic: string]: string } = {};
    for (const m of got.slice(before)) out[m.topic] = m.payload.toString();
    return out;
  }

  // '<i>' + 1,000 bytes on the 3-byte topic o/x: each of the first ten messages counts 1,004 bytes
  const KB = 'x'.repeat(1000);

  async function offlineSessions(url: string, ids: string[]): Promise<void> {
    for (const clientId of ids) {
      const c = await client(url, { clientId, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 300 } });
      await subscribe(c, 'o/#', { qos: 1 });
      await c.endAsync();
    }
  }

  it('--max-queued-bytes: an offline session keeps messages up to its byte bound; the rest are dropped and counted in $SYS', async () => {
    const tb = await startBroker({ maxQueuedBytes: 10000 });
    cleanup.add(() => tb.broker.close());
    await offlineSessions(tb.url, ['off']);
    const pub = await client(tb.url, { clientId: 'pub' }, cleanup);
    for (let i = 0; i < 20; i++) await pub.publishAsync('o/x', i + KB, { qos: 1 });
    const s = tb.broker.sessions.get('off')!;
    assert.equal(s.queue.length, 9);
    assert.ok(s.bytes <= 10000);
    const sys = await sysValues(tb);
    assert.equal(sys['$SYS/broker/messages/dropped/session-limit'], '11');
    assert.equal(sys['$SYS/broker/queued/bytes'], String(s.bytes));
    const back = await client(tb.url, { clientId: 'off', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 300 } }, cleanup);
    const got = await inbox(back).next(9);
    assert.deepEqual(got.map((m) => parseInt(m.payload.toString(), 10)), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('--memory-limit: all sessions together hold at most the broker-wide bound; the rest are dropped and counted in $SYS', async () => {
    const tb = await startBroker({ memoryLimit: 25000 });
    cleanup.add(() => tb.broker.close());
    await offlineSessions(tb.url, ['m1', 'm2', 'm3']);
    const pub = await client(tb.url, { clientId: 'pub' }, cleanup);
    for (let i = 0; i < 20; i++) await pub.publishAsync('o/x', i + KB, { qos: 1 });
    const held = ['m1', 'm2', 'm3'].map((id) => tb.broker.sessions.get(id)!.queue.length);
    const total = held.reduce((a, b) => a + b, 0);
    assert.equal(total, 24, 'floor(25,000 / 1,004) deliveries');
    assert.ok(tb.broker.queuedBytes <= 25000);
    const sys = await sysValues(tb);
    assert.equal(sys['$SYS/broker/messages/dropped/memory-limit'], String(60 - total));
    assert.equal(sys['$SYS/broker/messages/dropped'], String(60 - total));
  });

  it('a connected client whose queue passes its bound is disconnected (0x97), its session keeping what it held', async () => {
    const tb = await startBroker({ maxQueuedBytes: 10000, stallTimeout: 0 });
    cleanup.add(() => tb.broker.close());
    const r = await RawClient.open(tb.port, { clientId: 'behind', clean: false, properties: { sessionExpiryInterval: 300, receiveMaximum: 1 } }, 5, cleanup);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'o/#', qos: 1 }] });
    await r.next('suback');
    const pub = await client(tb.url, { clientId: 'pub' }, cleanup);
    for (let i = 0; i < 20; i++) await pub.publishAsync('o/x', i + KB, { qos: 1 }); // it acknowledges none
    const d: any = await r.next('disconnect');
    assert.equal(d.reasonCode, 0x97);
    await r.waitClosed();
    const s = tb.broker.sessions.get('behind')!;
    assert.equal(s.queue.length + s.inflight.size, 9);
    assert.equal(tb.broker.stats.droppedSessionLimit, 11);
  });
});
