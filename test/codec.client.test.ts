// One specification for both codecs: the board's client codec (firmware/mqtt/client-codec.ts) held to the
// same hand-written vectors as the general codec (test/codec-vectors.ts): exact bytes for what a client
// sends, decoded fields for what a broker sends. Then a property test: on any broker-to-client bytes, the
// client decoder and the general decoder (decode.ts behind frames.ts) accept the same packets with the same
// fields, or refuse them with the same reason code, except for the checks listed in BOARD_SKIPS, which the
// board leaves out to save its bytes (each says what it saves and what the board does instead).
import { strict as assert } from 'assert';
import fc from 'fast-check';
import {
  CMD_NAMES, DISCONNECT, PINGREQ, PROPERTY_IDS, SUBSCRIBE, UNSUBSCRIBE, decodePackets, encodePacket, packetType, validTopicName,
} from '../firmware/mqtt';
import type { DecodeError, Packet, Properties } from '../firmware/mqtt';
import { ackPacket, connectPacket, parsePacket, publishPacket, publishText, shortPacket, subscribePacket } from '../firmware/mqtt/client-codec';
import { hex, toHex } from './codec-helpers';
import { V311, V5, type Vector } from './codec-vectors';
import { PROTOTYPE_KEYS, concat, normalize, packetOf, type Command, type Version } from './support/arbitraries';
import { Peer } from './support/peer';

const SCALE = Number(process.env.FC_SCALE) || 1;
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

