// Fuzzing the PacketReader: random bytes, random frames with valid fixed headers, and mutations of valid
// packet streams, fed whole and in random chunks (as bytes and as Espruino-style strings), MQTT 3.1.1 and 5,
// with and without a maxPacketSize. Over 100,000 inputs per run.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { encode, encodePacket, PacketReader, REASONS, CONNACK, DISCONNECT } from '../firmware/mqtt';
import type { DecodedPacket, DecodeError, Packet } from '../firmware/mqtt';
import { byteString, concat, normalize, packetStream, toChunks } from './support/arbitraries';
import type { Version } from './support/arbitraries';

/** FC_SCALE=10 multiplies the number of inputs (the default is ~100,000 in all). */
const SCALE = Number(process.env.FC_SCALE) || 1;
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const VERSIONS: Version[] = [4, 5];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Reason codes a reader may fail with: MQTT 5 error codes (>= 0x80) that a CONNACK or a DISCONNECT can carry. */
const ERROR_CODES = new Set(Object.keys(REASONS).map(Number)
  .filter((c) => c >= 0x80 && REASONS[c][1] & ((1 << CONNACK) | (1 << DISCONNECT))));

interface Outcome { packets: unknown[]; error: DecodeError | null }

function assertDecodeError(error: DecodeError | null, input: Uint8Array): void {
  if (error === null) return;
  assert.equal(typeof error, 'object');
  assert.ok(ERROR_CODES.has(error.reasonCode), 'reason code 0x' + Number(error.reasonCode).toString(16) + ' for ' + hex(input));
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0, 'empty message for ' + hex(input));
}

let inputs = 0;

/**
 * Feeds `input` to a reader in `chunks` (pushString for the chunks `asString` marks) and checks what a
 * connection relies on: push never throws, the error is a proper DecodeError, every packet delivered
 * re-encodes and decodes again to itself, and once dead the reader keeps returning the same error.
 */
function feed(input: Uint8Array, chunks: Uint8Array[], asString: boolean[], v: number, maxPacketSize: number | undefined): Outcome {
  const reader = new PacketReader({ protocolVersion: v, maxPacketSize });
  const packets: unknown[] = [];
  const onPacket = (p: DecodedPacket) => {
    const level = reader.protocolVersion;
    const mine = normalize(p, level);
    let bytes: Uint8Array;
    try {
      bytes = encodePacket(p, { protocolVersion: level });
    } catch (e) {
      // the reader hands three things the spec forbids to the one who answers them: invalid (UN)SUBSCRIBE
      // filters (the broker: 0x8F for that filter), a 3.1.1 clean=0 CONNECT without a client id (the broker:
      // CONNACK 2), and session present on a refusing CONNACK (the client: the refusal is what counts). The
      // encoder, which never writes what the spec does not allow, refuses them
      const message = (e as Error).message;
      const answered = ((p.cmd === 'subscribe' || p.cmd === 'unsubscribe') && /is not a valid topic filter/.test(message)) ||
        (p.cmd === 'connect' && /needs a client id/.test(message)) || (p.cmd === 'connack' && /sessionPresent with a refusing/.test(message));
      if (answered) { packets.push(mine); return; }
      throw new Error('a delivered packet does not re-encode: ' + (e as Error).message + ' ' + JSON.stringify(mine) + ' from ' + hex(input));
    }
    assert.ok(bytes.length > 0);
    // the re-encoded packet decodes to the same packet (re-entrantly: we are inside the outer reader's callback)
    const again = new PacketReader({ protocolVersion: level });
    const back: unknown[] = [];
    const error = again.push(bytes, (q) => { back.push(normalize(q, level)); });
    assert.equal(error, null, 're-encoded ' + hex(bytes) + ' fails: ' + JSON.stringify(error) + ' (from ' + hex(input) + ')');
    assert.deepStrictEqual(back, [mine], 're-encoded packet differs, from ' + hex(input));
    packets.push(mine);
  };
  let error: DecodeError | null = null;
  for (let i = 0; i < chunks.length && !error; i++) {
    error = asString[i % asString.length] ? reader.pushString(byteString(chunks[i]), onPacket) : reader.push(chunks[i], onPacket);
  }
  assertDecodeError(error, input);
  if (error) {
    assert.equal(reader.error, error);
    // a dead reader returns the very same error and delivers nothing more, whatever it is fed
    const none = () => { throw new Error('a dead reader delivered a packet'); };
    assert.equal(reader.push(Uint8Array.of(0xc0, 0x00), none), error);
    assert.equal(reader.pushString('\xd0\x00', none), error);
    assert.equal(reader.push(input, none), error);
  }
  inputs++;
  return { packets, error };
}

/** The whole input in one chunk and in the given chunks must give the same packets and the same error. */
function check(input: Uint8Array, cuts: number[], asString: boolean[], v: number, maxPacketSize: number | undefined): void {
  const whole = feed(input, [input], [false], v, maxPacketSize);
  const split = feed(input, toChunks(input, cuts), asString.length ? asString : [false], v, maxPacketSize);
  assert.deepStrictEqual(split.packets, whole.packets, 'chunking changed the packets of ' + hex(input));
  assert.deepStrictEqual(split.error, whole.error, 'chunking changed the error of ' + hex(input));
}

