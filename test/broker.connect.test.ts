// Connection establishment, client ids, takeover, sessions and their expiry, authentication.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cleanup, client, inbox, once, RawClient, startBroker, subscribe, type TestBroker } from './support/broker';
import { persistentConnectWithoutId } from './support/forge';
import { until } from './support/wait';

describe('broker: connect and sessions', () => {
  let tb: TestBroker;
  const cleanup = new Cleanup();
  beforeEach(async () => { tb = await startBroker(); });
  afterEach(async () => { await cleanup.run(); await tb.broker.close(); });

  for (const v of [4, 5] as const) {
    it(`MQTT.js v${v === 5 ? 5 : '3.1.1'} connects, publishes and receives`, async () => {
      const c = await client(tb.url, { protocolVersion: v, clientId: 'c' + v }, cleanup);
      const box = inbox(c);
      await subscribe(c, 'hello/#');
      await c.publishAsync('hello/world', 'hi');
      const [m] = await box.next();
      assert.equal(m.topic, 'hello/world');
      assert.equal(m.payload.toString(), 'hi');
    });
  }

  it('MQTT-3.1.0-1: a first packet that is not CONNECT closes the connection', async () => {
    const r = await RawClient.connectSocket(tb.port, 4, cleanup);
    r.send({ cmd: 'pingreq' });
    await r.waitClosed();
    assert.equal(r.packets.length, 0);
  });

  it('MQTT-3.1.0-2: a second CONNECT is a protocol error (DISCONNECT 0x82 in MQTT 5)', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'twice' }, 5, cleanup);
    r.send({ cmd: 'connect', protocolVersion: 5, clientId: 'twice' });
    const d = await r.next('disconnect');
    assert.equal((d as any).reasonCode, 0x82);
    await r.waitClosed();
  });

  it('MQTT-3.1.2-2: an unsupported protocol level gets CONNACK 0x01 and the connection is closed', async () => {
    const r = await RawClient.connectSocket(tb.port, 4, cleanup);
    // CONNECT "MQTT" level 6
    r.write(Buffer.from([0x10, 12, 0, 4, 77, 81, 84, 84, 6, 2, 0, 60, 0, 0]));
    const ack = await r.next('connack');
    assert.equal((ack as any).returnCode, 1);
    await r.waitClosed();
  });

  it('MQTT-3.1.3-8: an empty client id with a persistent 3.1.1 session is refused with 0x02', async () => {
    const r = await RawClient.connectSocket(tb.port, 4, cleanup);
    r.write(persistentConnectWithoutId());
    const ack = await r.next('connack');
    assert.equal((ack as any).returnCode, 2);
    await r.waitClosed();
  });

  it('MQTT-3.1.3-6: an empty client id with a clean 3.1.1 session is accepted', async () => {
    const r = await RawClient.open(tb.port, { clientId: '', clean: true }, 4, cleanup);
    r.send({ cmd: 'pingreq' });
    await r.next('pingresp');
  });

  it('MQTT-3.2.2-16: an MQTT 5 client with an empty id is given an Assigned Client Identifier', async () => {
    const r = await RawClient.connectSocket(tb.port, 5, cleanup);
    r.send({ cmd: 'connect', protocolVersion: 5, clientId: '' });
    const ack: any = await r.next('connack');
    assert.equal(ack.reasonCode, 0);
    assert.match(ack.properties.assignedClientIdentifier, /^sparrow-[0-9a-f]{16}$/);
    assert.ok(tb.broker.sessions.has(ack.properties.assignedClientIdentifier));
  });

  it('MQTT-3.1.4-3: a second connection with the same id takes over; the first hears DISCONNECT 0x8E (v5)', async () => {
    const first = await client(tb.url, { protocolVersion: 5, clientId: 'dup' }, cleanup);
    const gone = once<[any]>(first, 'disconnect');
    await client(tb.url, { protocolVersion: 5, clientId: 'dup' }, cleanup);
    const [packet] = await gone;
    assert.equal(packet.reasonCode, 0x8e);
    assert.equal(tb.broker.sessions.size, 1);
  });

  it('MQTT-3.1.4-3: takeover in 3.1.1 closes the first connection', async () => {
    const first = await RawClient.open(tb.port, { clientId: 'dup4' }, 4, cleanup);
    await RawClient.open(tb.port, { clientId: 'dup4' }, 4, cleanup);
    await first.waitClosed();
  });

  it('MQTT-3.2.2-2: session present is 1 when a persistent session is resumed, 0 after a clean start', async () => {
    const opts = { protocolVersion: 4 as const, clientId: 'keep', clean: false };
    const a = await client(tb.url, opts);
    await subscribe(a, 't', { qos: 1 });
    await a.endAsync();
    const b = await client(tb.url, opts, cleanup);
    const present = await new Promise<boolean>((r) => { r((b as any).connackPacket?.sessionPresent ?? true); });
    assert.equal(present, true);
    await b.endAsync();
    const c = await RawClient.open(tb.port, { clientId: 'keep', clean: true }, 4, cleanup);
    assert.equal(c.packets.length, 0);
    assert.equal(tb.broker.sessions.get('keep')!.subs.size, 0);
  });

  it('MQTT-3.1.2-4: a clean start discards the old session and its subscriptions', async () => {
    const r1 = await RawClient.open(tb.port, { clientId: 's1', clean: false }, 4);
    r1.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x', qos: 1 }] });
    await r1.next('suback');
    r1.destroy();
    await until(() => !tb.broker.sessions.get('s1')?.conn, 'session detached');
    assert.equal(tb.broker.sessions.get('s1')!.subs.size, 1);
    const r2 = await RawClient.connectSocket(tb.port, 4, cleanup);
    r2.send({ cmd: 'connect', clientId: 's1', clean: true });
    const ack: any = await r2.next('connack');
    assert.equal(ack.sessionPresent, false);
    assert.equal(tb.broker.sessions.get('s1')!.subs.size, 0);
  });

  it('MQTT-3.1.2-23: an MQTT 5 session ends when its Session Expiry Interval passes', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'exp', clean: true, properties: { sessionExpiryInterval: 1 } }, 5);
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x', qos: 1 }] });
    await r.next('suback');
    r.destroy();
    await until(() => tb.broker.sessions.get('exp')?.conn === null, 'detached');
    const t0 = Date.now();
    await until(() => !tb.broker.sessions.has('exp'), 'session expired', 3000);
    assert.ok(Date.now() - t0 > 700);
  });

  it('MQTT-3.14.2-2: setting Session Expiry at DISCONNECT after 0 at CONNECT is a protocol error', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'dx' }, 5, cleanup);
    r.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 60 } });
    const d: any = await r.next('disconnect');
    assert.equal(d.reasonCode, 0x82);
  });

  it('MQTT 5 session expiry set at DISCONNECT keeps the session for that long', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'dk', properties: { sessionExpiryInterval: 1 } }, 5);
    r.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 3600 } });
    await r.waitClosed();
    assert.equal(tb.broker.sessions.get('dk')!.expiry, 3600);
  });

  it('MQTT-3.1.2-24: the broker closes a connection idle for 1.5 x keepalive (MQTT 5: DISCONNECT 0x8D)', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'ka', keepalive: 1 }, 5, cleanup);
    const t0 = Date.now();
    const d: any = await r.next('disconnect', 4000);
    const waited = Date.now() - t0;
    assert.equal(d.reasonCode, 0x8d);
    assert.ok(waited >= 1400 && waited < 2500, `closed after ${waited} ms`);
  });

  it('keepalive: PINGREQ within the interval keeps the connection open', async () => {
    const r = await RawClient.open(tb.port, { clientId: 'ka2', keepalive: 1 }, 4, cleanup);
    for (let i = 0; i < 4; i++) {
      await new Promise((res) => setTimeout(res, 500));
      r.send({ cmd: 'pingreq' });
      await r.next('pingresp');
    }
    assert.equal(r.closed, false);
  });

  it('MQTT-3.2.2-21: Server Keep Alive replaces the client keepalive and is sent in CONNACK', async () => {
    const tb2 = await startBroker({ serverKeepAlive: 1 });
    cleanup.add(() => tb2.broker.close());
    const r = await RawClient.connectSocket(tb2.port, 5, cleanup);
    r.send({ cmd: 'connect', protocolVersion: 5, clientId: 'ska', keepalive: 600 });
    const ack: any = await r.next('connack');
    assert.equal(ack.properties.serverKeepAlive, 1);
    const d: any = await r.next('disconnect', 4000);
    assert.equal(d.reasonCode, 0x8d);
  });

  it('--max-keepalive (mosquitto\'s max_keepalive): MQTT 5 asking more or 0 is told the maximum; 3.1.1 is refused', async () => {
    const tb2 = await startBroker({ maxKeepalive: 1 });
    cleanup.add(() => tb2.broker.close());
    for (const asked of [600, 0]) {
      const r = await RawClient.connectSocket(tb2.port, 5, cleanup);
      r.send({ cmd: 'connect', protocolVersion: 5, clientId: 'mk' + asked, keepalive: asked });
      const ack: any = await r.next('connack');
      assert.equal(ack.reasonCode, 0);
      assert.equal(ack.properties.serverKeepAlive, 1);
      const d: any = await r.next('disconnect', 4000); // and it holds the client to it
      assert.equal(d.reasonCode, 0x8d);
    }
    const within = await RawClient.connectSocket(tb2.port, 5, cleanup);
    within.send({ cmd: 'connect', protocolVersion: 5, clientId: 'mk1', keepalive: 1 });
    assert.equal(((await within.next('connack')) as any).properties.serverKeepAlive, undefined, 'not sent when the client asks within it');
    for (const asked of [2, 0]) {
      const r = await RawClient.connectSocket(tb2.port, 4, cleanup);
      r.send({ cmd: 'connect', protocolVersion: 4, clientId: 'old' + asked, keepalive: asked });
      assert.equal(((await r.next('connack')) as any).returnCode, 2, 'identifier rejected');
      await r.waitClosed();
    }
    const ok = await RawClient.open(tb2.port, { clientId: 'old1', keepalive: 1 }, 4, cleanup);
    assert.equal(ok.closed, false);
  });

  it('request/response information: responseInformation in CONNACK when asked for', async () => {
    const r = await RawClient.connectSocket(tb.port, 5, cleanup);
    r.send({ cmd: 'connect', protocolVersion: 5, clientId: 'rr', properties: { requestResponseInformation: true } });
    const ack: any = await r.next('connack');
    assert.equal(ack.properties.responseInformation, 'response/rr');
    const r2 = await RawClient.connectSocket(tb.port, 5, cleanup);
    r2.send({ cmd: 'connect', protocolVersion: 5, clientId: 'rr2' });
    const ack2: any = await r2.next('connack');
    assert.equal(ack2.properties.responseInformation, undefined);
  });

  it('MQTT 5 response topic and correlation data pass through to the responder', async () => {
    const responder = await client(tb.url, { protocolVersion: 5, clientId: 'resp' }, cleanup);
    const box = inbox(responder);
    await subscribe(responder, 'req');
    const requester = await client(tb.url, { protocolVersion: 5, clientId: 'reqr' }, cleanup);
    await requester.publishAsync('req', 'q', { properties: { responseTopic: 'response/reqr', correlationData: Buffer.from([1, 2, 3]) } });
    const [m] = await box.next();
    assert.equal(m.packet.properties!.responseTopic, 'response/reqr');
    assert.deepEqual([...m.packet.properties!.correlationData!], [1, 2, 3]);
  });

  it('CONNACK (MQTT 5) advertises the broker limits', async () => {
    const r = await RawClient.connectSocket(tb.port, 5, cleanup);
    r.send({ cmd: 'connect', protocolVersion: 5, clientId: 'lim' });
    const ack: any = await r.next('connack');
    assert.equal(ack.properties.receiveMaximum, tb.broker.options.receiveMaximum);
    assert.equal(ack.properties.maximumPacketSize, tb.broker.options.maxPacketSize);
    assert.equal(ack.properties.topicAliasMaximum, tb.broker.options.topicAliasMaximum);
    assert.equal(ack.properties.sharedSubscriptionAvailable, true);
  });

  it('a CONNECT with an authentication method is refused with 0x8C (no enhanced auth)', async () => {
    const r = await RawClient.connectSocket(tb.port, 5, cleanup);
    r.send({ cmd: 'connect', protocolVersion: 5, clientId: 'au', properties: { authenticationMethod: 'SCRAM' } });
    const ack: any = await r.next('connack');
    assert.equal(ack.reasonCode, 0x8c);
    await r.waitClosed();
  });
});