/** Packets a broker sends a client: the client codec's decoding half. */
const FROM_BROKER: Command[] = ['connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'suback', 'unsuback', 'pingresp', 'disconnect', 'auth'];
/** Packets a client sends: its encoding half. */
const FROM_CLIENT: Command[] = ['connect', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'unsubscribe', 'pingreq', 'disconnect'];

// ---- the client codec, driven like the session drives it ----

/**
 * The client codec's bytes for a packet the board sends, or null for a form it never sends: its acks and
 * DISCONNECT carry no properties, and a client's PUBLISH no subscription identifier [MQTT-3.3.4-6]. DUP is not the encoder's: the session sets it in a stored packet's first
 * byte when it resends (session.ts `resume`), and so does this.
 */
function clientEncode(p: Packet, v: 4 | 5): Uint8Array | null {
  const q = p as any;
  let out: Uint8Array;
  switch (p.cmd) {
    case 'connect':
      out = connectPacket(v, q.clientId, q.clean !== false, q.keepalive, q.username, q.password, q.will, q.properties);
      break;
    case 'publish':
      if (q.properties && q.properties.subscriptionIdentifier !== undefined) return null;
      out = publishPacket(v, q.topic, q.payload, q.qos || 0, !!q.retain, q.messageId || 0, q.properties).slice();
      if (q.dup) out[0] |= 8;
      return out;
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp':
      if (q.properties) return null;
      out = ackPacket(packetType(p.cmd), q.messageId, q.reasonCode || 0);
      break;
    case 'subscribe':
      out = subscribePacket(v, SUBSCRIBE, q.messageId, q.subscriptions, q.properties);
      break;
    case 'unsubscribe':
      out = subscribePacket(v, UNSUBSCRIBE, q.messageId, q.unsubscriptions, q.properties);
      break;
    case 'pingreq':
      out = shortPacket(PINGREQ, 0);
      break;
    case 'disconnect':
      if (q.properties) return null;
      out = shortPacket(DISCONNECT, q.reasonCode || 0);
      break;
    default:
      return null;
  }
  return out.slice(); // the codec's scratch buffer is reused by the next packet
}

type Outcome = { packet: { [k: string]: unknown } } | { code: number; message?: string };

/** One whole packet through the client decoder, framed as the session frames it. */
function clientDecode(bytes: Uint8Array, v: 4 | 5): Outcome {
  let at = 1, length = 0;
  for (let m = 1; ; m *= 128) {
    const c = bytes[at++];
    length += (c & 127) * m;
    if (c < 128) break;
  }
  assert.equal(at + length, bytes.length, 'test input is one whole packet');
  const type = bytes[0] >> 4;
  try {
    const p = parsePacket(type, bytes[0] & 15, bytes.subarray(at), length, v);
    // the board names the packet only where its API hands it out (connack, publish): the session knows the type
    return { packet: normalize({ ...p, cmd: CMD_NAMES[type] }, v) };
  } catch (e) {
    assert.equal(typeof e, 'number', 'the client codec throws only reason codes');
    return { code: e as number };
  }
}

function generalDecode(bytes: Uint8Array, v: 4 | 5): Outcome {
  try {
    const packets = decodePackets(bytes, { protocolVersion: v });
    assert.equal(packets.length, 1);
    return { packet: normalize(packets[0], v) };
  } catch (e) {
    const err = e as DecodeError;
    assert.equal(typeof err.reasonCode, 'number', String(e));
    return { code: err.reasonCode, message: err.message };
  }
}

// ---- what the board does not check ----

interface Skip {
  name: string;
  /** Whether the general decoder's outcome is this check (or, for AUTH and keys, the input is this case). */
  applies(general: Outcome, bytes: Uint8Array, v: 4 | 5): boolean;
  /** What must still hold of the client decoder's outcome. */
  board(client: Outcome): void;
}

/**
 * The checks the general decoder makes and the board's decoder leaves out, with what each would cost the
 * full library (measured with `npm run build`, sparrow-mqtt.full.js) and why leaving it out loses nothing.
 * The same list is in client-codec.ts's header.
 */
export const BOARD_SKIPS: Skip[] = [
  {
    // +468 B for a table of the codes allowed per packet (+1,570 B with REASONS as it is, texts included).
    // The session reads a code < 0x80 as success and >= 0x80 as failure, as the spec defines them (2.4).
    name: 'a reason code the spec does not allow in that packet (a PUBACK 0x05, a SUBACK 0x05 in MQTT 5)',
    applies: (g) => 'code' in g && /^reason code 0x[0-9a-f]+ is not valid in /.test(g.message || ''),
    board: () => undefined,
  },
  {
    // +38 B. A 0 receiveMaximum or maximumPacketSize reads as "no limit given", a 0 topicAlias as no
    // alias (and then an empty topic is refused by the session), a 0 subscription identifier is unused.
    name: 'receiveMaximum, topicAlias, maximumPacketSize or subscriptionIdentifier of 0',
    applies: (g) => 'code' in g && / must not be 0$/.test(g.message || ''),
    board: () => undefined,
  },
  {
    // Not a saving but a place: the session checks the topic once, after resolving a topic alias, with
    // validTopicName, and refuses the packet (0x82) as the general decoder does (0x90 for a wildcard).
    name: 'a PUBLISH topic with a wildcard, or empty without a topic alias: refused by the session instead',
    applies: (g) => 'code' in g && (g.message === 'wildcard in a topic name' || g.message === 'empty topic without a topic alias'),
    board: (c) => {
      if (!('packet' in c)) return;
      const p = c.packet as { topic: string; properties?: Properties };
      const alias = p.properties && p.properties.topicAlias;
      assert.ok(!validTopicName(p.topic) && !(p.topic === '' && alias), 'the session refuses topic ' + JSON.stringify(p.topic));
    },
  },
  {
    // Enhanced authentication is not in the board's library: a broker sends AUTH only to a client that
    // asked for it with an authenticationMethod, and the session refuses one as a protocol error.
    name: 'AUTH (type 15; reserved in 3.1.1): not decoded; the session refuses it',
    applies: (_g, bytes) => bytes[0] >> 4 === 15,
    board: () => undefined, // the session's refusal is tested below
  },
  {
    // Espruino has no prototype-less objects: Object.create(null) keeps Object's members, and assigning a
    // string to `__proto__` stops the 2v29 interpreter (ASSERT in jsvar.c). A user property named like a
    // member of Object.prototype decodes wrong on the board (the key is lost or its value wrapped).
    name: 'a user property named like a member of Object.prototype (toString, __proto__, ...)',
    applies: (g) => 'packet' in g && hasPrototypeKey(g.packet),
    board: () => undefined,
  },
];

function hasPrototypeKey(p: { [k: string]: unknown }): boolean {
  const up = (p.properties as { userProperties?: object } | undefined)?.userProperties;
  return !!up && Object.keys(up).some((k) => PROTOTYPE_KEYS.includes(k));
}

/** Asserts that the two decoders agree on `bytes`, or that their difference is one of BOARD_SKIPS. */
function assertAgree(bytes: Uint8Array, v: 4 | 5): void {
  const g = generalDecode(bytes, v), c = clientDecode(bytes, v);
  const skip = BOARD_SKIPS.find((s) => s.applies(g, bytes, v));
  if (skip) return skip.board(c);
  const what = 'MQTT ' + v + ' ' + toHex(bytes);
  if ('code' in g) {
    assert.ok('code' in c, what + ': the general decoder refuses it (0x' + g.code.toString(16) + ', ' + g.message + '), the board accepts ' + JSON.stringify(c));
    assert.equal('0x' + c.code.toString(16), '0x' + g.code.toString(16), what + ': ' + g.message);
  } else {
    assert.ok('packet' in c, what + ': the board refuses it (0x' + ('code' in c ? c.code.toString(16) : '') + '), the general decoder accepts it');
    assert.deepStrictEqual(c.packet, g.packet, what);
  }
}

// ---- the vectors ----

/** A vector's packet with its properties (and will properties) in the order of their ids. */
function inIdOrder(p: Packet): Packet {
  const sort = (props: Properties | undefined) => props && Object.fromEntries(Object.entries(props).sort((a, b) => PROPERTY_IDS[a[0]] - PROPERTY_IDS[b[0]]));
  const q = { ...p } as any;
  if (q.properties) q.properties = sort(q.properties);
  if (q.will && q.will.properties) q.will = { ...q.will, properties: sort(q.will.properties) };
  return q;
}

function clientVectors(title: string, vectors: Vector[]): void {
  describe(title, () => {
    for (const vec of vectors) {
      const v = vec.version as 4 | 5, cmd = vec.packet.cmd;
      if (!vec.decodeOnly && FROM_CLIENT.includes(cmd as Command)) {
        const sent = clientEncode(vec.packet, v);
        if (sent) {
          it('encode: ' + vec.name, () => {
            // the board writes properties in the order of their ids (it has no name index): where the vector
            // lists them in another order, the bytes it must give are the general encoder's for that order,
            // which codec.unit.test.ts pins to the vectors
            const ordered = inIdOrder(vec.packet);
            const expected = JSON.stringify(ordered) === JSON.stringify(vec.packet) ? vec.bytes : encodePacket(ordered, { protocolVersion: v });
            assert.equal(toHex(sent), toHex(expected));
            assert.deepStrictEqual(normalize(decodePackets(sent, { protocolVersion: v })[0], v), normalize(vec.packet, v));
          });
        }
      }
      if (!vec.encodeOnly && FROM_BROKER.includes(cmd as Command) && cmd !== 'auth') {
        it('decode: ' + vec.name, () => {
          const c = clientDecode(vec.bytes, v);
          assert.ok('packet' in c, 'refused with 0x' + ('code' in c ? c.code.toString(16) : ''));
          assert.deepStrictEqual(c.packet, normalize(vec.packet, v));
        });
      }
    }
  });
}

clientVectors('client codec, MQTT 3.1.1: the hand-written vectors', V311);
clientVectors('client codec, MQTT 5.0: the hand-written vectors', V5);

describe('client codec: what the vectors leave out of it', () => {
  it('every vector of a packet the board sends is encoded by it, except acks and DISCONNECT with properties and a PUBLISH with a subscription identifier', () => {
    const skipped = [...V311, ...V5].filter((vec) => !vec.decodeOnly && FROM_CLIENT.includes(vec.packet.cmd as Command))
      .filter((vec) => !clientEncode(vec.packet, vec.version as 4 | 5)).map((vec) => vec.packet.cmd);
    assert.deepEqual(skipped, ['publish', 'publish', 'puback', 'pubrec', 'pubrel', 'disconnect', 'disconnect']);
  });
});

// ---- the property tests ----

describe('client encoder: any packet the board sends decodes, by the general decoder, to what it was given', function () {
  this.timeout(120000);
  for (const v of [4, 5] as const) {
    it(v === 5 ? 'MQTT 5' : 'MQTT 3.1.1', () => {
      // the board speaks 3.1.1 or 5, never 3.1 (MQIsdp)
      const sent = fc.oneof(...FROM_CLIENT.map((c) => packetOf(c, v)))
        .filter((p) => (p as { protocolVersion?: number }).protocolVersion !== 3)
        .map((p) => ({ p, bytes: clientEncode(p, v) }))
        .filter((x) => x.bytes !== null);
      fc.assert(fc.property(sent, ({ p, bytes }) => {
        assert.deepStrictEqual(normalize(decodePackets(bytes!, { protocolVersion: v })[0], v), normalize(p, v));
      }), { numRuns: runs(3000) });
    });
  }
});

/** A valid packet a broker sends, encoded by the general encoder. */
function brokerPacket(v: Version): fc.Arbitrary<Uint8Array> {
  const cmds = FROM_BROKER.filter((c) => v === 5 || c !== 'auth');
  return fc.oneof(...cmds.map((c) => packetOf(c, v))).map((p) => encodePacket(p, { protocolVersion: v }).slice());
}

/** A packet's first byte and body, framed with its remaining length. */
function frame(first: number, body: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = body.length;
  do { len.push(n > 127 ? (n & 127) | 128 : n); n = Math.floor(n / 128); } while (n);
  return concat([Uint8Array.of(first, ...len), body]);
}

function bodyOf(bytes: Uint8Array): Uint8Array {
  let at = 1;
  while (bytes[at] & 128) at++;
  return bytes.subarray(at + 1);
}

const BROKER_TYPES = [2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 15];

/** Broker-to-client bytes: valid packets mutated (flags, bytes flipped, set, cut, inserted), then framed whole. */
function mutatedBrokerPacket(v: Version): fc.Arbitrary<Uint8Array> {
  const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 4 }));
  return fc.tuple(brokerPacket(v), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([bytes, edits]) => {
    let first = bytes[0];
    let b = Array.from(bodyOf(bytes));
    for (const [at, value, kind] of edits) {
      const i = b.length ? at % b.length : 0;
      if (kind === 0 && b.length) b[i] ^= 1 << (value & 7);
      else if (kind === 1 && b.length) b[i] = value;
      else if (kind === 2) b = b.slice(0, i);
      else if (kind === 3) b.splice(i, 0, value);
      else first = (first & 0xf0) | (value & 15);
    }
    return frame(first, Uint8Array.from(b));
  });
}

