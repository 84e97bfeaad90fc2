// Retained messages, subscription options, shared subscriptions, wills, topic aliases, packet size, $SYS.
import { strict as assert } from 'assert';
import { Cleanup, client, inbox, quiet, RawClient, startBroker, subscribe, type TestBroker } from './support/broker';
import { forge } from './support/forge';
import { until } from './support/wait';

describe('broker: retained messages', () => {
  let tb: TestBroker;
  const cleanup = new Cleanup();
  beforeEach(async () => { tb = await startBroker(); });
  afterEach(async () => { await cleanup.run(); await tb.broker.close(); });

  it('MQTT-3.3.1-6/3.3.1-8: a new subscriber gets the retained message with RETAIN set', async () => {
    const pub = await client(tb.url, { clientId: 'rp' }, cleanup);
    await pub.publishAsync('status/a', 'online', { qos: 1, retain: true });
    await pub.publishAsync('status/b', 'offline', { qos: 1, retain: true });
    const sub = await client(tb.url, { clientId: 'rs' }, cleanup);
    const box = inbox(sub);
    await subscribe(sub, 'status/+', { qos: 1 });
    const got = (await box.next(2)).sort((x, y) => x.topic.localeCompare(y.topic));
    assert.deepEqual(got.map((m) => [m.topic, m.payload.toString(), m.packet.retain]), [['status/a', 'online', true], ['status/b', 'offline', true]]);
  });

  it('MQTT-3.3.1-10/11: an empty retained payload deletes the retained message and is not stored', async () => {
    const pub = await client(tb.url, { clientId: 'rdp' }, cleanup);
    await pub.publishAsync('gone', 'x', { qos: 1, retain: true });
    assert.equal(tb.broker.retained.size, 1);
    await pub.publishAsync('gone', '', { qos: 1, retain: true });
    assert.equal(tb.broker.retained.size, 0);
    const sub = await client(tb.url, { clientId: 'rds' }, cleanup);
    const box = inbox(sub);
    await subscribe(sub, 'gone');
    assert.ok(await quiet(box.list));
  });

  it('MQTT-3.3.1-9: in 3.1.1 the RETAIN flag is cleared on messages sent to existing subscribers', async () => {
    const sub = await client(tb.url, { clientId: 'r9' }, cleanup);
    const box = inbox(sub);
    await subscribe(sub, 'live', { qos: 1 });
    const pub = await client(tb.url, { clientId: 'r9p' }, cleanup);
    await pub.publishAsync('live', 'v', { qos: 1, retain: true });
    const [m] = await box.next();
    assert.equal(m.packet.retain, false);
  });

  it('MQTT-3.3.1-12/13: Retain As Published keeps the RETAIN flag for existing subscribers', async () => {
    const sub = await client(tb.url, { clientId: 'rap', protocolVersion: 5 }, cleanup);
    const box = inbox(sub);
    await sub.subscribeAsync({ 'a/rap': { qos: 0, rap: true }, 'a/norap': { qos: 0, rap: false } });
    const pub = await client(tb.url, { clientId: 'rapp', protocolVersion: 5 }, cleanup);
    await pub.publishAsync('a/rap', '1', { retain: true, qos: 1 });
    await pub.publishAsync('a/norap', '2', { retain: true, qos: 1 });
    const got = await box.next(2);
    assert.deepEqual(got.map((m) => [m.topic, m.packet.retain]), [['a/rap', true], ['a/norap', false]]);
  });

  it('MQTT-3.3.1-9..11: Retain Handling 0 sends always, 1 only for a new subscription, 2 never', async () => {
    const pub = await client(tb.url, { clientId: 'rhp' }, cleanup);
    await pub.publishAsync('rh/x', 'kept', { qos: 1, retain: true });
    const r = await RawClient.open(tb.port, { clientId: 'rh' }, 5, cleanup);
    const count = async (rh: number) => {
      r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'rh/#', qos: 0, rh }] });
      await r.next('suback');
      r.send({ cmd: 'pingreq' });
      await r.next('pingresp');
      const n = r.packets.filter((p) => p.cmd === 'publish').length;
      r.packets.length = 0;
      return n;
    };
    assert.equal(await count(1), 1); // new subscription
    assert.equal(await count(1), 0); // existing subscription
    assert.equal(await count(0), 1);
    assert.equal(await count(2), 0);
  });
});

