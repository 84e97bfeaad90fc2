// Unit tests of the MQTT codec (firmware/mqtt) against hand-written byte vectors derived from the MQTT 3.1.1
// and 5.0 specifications (see test/codec-vectors.ts), written independently of the implementation.
// Decode errors are in codec.decode-errors.test.ts, topic and UTF-8 helpers in topic.test.ts / utf8.test.ts.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { encode, encodePacket, decodePackets, PacketReader } from '../firmware/mqtt';
import type { Packet, DecodeError } from '../firmware/mqtt';
import {
  hex, ascii, concat, toHex, binaryString, plain, decodeAll, decodeChunks, decodeOne, chunked,
} from './codec-helpers';
import { V311, V31, V5, ALL_V5_PROPERTIES, Vector } from './codec-vectors';

function encodeToBytes(packet: Packet, version: 3 | 4 | 5): Uint8Array {
  const buf = new Uint8Array(4096);
  const n = encode(packet, version, buf, 0);
  assert.ok(n > 0, 'encode returned ' + n);
  return buf.slice(0, n);
}

function assertBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(toHex(actual), toHex(expected));
}

function vectorSuite(title: string, vectors: Vector[]): void {
  describe(title, () => {
    for (const v of vectors) {
      if (!v.decodeOnly) {
        it('encode: ' + v.name, () => {
          assertBytes(encodeToBytes(v.packet, v.version), v.bytes);
          assertBytes(encodePacket(v.packet, { protocolVersion: v.version }), v.bytes);
        });
      }
      if (!v.encodeOnly) {
        it('decode: ' + v.name, () => {
          assert.deepStrictEqual(decodeOne(v.bytes, v.version as 4 | 5), plain(v.packet));
          assert.deepStrictEqual(decodePackets(v.bytes, { protocolVersion: v.version as 4 | 5 }).map(plain), [plain(v.packet)]);
        });
      }
    }
  });
}

vectorSuite('MQTT 3.1.1 packets: hand-written vectors, both directions', V311);
vectorSuite('MQTT 3.1 CONNECT: hand-written vector', V31);
vectorSuite('MQTT 5.0 packets: hand-written vectors, both directions', V5);

