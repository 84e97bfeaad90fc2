// MQTT over WebSocket with the firmware's own RFC 6455 client framing (firmware/transports/websocket):
// end to end against the reference broker's ws listener, control frames against a real `ws` server,
// and frame edge cases (frames split at every byte, extended lengths, refused upgrades) played byte by
// byte over a virtual socket.
import { strict as assert } from 'assert';
import { createHash } from 'crypto';
import { WebSocketServer, WebSocket } from 'ws';
import { connect, MqttClient } from '../firmware/client';
import { encodePacket } from '../firmware/mqtt';
import type { Packet } from '../firmware/mqtt';
import { acceptFor, connectWebSocket, withWebSocket } from '../firmware/transports/websocket';
import { nodePlatform } from '../host-sim/platform/node';
import { Cleanup, client as mqttjs, startBroker } from './support/broker';
import { VirtualPlatform } from './support/virtual';
import { until } from './support/wait';

describe('MQTT over WebSocket: the firmware client against the reference broker', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  for (const version of [4, 5]) {
    it(`MQTT ${version === 5 ? '5' : '3.1.1'} over ws:// publishes and receives, both ways`, async () => {
      const tb = await startBroker({ wsPort: 0 });
      cleanup.add(() => tb.broker.close());
      const c = connect(withWebSocket(nodePlatform({ log: () => undefined })), `ws://127.0.0.1:${tb.broker.ports.ws}/mqtt`, { clientId: 'ws-' + version, protocolVersion: version, reconnectPeriod: 0 });
      cleanup.add(() => { c.end(); });
      const got: string[] = [];
      c.on('message', (topic, payload) => got.push(topic + ' ' + Buffer.from(payload as Uint8Array).toString()));
      let granted: unknown = null;
      c.subscribe('ws/#', { qos: 1 }, (_e, g) => { granted = g; });
      await until(() => granted !== null, 'SUBACK over ws');
      let acked: unknown = 'pending';
      c.publish('ws/self', 'loop', { qos: 1 }, (e) => { acked = e; });
      const other = await mqttjs(tb.url, {}, cleanup);
      other.publish('ws/other', 'x'.repeat(300), { qos: 1 }); // > 125 bytes: a 16-bit length frame
      await until(() => got.length === 2 && acked === null, 'both messages and the PUBACK');
      assert.deepEqual(got.sort(), ['ws/other ' + 'x'.repeat(300), 'ws/self loop']);
    });
  }
});

describe('MQTT over WebSocket: control frames against a real ws server', () => {
  let wss: WebSocketServer;
  let server: WebSocket | null;
  let c: MqttClient | null;
  let frames: Array<[Buffer, boolean]>;
  beforeEach(async () => {
    server = null;
    frames = [];
    wss = new WebSocketServer({ port: 0, handleProtocols: () => 'mqtt' });
    wss.on('connection', (ws) => {
      server = ws;
      ws.on('message', (data, isBinary) => frames.push([data as Buffer, isBinary]));
    });
    await new Promise((r) => wss.once('listening', r));
  });
  afterEach(async () => {
    if (c) c.end();
    await new Promise((r) => wss.close(r));
  });

  function open(): { closes: string[] } {
    const closes: string[] = [];
    c = connect(withWebSocket(nodePlatform({ log: () => undefined })), `ws://127.0.0.1:${(wss.address() as { port: number }).port}/mqtt`, { clientId: 'w', reconnectPeriod: 0 });
    c.on('close', (reason) => closes.push(reason as string));
    return { closes };
  }

  it('RFC 6455 5.5.2: a ping is answered with a pong carrying the same data', async () => {
    open();
    await until(() => server !== null, 'upgrade');
    let pong: string | null = null;
    (server as WebSocket).on('pong', (data) => { pong = data.toString(); });
    (server as WebSocket).ping('are-you-there');
    await until(() => pong !== null, 'pong');
    assert.equal(pong, 'are-you-there');
  });

  it('RFC 6455 5.5.1: a close frame is answered with a close carrying the code, and the link reports closed', async () => {
    const { closes } = open();
    await until(() => server !== null, 'upgrade');
    let code = 0;
    (server as WebSocket).on('close', (c) => { code = c; });
    (server as WebSocket).close(4001, 'bye');
    await until(() => code !== 0 && closes.length > 0, 'close handshake');
    assert.equal(code, 4001);
    assert.deepEqual(closes, ['WebSocket closed by the server']);
  });

  it('the client\'s frames are masked binary frames the server reads as MQTT (CONNECT first)', async () => {
    open();
    await until(() => frames.length > 0, 'CONNECT frame');
    assert.deepEqual([frames[0][1], frames[0][0][0]], [true, 0x10]);
  });
});

