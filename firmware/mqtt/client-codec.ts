// The client's half of the codec, written for the board's byte budget: it encodes only what a client
// sends (CONNECT, PUBLISH, acks, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT) and decodes only what a
// broker sends. The general codec (encode.ts, decode.ts, frames.ts) serves the broker and the tools;
// the library bundles carry this one instead, which is about a fifth of its size. Both are held to the
// same vectors and to each other by test/codec.client.test.ts; the checks this decoder leaves out, to
// save the board's bytes, are its BOARD_SKIPS: reason codes not allowed in their packet (a table of
// them would cost 468 B), never-zero properties that are 0 (38 B), topic checks (the session's), AUTH
// (refused by the session), and user property keys named like Object.prototype members (Espruino has no
// prototype-less objects).
//
// Encoding goes into one scratch buffer shared by every session of the process: packets are built and
// handed to the transport (which copies them) or to the store synchronously, so no two ever overlap.
// The body is written first, behind a gap of HEAD bytes; the fixed header then goes just in front of
// it, once the remaining length is known, so nothing is measured twice or moved.
import { PROPERTIES, BOOL, BYTE, U16, U32, VARINT, STRING, PAIR, MALFORMED_PACKET, PROTOCOL_ERROR, PUBLISH, PUBREL, CONNACK, SUBACK, UNSUBACK, DISCONNECT } from './constants';
import type { Payload, Properties, Subscription, Will } from './packets';
import { utf8Read, utf8Write } from './utf8';

const HEAD = 5;
let out = new Uint8Array(128);
let at = HEAD;

function room(n: number): void {
  if (at + n > out.length) {
    const bigger = new Uint8Array(at + n + 64);
    bigger.set(out);
    out = bigger;
  }
}

function byte(v: number): void {
  room(1);
  out[at++] = v;
}

function u16(v: number): void {
  byte(v >> 8);
  byte(v & 255);
}

function varint(v: number): void {
  const text = varintText(v);
  for (let i = 0; i < text.length; i++) byte(text.charCodeAt(i));
}

/** A variable byte integer (remaining length, property length) as chars, one per byte: the one writer of both encoders. */
function varintText(v: number): string {
  let text = '';
  do text += String.fromCharCode(v > 127 ? (v & 127) | 128 : v); while ((v = Math.floor(v / 128)));
  return text;
}

/**
 * The length of the whole packet whose fixed header starts at bytes[at], read no further than `end`:
 * 1 + its remaining length's bytes + their value (spec 2.2.3); -1 while the header is cut short, -2
 * when the remaining length runs past 4 bytes [MQTT-1.5.5-1]. The one reader of the remaining length,
 * for the board's session and the general frame reader alike.
 */
export function packetLength(bytes: Uint8Array, at: number, end: number): number {
  let length = 0, m = 1;
  for (let i = 1; i <= 4; i++) {
    if (at + i >= end) return -1;
    const c = bytes[at + i];
    length += (c & 127) * m;
    if (c < 128) return 1 + i + length;
    m *= 128;
  }
  return -2;
}

/**
 * Where the body of the packet at bytes[at] starts: past its first byte and its remaining length.
 * (The store reads the same in recordId without calling this: it imports nothing, which keeps its
 * state constants inlined at their uses in the board bundle; an import cost 145 B, measured.)
 */
export function bodyStart(bytes: Uint8Array, at: number): number {
  let i = at + 1;
  while (bytes[i++] & 128);
  return i;
}

/**
 * Whether `s` is printable ASCII (no control char, `"` or `\`), so that its UTF-8 is its chars, found
 * natively (no regular expressions on the board). JSON.stringify escapes those, and so makes the text
 * longer; Espruino's also escapes every char past ASCII, so on the board that one check is the answer.
 * Node's leaves such chars as they are: there, encodeURIComponent writes them as the %XX of their UTF-8,
 * whose lead byte is C0-F7 (a lone surrogate throws: not ASCII either). It is no use on the board:
 * Espruino 2v29's garbles those chars ("\xC3\xA9" gives "%33%19"), and costs 23 µs a call there.
 * A string that fails goes through the UTF-8 code instead, which is right for anything, only slower.
 */