describe('broker: subscriptions', () => {
  let tb: TestBroker;
  const cleanup = new Cleanup();
  beforeEach(async () => { tb = await startBroker(); });
  afterEach(async () => { await cleanup.run(); await tb.broker.close(); });

  it('MQTT-4.7.1-2/3: wildcards match by level, # includes the parent', async () => {
    const sub = await client(tb.url, { clientId: 'wc' }, cleanup);
    const box = inbox(sub);
    await subscribe(sub, ['a/+/c', 'x/#']);
    const pub = await client(tb.url, { clientId: 'wcp' }, cleanup);
    for (const t of ['a/b/c', 'a/b/d', 'a/b/c/d', 'x', 'x/y/z', 'y']) await pub.publishAsync(t, t, { qos: 1 });
    await pub.publishAsync('end', 'end', { qos: 1 });
    await subscribe(sub, 'end');
    await pub.publishAsync('end', 'end', { qos: 1 });
    const got = await box.next(4);
    assert.deepEqual(got.map((m) => m.topic), ['a/b/c', 'x', 'x/y/z', 'end']);
  });

  it('MQTT-4.7.2-1: # and + do not match topics starting with $', async () => {
    const sub = await client(tb.url, { clientId: 'dollar' }, cleanup);
    const box = inbox(sub);
    await subscribe(sub, ['#', '+/info']);
    tb.broker.publishSys();
    await subscribe(sub, '$SYS/broker/uptime');
    const [m] = await box.next(1);
    assert.equal(m.topic, '$SYS/broker/uptime');
  });

  it('MQTT-3.3.4-2: overlapping subscriptions deliver one copy at the highest QoS (3.1.1 and 5)', async () => {
    for (const v of [4, 5] as const) {
      const sub = await client(tb.url, { clientId: 'ov' + v, protocolVersion: v }, cleanup);
      const box = inbox(sub);
      await sub.subscribeAsync({ 'o/#': { qos: 0 }, 'o/+': { qos: 2 }, 'o/x': { qos: 1 } });
      const pub = await client(tb.url, { clientId: 'ovp' + v }, cleanup);
      await pub.publishAsync('o/x', 'once', { qos: 2 });
      const [m] = await box.next(1);
      assert.equal(m.packet.qos, 2);
      assert.ok(await quiet(box.list, 150));
    }
  });

  it('MQTT-3.3.4-3/4: the one copy carries every matching subscription identifier', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'ids' }, 5, cleanup);
    r.send({ cmd: 'subscribe', messageId: 1, properties: { subscriptionIdentifier: 7 }, subscriptions: [{ topic: 's/#', qos: 1 }] });
    await r.next('suback');
    r.send({ cmd: 'subscribe', messageId: 2, properties: { subscriptionIdentifier: 300 }, subscriptions: [{ topic: 's/+', qos: 0 }] });
    await r.next('suback');
    r.send({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 's/t', qos: 0 }] });
    await r.next('suback');
    const pub = await client(tb.url, { clientId: 'idsp' }, cleanup);
    await pub.publishAsync('s/t', 'x', { qos: 1 });
    const p: any = await r.next('publish');
    assert.deepEqual([...p.properties.subscriptionIdentifier].sort((a: number, b: number) => a - b), [7, 300]);
    assert.equal(p.qos, 1);
    r.send({ cmd: 'pingreq' });
    await r.next('pingresp');
    assert.equal(r.packets.filter((x) => x.cmd === 'publish').length, 0);
  });

  it('MQTT.js v5 sees the subscription identifier', async () => {
    const sub = await client(tb.url, { clientId: 'idjs', protocolVersion: 5 }, cleanup);
    const box = inbox(sub);
    await sub.subscribeAsync('j/#', { qos: 1, properties: { subscriptionIdentifier: 42 } });
    await sub.publishAsync('j/k', 'x', { qos: 1 });
    const [m] = await box.next();
    assert.equal(m.packet.properties!.subscriptionIdentifier, 42);
  });

  it('MQTT-3.8.3-3: No Local keeps a client\'s own messages from it', async () => {
    const c = await client(tb.url, { clientId: 'nl', protocolVersion: 5 }, cleanup);
    const box = inbox(c);
    await c.subscribeAsync({ 'chat/nl': { qos: 1, nl: true }, 'chat/all': { qos: 1, nl: false } });
    await c.publishAsync('chat/nl', 'mine', { qos: 1 });
    await c.publishAsync('chat/all', 'echo', { qos: 1 });
    const [m] = await box.next(1);
    assert.equal(m.topic, 'chat/all');
    const other = await client(tb.url, { clientId: 'nl2', protocolVersion: 5 }, cleanup);
    await other.publishAsync('chat/nl', 'theirs', { qos: 1 });
    const got = await box.next(2);
    assert.equal(got[1].payload.toString(), 'theirs');
  });

  it('MQTT-4.8.2: shared subscriptions spread messages round-robin, once per group', async () => {
    const members = await Promise.all([1, 2, 3].map(async (i) => {
      const c = await client(tb.url, { clientId: 'sh' + i, protocolVersion: 5 }, cleanup);
      await subscribe(c, '$share/workers/jobs/#', { qos: 1 });
      return inbox(c);
    }));
    const solo = await client(tb.url, { clientId: 'solo', protocolVersion: 4 }, cleanup);
    const soloBox = inbox(solo);
    await subscribe(solo, 'jobs/#', { qos: 1 });
    const pub = await client(tb.url, { clientId: 'shp' }, cleanup);
    for (let i = 0; i < 30; i++) await pub.publishAsync('jobs/x', String(i), { qos: 1 });
    await soloBox.next(30);
    await until(() => members.reduce((n, b) => n + b.list.length, 0) === 30, 'shared deliveries');
    assert.deepEqual(members.map((b) => b.list.length), [10, 10, 10]);
    assert.ok(await quiet(members[0].list, 100));
  });

  it('MQTT-3.8.3-4: No Local on a shared subscription is a protocol error', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'shnl' }, 5, cleanup);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/t', qos: 0, nl: true }] });
    const d: any = await r.next('disconnect');
    assert.equal(d.reasonCode, 0x82);
  });

  it('invalid filters get 0x80 (3.1.1) or 0x8F (5) per topic, the others are granted', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'badf' }, 5, cleanup);
    r.write(forge({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/x/b', qos: 0 }, { topic: 'ok', qos: 1 }, { topic: '$share/gx/x', qos: 0 }] }, 5, { 'a/x/b': 'a/#/b', gx: 'g+' }));
    assert.deepEqual(((await r.next('suback')) as any).granted, [0x8f, 1, 0x8f]);
    const r4 = await RawClient.open(tb.port, { clientId: 'badf4' }, 4, cleanup);
    r4.write(forge({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'ax', qos: 0 }, { topic: 'ok', qos: 2 }] }, 4, { ax: 'a+' }));
    assert.deepEqual(((await r4.next('suback')) as any).granted, [0x80, 2]);
  });

  it('MQTT-3.10.4: unsubscribe stops delivery; MQTT 5 UNSUBACK says 0x11 for an unknown filter', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'unsub' }, 5, cleanup);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'u', qos: 0 }] });
    await r.next('suback');
    r.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['u', 'never'] });
    assert.deepEqual(((await r.next('unsuback')) as any).granted, [0, 0x11]);
    assert.equal(tb.broker.tree.size, 0);
  });

  it('MQTT-3.8.4-3: a subscription to the same filter replaces the old one', async () => {
    const sub = await client(tb.url, { clientId: 'repl' }, cleanup);
    const box = inbox(sub);
    await subscribe(sub, 'rp', { qos: 0 });
    await subscribe(sub, 'rp', { qos: 1 });
    assert.equal(tb.broker.tree.size, 1);
    const pub = await client(tb.url, { clientId: 'replp' }, cleanup);
    await pub.publishAsync('rp', 'x', { qos: 1 });
    assert.equal((await box.next())[0].packet.qos, 1);
  });
});

