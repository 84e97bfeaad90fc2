// UTF-8 helpers (firmware/mqtt/utf8.ts): MQTT strings are UTF-8 as in RFC 3629, without U+0000 and without
// surrogate code points (MQTT 3.1.1 §1.5.3, MQTT 5.0 §1.5.4).
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { utf8Length, utf8Write, utf8Read } from '../firmware/mqtt/utf8';
import { hex, toHex } from './codec-helpers';

// [string, its UTF-8 bytes, what]
const table: [string, string, string][] = [
  ['', '', 'the empty string'],
  ['a', '61', 'ASCII'],
  ['\u007f', '7f', 'U+007F, the last 1-byte code point'],
  ['\u0080', 'c2 80', 'U+0080, the first 2-byte code point'],
  ['\u00e9', 'c3 a9', 'U+00E9 é'],
  ['\u00ff', 'c3 bf', 'U+00FF ÿ (not written as the single byte FF)'],
  ['\u07ff', 'df bf', 'U+07FF, the last 2-byte code point'],
  ['\u0800', 'e0 a0 80', 'U+0800, the first 3-byte code point'],
  ['\u20ac', 'e2 82 ac', 'U+20AC €'],
  ['\ud7ff', 'ed 9f bf', 'U+D7FF, just below the surrogates'],
  ['\ue000', 'ee 80 80', 'U+E000, just above the surrogates'],
  ['\ufeff', 'ef bb bf', 'U+FEFF (BOM), kept as a character (MQTT-1.5.4-3)'],
  ['\uffff', 'ef bf bf', 'U+FFFF, the last 3-byte code point'],
  ['\u{10000}', 'f0 90 80 80', 'U+10000, the first 4-byte code point (a surrogate pair in JS)'],
  ['\u{1F600}', 'f0 9f 98 80', 'U+1F600 😀 emoji'],
  ['\u{10FFFF}', 'f4 8f bf bf', 'U+10FFFF, the last code point'],
  ['a\u{1F600}b\u20ac', '61 f0 9f 98 80 62 e2 82 ac', 'a mix'],
  ['\u{1F468}\u200d\u{1F469}', 'f0 9f 91 a8 e2 80 8d f0 9f 91 a9', 'emoji joined by ZWJ'],
];

describe('utf8Length', () => {
  for (const [s, bytes, what] of table) {
    it(what + ' is ' + hex(bytes).length + ' bytes', () => {
      assert.equal(utf8Length(s), hex(bytes).length);
    });
  }
});

describe('utf8Write', () => {
  for (const [s, bytes, what] of table) {
    it('writes ' + what + ' as ' + (bytes || '(nothing)'), () => {
      const buf = new Uint8Array(20).fill(0xee);
      const end = utf8Write(s, buf, 3);
      assert.equal(end, 3 + hex(bytes).length, 'returns the new offset');
      assert.equal(toHex(buf.subarray(3, end)), toHex(hex(bytes)));
      assert.ok(buf.subarray(0, 3).every((x) => x === 0xee), 'bytes before the offset untouched');
      assert.ok(buf.subarray(end).every((x) => x === 0xee), 'bytes after the string untouched');
    });
  }
});