function ascii(s: string): boolean {
  if (JSON.stringify(s).length !== s.length + 2) return false;
  if (JSON_ESCAPES_PAST_ASCII) return true;
  let e: string;
  try { e = encodeURIComponent(s); } catch (x) { return false; }
  return e.indexOf('%C') < 0 && e.indexOf('%D') < 0 && e.indexOf('%E') < 0 && e.indexOf('%F') < 0;
}

/** This engine's JSON.stringify escapes chars past ASCII (Espruino's does, V8's does not). */
const JSON_ESCAPES_PAST_ASCII = JSON.stringify('\x80').length > 3;

/** Two bytes, big-endian, as chars. */
function u16Text(v: number): string {
  return String.fromCharCode(v >> 8, v & 255);
}

/**
 * A PUBLISH without properties as a string of one char per byte, for a transport that writes strings
 * (Espruino's sockets): built by concatenation, which is native on the board, where the byte encoder
 * loops per byte. Only for a string topic and payload in ASCII, whose UTF-8 is their chars; null
 * otherwise, for the byte encoder to do.
 */
export function publishText(version: number, topic: string, payload: Payload, qos: number, retain: boolean, id: number): string | null {
  if (typeof payload !== 'string' || !ascii(topic + payload)) return null;
  const body = u16Text(topic.length) + topic + (qos ? u16Text(id) : '') + (__MQTT5__ && version === 5 ? String.fromCharCode(0) : '') + payload;
  return String.fromCharCode(0x30 | qos << 1 | (retain ? 1 : 0)) + varintText(body.length) + body;
}

/** Bytes of a payload (a string goes as UTF-8), without a length: the general encoder's raw. */
function raw(d: Payload): void {
  if (typeof d === 'string') {
    room(d.length * 3);
    at = utf8Write(d, out, at);
  } else {
    room(d.length);
    out.set(d, at);
    at += d.length;
  }
}

/** A length-prefixed field: a string (as UTF-8) or binary data (the general encoder has str and binary; the board needs one). */
function binary(d: Payload): void {
  const start = at;
  u16(0);
  raw(d);
  const n = at - start - 2;
  out[start] = n >> 8;
  out[start + 1] = n & 255;
}

/**
 * MQTT 5 properties, by mqtt-packet's names, in the order of their ids (the table's: no name index to
 * carry on the board). The length prefix is a varint whose size is known only afterwards, so 4 bytes
 * are reserved and the properties slid back over the unused ones.
 */
function properties(p: Properties | undefined): void {
  room(4);
  const start = at;
  at += 4;
  for (const key in PROPERTIES) {
    const id = +key, def = PROPERTIES[id], type = def[1], v = p && (p as { [name: string]: any })[def[0]];
    if (v === undefined) continue;
    if (type === PAIR) {
      for (const key in v) {
        const values = typeof v[key] === 'string' ? [v[key]] : v[key];
        for (let i = 0; i < values.length; i++) { byte(id); binary(key); binary(values[i]); }
      }
      continue;
    }
    byte(id);
    if (type === BOOL || type === BYTE) byte(+v);
    else if (type === U16) u16(v);
    else if (type === U32) { u16(v >>> 16); u16(v & 0xffff); }
    else if (type === VARINT) varint(v);
    else binary(v);
  }
  const n = at - start - 4, end = at;
  at = start;
  varint(n);
  for (let i = start + 4; i < end; i++) out[at++] = out[i];
}

/** Puts the fixed header in front of the body written since `begin`, and returns the whole packet. */
function finish(first: number): Uint8Array {
  let n = at - HEAD, size = 1;
  for (let m = n; m > 127; m = Math.floor(m / 128)) size++;
  const end = at, start = HEAD - 1 - size;
  at = start;
  byte(first);
  varint(n);
  at = HEAD;
  return out.subarray(start, end);
}

export function connectPacket(version: number, clientId: string, clean: boolean, keepalive: number,
  username: string | undefined, password: Payload | undefined, will: Will | undefined, props: Properties | undefined): Uint8Array {
  binary('MQTT');
  byte(version);
  byte((clean ? 2 : 0) | (will ? 4 | (will.qos || 0) << 3 | (will.retain ? 32 : 0) : 0) |
    (password !== undefined ? 64 : 0) | (username !== undefined ? 128 : 0));
  u16(keepalive);
  if (__MQTT5__ && version === 5) properties(props);
  binary(clientId);
  if (will) {
    if (__MQTT5__ && version === 5) properties(will.properties);
    binary(will.topic);
    binary(will.payload);
  }
  if (username !== undefined) binary(username);
  if (password !== undefined) binary(password);
  return finish(0x10);
}