describe('broker: user names, passwords and ACL', () => {
  let tb: TestBroker;
  let dir: string;
  const cleanup = new Cleanup();
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-auth-'));
    fs.writeFileSync(path.join(dir, 'passwd'), '# users\nalice:wonder\nbob:sha256:' +
      require('crypto').createHash('sha256').update('builder').digest('hex') + '\n');
    fs.writeFileSync(path.join(dir, 'acl'), [
      'topic read public/#',
      'user alice',
      'topic readwrite sensors/#',
      'topic write cmd/+',
      'user bob',
      'topic read sensors/+/temp',
      'pattern readwrite devices/%u/#',
    ].join('\n'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => { tb = await startBroker({ passwd: path.join(dir, 'passwd'), acl: path.join(dir, 'acl') }); });
  afterEach(async () => { await cleanup.run(); await tb.broker.close(); });

  it('a known user with the right password connects (plain and sha256 entries)', async () => {
    await client(tb.url, { username: 'alice', password: 'wonder' }, cleanup);
    await client(tb.url, { username: 'bob', password: 'builder', protocolVersion: 5 }, cleanup);
  });

  it('MQTT-3.2.2-5: a bad password is refused: 3.1.1 return code 4, MQTT 5 reason 0x86', async () => {
    const r4 = await RawClient.connectSocket(tb.port, 4, cleanup);
    r4.send({ cmd: 'connect', clientId: 'x', username: 'alice', password: new Uint8Array([1]) });
    assert.equal(((await r4.next('connack')) as any).returnCode, 4);
    await r4.waitClosed();
    const r5 = await RawClient.connectSocket(tb.port, 5, cleanup);
    r5.send({ cmd: 'connect', protocolVersion: 5, clientId: 'y', username: 'mallory', password: new Uint8Array([1]) });
    assert.equal(((await r5.next('connack')) as any).reasonCode, 0x86);
    await r5.waitClosed();
  });

  it('anonymous clients are refused when a passwd file is given', async () => {
    const r = await RawClient.connectSocket(tb.port, 4, cleanup);
    r.send({ cmd: 'connect', clientId: 'anon' });
    assert.equal(((await r.next('connack')) as any).returnCode, 4);
  });

  it('MQTT-3.9.3: refused subscriptions get 0x80 in 3.1.1 and 0x87 in MQTT 5, per topic', async () => {
    const r4 = await RawClient.open(tb.port, { clientId: 'b4', username: 'bob', password: Buffer.from('builder') }, 4, cleanup);
    r4.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'sensors/+/temp', qos: 1 }, { topic: 'sensors/#', qos: 1 }, { topic: 'public/x', qos: 0 }] });
    assert.deepEqual(((await r4.next('suback')) as any).granted, [1, 0x80, 0]);
    const r5 = await RawClient.open(tb.port, { clientId: 'b5', username: 'bob', password: Buffer.from('builder') }, 5, cleanup);
    r5.send({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'sensors/a/temp', qos: 2 }, { topic: 'secret', qos: 0 }, { topic: 'devices/bob/x', qos: 1 }] });
    const ack: any = await r5.next('suback');
    assert.deepEqual(ack.granted, [2, 0x87, 1]);
  });

  it('a refused publish is dropped and acknowledged (PUBACK 0x87 in MQTT 5, plain PUBACK in 3.1.1)', async () => {
    const alice = await client(tb.url, { username: 'alice', password: 'wonder', clientId: 'alice' }, cleanup);
    const box = inbox(alice);
    await subscribe(alice, 'sensors/#', { qos: 1 });
    const bob = await RawClient.open(tb.port, { clientId: 'bob5', username: 'bob', password: Buffer.from('builder') }, 5, cleanup);
    bob.send({ cmd: 'publish', topic: 'sensors/a/temp', payload: 'x', qos: 1, messageId: 7 });
    const ack: any = await bob.next('puback');
    assert.equal(ack.reasonCode, 0x87);
    const bob4 = await RawClient.open(tb.port, { clientId: 'bob4', username: 'bob', password: Buffer.from('builder') }, 4, cleanup);
    bob4.send({ cmd: 'publish', topic: 'sensors/a/temp', payload: 'x', qos: 2, messageId: 8 });
    await bob4.next('pubrec');
    bob4.send({ cmd: 'pubrel', messageId: 8 });
    await bob4.next('pubcomp');
    await alice.publishAsync('sensors/ok', 'fine', { qos: 1 });
    const [m] = await box.next();
    assert.equal(m.topic, 'sensors/ok'); // bob's messages never arrived
    assert.equal(box.list.length, 1);
  });

  it('pattern rules substitute the user name', async () => {
    const bob = await client(tb.url, { username: 'bob', password: 'builder' }, cleanup);
    const box = inbox(bob);
    await subscribe(bob, 'devices/bob/#', { qos: 1 });
    await bob.publishAsync('devices/bob/led', 'on', { qos: 1 });
    assert.equal((await box.next())[0].topic, 'devices/bob/led');
  });
});
