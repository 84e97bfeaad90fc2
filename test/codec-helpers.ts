// Helpers shared by the codec unit tests (not a test file itself: mocha only loads *.test.ts).
// Byte vectors are written by hand as hex with a `#` comment per field; `hex()` strips the comments.
import { strict as assert } from 'assert';
import { PacketReader } from '../firmware/mqtt';
import type { DecodeError } from '../firmware/mqtt';
import { concat } from './support/arbitraries';

export { concat };

/** Parses hex bytes; everything from `#` to the end of a line is a comment. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error('bad hex vector: ' + digits);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.substr(i * 2, 2), 16);
  return out;
}

/** ASCII/Latin-1 text as bytes, one byte per char. */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => (x < 16 ? '0' : '') + x.toString(16)).join(' ');
}

/** One char per byte, the way Espruino sockets deliver data. */
export function binaryString(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/**
 * A deep copy that can be compared with deepStrictEqual: drops fields whose value is undefined,
 * turns Uint8Array (and Buffer) into plain number arrays, rebuilds objects as plain objects
 * (so a null-prototype userProperties compares equal to a literal).
 */
export function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const o: { [k: string]: unknown } = {};
    for (const k of Object.keys(v)) {
      const x = (v as { [k: string]: unknown })[k];
      if (x !== undefined) o[k] = plain(x);
    }
    return o;
  }
  return v;
}

export interface Decoded { packets: unknown[]; error: DecodeError | null }

/** Feeds `chunks` to a fresh reader and collects plain copies of the packets (made inside the callback). */
export function decodeChunks(chunks: Uint8Array[], protocolVersion: 4 | 5, maxPacketSize?: number): Decoded {
  const reader = new PacketReader(maxPacketSize === undefined ? { protocolVersion } : { protocolVersion, maxPacketSize });
  const packets: unknown[] = [];
  let error: DecodeError | null = null;
  for (const c of chunks) {
    error = reader.push(c, (p) => { packets.push(plain(p)); });
    if (error) break;
  }
  return { packets, error };
}

export function decodeAll(bytes: Uint8Array, protocolVersion: 4 | 5, maxPacketSize?: number): Decoded {
  return decodeChunks([bytes], protocolVersion, maxPacketSize);
}

/** Splits into chunks of `size` bytes (views). */
export function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, Math.min(bytes.length, i + size)));
  return out;
}

/** Decodes bytes that must hold exactly one valid packet and returns its plain copy. */
export function decodeOne(bytes: Uint8Array, protocolVersion: 4 | 5, maxPacketSize?: number): unknown {
  const r = decodeAll(bytes, protocolVersion, maxPacketSize);
  assert.equal(r.error, null, 'unexpected decode error: ' + JSON.stringify(r.error));
  assert.equal(r.packets.length, 1, 'expected exactly one packet');
  return r.packets[0];
}

/**
 * Asserts that the bytes are rejected with one of the given reason codes (one number, or a list when the
 * specification leaves the choice open) and that no packet is delivered for them.
 */
export function assertRejected(bytes: Uint8Array, protocolVersion: 4 | 5, reasonCode: number | number[] | null,
  maxPacketSize?: number): DecodeError {
  const r = decodeAll(bytes, protocolVersion, maxPacketSize);
  assert.notEqual(r.error, null, 'expected a decode error, got packets ' + JSON.stringify(r.packets));
  const err = r.error as DecodeError;
  assert.equal(typeof err.reasonCode, 'number');
  assert.equal(typeof err.message, 'string');
  if (typeof reasonCode === 'number') {
    assert.equal(err.reasonCode, reasonCode,
      'reason code 0x' + err.reasonCode.toString(16) + ' (' + err.message + '), expected 0x' + reasonCode.toString(16));
  } else if (reasonCode) {
    assert.ok(reasonCode.indexOf(err.reasonCode) >= 0,
      'reason code 0x' + err.reasonCode.toString(16) + ' (' + err.message + ') not in ' + reasonCode.map((c) => '0x' + c.toString(16)).join(','));
  } else {
    assert.ok(err.reasonCode >= 0x80, 'an error reason code is >= 0x80, got 0x' + err.reasonCode.toString(16));
  }
  assert.equal(r.packets.length, 0, 'no packet may be delivered for rejected bytes');
  return err;
}