export function publishPacket(version: number, topic: string, payload: Payload, qos: number, retain: boolean, id: number, props: Properties | undefined): Uint8Array {
  binary(topic);
  if (qos) u16(id);
  if (__MQTT5__ && version === 5) properties(props);
  raw(payload);
  return finish(0x30 | qos << 1 | (retain ? 1 : 0));
}

/** PUBACK, PUBREC, PUBREL or PUBCOMP (by packet type), with an MQTT 5 reason code when not 0. */
export function ackPacket(type: number, id: number, reasonCode: number): Uint8Array {
  u16(id);
  if (reasonCode) byte(reasonCode);
  return finish(type << 4 | (type === PUBREL ? 2 : 0));
}

/** SUBSCRIBE (a list of subscriptions) or UNSUBSCRIBE (a list of filters), by packet type. */
export function subscribePacket(version: number, type: number, id: number, list: Array<Subscription | string>, props: Properties | undefined): Uint8Array {
  u16(id);
  if (__MQTT5__ && version === 5) properties(props);
  for (let i = 0; i < list.length; i++) {
    const s = list[i];
    if (typeof s === 'string') { binary(s); continue; }
    binary(s.topic);
    byte(s.qos | (__MQTT5__ ? (s.nl ? 4 : 0) | (s.rap ? 8 : 0) | (s.rh || 0) << 4 : 0));
  }
  return finish(type << 4 | 2); // [MQTT-3.8.1-1], [MQTT-3.10.1-1]
}

/** PINGREQ, or DISCONNECT (by packet type) with an MQTT 5 reason code when not 0. */
export function shortPacket(type: number, reasonCode: number): Uint8Array {
  if (reasonCode) byte(reasonCode);
  return finish(type << 4);
}

// Decoding: a whole packet's body, already collected by the session, is read with one cursor. A read
// past the end or a malformed field throws the reason code, which the session catches.

let src: Uint8Array, pos = 0, lim = 0;

function take(n: number): number {
  if (pos + n > lim) throw MALFORMED_PACKET;
  return (pos += n) - n;
}

function rd8(): number {
  return src[take(1)];
}

function rd16(): number {
  return src[take(2)] << 8 | src[pos - 1];
}

/** A packet identifier: never 0 [MQTT-2.2.1-3]; answering one would send the broker a malformed ack. */
function rdId(): number {
  const id = rd16();
  if (!id) throw PROTOCOL_ERROR;
  return id;
}

function rdVarint(): number {
  let v = 0;
  for (let m = 1, c = 128; c & 128; m *= 128) {
    if (m > 2097152) throw MALFORMED_PACKET;
    c = rd8();
    v += (c & 127) * m;
  }
  return v;
}

function rdBinary(): Uint8Array {
  const n = rd16(), start = take(n);
  return src.subarray(start, start + n);
}

/**
 * A length-prefixed UTF-8 string. A printable ASCII one (a sensor's topics) is made natively: chars from
 * the bytes by String.fromCharCode.apply, 256 at a time (Espruino's apply takes no more), and ascii()
 * tells whether they are the string. utf8Read's JS loop per byte cost the board about 15 µs a byte of
 * topic (measured on Espruino 2v29); it still reads, and checks, everything else (U+0000 included).
 */
function rdString(): string {
  const n = rd16(), start = take(n), end = start + n;
  let text = '';
  for (let i = start; i < end; i += 256) text += String.fromCharCode.apply(null, src.subarray(i, Math.min(end, i + 256)) as unknown as number[]);
  if (ascii(text)) return text;
  const s = utf8Read(src, start, end);
  if (s === null) throw MALFORMED_PACKET;
  return s;
}

/**
 * MQTT 5 properties of a packet of `type`; user properties gather into an object, a repeated key into
 * an array, as mqtt-packet does. The table says which packets may carry each property.
 */