const maxPacketSize = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 64 }) },
  { weight: 2, arbitrary: fc.integer({ min: 64, max: 4096 }) },
);
const cuts = fc.array(fc.nat(), { maxLength: 10 });
const asString = fc.array(fc.boolean(), { maxLength: 4 });

/** Variable byte integer encoding (spec 1.5.5). */
function varint(n: number): number[] {
  const out: number[] = [];
  do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 128; out.push(b); } while (n > 0);
  return out;
}

/** First bytes with a valid type and flags (any PUBLISH flags but QoS 3), and the reserved types 0 and 15. */
const firstByte = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0x10, 0x20, 0x40, 0x50, 0x62, 0x70, 0x82, 0x90, 0xa2, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0) },
  { weight: 3, arbitrary: fc.integer({ min: 0x30, max: 0x3f }).filter((b) => (b & 6) !== 6) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

/** Frames with a plausible fixed header, a remaining length that matches, and a random body. */
const randomFrames = fc.array(
  fc.tuple(firstByte, fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 24 }) },
    // bodies that look like the start of a packet: a short string, then anything
    { weight: 3, arbitrary: fc.tuple(fc.nat(6), fc.uint8Array({ maxLength: 30 })).map(([n, rest]) => Uint8Array.from([0, n, ...rest])) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 100, maxLength: 300 }) },
  )).map(([b, body]) => Uint8Array.from([b, ...varint(body.length), ...body])),
  { minLength: 1, maxLength: 4 },
).map(concat);

type Mutation =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'set'; pos: number; value: number }
  | { kind: 'u16'; pos: number; value: number }
  | { kind: 'truncate'; pos: number }
  | { kind: 'insert'; pos: number; bytes: Uint8Array }
  | { kind: 'delete'; pos: number; count: number }
  | { kind: 'duplicate'; pos: number; count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), pos: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xff)) }),
  // string and binary length prefixes, packet identifiers, property lengths
  fc.record({ kind: fc.constant('u16' as const), pos: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(0, 1, 0xff, 0xffff)) }),
  fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), pos: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), pos: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
);

function mutate(data: Uint8Array, m: Mutation): Uint8Array {
  const n = data.length;
  if (n === 0) return data;
  const pos = m.pos % n;
  const out = Array.from(data);
  switch (m.kind) {
    case 'flip': out[pos] ^= 1 << m.bit; break;
    case 'set': out[pos] = m.value; break;
    case 'u16': out[pos] = m.value >> 8; if (pos + 1 < n) out[pos + 1] = m.value & 255; break;
    case 'truncate': out.length = pos; break;
    case 'insert': out.splice(pos, 0, ...m.bytes); break;
    case 'delete': out.splice(pos, m.count); break;
    case 'duplicate': out.splice(pos, 0, ...out.slice(pos, pos + m.count)); break;
  }
  return Uint8Array.from(out);
}

/** Ways to corrupt a packet's remaining length field (spec 2.1.4, 1.5.5). */
const lengthCorruption = fc.oneof(
  fc.integer({ min: -4, max: 4 }).map((d) => (len: number) => varint(Math.max(0, len + d))),
  fc.integer({ min: 0, max: 268435455 }).map((x) => () => varint(x)),
  fc.constant(() => [0xff, 0xff, 0xff, 0x7f]), // 268,435,455: the largest
  fc.constant(() => [0x80, 0x80, 0x80, 0x80, 0x01]), // 5 bytes [MQTT-1.5.5-1]
  fc.constant((len: number) => [(len & 127) | 128, len >> 7]), // not minimal (2 bytes for any length < 16384)
  fc.constant(() => [0x80]), // a continuation bit, then the body
);

/** Replaces the remaining length field of one encoded packet with `make(its body length)`. */
function withLength(part: Uint8Array, make: (len: number) => number[]): Uint8Array {
  let i = 1;
  while (part[i] & 128) i++;
  const len = part.length - i - 1;
  return Uint8Array.from([part[0], ...make(len), ...part.subarray(i + 1)]);
}

function mutatedStream(v: Version) {
  return fc.record({
    packets: packetStream(v, 3),
    lengths: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(fc.nat(), lengthCorruption), { minLength: 1, maxLength: 1 }) }),
    mutations: fc.oneof(
      { weight: 1, arbitrary: fc.constant([]) },
      { weight: 4, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 1 }) },
      { weight: 2, arbitrary: fc.array(mutation, { minLength: 2, maxLength: 4 }) },
    ),
  }).map(({ packets, lengths, mutations }) => {
    const parts = packets.map((p: Packet) => encodePacket(p, { protocolVersion: v }));
    for (const [which, make] of lengths) parts[which % parts.length] = withLength(parts[which % parts.length], make);
    let data = concat(parts);
    for (const m of mutations) data = mutate(data, m);
    return data;
  });
}

