// The package's main module, as a Node user gets it: the built dist/node/sparrow-mqtt.js.
import { strict as assert } from 'assert';
import * as path from 'path';
import { startBroker } from './support/broker';
import { Mosquitto, startMosquitto } from './support/mosquitto';
import { until } from './support/wait';

// the build output, required as a user's `require('sparrow-mqtt')` resolves it
const sparrow = require(path.join(__dirname, '..', 'dist', 'node', 'sparrow-mqtt.js'));

describe('package main (dist/node/sparrow-mqtt.js)', () => {
  let m: Mosquitto;
  before(async () => { m = await startMosquitto(); });
  after(async () => { await m.stop(); });

  it('has the codec: encodePacket and decodePackets round-trip a PUBLISH', () => {
    const bytes = sparrow.encodePacket({ cmd: 'publish', topic: 'a/b', payload: 'hi', qos: 1, messageId: 3 });
    assert.deepEqual(Array.from(bytes), [0x32, 9, 0, 3, 0x61, 0x2f, 0x62, 0, 3, 0x68, 0x69]);
    const [p] = sparrow.decodePackets(bytes);
    assert.equal(p.topic, 'a/b');
    assert.equal(p.messageId, 3);
  });

  it('has MQTT.js\'s connect(url, options): subscribes and gets its own QoS 1 message back', async () => {
    const client = sparrow.connect(m.url, { clientId: 'node-api' });
    const got: string[] = [];
    client.on('message', (topic: string, payload: Buffer) => got.push(topic + '=' + payload.toString()));
    let acked = false;
    client.subscribe('n/#', { qos: 1 }, () => client.publish('n/x', '42', { qos: 1 }, (e: unknown) => { acked = e === null; }));
    try {
      await until(() => acked && got.length === 1, 'PUBACK and the message');
      assert.deepEqual(got, ['n/x=42']);
    } finally {
      client.end();
    }
  });

  it('a payload kept from one message still holds its bytes after the next message arrives', async () => {
    const client = await sparrow.connectAsync(m.url);
    const kept: Buffer[] = [];
    client.on('message', (_topic: string, payload: Buffer) => kept.push(payload));
    try {
      await client.subscribeAsync('keep/#', { qos: 1 });
      await client.publishAsync('keep/a', 'first message', { qos: 1 });
      await client.publishAsync('keep/b', 'SECOND', { qos: 1 });
      await until(() => kept.length === 2, 'both messages');
      assert.deepEqual(kept.map((p) => p.toString()), ['first message', 'SECOND']);
    } finally {
      await client.endAsync(true);
    }
  });

  it('end() without force waits for the QoS 1 message in flight; end(true) fails it with "Connection closed"', async () => {
    const client = await sparrow.connectAsync(m.url);
    const results: unknown[] = [];
    client.publish('wait/a', 'x', { qos: 1 }, (e: Error | null) => results.push(e && e.message));
    await client.endAsync();
    const forced = await sparrow.connectAsync(m.url);
    forced.publish('wait/b', 'y', { qos: 1 }, (e: Error | null) => results.push(e && e.message));
    await forced.endAsync(true);
    assert.deepEqual(results, [null, 'Connection closed']);
  });

  it('refusals are Errors with the reason code: an invalid topic (0x90) and a filter MQTT.js calls invalid', async () => {
    const client = await sparrow.connectAsync(m.url);
    try {
      const e = await client.publishAsync('a/+/b', 'x', { qos: 1 }).then(() => null, (err: unknown) => err);
      assert.ok(e instanceof Error);
      assert.equal((e as { code?: number }).code, 0x90);
      await assert.rejects(client.subscribeAsync('a/#/b'), { message: 'Invalid topic a/#/b' });
    } finally {
      await client.endAsync(true);
    }
  });

  it('publishing after end() fails in the callback, and connect() refuses a protocol it cannot speak', async () => {
    const client = await sparrow.connectAsync(m.url);
    await client.endAsync();
    await assert.rejects(client.publishAsync('late', 'x'), { message: 'client disconnecting' });
    assert.match(client.options.clientId, /^sparrow_[0-9a-f]{8}$/, 'a made-up client id is in client.options, as in MQTT.js');
    assert.throws(() => sparrow.connect('http://127.0.0.1:1'), /unknown protocol "http"/);
    assert.throws(() => sparrow.connect('mqtt://127.0.0.1', { port: 70000 }), /invalid port: 70000/);
  });

  it('reconnect() while connected drops the link and comes back with its store: a QoS 1 message in flight is still delivered', async () => {
    const client = await sparrow.connectAsync(m.url, { clientId: 'node-api-reconnect', clean: false });
    const events: string[] = [];
    for (const name of ['close', 'offline', 'reconnect', 'connect']) client.on(name, () => events.push(name));
    const watcher = await sparrow.connectAsync(m.url);
    const got: string[] = [];
    watcher.on('message', (_t: string, p: Buffer) => got.push(p.toString()));
    try {
      await watcher.subscribeAsync('again/#', { qos: 1 });
      let result: unknown = 'pending';
      client.publish('again/x', 'kept', { qos: 1 }, (e: Error | null) => { result = e; });
      client.reconnect();
      await until(() => result !== 'pending' && events.includes('connect'), 'the PUBACK after the reconnect');
      assert.equal(result, null);
      assert.deepEqual(events, ['close', 'offline', 'reconnect', 'connect']);
      await until(() => got.length > 0, 'the message');
      assert.equal(got[0], 'kept');
    } finally {
      await client.endAsync(true);
      await watcher.endAsync(true);
    }
  });

  it('connect({ protocol: "ws", host, port, path }) speaks MQTT 5 over WebSocket (the reference broker\'s ws listener)', async () => {
    const tb = await startBroker({ wsPort: 0 });
    const client = await sparrow.connectAsync({ protocol: 'ws', host: '127.0.0.1', port: tb.broker.ports.ws, path: '/mqtt', protocolVersion: 5 });
    try {
      const got: string[] = [];
      client.on('message', (t: string, p: Buffer) => got.push(t + ' ' + p.toString()));
      await client.subscribeAsync('ws/#', { qos: 1 });
      await client.publishAsync('ws/self', 'over ws', { qos: 2 });
      await until(() => got.length === 1, 'the message over ws');
      assert.deepEqual(got, ['ws/self over ws']);
    } finally {
      await client.endAsync(true);
      await tb.broker.close();
    }
  });
});
