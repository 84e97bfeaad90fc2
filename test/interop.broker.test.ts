// The built firmware bundle (dist/espruino, what is flashed), run on Node through the host platform,
// against the reference broker, with MQTT.js as the other end: the two halves of Sparrow must agree
// with each other, not only each with a third party.
import { strict as assert } from 'assert';
import * as net from 'net';
import { bundlePath, loadBundle } from '../host-sim/bundle';
import { nodePlatform } from '../host-sim/platform/node';
import type { MqttClient } from '../firmware/client';
import { client, Cleanup, inbox, quiet, selfSignedCert, subscribe, startBroker, type TestBroker } from './support/broker';
import { until } from './support/wait';

const sparrow = loadBundle(bundlePath('full'));

/** A client from the bundle; `sockets` lets a test cut its link as a network failure would. */
function board(url: string, options: object, cleanup: Cleanup, insecureTls = false): { client: MqttClient; sockets: net.Socket[] } {
  const sockets: net.Socket[] = [];
  const platform = nodePlatform({ log: () => undefined, onSocket: (s) => sockets.push(s), insecureTls });
  const c = sparrow.create(platform).connect(url, Object.assign({ reconnectPeriod: 50, reconnectPeriodMax: 200 }, options));
  cleanup.add(() => { c.end(); });
  return { client: c, sockets };
}

const text = (payload: unknown) => Buffer.from(payload as Uint8Array).toString();

describe('interop: firmware bundle against the reference broker', function () {
  this.timeout(20000);
  let b: TestBroker;
  const cleanup = new Cleanup();
  beforeEach(async () => { b = await startBroker(); });
  afterEach(async () => {
    await cleanup.run();
    await b.broker.close();
  });

  for (const version of [4, 5] as const) {
    const v = version === 5 ? 'MQTT 5' : 'MQTT 3.1.1';

    it(`${v}: the board's QoS 0, 1 and 2 publishes reach an MQTT.js subscriber once each, and are acknowledged`, async () => {
      const sub = await client(b.url, { protocolVersion: version }, cleanup);
      await subscribe(sub, 'fleet/#', { qos: 2 });
      const { client: c } = board(b.url, { clientId: 'pub-' + version, protocolVersion: version }, cleanup);
      await until(() => c.connected, 'CONNACK');
      const acked: number[] = [];
      for (const qos of [0, 1, 2] as const) {
        c.publish('fleet/b1/q' + qos, 'reading-' + qos, { qos }, (e) => { assert.equal(e, null); acked.push(qos); });
      }
      const got = await inbox(sub).next(3);
      await until(() => acked.length === 3, 'the callbacks of all three publishes');
      assert.deepEqual(got.map((m) => `${m.topic} ${m.payload} q${m.packet.qos}`).sort(),
        ['fleet/b1/q0 reading-0 q0', 'fleet/b1/q1 reading-1 q1', 'fleet/b1/q2 reading-2 q2']);
      assert.ok(await quiet(inbox(sub).list), 'no duplicates');
    });

    it(`${v}: the board receives QoS 0, 1 and 2 from an MQTT.js publisher exactly once, at the granted QoS`, async () => {
      const { client: c } = board(b.url, { clientId: 'sub-' + version, protocolVersion: version }, cleanup);
      const got: string[] = [];
      c.on('message', (topic, payload, packet) => got.push(`${topic} ${text(payload)} q${(packet as { qos?: number }).qos || 0}`));
      let granted: unknown = null;
      c.subscribe('cmd/#', { qos: 2 }, (e, g) => { assert.equal(e, null); granted = g; });
      await until(() => c.connected && granted !== null, 'SUBACK');
      assert.deepEqual(granted, [{ topic: 'cmd/#', qos: 2 }]);
      const pub = await client(b.url, { protocolVersion: version }, cleanup);
      for (const qos of [0, 1, 2] as const) await pub.publishAsync('cmd/q' + qos, 'c' + qos, { qos });
      await until(() => got.length === 3, 'three messages');
      assert.deepEqual(got.sort(), ['cmd/q0 c0 q0', 'cmd/q1 c1 q1', 'cmd/q2 c2 q2']);
      assert.ok(await quiet(got), 'no duplicates');
    });
  }

  it('the retained birth message is replaced by the will, retained "offline", when the link is cut', async () => {
    const { client: c, sockets } = board(b.url, {
      clientId: 'b-will', keepalive: 60, will: { topic: 'status/b-will', payload: 'offline', qos: 1, retain: true },
    }, cleanup);
    await until(() => c.connected, 'CONNACK');
    let birthAcked = false;
    c.publish('status/b-will', 'online', { qos: 1, retain: true }, () => { birthAcked = true; });
    await until(() => birthAcked, 'birth PUBACK');
    const sub = await client(b.url, {}, cleanup);
    await subscribe(sub, 'status/#', { qos: 1 });
    const [birth] = await inbox(sub).next(1);
    assert.deepEqual([birth.topic, birth.payload.toString(), birth.packet.retain], ['status/b-will', 'online', true]);
    sockets[0].destroy(); // a cut, not a DISCONNECT: the broker must publish the will
    const [, will] = await inbox(sub).next(2);
    assert.deepEqual([will.topic, will.payload.toString()], ['status/b-will', 'offline']);
    const late = await client(b.url, {}, cleanup);
    await subscribe(late, 'status/#', { qos: 1 });
    const [kept] = await inbox(late).next(1);
    assert.deepEqual([kept.payload.toString(), kept.packet.retain], ['offline', true]);
  });

  it('persistent session: QoS 1 messages published while the board was cut off arrive after it reconnects', async () => {
    const { client: c, sockets } = board(b.url, { clientId: 'b-persist', clean: false }, cleanup);
    const got: string[] = [];
    c.on('message', (_t, payload) => got.push(text(payload)));
    let subscribed = false, closed = false;
    c.subscribe('fleet/b-persist/cmd', { qos: 1 }, () => { subscribed = true; });
    await until(() => subscribed, 'SUBACK');
    c.on('close', () => { closed = true; });
    sockets[0].destroy();
    await until(() => closed, 'link down');
    const pub = await client(b.url, {}, cleanup);
    for (let i = 0; i < 5; i++) await pub.publishAsync('fleet/b-persist/cmd', 'm' + i, { qos: 1 });
    await until(() => got.length >= 5, 'queued messages after reconnect');
    assert.deepEqual([...new Set(got)].sort(), ['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('mqtts://: the board\'s client over TLS (self-signed certificate made by openssl) publishes at QoS 1', async () => {
    const { cert, key } = selfSignedCert(cleanup);
    const tlsBroker = await startBroker({ tlsPort: 0, cert, key });
    cleanup.add(() => tlsBroker.broker.close());
    const sub = await client(tlsBroker.url, {}, cleanup);
    await subscribe(sub, 'secure/#', { qos: 1 });
    const box = inbox(sub);
    const { client: c } = board(`mqtts://127.0.0.1:${tlsBroker.broker.ports.tls}`, { clientId: 'tls-board' }, cleanup, true);
    let acked = false;
    c.on('connect', () => c.publish('secure/b', 'over tls', { qos: 1 }, (e) => { acked = e === null; }));
    const [message] = await box.next();
    assert.equal(message.topic, 'secure/b');
    assert.equal(text(message.payload), 'over tls');
    await until(() => acked, 'PUBACK over TLS');
  });
});

