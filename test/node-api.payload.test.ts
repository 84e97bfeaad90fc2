// Message payloads of the package's Node client (dist/node/sparrow-mqtt.js), as MQTT.js hands them: a
// Buffer that is a view of the bytes that came off the socket, not a copy, except for a packet that was
// split across socket chunks, which the session collects in a buffer it reuses for the next split packet.
// The broker is a scripted TCP peer: only it decides where the chunks end, and it sends the next chunk
// once the client has shown (by a message event) that it read the previous one, so each write is a chunk.
import { strict as assert } from 'assert';
import * as net from 'net';
import * as path from 'path';
import { until } from './support/wait';

const sparrow = require(path.join(__dirname, '..', 'dist', 'node', 'sparrow-mqtt.js'));

/** A broker that answers the CONNECT with a CONNACK and then sends what the test writes, write by write. */
async function scriptedBroker(): Promise<{ url: string; peer: () => net.Socket | null; close(): void }> {
  let peer: net.Socket | null = null;
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.once('data', () => { peer = socket; socket.write(Buffer.from([0x20, 2, 0, 0])); });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { url: 'mqtt://127.0.0.1:' + port, peer: () => peer, close: () => { if (peer) peer.destroy(); server.close(); } };
}

const publish = (topic: string, text: string): Buffer =>
  Buffer.from(sparrow.encodePacket({ cmd: 'publish', topic, payload: text, qos: 0 }));

describe('Node API: message payloads are Buffer views of the socket data (as MQTT.js)', () => {
  it('a packet whole in one chunk is handed as a view of it; a split one survives the next split packet', async () => {
    const broker = await scriptedBroker();
    const client = sparrow.connect(broker.url, { reconnectPeriod: 0 });
    const got: Array<{ topic: string; payload: Buffer }> = [];
    client.on('message', (topic: string, payload: Buffer) => got.push({ topic, payload }));
    try {
      await until(() => client.connected && broker.peer() !== null, 'the CONNACK');
      const a1 = publish('t/a1', 'first'), a2 = publish('t/a2', 'second');
      const b = publish('t/split', 'B'.repeat(300)), c = publish('t/c', 'third'), d = publish('t/split', 'D'.repeat(300));
      broker.peer()!.write(Buffer.concat([a1, a2, b.subarray(0, 100)]));
      await until(() => got.length === 2, 'the two messages of the first chunk');
      broker.peer()!.write(Buffer.concat([b.subarray(100), c, d.subarray(0, 100)]));
      await until(() => got.length === 4, 'the split message and the one after it');
      broker.peer()!.write(d.subarray(100));
      await until(() => got.length === 5, 'the second split message');

      assert.deepEqual(got.map((m) => m.topic), ['t/a1', 't/a2', 't/split', 't/c', 't/split']);
      for (const m of got) assert.ok(Buffer.isBuffer(m.payload), m.topic + ': a Buffer');
      assert.deepEqual(got.map((m) => m.payload.toString()), ['first', 'second', 'B'.repeat(300), 'third', 'D'.repeat(300)]);
      // no copy: right after each payload, in its memory, lie the bytes that followed it on the wire
      const after = (p: Buffer, n: number) => Buffer.from(p.buffer, p.byteOffset + p.length, Math.min(n, p.buffer.byteLength - p.byteOffset - p.length));
      assert.deepEqual(after(got[0].payload, a2.length), a2, 'the first payload is a view of the first chunk');
      assert.equal(got[1].payload.buffer, got[0].payload.buffer, 'two messages of one chunk share its memory');
      assert.deepEqual(after(got[3].payload, 100), d.subarray(0, 100), 'the message after the split one is a view of the second chunk');
    } finally {
      client.end(true);
      broker.close();
    }
  });
});