describe('codec fuzzing (PacketReader on hostile input)', function () {
  this.timeout(120000);

  after(() => {
    // the brief of this file: at least 100,000 inputs per run (each fed whole and in chunks)
    if (SCALE >= 1) assert.ok(inputs / 2 >= 100000, 'only ' + inputs / 2 + ' inputs');
  });

  for (const v of VERSIONS) {
    it(`MQTT ${v}: random bytes never make push throw; it returns null or a DecodeError (code >= 0x80, a message), the same at every chunking`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), cuts, asString, maxPacketSize, (input, c, s, max) => {
        check(input, c, s, v, max);
      }), { numRuns: runs(16000) });
    });

    it(`MQTT ${v}: random frames with valid fixed headers: every packet delivered re-encodes to itself, errors are DecodeErrors, a dead reader stays dead`, () => {
      fc.assert(fc.property(randomFrames, cuts, asString, maxPacketSize, (input, c, s, max) => {
        check(input, c, s, v, max);
      }), { numRuns: runs(17000) });
    });

    it(`MQTT ${v}: mutated valid packets (bit flips, byte changes, truncation, insertion, deletion, length-field corruption) are decoded safely`, () => {
      fc.assert(fc.property(mutatedStream(v), cuts, asString, maxPacketSize, (input, c, s, max) => {
        check(input, c, s, v, max);
      }), { numRuns: runs(17000) });
    });
  }

  describe('bounded time and memory', () => {
    const held = (r: PacketReader) => r as unknown as { _held: Uint8Array; _heldLength: number };

    it('a 4-byte remaining length announcing ~256 MB fails at once with 0x95 (packet too large) under a small maxPacketSize, buffering nothing', () => {
      for (const v of VERSIONS) {
        const header = Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0x7f); // PUBLISH of 268,435,455 bytes
        const reader = new PacketReader({ protocolVersion: v, maxPacketSize: 1024 });
        const error = reader.push(header, () => { throw new Error('no packet expected'); });
        assert.equal(error && error.reasonCode, 0x95);
        assert.equal(held(reader)._heldLength, 0);
        assert.equal(held(reader)._held.length, 256, 'the reader grew its buffer');
        // what follows the header is neither buffered nor scanned
        const flood = new Uint8Array(4 << 20);
        assert.equal(reader.push(flood, () => undefined), error);
        assert.equal(held(reader)._held.length, 256);
      }
    });

    it('the same header split byte by byte fails with 0x95 on its last byte, holding only the header bytes', () => {
      const reader = new PacketReader({ protocolVersion: 5, maxPacketSize: 1024 });
      const header = [0x30, 0xff, 0xff, 0xff];
      for (const b of header) assert.equal(reader.push(Uint8Array.of(b), () => undefined), null);
      assert.ok(held(reader)._heldLength <= header.length);
      const error = reader.push(Uint8Array.of(0x7f), () => undefined);
      assert.equal(error && error.reasonCode, 0x95);
      assert.equal(held(reader)._held.length, 256);
    });

    it('a remaining length with a continuation bit on its 4th byte fails at once with 0x81 (malformed), without waiting for a 5th', () => {
      for (const v of VERSIONS) {
        const reader = new PacketReader({ protocolVersion: v });
        const error = reader.push(Uint8Array.of(0x30, 0x80, 0x80, 0x80, 0x80), () => undefined);
        assert.equal(error && error.reasonCode, 0x81);
      }
    });

    it('maxPacketSize counts the whole packet: exactly that size is decoded, one byte more is 0x95, at every chunking', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 600 }), fc.constantFrom(4, 5), cuts, (n, v, c) => {
        const packet = { cmd: 'publish' as const, topic: 't', payload: new Uint8Array(n) };
        const bytes = encodePacket(packet, { protocolVersion: v });
        const fits = feed(bytes, toChunks(bytes, c), [false], v, bytes.length);
        assert.equal(fits.error, null);
        assert.equal(fits.packets.length, 1);
        const over = feed(bytes, toChunks(bytes, c), [false], v, bytes.length - 1);
        assert.equal(over.error && over.error.reasonCode, 0x95);
        assert.equal(over.packets.length, 0);
      }), { numRuns: runs(300) });
    });

    it('a packet spread over many small pushes is gathered in a buffer that grows only to its size', () => {
      const packet: Packet = { cmd: 'publish', topic: 'big', payload: new Uint8Array(5000).fill(7) };
      const bytes = encodePacket(packet, { protocolVersion: 4 });
      const reader = new PacketReader({ protocolVersion: 4 });
      let got = 0;
      for (let i = 0; i < bytes.length; i += 100) {
        assert.equal(reader.push(bytes.subarray(i, i + 100), (p) => { got += (p as { payload: Uint8Array }).payload.length; }), null);
      }
      assert.equal(got, 5000);
      assert.ok(held(reader)._held.length < 2 * bytes.length);
      // encode's contract used above: a too-small buffer is left alone and the size needed comes back negated
      assert.equal(encode(packet, 4, new Uint8Array(10), 0), -bytes.length);
    });
  });
});
