// The package's main module, as a Node user gets it: the built dist/node/sparrow-mqtt.js.
import { strict as assert } from 'assert';
import * as path from 'path';
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
    client.on('message', (topic: string, payload: Uint8Array) => got.push(topic + '=' + Buffer.from(payload).toString()));
    let acked = false;
    client.subscribe('n/#', { qos: 1 }, () => client.publish('n/x', '42', { qos: 1 }, (e: unknown) => { acked = e === null; }));
    try {
      await until(() => acked && got.length === 1, 'PUBACK and the message');
      assert.deepEqual(got, ['n/x=42']);
    } finally {
      client.end();
    }
  });
});