describe('utf8Read', () => {
  for (const [s, bytes, what] of table) {
    it('reads ' + what, () => {
      const b = hex('ff ff ' + bytes + ' ff');   // surrounded by bytes that are never valid UTF-8
      assert.equal(utf8Read(b, 2, b.length - 1), s);
    });
  }

  const invalid: [string, string][] = [
    ['ff', 'byte FF'],
    ['fe', 'byte FE'],
    ['80', 'a lone continuation byte'],
    ['61 bf', 'a continuation byte after ASCII'],
    ['c3', 'a 2-byte sequence cut short'],
    ['e2 82', 'a 3-byte sequence cut short'],
    ['f0 9f 98', 'a 4-byte sequence cut short'],
    ['c3 41', 'a lead byte followed by ASCII'],
    ['c0 af', 'overlong 2-byte "/"'],
    ['c1 bf', 'overlong 2-byte U+007F'],
    ['e0 80 af', 'overlong 3-byte "/"'],
    ['e0 9f bf', 'overlong 3-byte U+07FF'],
    ['f0 80 80 af', 'overlong 4-byte "/"'],
    ['f0 8f bf bf', 'overlong 4-byte U+FFFF'],
    ['ed a0 80', 'MQTT-1.5.4-1: surrogate U+D800'],
    ['ed bf bf', 'MQTT-1.5.4-1: surrogate U+DFFF'],
    ['ed a0 bd ed b8 80', 'MQTT-1.5.4-1: a surrogate pair encoded as two 3-byte sequences (CESU-8)'],
    ['f4 90 80 80', 'a code point above U+10FFFF'],
    ['f5 80 80 80', 'lead byte F5'],
    ['f8 88 80 80 80', 'a 5-byte form'],
    ['00', 'MQTT-1.5.4-2: U+0000'],
    ['61 00 62', 'MQTT-1.5.4-2: U+0000 between characters'],
    ['c0 80', 'MQTT-1.5.4-2: overlong U+0000 (modified UTF-8)'],
  ];
  for (const [bytes, what] of invalid) {
    it('returns null for ' + what + ' (' + bytes + ')', () => {
      const b = hex(bytes);
      assert.equal(utf8Read(b, 0, b.length), null);
    });
  }

  it('reads only the range [start, end) of the buffer', () => {
    const b = hex('61 62 63 64 65');
    assert.equal(utf8Read(b, 1, 4), 'bcd');
    assert.equal(utf8Read(b, 2, 2), '');
  });

  it('a sequence cut by the end of the range is invalid even if the buffer goes on', () => {
    const b = hex('e2 82 ac');
    assert.equal(utf8Read(b, 0, 2), null);
  });
});

describe('lone surrogates in JS strings', () => {
  // A JS string may hold a lone surrogate, which has no UTF-8 form. Whatever the writer does with it, it must
  // not write the encoding of a surrogate code point (ED A0 80 ...), which is ill-formed (MQTT-1.5.4-1), and it
  // must write exactly utf8Length bytes (the encoder sizes packets with it).
  for (const s of ['\ud800', 'a\udc00b', '\ude00\ud83d', 'x\ud83d']) {
    it('writes well-formed UTF-8 of utf8Length bytes for ' + JSON.stringify(s), () => {
      const buf = new Uint8Array(20);
      const end = utf8Write(s, buf, 0);
      assert.equal(end, utf8Length(s));
      assert.notEqual(utf8Read(buf, 0, end), null, 'ill-formed output: ' + toHex(buf.subarray(0, end)));
    });
  }
});

describe('UTF-8 properties against Node\'s encoder', () => {
  const noNul = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => s.indexOf('\u0000') < 0);

  it('utf8Length equals Buffer.byteLength for any string of valid code points', () => {
    fc.assert(fc.property(noNul, (s) => utf8Length(s) === Buffer.byteLength(s, 'utf8')));
  });

  it('utf8Write gives the same bytes as Buffer.from(s, "utf8")', () => {
    fc.assert(fc.property(noNul, (s) => {
      const buf = new Uint8Array(200);
      const end = utf8Write(s, buf, 0);
      return Buffer.from(buf.subarray(0, end)).equals(Buffer.from(s, 'utf8'));
    }));
  });

  it('utf8Read(utf8Write(s)) is s', () => {
    fc.assert(fc.property(noNul, (s) => {
      const buf = new Uint8Array(200);
      const end = utf8Write(s, buf, 5);
      return utf8Read(buf, 5, end) === s;
    }));
  });

  it('utf8Read accepts exactly the byte strings that are valid UTF-8 without U+0000', () => {
    // fatal: reject ill-formed input; ignoreBOM: keep a leading U+FEFF, as MQTT-1.5.4-3 requires
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 8 }), (b) => {
      let expected: string | null;
      try { expected = decoder.decode(b); } catch { expected = null; }
      if (expected !== null && expected.indexOf('\u0000') >= 0) expected = null;
      return utf8Read(b, 0, b.length) === expected;
    }), { numRuns: 20000 });
  });
});
