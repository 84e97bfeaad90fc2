// QoS 0/1/2 both ways, in-flight windows, resend on resume, Receive Maximum, persistent queues.
import { strict as assert } from 'assert';
import { Cleanup, client, inbox, RawClient, startBroker, subscribe, type TestBroker } from './support/broker';
import { until } from './support/wait';

describe('broker: QoS', () => {
  let tb: TestBroker;
  const cleanup = new Cleanup();
  beforeEach(async () => { tb = await startBroker(); });
  afterEach(async () => { await cleanup.run(); await tb.broker.close(); });

  for (const v of [4, 5] as const) {
    for (const qos of [0, 1, 2] as const) {
      it(`MQTT.js v${v}: 100 messages at QoS ${qos} arrive once each, in order`, async () => {
        const sub = await client(tb.url, { protocolVersion: v, clientId: `s${v}${qos}` }, cleanup);
        const box = inbox(sub);
        await subscribe(sub, 'q/#', { qos });
        const pub = await client(tb.url, { protocolVersion: v, clientId: `p${v}${qos}` }, cleanup);
        await Promise.all(Array.from({ length: 100 }, (_, i) => pub.publishAsync('q/x', String(i), { qos })));
        const got = await box.next(100);
        assert.deepEqual(got.map((m) => m.payload.toString()), Array.from({ length: 100 }, (_, i) => String(i)));
        assert.ok(got.every((m) => m.packet.qos === qos));
      });
    }
  }

  it('MQTT-3.8.4-8: delivery QoS is the minimum of the publish and the subscription', async () => {
    const sub = await client(tb.url, { clientId: 'min' }, cleanup);
    const box = inbox(sub);
    await subscribe(sub, 'm', { qos: 1 });
    const pub = await client(tb.url, { clientId: 'minp' }, cleanup);
    await pub.publishAsync('m', 'a', { qos: 2 });
    await pub.publishAsync('m', 'b', { qos: 0 });
    const got = await box.next(2);
    assert.deepEqual(got.map((m) => m.packet.qos), [1, 0]);
  });

  it('MQTT-4.3.3-2: a QoS 2 PUBLISH resent with DUP before PUBREL is delivered once', async () => {
    const sub = await client(tb.url, { clientId: 'once' }, cleanup);
    const box = inbox(sub);
    await subscribe(sub, 'e', { qos: 2 });
    const r = await RawClient.open(tb.port, { clientId: 'rawpub' }, 4, cleanup);
    r.send({ cmd: 'publish', topic: 'e', payload: 'x', qos: 2, messageId: 9 });
    await r.next('pubrec');
    r.send({ cmd: 'publish', topic: 'e', payload: 'x', qos: 2, messageId: 9, dup: true });
    await r.next('pubrec');
    r.send({ cmd: 'pubrel', messageId: 9 });
    await r.next('pubcomp');
    await box.next(1);
    r.send({ cmd: 'pingreq' });
    await r.next('pingresp');
    assert.equal(box.list.length, 1);
  });

  it('MQTT-4.3.3: the broker sends QoS 2 as PUBLISH, PUBREL after PUBREC, and is done at PUBCOMP', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'q2sub' }, 5, cleanup);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'z', qos: 2 }] });
    await r.next('suback');
    const pub = await client(tb.url, { clientId: 'q2pub' }, cleanup);
    await pub.publishAsync('z', 'payload', { qos: 2 });
    const p: any = await r.next('publish');
    assert.equal(p.qos, 2);
    r.send({ cmd: 'pubrec', messageId: p.messageId });
    const rel: any = await r.next('pubrel');
    assert.equal(rel.messageId, p.messageId);
    r.send({ cmd: 'pubcomp', messageId: p.messageId });
    await until(() => tb.broker.sessions.get('q2sub')!.inflight.size === 0, 'in flight cleared');
  });

  it('MQTT-4.4.0-1: unacknowledged messages are resent with DUP after the client resumes its session', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'resume', clean: false }, 4);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'r/#', qos: 2 }] });
    await r.next('suback');
    const pub = await client(tb.url, { clientId: 'rpub' }, cleanup);
    await pub.publishAsync('r/1', 'one', { qos: 1 });
    await pub.publishAsync('r/2', 'two', { qos: 2 });
    const p1: any = await r.next('publish');
    const p2: any = await r.next('publish');
    r.send({ cmd: 'pubrec', messageId: p2.messageId }); // p1 never acked, p2 half way
    await r.next('pubrel');
    r.destroy();
    await until(() => tb.broker.sessions.get('resume')!.conn === null, 'detached');
    await pub.publishAsync('r/3', 'three', { qos: 1 }); // queued while offline
    const again = await RawClient.connectSocket(tb.port, 4, cleanup);
    again.send({ cmd: 'connect', clientId: 'resume', clean: false, keepalive: 0 });
    const ack: any = await again.next('connack');
    assert.equal(ack.sessionPresent, true);
    const d1: any = await again.next('publish');
    assert.equal(d1.dup, true);
    assert.equal(d1.messageId, p1.messageId);
    assert.equal(Buffer.from(d1.payload).toString(), 'one');
    const rel: any = await again.next('pubrel');
    assert.equal(rel.messageId, p2.messageId);
    const d3: any = await again.next('publish');
    assert.equal(Buffer.from(d3.payload).toString(), 'three');
    assert.equal(d3.dup, false);
  });

  it('in-flight window: no more than the client Receive Maximum unacknowledged, the rest follow acks', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'win', properties: { receiveMaximum: 3 } }, 5, cleanup);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'w', qos: 1 }] });
    await r.next('suback');
    const pub = await client(tb.url, { clientId: 'wpub' }, cleanup);
    for (let i = 0; i < 10; i++) pub.publish('w', String(i), { qos: 1 });
    // the three in flight are written at the end of the broker's turn: wait for them, then count
    await until(() => tb.broker.sessions.get('win')!.queue.length === 7 && r.packets.some((p) => p.cmd === 'publish'), 'seven queued, some sent');
    await until(() => r.packets.filter((p) => p.cmd === 'publish').length >= 3, 'three in flight');
    assert.equal(r.packets.filter((p) => p.cmd === 'publish').length, 3);
    assert.equal(tb.broker.sessions.get('win')!.inflight.size, 3);
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const p: any = await r.next('publish');
      seen.push(Buffer.from(p.payload).toString());
      r.send({ cmd: 'puback', messageId: p.messageId });
    }
    assert.deepEqual(seen, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('MQTT-3.3.4-9: more QoS 2 publishes unacknowledged than Receive Maximum gets DISCONNECT 0x93', async () => {
    const tb2 = await startBroker({ receiveMaximum: 2 });
    cleanup.add(() => tb2.broker.close());
    const r = await RawClient.open(tb2.port, { clientId: 'greedy' }, 5, cleanup);
    for (let id = 1; id <= 3; id++) r.send({ cmd: 'publish', topic: 't', payload: 'x', qos: 2, messageId: id });
    const d: any = await r.next('disconnect');
    assert.equal(d.reasonCode, 0x93);
    await r.waitClosed();
  });

  it('queued QoS 1 messages for an offline persistent session are delivered on reconnect', async () => {
    const opts = { clientId: 'offl', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 300 } };
    const a = await client(tb.url, opts);
    await subscribe(a, 'o', { qos: 1 });
    await a.endAsync();
    const pub = await client(tb.url, { clientId: 'opub' }, cleanup);
    for (let i = 0; i < 20; i++) await pub.publishAsync('o', String(i), { qos: 1 });
    await pub.publishAsync('o', 'qos0-dropped', { qos: 0 });
    const b = await client(tb.url, { ...opts, clean: false }, cleanup);
    const box = inbox(b);
    const got = await box.next(20);
    assert.deepEqual(got.map((m) => m.payload.toString()), Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('PUBREL for an unknown packet id gets PUBCOMP 0x92 in MQTT 5', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'unk' }, 5, cleanup);
    r.send({ cmd: 'pubrel', messageId: 77 });
    const c: any = await r.next('pubcomp');
    assert.equal(c.reasonCode, 0x92);
  });

  it('MQTT 5: PUBACK carries 0x10 when no one is subscribed', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'nobody' }, 5, cleanup);
    r.send({ cmd: 'publish', topic: 'void', payload: 'x', qos: 1, messageId: 1 });
    const a: any = await r.next('puback');
    assert.equal(a.reasonCode, 0x10);
  });

  it('message expiry: an expired queued message is not delivered; others carry the time left', async () => {
    const opts = { clientId: 'mexp', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 300 } };
    const a = await client(tb.url, opts);
    await subscribe(a, 'x', { qos: 1 });
    await a.endAsync();
    const pub = await client(tb.url, { protocolVersion: 5, clientId: 'mexpp' }, cleanup);
    await pub.publishAsync('x', 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
    await pub.publishAsync('x', 'long', { qos: 1, properties: { messageExpiryInterval: 100 } });
    await new Promise((r) => setTimeout(r, 1100)); // the first one must expire: time itself is under test
    const b = await client(tb.url, opts, cleanup);
    const box = inbox(b);
    const [m] = await box.next(1);
    assert.equal(m.payload.toString(), 'long');
    assert.ok(m.packet.properties!.messageExpiryInterval! <= 100 && m.packet.properties!.messageExpiryInterval! >= 98);
  });
});