describe('broker: will messages', () => {
  let tb: TestBroker;
  const cleanup = new Cleanup();
  beforeEach(async () => { tb = await startBroker(); });
  afterEach(async () => { await cleanup.run(); await tb.broker.close(); });

  async function watcher(topic = 'will/#') {
    const w = await client(tb.url, { clientId: 'watch' + Math.random() }, cleanup);
    await subscribe(w, topic, { qos: 1 });
    return inbox(w);
  }

  it('MQTT-3.1.2-8: the will is published when the connection is lost', async () => {
    const box = await watcher();
    const r = await RawClient.open(tb.port, { clientId: 'dies', will: { topic: 'will/dies', payload: 'gone', qos: 1 } }, 4);
    r.destroy();
    const [m] = await box.next();
    assert.equal(m.payload.toString(), 'gone');
  });

  it('MQTT-3.1.2-10: a DISCONNECT discards the will; 0x04 in MQTT 5 asks for it', async () => {
    const box = await watcher();
    const r = await RawClient.open(tb.port, { clientId: 'polite', will: { topic: 'will/polite', payload: 'x' } }, 4);
    r.send({ cmd: 'disconnect' });
    await r.waitClosed();
    const r5 = await RawClient.open(tb.port, { clientId: 'asks', will: { topic: 'will/asks', payload: 'y' } }, 5);
    r5.send({ cmd: 'disconnect', reasonCode: 0x04 });
    const [m] = await box.next();
    assert.equal(m.topic, 'will/asks');
    assert.equal(box.list.length, 1);
  });

  it('MQTT-3.1.3-9: a will with Will Delay is not sent if the client reconnects in time', async () => {
    const box = await watcher();
    const connect = { clientId: 'back', clean: false, properties: { sessionExpiryInterval: 60 }, will: { topic: 'will/back', payload: 'z', properties: { willDelayInterval: 2 } } };
    const r = await RawClient.open(tb.port, connect, 5);
    r.destroy();
    await until(() => tb.broker.wills.size === 1, 'will waiting');
    await RawClient.open(tb.port, { ...connect, will: undefined }, 5, cleanup);
    assert.equal(tb.broker.wills.size, 0);
    assert.ok(await quiet(box.list, 300));
  });

  it('Will Delay: the will goes after the delay', async () => {
    const box = await watcher();
    const r = await RawClient.open(tb.port, { clientId: 'late', properties: { sessionExpiryInterval: 60 }, will: { topic: 'will/late', payload: 'w', properties: { willDelayInterval: 1 } } }, 5);
    const t0 = Date.now();
    r.destroy();
    await box.next(1, 3000);
    assert.ok(Date.now() - t0 >= 900);
  });

  it('MQTT-3.3.2: the will reaches MQTT 5 subscribers as a valid PUBLISH, without its Will Delay Interval', async () => {
    const sub = await RawClient.open(tb.port, { clientId: 'strict' }, 5, cleanup);
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'will/#', qos: 0 }] });
    await sub.next('suback');
    const will = { topic: 'will/typed', payload: 'w', properties: { willDelayInterval: 100, contentType: 'text/plain' } };
    const r = await RawClient.open(tb.port, { clientId: 'typed', will }, 5);
    r.destroy();
    const p = await sub.next('publish') as any;
    assert.equal(sub.decodeError, null);
    assert.deepEqual(p.properties, { contentType: 'text/plain' });
  });

  it('Will Delay: a session that ends first (expiry 0) sends the will at once', async () => {
    const box = await watcher();
    const r = await RawClient.open(tb.port, { clientId: 'short', will: { topic: 'will/short', payload: 'w', properties: { willDelayInterval: 100 } } }, 5);
    r.destroy();
    await box.next(1, 1000);
  });

  it('takeover: MQTT 5 takeover with a resumed session cancels a delayed will; clean start sends it', async () => {
    const box = await watcher();
    const will = { topic: 'will/tk', payload: 'w', properties: { willDelayInterval: 30 } };
    await RawClient.open(tb.port, { clientId: 'tk', clean: false, properties: { sessionExpiryInterval: 60 }, will }, 5, cleanup);
    await RawClient.open(tb.port, { clientId: 'tk', clean: false, properties: { sessionExpiryInterval: 60 } }, 5, cleanup);
    assert.equal(tb.broker.wills.size, 0);
    assert.ok(await quiet(box.list, 200));
    await RawClient.open(tb.port, { clientId: 'tk2', clean: false, properties: { sessionExpiryInterval: 60 }, will: { ...will, topic: 'will/tk2' } }, 5, cleanup);
    await RawClient.open(tb.port, { clientId: 'tk2', clean: true }, 5, cleanup);
    const [m] = await box.next();
    assert.equal(m.topic, 'will/tk2');
  });

  it('MQTT.js will with retain: a later subscriber sees it retained', async () => {
    const c = await client(tb.url, { clientId: 'mw', will: { topic: 'will/status', payload: Buffer.from('offline'), qos: 1, retain: true } });
    (c as any).stream.destroy();
    await until(() => tb.broker.retained.size === 1, 'retained will');
    const box = await watcher('will/status');
    assert.equal((await box.next())[0].packet.retain, true);
  });
});