describe('vector coverage', () => {
  it('covers every control packet type in 3.1.1 (1-14) and in 5.0 (1-15)', () => {
    const types = (vs: Vector[]) => new Set(vs.map((v) => v.bytes[0] >> 4));
    assert.deepStrictEqual([...types(V311)].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    assert.deepStrictEqual([...types(V5)].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  });

  it('uses every MQTT 5 property at least once', () => {
    const seen = new Set<string>();
    for (const v of V5) {
      const p = v.packet as { properties?: object; will?: { properties?: object } };
      for (const k of Object.keys(p.properties || {})) seen.add(k);
      for (const k of Object.keys((p.will && p.will.properties) || {})) seen.add(k);
    }
    assert.deepStrictEqual(ALL_V5_PROPERTIES.filter((k) => !seen.has(k)), []);
  });
});

describe('remaining length (variable byte integer) boundaries', () => {
  // 3.1.1 §2.2.3 / 5.0 §1.5.5: 7 bits per byte, continuation bit 0x80, at most 4 bytes.
  const cases: [number, string][] = [
    [0, ''], [127, '7f'], [128, '80 01'], [16383, 'ff 7f'], [16384, '80 80 01'],
    [2097151, 'ff ff 7f'], [2097152, '80 80 80 01'],
  ];
  for (const [rl, enc] of cases) {
    if (rl === 0) continue;
    it('PUBLISH with remaining length ' + rl + ' is framed as ' + enc + ' and read back', () => {
      const payload = new Uint8Array(rl - 3).fill(0x55);
      const bytes = concat([hex('30' + enc + '000161'), payload]);
      const packet: Packet = { cmd: 'publish', topic: 'a', payload, qos: 0, dup: false, retain: false };
      const buf = new Uint8Array(bytes.length);
      assert.equal(encode(packet, 4, buf, 0), bytes.length);
      assert.ok(Buffer.from(buf).equals(Buffer.from(bytes)), 'encoded bytes differ');
      const got = decodeOne(bytes, 4, 1 << 28) as { payload: number[]; topic: string };
      assert.equal(got.topic, 'a');
      assert.equal(got.payload.length, rl - 3);
      assert.ok(got.payload.every((x) => x === 0x55));
    });
  }

  it('PINGREQ has a one-byte remaining length of 0', () => {
    assertBytes(encodeToBytes({ cmd: 'pingreq' }, 4), hex('c0 00'));
  });
});

describe('encoder details required by the specification', () => {
  it('MQTT-2.3.1-5 / 5.0 MQTT-2.2.1-2: a QoS 0 PUBLISH carries no packet identifier even if one is given', () => {
    const bytes = encodeToBytes({ cmd: 'publish', topic: 'a', payload: ascii('p'), qos: 0, messageId: 7 }, 4);
    assertBytes(bytes, hex('30 04  00 01 61  70'));
  });

  it('3.1.1 §1.5.3 / MQTT-4.7.3-3: a topic over 65,535 bytes is never sent with a wrapped-around length', () => {
    // The encoder may refuse (throw or return <= 0); if it does produce bytes they must decode to the same topic.
    const topic = 'x'.repeat(65536);
    const buf = new Uint8Array(70000);
    let n = 0;
    try { n = encode({ cmd: 'publish', topic, payload: 'p', qos: 0 }, 4, buf, 0); } catch { n = 0; }
    if (n > 0) {
      const r = decodeAll(buf.subarray(0, n), 4, 1 << 20);
      assert.equal(r.error, null, 'the encoded packet does not decode: ' + JSON.stringify(r.error));
      assert.equal((r.packets[0] as { topic: string }).topic.length, topic.length);
    }
  });

  it('a string payload is sent as its UTF-8 bytes', () => {
    const asString = encodeToBytes({ cmd: 'publish', topic: 'a/b', payload: 'hi', qos: 0 }, 4);
    assertBytes(asString, hex('30 07 00 03 61 2f 62 68 69'));
  });

  it('MQTT 5: a reason code without properties is sent either without property length (RL 3) or with 0', () => {
    const bytes = encodeToBytes({ cmd: 'puback', messageId: 10, reasonCode: 0x87 }, 5);
    assert.ok(['40 03 00 0a 87', '40 04 00 0a 87 00'].indexOf(toHex(bytes)) >= 0, toHex(bytes));
    const d = encodeToBytes({ cmd: 'disconnect', reasonCode: 0x8e }, 5);
    assert.ok(['e0 01 8e', 'e0 02 8e 00'].indexOf(toHex(d)) >= 0, toHex(d));
  });

  it('MQTT 5 SUBSCRIBE options default to NL 0, RAP 0, retain handling 0 when not given', () => {
    const bytes = encodeToBytes({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 1 }] }, 5);
    assertBytes(bytes, hex('82 07  00 01  00  00 01 61  01'));
  });

  it('a 3.1.1 SUBSCRIBE sends only the QoS in the options byte, even if MQTT 5 options are given', () => {
    const bytes = encodeToBytes({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 1, nl: true, rap: true, rh: 2 }] }, 4);
    assertBytes(bytes, hex('82 06  00 01  00 01 61  01'));
  });

  it('user property values given as an array are sent as repeated pairs in order', () => {
    const bytes = encodeToBytes({ cmd: 'pubrec', messageId: 1, reasonCode: 0, properties: { userProperties: { a: ['1', '2'], b: '3' } } }, 5);
    assertBytes(bytes, hex(`
      50 19 00 01 00 15
      26 00 01 61 00 01 31
      26 00 01 61 00 01 32
      26 00 01 62 00 01 33
    `));
  });
});

describe('encode into a caller buffer', () => {
  const packet: Packet = { cmd: 'publish', topic: 'a/b', payload: ascii('hi'), qos: 1, messageId: 3 };
  const bytes = hex('32 09 00 03 61 2f 62 00 03 68 69');

  it('returns the number of bytes written when the buffer is exactly large enough', () => {
    const buf = new Uint8Array(bytes.length);
    assert.equal(encode(packet, 4, buf, 0), bytes.length);
    assertBytes(buf, bytes);
  });

  it('returns -(bytes needed) and writes nothing when the buffer is one byte short', () => {
    const buf = new Uint8Array(bytes.length - 1).fill(0xee);
    assert.equal(encode(packet, 4, buf, 0), -bytes.length);
    assert.ok(buf.every((x) => x === 0xee), 'buffer was written: ' + toHex(buf));
  });

  it('returns -(bytes needed) for an empty buffer', () => {
    assert.equal(encode(packet, 4, new Uint8Array(0), 0), -bytes.length);
  });

  it('returns -(bytes needed) for a packet with a 2-byte remaining length and a 2-byte property length', () => {
    const v = V5.find((x) => x.name.indexOf('property length of two bytes') >= 0) as Vector;
    const buf = new Uint8Array(100).fill(0xee);
    assert.equal(encode(v.packet, 5, buf, 0), -v.bytes.length);
    assert.ok(buf.every((x) => x === 0xee));
  });

  it('writes at a non-zero offset and leaves the bytes around it alone', () => {
    const buf = new Uint8Array(7 + bytes.length + 5).fill(0xee);
    assert.equal(encode(packet, 4, buf, 7), bytes.length);
    assertBytes(buf.subarray(7, 7 + bytes.length), bytes);
    assert.ok(buf.subarray(0, 7).every((x) => x === 0xee));
    assert.ok(buf.subarray(7 + bytes.length).every((x) => x === 0xee));
  });

  it('at an offset where the rest of the buffer is too small, returns a negative count and writes nothing', () => {
    const buf = new Uint8Array(bytes.length + 3).fill(0xee);
    const n = encode(packet, 4, buf, 4);
    assert.ok(n < 0, 'expected a negative result, got ' + n);
    assert.ok(buf.every((x) => x === 0xee));
  });
});