function rdProperties(type: number): Properties {
  const p: { [name: string]: any } = {}, n = rdVarint(), end = take(n) + n, packetEnd = lim;
  // take() checked that the block fits the packet; its properties are read within it
  pos = end - n;
  lim = end;
  while (pos < end) {
    const id = rdVarint(), def = PROPERTIES[id];
    if (!(def && def[2] >> type & 1)) throw MALFORMED_PACKET;
    const name = def[0], kind = def[1];
    if (kind === PAIR) {
      const pairs = p[name] || (p[name] = {}), key = rdString(), value = rdString(), old = pairs[key];
      pairs[key] = old === undefined ? value : ([] as string[]).concat(old, value);
      continue;
    }
    const v: any = kind <= BYTE ? rd8() : kind === U16 ? rd16() : kind === U32 ? rd16() * 65536 + rd16()
      : kind === VARINT ? rdVarint() : kind === STRING ? rdString() : rdBinary();
    // flags and maximumQoS are 0 or 1; only a subscription identifier (the one VARINT property) may
    // repeat, in a PUBLISH that matches several subscriptions
    if (kind <= BYTE && v > 1 || name in p && kind !== VARINT) throw PROTOCOL_ERROR;
    p[name] = name in p ? ([] as unknown[]).concat(p[name], v) : kind === BOOL ? !!v : v;
  }
  lim = packetEnd;
  return p;
}

/** A received packet with mqtt-packet's field names. Binary fields are views into `body`, valid until the next packet. */
export interface ReceivedPacket {
  cmd?: string;
  messageId?: number;
  topic?: string;
  payload?: Uint8Array;
  qos?: number;
  dup?: boolean;
  retain?: boolean;
  sessionPresent?: boolean;
  returnCode?: number;
  reasonCode?: number;
  granted?: number[];
  properties?: Properties;
}

/**
 * Decodes a packet a broker may send, from its type and flags (the halves of its first byte) and
 * body[0..length). Packets only a client sends come back with no fields, for the session to refuse.
 * Throws MALFORMED_PACKET for bad bytes.
 */
export function parsePacket(type: number, flags: number, body: Uint8Array, length: number, version: number): ReceivedPacket {
  src = body;
  pos = 0;
  lim = length;
  // `__MQTT5__ &&` again at each use below: esbuild folds the literal away, not a local holding it
  const v5 = __MQTT5__ && version === 5, p: ReceivedPacket = {};
  if (type === PUBLISH) {
    p.cmd = 'publish';
    p.qos = flags >> 1 & 3;
    // QoS 3 [MQTT-3.3.1-4], DUP on QoS 0 [MQTT-3.3.1-2]
    if (p.qos === 3 || (flags & 14) === 8) throw MALFORMED_PACKET;
    p.dup = !!(flags & 8);
    p.retain = !!(flags & 1);
    p.topic = rdString();
    if (p.qos) p.messageId = rdId();
    if (__MQTT5__ && v5) p.properties = rdProperties(PUBLISH);
    p.payload = src.subarray(pos, pos = lim);
  } else if (flags !== (type === PUBREL ? 2 : 0)) {
    throw MALFORMED_PACKET;
  } else if (type === CONNACK) {
    p.cmd = 'connack';
    const ackFlags = rd8();
    if (ackFlags > 1) throw MALFORMED_PACKET; // [MQTT-3.2.2-1]
    p.sessionPresent = !!ackFlags;
    if (__MQTT5__ && v5) { p.reasonCode = rd8(); p.properties = rdProperties(CONNACK); }
    else if ((p.returnCode = rd8()) > 5) throw PROTOCOL_ERROR; // 3.1.1 has six (spec 3.2.2.3)
  } else if (type > PUBLISH && type <= UNSUBACK || type === DISCONNECT) {
    if (type !== DISCONNECT) p.messageId = rdId();
    if (type === SUBACK || type === UNSUBACK && __MQTT5__ && v5) {
      if (__MQTT5__ && v5) p.properties = rdProperties(type);
      // a code for each filter of the request, which has at least one: none is a packet cut short
      const granted: number[] = p.granted = [];
      do {
        const c = rd8();
        if (!v5 && c > 2 && c !== 0x80) throw MALFORMED_PACKET; // 3.1.1's SUBACK return codes [MQTT-3.9.3-2]
        granted.push(c);
      } while (pos < lim);
    } else if (__MQTT5__ && v5 && pos < lim) {
      p.reasonCode = rd8();
      if (pos < lim) p.properties = rdProperties(type);
    }
  }
  if (pos !== lim) throw MALFORMED_PACKET;
  return p;
}