describe('MQTT over WebSocket: frames from the server, byte by byte (virtual socket)', () => {
  /** The server's answer to a request: a 101 with the mqtt subprotocol and the accept that RFC 6455 4.2.2 computes from the key. */
  function switching(request: string, after = ''): string {
    const key = (/\r\nSec-WebSocket-Key: (\S+)\r\n/.exec(request) as RegExpExecArray)[1];
    const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    return 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: mqtt\r\nSec-WebSocket-Accept: ' + accept + '\r\n\r\n' + after;
  }

  /** An upgraded transport on a virtual socket (answered by `response`, from the request); returns what the MQTT layer saw. */
  function upgraded(response: (request: string) => string = (r) => switching(r)) {
    const p = new VirtualPlatform();
    const seen = { opened: false, data: [] as number[], closed: [] as string[] };
    const socket = connectWebSocket(p, { host: 'h', port: 80, tls: false }, '/mqtt', {
      open: () => { seen.opened = true; },
      data: (chunk) => { for (const b of chunk as Uint8Array) seen.data.push(b); },
      close: (reason) => { seen.closed.push(reason); },
    });
    const end = p.end;
    end.accept();
    const request = Buffer.concat(end.bytes).toString('latin1');
    end.bytes.length = 0;
    end.handlers.data(Buffer.from(response(request), 'latin1'));
    return { p, end, seen, socket, request };
  }

  function frame(opcode: number, payload: Uint8Array): Buffer {
    const n = payload.length;
    const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : Buffer.from([0x80 | opcode, 126, n >> 8, n & 255]);
    return Buffer.concat([head, payload]);
  }

  const mqtt = (p: Packet) => encodePacket(p, { protocolVersion: 4 });

  it('RFC 6455 4.1: the upgrade request asks for the mqtt subprotocol with a 16-byte key', () => {
    const { request, seen } = upgraded();
    assert.match(request, /^GET \/mqtt HTTP\/1\.1\r\n/);
    assert.match(request, /\r\nSec-WebSocket-Protocol: mqtt\r\n/);
    const key = /\r\nSec-WebSocket-Key: (\S+)\r\n/.exec(request);
    assert.ok(key);
    assert.equal(Buffer.from(key[1], 'base64').length, 16);
    assert.equal(Buffer.from(key[1], 'base64').toString('base64'), key[1], 'canonical base64');
    assert.ok(seen.opened);
  });

  for (const size of [1, 2, 3, 7]) {
    it(`frames split into ${size}-byte chunks (16-bit lengths, several frames per chunk) give the exact byte stream`, () => {
      const { end, seen } = upgraded();
      const body = Buffer.concat([mqtt({ cmd: 'connack', sessionPresent: false, returnCode: 0 }), mqtt({ cmd: 'publish', topic: 't', payload: 'y'.repeat(200), qos: 0 })]);
      // one MQTT stream over three frames: a binary frame, an empty continuation, and a continuation of 16-bit length
      const wire = Buffer.concat([frame(2, body.subarray(0, 5)), frame(0, new Uint8Array(0)), frame(0, body.subarray(5))]);
      for (let i = 0; i < wire.length; i += size) end.handlers.data(wire.subarray(i, i + size).toString('latin1'));
      assert.deepEqual(Buffer.from(seen.data), body);
      assert.deepEqual(seen.closed, []);
    });
  }

  it('the HTTP response and the first frame may arrive in one chunk', () => {
    const p = upgraded((r) => switching(r, frame(2, mqtt({ cmd: 'pingresp' })).toString('latin1')));
    assert.deepEqual(p.seen.data, [0xd0, 0]);
  });

  it('a ping split across chunks is answered with a masked pong of the same data', () => {
    const { end } = upgraded();
    const ping = frame(9, Buffer.from('abc'));
    end.handlers.data(ping.subarray(0, 3));
    end.handlers.data(ping.subarray(3));
    const pong = end.bytes[0];
    assert.equal(pong[0], 0x8a);
    assert.equal(pong[1], 0x80 | 3, 'masked, 3 bytes');
    const mask = pong.subarray(2, 6);
    assert.equal(Buffer.from(pong.subarray(6).map((b, i) => b ^ mask[i & 3])).toString(), 'abc');
  });

  it('a text frame is refused and closes the link (MQTT-6.0.0-1: binary frames only)', () => {
    const { end, seen } = upgraded();
    end.handlers.data(frame(1, Buffer.from('hi')));
    assert.deepEqual(seen.closed, ['WebSocket frame with opcode 1']);
    assert.ok(end.ended);
  });

  it('an upgrade refused, or without the mqtt subprotocol, closes with the status line', () => {
    const a = upgraded(() => 'HTTP/1.1 404 Not Found\r\n\r\n');
    assert.deepEqual(a.seen.closed, ['WebSocket upgrade refused: HTTP/1.1 404 Not Found']);
    assert.equal(a.seen.opened, false);
    const b = upgraded((r) => switching(r).replace('Sec-WebSocket-Protocol: mqtt\r\n', ''));
    assert.equal(b.seen.closed.length, 1);
  });

  it('RFC 6455 4.1: a 101 without the Sec-WebSocket-Accept of our key (a proxy\'s, a stale one) is refused', () => {
    for (const wrong of [(r: string) => switching(r).replace(/Sec-WebSocket-Accept: \S+/, 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo='),
      (r: string) => switching(r).replace(/Sec-WebSocket-Accept: \S+\r\n/, '')]) {
      const { seen, end } = upgraded(wrong);
      assert.deepEqual([seen.opened, seen.closed], [false, ['WebSocket upgrade refused: wrong Sec-WebSocket-Accept']]);
      assert.ok(end.ended);
    }
  });

  it('the accept is computed as RFC 6455 shows it (its example key and answer)', () => {
    assert.equal(acceptFor('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('writes are single masked binary frames; end() sends close 1000', () => {
    const { end, socket } = upgraded();
    socket.write(Uint8Array.from([0xc0, 0, 9, 9]), 2);
    const f = end.bytes[0];
    assert.deepEqual([f[0], f[1]], [0x82, 0x80 | 2]);
    assert.deepEqual([f[6] ^ f[2], f[7] ^ f[3]], [0xc0, 0]);
    socket.end();
    const c = end.bytes[1];
    assert.deepEqual([c[0], c[6] ^ c[2], c[7] ^ c[3]], [0x88, 3, 232]);
    assert.ok(end.ended);
  });
});