describe('decodePackets and encodePacket (convenience)', () => {
  it('decodes several packets into separate, fresh objects', () => {
    const a = hex('30 05 00 01 61 31 31');   // PUBLISH "a" payload "11"
    const c = hex('30 05 00 01 62 32 32');   // PUBLISH "b" payload "22"
    const out = decodePackets(concat([a, c]), { protocolVersion: 4 });
    assert.equal(out.length, 2);
    assert.notEqual(out[0], out[1]);
    assert.deepStrictEqual(plain(out[0]), { cmd: 'publish', topic: 'a', payload: [0x31, 0x31], qos: 0, dup: false, retain: false });
    assert.deepStrictEqual(plain(out[1]), { cmd: 'publish', topic: 'b', payload: [0x32, 0x32], qos: 0, dup: false, retain: false });
  });

  it('throws the DecodeError (a plain object with reasonCode and message) on bad input', () => {
    let thrown: unknown = null;
    try { decodePackets(hex('36 05 00 01 61 00 01'), { protocolVersion: 4 }); } catch (e) { thrown = e; }
    assert.notEqual(thrown, null, 'expected a throw');
    assert.equal((thrown as DecodeError).reasonCode, 0x81);
    assert.equal(typeof (thrown as DecodeError).message, 'string');
  });
});