/** Any first byte of a broker's packet type, any body. */
function randomBrokerPacket(): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.constantFrom(...BROKER_TYPES), fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 48 }))
    .map(([type, flags, body]) => frame(type << 4 | flags, body));
}

describe('client decoder and general decoder agree on any broker-to-client bytes (except BOARD_SKIPS)', function () {
  this.timeout(120000);

  it('the seven malformed inputs the board once took: refused alike, or a documented skip', () => {
    // each of these was accepted by the client decoder and refused by the general one
    const seven: Array<[string, 4 | 5, string, number | 'skip']> = [
      ['a PUBACK with reason 0x05', 5, '40 03 00 01 05', 'skip'],
      ['topicAlias twice', 5, '30 0b 00 01 61 06 23 00 01 23 00 01 7a', 0x82],
      ['CONNACK acknowledge flags 0x02', 4, '20 02 02 00', 0x81],
      ['CONNACK return code 9', 4, '20 02 00 09', 0x82],
      ['a 3.1.1 SUBACK with return code 0x05', 4, '90 03 00 01 05', 0x81],
      ['a QoS 0 PUBLISH with DUP', 4, '38 04 00 01 61 7a', 0x81],
      ['a topicAlias in CONNACK', 5, '20 06 00 00 03 23 00 01', 0x81],
    ];
    for (const [name, v, h, code] of seven) {
      const c = clientDecode(hex(h), v);
      if (code === 'skip') assert.ok(BOARD_SKIPS[0].applies(generalDecode(hex(h), v), hex(h), v), name);
      else assert.deepEqual(c, { code }, name);
      assertAgree(hex(h), v);
    }
  });

  it('AUTH (BOARD_SKIPS): the session refuses it as a protocol error, in both versions', () => {
    for (const v of [4, 5] as const) {
      const p = new Peer({ protocolVersion: v, keepalive: 0 });
      p.connect();
      p.session.data(hex('f0 00'), p.now);
      assert.deepEqual(p.errors().map((e) => e.reasonCode), [0x82], 'MQTT ' + v);
    }
  });

  it('MQTT 5: a SUBACK or UNSUBACK without codes is a packet cut short (0x81) in both', () => {
    assert.deepEqual(clientDecode(hex('90 03 00 01 00'), 5), { code: 0x81 });
    assert.deepEqual(clientDecode(hex('b0 03 00 01 00'), 5), { code: 0x81 });
    assert.deepEqual(clientDecode(hex('90 02 00 01'), 4), { code: 0x81 });
    assertAgree(hex('90 03 00 01 00'), 5);
    assertAgree(hex('b0 03 00 01 00'), 5);
    assertAgree(hex('90 02 00 01'), 4);
  });

  for (const v of [4, 5] as const) {
    const name = v === 5 ? 'MQTT 5' : 'MQTT 3.1.1';
    it(name + ': valid broker packets decode to the same fields', () => {
      fc.assert(fc.property(brokerPacket(v), (bytes) => assertAgree(bytes, v)), { numRuns: runs(3000) });
    });
    it(name + ': mutated broker packets', () => {
      fc.assert(fc.property(mutatedBrokerPacket(v), (bytes) => assertAgree(bytes, v)), { numRuns: runs(10000) });
    });
    it(name + ': random bodies under a broker packet type', () => {
      fc.assert(fc.property(randomBrokerPacket(), (bytes) => assertAgree(bytes, v)), { numRuns: runs(10000) });
    });
  }
});

