// encode() refuses every value the spec does not allow (issue 13, item 15), with an Error that says
// why, and writes nothing: each packet below used to come out as wrong bytes (or as bytes a peer
// must refuse). Also the bridge flag of mosquitto's try_private (item 13), both ways, against mqtt-packet.
import { strict as assert } from 'assert';
import * as mqttPacket from 'mqtt-packet';
import { decodePackets, encode, encodePacket } from '../firmware/mqtt';
import type { Packet } from '../firmware/mqtt';

const BAD: [string, number, unknown][] = [
  ['messageExpiryInterval -4321', 5, { cmd: 'publish', topic: 't', payload: 'x', properties: { messageExpiryInterval: -4321 } }],
  ['messageExpiryInterval 2^32', 5, { cmd: 'publish', topic: 't', payload: 'x', properties: { messageExpiryInterval: 2 ** 32 } }],
  ['messageExpiryInterval 1.5', 5, { cmd: 'publish', topic: 't', payload: 'x', properties: { messageExpiryInterval: 1.5 } }],
  ['subscriptionIdentifier -120', 5, { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 0 }], properties: { subscriptionIdentifier: -120 } }],
  ['subscriptionIdentifier 2^28', 5, { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 0 }], properties: { subscriptionIdentifier: 2 ** 28 } }],
  ['subscriptionIdentifier 0', 5, { cmd: 'publish', topic: 't', payload: 'x', properties: { subscriptionIdentifier: 0 } }],
  ['two subscriptionIdentifiers on SUBSCRIBE', 5, { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 0 }], properties: { subscriptionIdentifier: [1, 2] } }],
  ['receiveMaximum 0', 5, { cmd: 'connect', clientId: 'c', properties: { receiveMaximum: 0 } }],
  ['topicAlias 70000', 5, { cmd: 'publish', topic: 't', payload: 'x', properties: { topicAlias: 70000 } }],
  ['maximumQoS 2', 5, { cmd: 'connack', reasonCode: 0, properties: { maximumQoS: 2 } }],
  ['topicAlias in CONNECT', 5, { cmd: 'connect', clientId: 'c', properties: { topicAlias: 1 } }],
  ['willDelayInterval outside a will', 5, { cmd: 'publish', topic: 't', payload: 'x', properties: { willDelayInterval: 1 } }],
  ['an unknown property', 5, { cmd: 'publish', topic: 't', payload: 'x', properties: { colour: 'red' } }],
  ['protocol version 6 in CONNECT', 4, { cmd: 'connect', protocolVersion: 6, clientId: 'c' }],
  ['protocol version 6 as the encoding version', 6, { cmd: 'pingreq' }],
  ['clean false without a client id (3.1.1)', 4, { cmd: 'connect', clientId: '', clean: false }],
  ['password without user name (3.1.1)', 4, { cmd: 'connect', clientId: 'c', password: 'p' }],
  ['will QoS 3', 4, { cmd: 'connect', clientId: 'c', will: { topic: 't', payload: 'x', qos: 3 } }],
  ['will topic with a wildcard', 4, { cmd: 'connect', clientId: 'c', will: { topic: 'a/+', payload: 'x' } }],
  ['keepalive 65536', 4, { cmd: 'connect', clientId: 'c', keepalive: 65536 }],
  ['keepalive -1', 4, { cmd: 'connect', clientId: 'c', keepalive: -1 }],
  ['PUBLISH QoS 3', 4, { cmd: 'publish', topic: 't', payload: 'x', qos: 3, messageId: 1 }],
  ['PUBLISH QoS 1 without a packet id', 4, { cmd: 'publish', topic: 't', payload: 'x', qos: 1 }],
  ['PUBLISH packet id 0', 4, { cmd: 'publish', topic: 't', payload: 'x', qos: 1, messageId: 0 }],
  ['PUBLISH packet id 65536', 4, { cmd: 'publish', topic: 't', payload: 'x', qos: 2, messageId: 65536 }],
  ['DUP on QoS 0', 4, { cmd: 'publish', topic: 't', payload: 'x', dup: true }],
  ['PUBLISH topic with #', 4, { cmd: 'publish', topic: 'a/#', payload: 'x' }],
  ['PUBLISH empty topic without an alias', 5, { cmd: 'publish', topic: '', payload: 'x' }],
  ['PUBACK packet id 0', 4, { cmd: 'puback', messageId: 0 }],
  ['PUBACK reason 0x8f', 5, { cmd: 'puback', messageId: 1, reasonCode: 0x8f }],
  ['SUBSCRIBE without filters', 4, { cmd: 'subscribe', messageId: 1, subscriptions: [] }],
  ['SUBSCRIBE filter a/#/b', 4, { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#/b', qos: 0 }] }],
  ['SUBSCRIBE QoS 3', 4, { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 3 }] }],
  ['SUBSCRIBE retain handling 3', 5, { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 0, rh: 3 }] }],
  ['UNSUBSCRIBE empty filter', 4, { cmd: 'unsubscribe', messageId: 1, unsubscriptions: [''] }],
  ['SUBACK code 3 (3.1.1)', 4, { cmd: 'suback', messageId: 1, granted: [3] }],
  ['CONNACK return code 6', 4, { cmd: 'connack', returnCode: 6 }],
  ['CONNACK session present with a refusal', 4, { cmd: 'connack', returnCode: 5, sessionPresent: true }],
  ['DISCONNECT reason 0x10', 5, { cmd: 'disconnect', reasonCode: 0x10 }],
];