describe('streaming reader', () => {
  // A whole MQTT 5 conversation: a CONNECT first (the reader starts at 4 and must switch to the CONNECT's
  // version), then every MQTT 5 vector other than the CONNECTs.
  const v5rest = V5.filter((v) => v.bytes[0] >> 4 !== 1);
  const stream5 = concat([V5[0].bytes, ...v5rest.map((v) => v.bytes)]);
  const expected5 = [plain(V5[0].packet), ...v5rest.map((v) => plain(v.packet))];
  const stream4 = concat(V311.map((v) => v.bytes));
  const expected4 = V311.map((v) => plain(v.packet));

  it('several packets in one chunk: all MQTT 5 vectors after a 5.0 CONNECT, reader created for 4', () => {
    assert.deepStrictEqual(decodeChunks([stream5], 4), { packets: expected5, error: null });
  });

  it('the same stream fed 1 byte at a time gives the same packets', () => {
    assert.deepStrictEqual(decodeChunks(chunked(stream5, 1), 4), { packets: expected5, error: null });
  });

  it('the same stream in 536-byte chunks (a TCP MSS) gives the same packets', () => {
    const big = concat([stream5, hex('31 b5 10 00 01 61 00'), new Uint8Array(2097).fill(0xab), hex('c0 00')]);
    const exp = [...expected5,
      { cmd: 'publish', topic: 'a', payload: Array.from(new Uint8Array(2097).fill(0xab)), qos: 0, dup: false, retain: true, properties: undefined },
      { cmd: 'pingreq' }].map(plain);
    assert.ok(big.length > 3 * 536);
    assert.deepStrictEqual(decodeChunks(chunked(big, 536), 4), { packets: exp, error: null });
    assert.deepStrictEqual(decodeChunks([big], 4), { packets: exp, error: null });
  });

  it('all MQTT 3.1.1 vectors in one chunk, byte by byte and in chunks of 7 give the same packets', () => {
    for (const chunks of [[stream4], chunked(stream4, 1), chunked(stream4, 7)]) {
      assert.deepStrictEqual(decodeChunks(chunks, 4), { packets: expected4, error: null });
    }
  });

  it('a packet split at every possible position is delivered once, only when complete', () => {
    const v = V5.find((x) => x.name.indexOf('every PUBLISH property') >= 0) as Vector;
    for (let i = 1; i < v.bytes.length; i++) {
      const reader = new PacketReader({ protocolVersion: 5 });
      const got: unknown[] = [];
      assert.equal(reader.push(v.bytes.slice(0, i), (p) => { got.push(plain(p)); }), null);
      assert.equal(got.length, 0, 'delivered early at split ' + i);
      assert.equal(reader.push(v.bytes.slice(i), (p) => { got.push(plain(p)); }), null);
      assert.deepStrictEqual(got, [plain(v.packet)], 'split at ' + i);
    }
  });

  it('a chunk ending in the middle of the remaining length bytes is handled', () => {
    const bytes = concat([hex('30 80 01 00 01 61'), new Uint8Array(125).fill(1)]);
    const r = decodeChunks([bytes.subarray(0, 2), bytes.subarray(2, 3), bytes.subarray(3)], 4);
    assert.equal(r.error, null);
    assert.equal(r.packets.length, 1);
    assert.equal((r.packets[0] as { payload: number[] }).payload.length, 125);
  });

  it('pushString (one char per byte, as Espruino sockets give) decodes the same as push', () => {
    for (const [stream, version, expected] of [[stream5, 4, expected5], [stream4, 4, expected4]] as [Uint8Array, 4, unknown[]][]) {
      const s = binaryString(stream);
      for (const size of [1, 536, s.length]) {
        const reader = new PacketReader({ protocolVersion: version });
        const got: unknown[] = [];
        for (let i = 0; i < s.length; i += size) {
          assert.equal(reader.pushString(s.substr(i, size), (p) => { got.push(plain(p)); }), null);
        }
        assert.deepStrictEqual(got, expected, 'pushString in chunks of ' + size);
      }
    }
  });

  it('pushString keeps bytes 0x80-0xFF (binary payload and UTF-8 topic) intact', () => {
    const v = V311.find((x) => x.name.indexOf('multi-byte UTF-8 topic') >= 0) as Vector;
    const bytes = concat([v.bytes, hex('30 06 00 01 61 ff 80 00')]);
    const reader = new PacketReader({ protocolVersion: 4 });
    const got: unknown[] = [];
    assert.equal(reader.pushString(binaryString(bytes), (p) => { got.push(plain(p)); }), null);
    assert.deepStrictEqual(got, [plain(v.packet), { cmd: 'publish', topic: 'a', payload: [0xff, 0x80, 0x00], qos: 0, dup: false, retain: false }]);
  });

  it('push returns null while all is well, including for a chunk that completes no packet', () => {
    const reader = new PacketReader({ protocolVersion: 4 });
    let n = 0;
    assert.equal(reader.push(hex('c0'), () => { n++; }), null);
    assert.equal(reader.push(new Uint8Array(0), () => { n++; }), null);
    assert.equal(n, 0);
    assert.equal(reader.push(hex('00'), () => { n++; }), null);
    assert.equal(n, 1);
  });

  it('a 3.1.1 CONNECT switches a reader created for 5 to 3.1.1: a following PUBLISH has no property length', () => {
    const stream = concat([V311[0].bytes, hex('30 08 00 03 61 2f 62 00 68 69')]);
    const r = decodeAll(stream, 5);
    assert.equal(r.error, null);
    assert.deepStrictEqual(r.packets[1], { cmd: 'publish', topic: 'a/b', payload: [0x00, 0x68, 0x69], qos: 0, dup: false, retain: false });
  });

  it('a 5.0 CONNECT switches a reader created for 4 to 5.0: a following PUBLISH has properties', () => {
    const stream = concat([V5[0].bytes, hex('30 0b 00 03 61 2f 62 03 23 00 07 68 69')]);
    const r = decodeAll(stream, 4);
    assert.equal(r.error, null);
    assert.deepStrictEqual(r.packets[1], { cmd: 'publish', topic: 'a/b', payload: [0x68, 0x69], qos: 0, dup: false, retain: false, properties: { topicAlias: 7 } });
  });

  it('packets before a bad one are delivered, then the error is returned', () => {
    const stream = concat([hex('c0 00'), hex('d0 00'), hex('36 05 00 01 61 00 01'), hex('c0 00')]);
    const r = decodeAll(stream, 4);
    assert.deepStrictEqual(r.packets, [{ cmd: 'pingreq' }, { cmd: 'pingresp' }]);
    assert.equal(r.error && r.error.reasonCode, 0x81);
  });

  it('after an error the reader is dead: later valid bytes give an error and no packets', () => {
    const reader = new PacketReader({ protocolVersion: 4 });
    let n = 0;
    const e1 = reader.push(hex('36 05 00 01 61 00 01'), () => { n++; });
    assert.notEqual(e1, null);
    const e2 = reader.push(hex('c0 00'), () => { n++; });
    assert.notEqual(e2, null, 'a dead reader must keep failing');
    assert.equal(n, 0);
  });

  it('decoded payloads are Uint8Array, and copying inside the callback keeps each packet intact', () => {
    const reader = new PacketReader({ protocolVersion: 4 });
    const copies: number[][] = [];
    const types: boolean[] = [];
    const cb = (p: Packet) => { const pl = (p as { payload?: unknown }).payload; types.push(pl instanceof Uint8Array); copies.push(Array.from(pl as Uint8Array)); };
    reader.push(hex('30 04 00 01 61 01'), cb);
    reader.push(hex('30 04 00 01 61 02'), cb);
    assert.deepStrictEqual(types, [true, true]);
    assert.deepStrictEqual(copies, [[1], [2]]);
  });
});

