// MQTT over WebSocket as the spec's section 6 says (issue 13, item 12): binary frames only
// [MQTT-6.0.0-1], and the `mqtt` subprotocol, unless an option relaxes it.
import { strict as assert } from 'assert';
import { WebSocket } from 'ws';
import { encodePacket, decodePackets } from '../firmware/mqtt';
import { Cleanup, client, once, startBroker, type TestBroker } from './support/broker';

const CONNECT = encodePacket({ cmd: 'connect', protocolVersion: 4, clientId: 'ws1', clean: true, keepalive: 0 }, { protocolVersion: 4 });

describe('broker: MQTT over WebSocket', () => {
  const cleanup = new Cleanup();
  let tb: TestBroker | null = null;
  afterEach(async () => { await cleanup.run(); if (tb) await tb.broker.close(); tb = null; });

  async function open(protocols: string[] | undefined): Promise<WebSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${tb!.broker.ports.ws}/mqtt`, protocols);
    cleanup.add(() => ws.terminate());
    await once(ws, 'open');
    return ws;
  }

  it('MQTT-6.0.0-1: a text frame closes the connection, before CONNECT and after it', async () => {
    tb = await startBroker({ wsPort: 0 });
    const ws = await open(['mqtt']);
    const packets: string[] = [];
    ws.on('message', (data: Buffer) => packets.push(...decodePackets(new Uint8Array(data), { protocolVersion: 4 }).map((p) => p.cmd)));
    ws.send(CONNECT, { binary: true });
    await once(ws, 'message');
    assert.deepEqual(packets, ['connack']);
    ws.send('\xc0\x00', { binary: false }); // a PINGREQ's bytes, but in a text frame
    const [code] = await once<[number]>(ws, 'close');
    assert.equal(code, 1003);
    assert.deepEqual(packets, ['connack'], 'no PINGRESP');

    const early = await open(['mqtt']);
    early.send(Buffer.from(CONNECT).toString('latin1'), { binary: false });
    const got: unknown[] = [];
    early.on('message', (d) => got.push(d));
    assert.equal((await once<[number]>(early, 'close'))[0], 1003);
    assert.deepEqual(got, [], 'no CONNACK for a CONNECT in a text frame');
  });

  it('an upgrade without the mqtt subprotocol is refused (400) unless wsSubprotocolOptional', async () => {
    tb = await startBroker({ wsPort: 0 });
    for (const protocols of [undefined, ['chat']]) {
      const refused: WebSocket = new WebSocket(`ws://127.0.0.1:${tb.broker.ports.ws}/mqtt`, protocols);
      refused.on('error', () => { /* the refusal is the point */ });
      const [, res] = await once<[unknown, { statusCode: number; resume(): void }]>(refused, 'unexpected-response');
      res.resume();
      assert.equal(res.statusCode, 400, String(protocols));
    }
    await client(`ws://127.0.0.1:${tb.broker.ports.ws}/mqtt`, { clientId: 'mqttjs' }, cleanup); // MQTT.js offers mqtt
    await tb.broker.close();

    tb = await startBroker({ wsPort: 0, wsSubprotocolOptional: true });
    const ws = await open(undefined);
    ws.send(CONNECT, { binary: true });
    const [data] = await once<[Buffer]>(ws, 'message');
    assert.equal(decodePackets(new Uint8Array(data), { protocolVersion: 4 })[0].cmd, 'connack');
  });
});