describe('codec: encode refuses what the spec does not allow', () => {
  for (const [what, version, packet] of BAD) {
    it(`refuses ${what}, writing nothing`, () => {
      const buf = new Uint8Array(256).fill(0xaa);
      assert.throws(() => encode(packet as Packet, version, buf, 3), (e: Error) => e instanceof Error && /^cannot encode: ./.test(e.message));
      assert.ok(buf.every((b) => b === 0xaa), 'bytes were written');
    });
  }

  it('refuses an empty topic as the first topic a process encodes, and after any other (its last-valid-topic memory starts unset)', () => {
    // a fresh copy of the encoder, as a new process has: this one has checked many topics already
    const file = require.resolve('../firmware/mqtt/encode');
    const kept = require.cache[file];
    delete require.cache[file];
    try {
      const fresh = require('../firmware/mqtt/encode') as typeof import('../firmware/mqtt/encode');
      const buf = new Uint8Array(64);
      const refuses = (packet: unknown) => assert.throws(() => fresh.encode(packet as Packet, 4, buf, 0), /is not a valid topic name/);
      refuses({ cmd: 'connect', clientId: 'c', will: { topic: '', payload: 'x' } });
      refuses({ cmd: 'publish', topic: '', payload: 'x' });
      fresh.encode({ cmd: 'publish', topic: 't', payload: 'x', qos: 0 } as Packet, 4, buf, 0);
      refuses({ cmd: 'publish', topic: '', payload: 'x' });
    } finally {
      require.cache[file] = kept;
    }
  });

  it('still encodes the edges the spec allows', () => {
    const ok: [number, unknown][] = [
      [5, { cmd: 'publish', topic: 't', payload: 'x', properties: { messageExpiryInterval: 2 ** 32 - 1, subscriptionIdentifier: [1, 268435455] } }],
      [5, { cmd: 'publish', topic: '', payload: 'x', properties: { topicAlias: 1 } }],
      [5, { cmd: 'connect', clientId: '', clean: false }], // MQTT 5: the server assigns an id
      [5, { cmd: 'connect', clientId: 'c', password: 'p' }], // MQTT 5: a password alone is allowed
      [4, { cmd: 'publish', topic: 't', payload: 'x', qos: 2, messageId: 65535, dup: true }],
      [4, { cmd: 'connect', clientId: 'c', keepalive: 65535 }],
      [4, { cmd: 'suback', messageId: 1, granted: [0, 1, 2, 0x80] }],
      [5, { cmd: 'connack', reasonCode: 0x87 }],
    ];
    for (const [version, packet] of ok) {
      const bytes = encodePacket(packet as Packet, { protocolVersion: version });
      assert.equal(decodePackets(bytes, { protocolVersion: version }).length, 1, JSON.stringify(packet));
    }
  });
});

describe('codec: a mosquitto bridge\'s CONNECT (protocol level 0x80 | version)', () => {
  for (const [level, version, id] of [[0x84, 4, 'MQTT'], [0x83, 3, 'MQIsdp']] as const) {
    it(`issue 13.13: decodes level 0x${level.toString(16)} as bridgeMode with version ${version}, as mqtt-packet does, and encodes it back`, () => {
      const bytes = encodePacket({ cmd: 'connect', protocolVersion: version, protocolId: id, bridgeMode: true, clientId: 'bridge', clean: false } as Packet, { protocolVersion: version });
      assert.equal(bytes[2 + 2 + id.length], level);
      const [p] = decodePackets(bytes, { protocolVersion: version }) as any[];
      assert.equal(p.bridgeMode, true);
      assert.equal(p.protocolVersion, version);
      const parser = mqttPacket.parser({ protocolVersion: version });
      const seen: any[] = [];
      parser.on('packet', (q) => seen.push(q));
      parser.parse(Buffer.from(bytes));
      assert.equal(seen[0].bridgeMode, true);
      assert.equal(seen[0].protocolVersion, version);
      const theirs = mqttPacket.generate({ cmd: 'connect', protocolVersion: version, protocolId: id, bridgeMode: true, clientId: 'bridge', clean: false, keepalive: 60 } as any);
      assert.deepEqual(Buffer.from(bytes), theirs);
    });
  }

  it('a plain CONNECT has no bridgeMode, and MQTT 5 has no bridge level (0x85 is refused)', () => {
    const [p] = decodePackets(encodePacket({ cmd: 'connect', clientId: 'c' }, { protocolVersion: 4 }), { protocolVersion: 4 }) as any[];
    assert.equal(p.bridgeMode, undefined);
    const bytes = encodePacket({ cmd: 'connect', protocolVersion: 5, clientId: 'c' }, { protocolVersion: 5 });
    bytes[2 + 2 + 4] = 0x85;
    assert.throws(() => decodePackets(bytes, { protocolVersion: 5 }), (e: any) => e.reasonCode === 0x84);
  });
});

describe('codec: the reader refuses a wildcard topic name, where a peer could send it', () => {
  it('MQTT-3.3.2-2: a PUBLISH or will topic with a wildcard is refused with 0x90 (the will\'s used to pass)', () => {
    const publish = Uint8Array.of(0x30, 5, 0, 3, 0x61, 0x2f, 0x2b); // PUBLISH "a/+", no payload
    assert.throws(() => decodePackets(publish, { protocolVersion: 4 }), (e: any) => e.reasonCode === 0x90);
    const connect = encodePacket({ cmd: 'connect', clientId: 'c', will: { topic: 'a/b', payload: 'x' } }, { protocolVersion: 4 });
    const at = Buffer.from(connect).indexOf('a/b');
    connect[at + 2] = 0x23; // a/#
    assert.throws(() => decodePackets(connect, { protocolVersion: 4 }), (e: any) => e.reasonCode === 0x90);
  });
});