describe('cross-check with mqtt-packet (an independent implementation) on random PUBLISH packets', () => {
  // Hand-written vectors above are the reference; this only widens the coverage of field values.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mqttPacket = require('mqtt-packet') as { generate(p: object, o: object): Buffer };
  const toBuffers = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return Buffer.from(v);
    if (Array.isArray(v)) return v.map(toBuffers);
    if (v !== null && typeof v === 'object') {
      const o: { [k: string]: unknown } = {};
      for (const k of Object.keys(v)) o[k] = toBuffers((v as { [k: string]: unknown })[k]);
      return o;
    }
    return v;
  };
  const level = fc.stringMatching(/^[a-zA-Z0-9 _$\u00e9\u20ac-]{0,6}$/);
  const topicArb = fc.array(level, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('/')).filter((t) => t.length > 0);
  const qosArb = fc.constantFrom<0 | 1 | 2>(0, 1, 2);
  const base = fc.record({
    topic: topicArb, payload: fc.uint8Array({ maxLength: 300 }), qos: qosArb, retain: fc.boolean(),
    dupIfQos: fc.boolean(), messageId: fc.integer({ min: 1, max: 65535 }),
  });
  const toPacket = (r: { topic: string; payload: Uint8Array; qos: 0 | 1 | 2; retain: boolean; dupIfQos: boolean; messageId: number }) => {
    const p: { [k: string]: unknown } = { cmd: 'publish', topic: r.topic, payload: r.payload, qos: r.qos, retain: r.retain, dup: r.qos > 0 && r.dupIfQos };
    if (r.qos > 0) p.messageId = r.messageId;
    return p;
  };

  it('3.1.1: encode gives the same bytes as mqtt-packet, and decodes back to the packet', () => {
    fc.assert(fc.property(base, (r) => {
      const p = toPacket(r);
      const ours = encodePacket(p as unknown as Packet, { protocolVersion: 4 });
      const theirs = mqttPacket.generate(toBuffers(p) as object, { protocolVersion: 4 });
      assert.equal(toHex(ours), toHex(new Uint8Array(theirs)));
      assert.deepStrictEqual(decodeOne(ours, 4, 1 << 20), plain(p));
    }), { numRuns: 300 });
  });

  it('5.0 with random PUBLISH properties: same bytes as mqtt-packet, and decodes back to the packet', () => {
    const name = fc.stringMatching(/^[a-z]{1,5}$/);
    const props = fc.record({
      payloadFormatIndicator: fc.boolean(),
      messageExpiryInterval: fc.nat({ max: 0xffffffff }),
      topicAlias: fc.integer({ min: 1, max: 65535 }),
      responseTopic: topicArb,
      correlationData: fc.uint8Array({ maxLength: 20 }),
      userProperties: fc.dictionary(name, fc.string({ maxLength: 8 }).filter((s) => s.indexOf('\u0000') < 0), { maxKeys: 3 }),
      subscriptionIdentifier: fc.integer({ min: 1, max: 268435455 }),
      contentType: fc.string({ maxLength: 10 }).filter((s) => s.indexOf('\u0000') < 0),
    }, { requiredKeys: [] });
    fc.assert(fc.property(base, props, (r, pr) => {
      const p = toPacket(r);
      if (pr.userProperties && Object.keys(pr.userProperties).length === 0) delete pr.userProperties;
      if (Object.keys(pr).length) p.properties = pr;
      const ours = encodePacket(p as unknown as Packet, { protocolVersion: 5 });
      const theirs = mqttPacket.generate(toBuffers(p) as object, { protocolVersion: 5 });
      assert.equal(toHex(ours), toHex(new Uint8Array(theirs)));
      assert.deepStrictEqual(decodeOne(ours, 5, 1 << 20), plain(p));
    }), { numRuns: 300 });
  });
});
