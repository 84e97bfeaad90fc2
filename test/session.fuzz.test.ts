// Fuzzing the board's own decoder: the session's frame reader and the client codec behind it
// (firmware/mqtt/client-codec.ts), which the library bundles carry instead of the general PacketReader.
// Random bytes and mutated streams of valid broker packets, after a CONNACK, whole and in random chunks
// (as bytes and as Espruino-style strings), MQTT 3.1.1 and 5. A hostile broker must not make the board
// throw, deliver garbage or hang on to a dead link: either the bytes are taken, or the link closes with an
// error carrying a reason code.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { encodePacket, REASONS } from '../firmware/mqtt';
import type { Packet } from '../firmware/mqtt';
import { OFFLINE } from '../firmware/mqtt/session';
import { byteString, toChunks } from './support/arbitraries';
import { Peer } from './support/peer';

const SCALE = Number(process.env.FC_SCALE) || 1;
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

/** What a broker sends a client, valid, for the mutations to start from. */
function brokerStream(v: 4 | 5, maxPayload = 40): fc.Arbitrary<Uint8Array> {
  const id = fc.integer({ min: 1, max: 65535 });
  const topic = fc.constantFrom('s/t', 'a', 'x/y/z', 'é/€', '😀');
  const packet: fc.Arbitrary<Packet> = fc.oneof(
    fc.record({ cmd: fc.constant('publish' as const), topic, qos: fc.constant(0 as const), payload: fc.uint8Array({ maxLength: maxPayload }) }),
    fc.record({ cmd: fc.constant('publish' as const), topic, qos: fc.constantFrom(1 as const, 2 as const), messageId: id, payload: fc.uint8Array({ maxLength: maxPayload }) }),
    fc.record({ cmd: fc.constantFrom('puback' as const, 'pubrec' as const, 'pubrel' as const, 'pubcomp' as const), messageId: id }),
    fc.record({ cmd: fc.constant('suback' as const), messageId: id, granted: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 3 }) }),
    fc.constant({ cmd: 'pingresp' } as Packet),
  );
  return fc.array(packet, { maxLength: 6 }).map((ps) => {
    const parts = ps.map((p) => encodePacket(p, { protocolVersion: v }));
    const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of parts) { out.set(b, at); at += b.length; }
    return out;
  });
}

/** Flips, overwrites, cuts or inserts bytes of a valid stream. */
function mutated(v: 4 | 5, maxPayload = 40): fc.Arbitrary<Uint8Array> {
  return fc.tuple(brokerStream(v, maxPayload), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 4 }))
    .map(([bytes, edits]) => {
      let b = Array.from(bytes);
      for (const [at, value, kind] of edits) {
        const i = b.length ? at % b.length : 0;
        if (kind === 0 && b.length) b[i] ^= 1 << (value & 7);
        else if (kind === 1 && b.length) b[i] = value;
        else if (kind === 2) b = b.slice(0, i);
        else b.splice(i, 0, value);
      }
      return Uint8Array.from(b);
    });
}

const cuts = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 8 });

/** Feeds `input` after a CONNACK and checks what the board relies on. */
function check(v: 4 | 5, input: Uint8Array, cut: number[], asString: boolean): void {
  const p = new Peer({ protocolVersion: v, keepalive: 0, maxPacketSize: 512, clean: false });
  p.connect();
  for (const chunk of toChunks(input, cut)) {
    p.session.data(asString ? byteString(chunk) : chunk, p.now); // must not throw
  }
  const errors = p.errors(), closes = p.events.filter((e) => e[0] === 'close');
  for (const e of errors) {
    assert.ok(e.reasonCode >= 0x80 && (v === 4 || REASONS[e.reasonCode]), 'reason code 0x' + e.reasonCode.toString(16));
    assert.ok(typeof e.message === 'string' && e.message.length > 0);
  }
  // at most one close; an error is told once and gives the link up for good
  assert.ok(closes.length <= 1 && errors.length <= 1);
  if (errors.length) assert.deepEqual([closes.length, p.session.state], [1, OFFLINE]);
  for (const m of p.events.filter((e) => e[0] === 'message')) assert.equal(typeof m[1], 'string');
  p.take(); // everything the session wrote decodes as a valid packet
}

/** What the session did with `input` fed in chunks cut at `cut` (none: whole): its events and its writes. */
function outcome(v: 4 | 5, input: Uint8Array, cut: number[], asString: boolean): string {
  const p = new Peer({ protocolVersion: v, keepalive: 0, maxPacketSize: 512, clean: false });
  p.connect();
  p.events = [];
  for (const chunk of toChunks(input, cut)) p.session.data(asString ? byteString(chunk) : chunk, p.now);
  return JSON.stringify([p.events, p.takeRaw().map((b) => Array.from(b)), p.session.state]);
}

describe('session fuzz: the board decoder against a hostile broker', function () {
  this.timeout(120000);
  for (const v of [4, 5] as const) {
    it(`MQTT ${v === 5 ? '5' : '3.1.1'}: random bytes, in random chunks, as bytes and as strings`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), cuts, fc.boolean(), (input, cut, s) => check(v, input, cut, s)), { numRuns: runs(10000) });
    });
    it(`MQTT ${v === 5 ? '5' : '3.1.1'}: mutated streams of valid broker packets`, () => {
      fc.assert(fc.property(mutated(v), cuts, fc.boolean(), (input, cut, s) => check(v, input, cut, s)), { numRuns: runs(10000) });
    });
    // the frame reader takes a whole packet of under 128 bytes in one step and reads the others byte by
    // byte: where the chunks are cut, and whether a packet is short, must never change what it does
    it(`MQTT ${v === 5 ? '5' : '3.1.1'}: a stream gives the same events and answers however it is cut into chunks`, () => {
      const stream = fc.oneof(brokerStream(v, 200), mutated(v, 200));
      fc.assert(fc.property(stream, cuts, fc.boolean(), (input, cut, s) => {
        assert.equal(outcome(v, input, cut, s), outcome(v, input, [], false));
      }), { numRuns: runs(5000) });
    });
  }
});