describe('broker: topic aliases, packet sizes, $SYS', () => {
  let tb: TestBroker;
  const cleanup = new Cleanup();
  beforeEach(async () => { tb = await startBroker({ maxPacketSize: 2048 }); });
  afterEach(async () => { await cleanup.run(); await tb.broker.close(); });

  it('MQTT-3.3.2-12: a client may publish with a topic alias, then with the alias alone', async () => {
    const sub = await client(tb.url, { clientId: 'tas' }, cleanup);
    const box = inbox(sub);
    await subscribe(sub, 'long/topic/name');
    const r = await RawClient.open(tb.port, { clientId: 'tap' }, 5, cleanup);
    r.send({ cmd: 'publish', topic: 'long/topic/name', payload: '1', properties: { topicAlias: 3 } });
    r.send({ cmd: 'publish', topic: '', payload: '2', properties: { topicAlias: 3 } });
    const got = await box.next(2);
    assert.deepEqual(got.map((m) => [m.topic, m.payload.toString()]), [['long/topic/name', '1'], ['long/topic/name', '2']]);
  });

  it('MQTT-3.3.2-9: an alias over the Topic Alias Maximum gets DISCONNECT 0x94', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'tabad' }, 5, cleanup);
    r.send({ cmd: 'publish', topic: 'x', payload: '1', properties: { topicAlias: 1000 } });
    assert.equal(((await r.next('disconnect')) as any).reasonCode, 0x94);
  });

  it('an unknown alias with an empty topic is a protocol error', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'taunk' }, 5, cleanup);
    r.send({ cmd: 'publish', topic: '', payload: '1', properties: { topicAlias: 5 } });
    assert.equal(((await r.next('disconnect')) as any).reasonCode, 0x82);
  });

  it('the broker uses topic aliases towards a client that allows them', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'taout', properties: { topicAliasMaximum: 2 } }, 5, cleanup);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'al/#', qos: 0 }] });
    await r.next('suback');
    const pub = await client(tb.url, { clientId: 'taoutp' }, cleanup);
    for (const t of ['al/a', 'al/a', 'al/b', 'al/c', 'al/a']) await pub.publishAsync(t, t, { qos: 1 });
    const ps: any[] = [];
    for (let i = 0; i < 5; i++) ps.push(await r.next('publish'));
    assert.deepEqual(ps.map((p) => [p.topic, p.properties?.topicAlias]), [
      ['al/a', 1], ['', 1], ['al/b', 2], ['al/c', undefined], ['', 1],
    ]);
  });

  it('MQTT.js v5 with topicAliasMaximum reads the aliased topics', async () => {
    const sub = await client(tb.url, { clientId: 'tajs', protocolVersion: 5, properties: { topicAliasMaximum: 10 } }, cleanup);
    const box = inbox(sub);
    await subscribe(sub, 'js/#');
    for (let i = 0; i < 3; i++) await sub.publishAsync('js/topic', String(i), { qos: 1 });
    const got = await box.next(3);
    assert.deepEqual(got.map((m) => m.topic), ['js/topic', 'js/topic', 'js/topic']);
  });

  it('MQTT-3.1.2-24/25: messages over the client\'s Maximum Packet Size are not sent to it', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'small', properties: { maximumPacketSize: 100 } }, 5, cleanup);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'sz', qos: 1 }] });
    await r.next('suback');
    const pub = await client(tb.url, { clientId: 'szp' }, cleanup);
    await pub.publishAsync('sz', Buffer.alloc(200), { qos: 1 });
    await pub.publishAsync('sz', 'fits', { qos: 1 });
    const p: any = await r.next('publish');
    assert.equal(Buffer.from(p.payload).toString(), 'fits');
    assert.equal(tb.broker.sessions.get('small')!.inflight.size, 1);
  });

  it('a packet over the broker\'s maximum packet size closes the connection (MQTT 5: DISCONNECT 0x95)', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'big' }, 5, cleanup);
    r.send({ cmd: 'publish', topic: 'b', payload: new Uint8Array(4000), qos: 0 });
    assert.equal(((await r.next('disconnect')) as any).reasonCode, 0x95);
    await r.waitClosed();
  });

  it('$SYS statistics are published as retained messages', async () => {
    const sub = await client(tb.url, { clientId: 'sys' }, cleanup);
    const box = inbox(sub);
    tb.broker.publishSys();
    await subscribe(sub, '$SYS/broker/clients/connected');
    const [m] = await box.next();
    assert.equal(m.payload.toString(), '1');
    assert.equal(m.packet.retain, true);
  });
});