describe('client codec: strings past ASCII on engines that get one native check wrong', () => {
  // Measured on Espruino 2v29: encodeURIComponent garbles chars past ASCII ("b\xC3\xA9" gives "b%33%19"),
  // while its JSON.stringify escapes them ("\u00C3\u00A9"). Node is the other way round (encodeURIComponent
  // right, JSON.stringify leaves them). The string paths must hold on both: here Espruino's pair is put in place.
  const real = { uri: globalThis.encodeURIComponent, json: JSON.stringify };
  const espruinoUri = (s: string | number | boolean) => String(s).split('').map((c) => (c.charCodeAt(0) > 127 ? '%33' : real.uri(c))).join('');
  const espruinoJson = (v: unknown) => typeof v === 'string'
    ? '"' + v.replace(/[^\x20-\x7e]|["\\]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')) + '"'
    : real.json(v);
  function onEspruino<T>(fn: () => T): T {
    globalThis.encodeURIComponent = espruinoUri;
    JSON.stringify = espruinoJson as typeof JSON.stringify;
    try { return fn(); } finally { globalThis.encodeURIComponent = real.uri; JSON.stringify = real.json; }
  }

  it('a PUBLISH with a payload or topic past ASCII is not built as a string of its chars, which would send them as single bytes', () => {
    for (const [topic, payload] of [['t/a', '21.5°C'], ['t/°', 'x'], ['t/e', '€ 5']]) {
      assert.equal(onEspruino(() => publishText(4, topic, payload, 1, false, 7)), null, topic + ' ' + payload);
      assert.equal(publishText(4, topic, payload, 1, false, 7), null, 'and on Node');
    }
    assert.equal(onEspruino(() => publishText(4, 't/a', '21.5', 0, false, 0)), '\x30\x09\x00\x03t/a21.5');
  });

  it('a received topic in UTF-8 is decoded, not taken as its bytes', () => {
    const body = Uint8Array.of(0, 4, 0x74, 0x2f, 0xc3, 0xa9, 0x78); // topic "t/é", payload "x"
    for (const decode of [() => parsePacket(3, 0, body, body.length, 4), () => onEspruino(() => parsePacket(3, 0, body, body.length, 4))]) {
      assert.equal((decode() as { topic: string }).topic, 't/é');
    }
  });
});
