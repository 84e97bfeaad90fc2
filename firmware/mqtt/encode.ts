// Encoder: writes one packet into a caller-given Uint8Array and allocates nothing.
// One body writer runs twice: first with no output to count the remaining length (which the fixed
// header needs up front), then for real. One function per packet shape keeps the layout in one place,
// which costs the board fewer bytes of code than a separate size calculator would.
import {
  AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL,
  SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE, PROPERTIES, PROPERTY_IDS, BOOL, BYTE, U16, U32, VARINT,
  STRING, PAIR, packetType,
} from './constants';
import type { Packet, Payload, Properties, PublishPacket, Will } from './packets';
import { utf8Length, utf8Write } from './utf8';

/** Largest remaining length a 4-byte variable byte integer can carry (spec 1.5.5). */
export const MAX_REMAINING_LENGTH = 268435455;

let out: Uint8Array | null = null; // null while counting
let at = 0;

function byte(v: number): void {
  if (out) out[at] = v;
  at++;
}

function u16(v: number): void {
  if (v > 65535 || v < 0) throw new Error('value ' + v + ' does not fit a 2-byte field');
  byte(v >> 8);
  byte(v & 255);
}

function u32(v: number): void {
  u16(v >>> 16);
  u16(v & 0xffff);
}

function varint(v: number): void {
  do {
    let b = v % 128;
    v = (v - b) / 128;
    if (v > 0) b |= 128;
    byte(b);
  } while (v > 0);
}

// UTF-8 lengths of the last few strings, by value: a board publishes to the same few topics, and both
// passes need the length. Measuring a 30-char topic costs as much as the rest of a PUBLISH.
const lengthOf: string[] = ['', '', '', ''];
const lengthIs = [0, 0, 0, 0];
let lengthNext = 0;

function strLength(s: string): number {
  for (let i = 0; i < 4; i++) if (lengthOf[i] === s) return lengthIs[i];
  const n = utf8Length(s);
  lengthOf[lengthNext] = s;
  lengthIs[lengthNext] = n;
  lengthNext = (lengthNext + 1) & 3;
  return n;
}

/** A UTF-8 string with its 2-byte length. ASCII (UTF-8 length = string length) takes a plain copy loop. */
function str(s: string): void {
  const n = strLength(s);
  if (!out) { at += 2 + n; return; }
  u16(n);
  if (n === s.length) { // locals: the loop would otherwise reload and recheck the module-level out and at per char
    const o = out, a = at | 0; // | 0: an int32 to TurboFan, or o[a + i] converts a float index per char
    for (let i = 0; i < n; i++) o[a + i] = s.charCodeAt(i);
    at = a + n;
  }
  else at = utf8Write(s, out, at);
}

/** Raw bytes, or a string as UTF-8, without a length prefix (a PUBLISH payload). */
function raw(b: Payload): void {
  if (typeof b === 'string') {
    if (out) at = utf8Write(b, out, at);
    else at += utf8Length(b);
  } else {
    const o = out, n = b.length, a = at | 0;
    if (o && n > 64) o.set(b, a);
    else if (o) for (let i = 0; i < n; i++) o[a + i] = b[i]; // below ~64 bytes a loop beats set()'s call overhead
    at = a + n;
  }
}

/** Binary data with its 2-byte length. */
function binary(b: Payload): void {
  u16(typeof b === 'string' ? utf8Length(b) : b.length);
  raw(b);
}

function propertyValue(id: number, type: number, v: unknown): void {
  byte(id);
  if (type === BOOL) byte(v ? 1 : 0);
  else if (type === BYTE) byte(v as number);
  else if (type === U16) u16(v as number);
  else if (type === U32) u32(v as number);
  else if (type === VARINT) varint(v as number);
  else if (type === STRING) str(v as string);
  else binary(v as Uint8Array);
}

function propertyList(p: Properties): void {
  for (const name in p) {
    const v = (p as { [k: string]: unknown })[name];
    if (v === undefined) continue;
    const id = PROPERTY_IDS[name];
    if (!id) throw new Error('unknown MQTT 5 property ' + name);
    const type = PROPERTIES[id][1];
    if (type === PAIR) {
      const pairs = v as { [key: string]: string | string[] };
      for (const key in pairs) {
        const values = pairs[key];
        const list = Array.isArray(values) ? values : [values];
        for (let i = 0; i < list.length; i++) { byte(id); str(key); str('' + list[i]); }
      }
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) propertyValue(id, type, v[i]);
    } else {
      propertyValue(id, type, v);
    }
  }
}

/** A property block: its length, then the properties. The length needs a counting pass of its own. */
function properties(p: Properties | undefined): void {
  if (!p) { byte(0); return; }
  const saved = out, start = at;
  out = null;
  propertyList(p);
  const length = at - start;
  out = saved;
  at = start;
  varint(length);
  propertyList(p);
}

function connectBody(p: Extract<Packet, { cmd: 'connect' }>, v: number): void {
  const will: Will | undefined = p.will;
  str(p.protocolId || (v === 3 ? 'MQIsdp' : 'MQTT'));
  byte(v);
  let flags = p.clean === false ? 0 : 2;
  if (will) flags |= 4 | ((will.qos || 0) << 3) | (will.retain ? 32 : 0);
  if (p.password !== undefined) flags |= 64;
  if (p.username !== undefined) flags |= 128;
  byte(flags);
  u16(p.keepalive === undefined ? 60 : p.keepalive);
  if (__MQTT5__ && v === 5) properties(p.properties);
  str(p.clientId || '');
  if (will) {
    if (__MQTT5__ && v === 5) properties(will.properties);
    str(will.topic);
    binary(will.payload);
  }
  if (p.username !== undefined) str(p.username);
  if (p.password !== undefined) binary(p.password);
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT and AUTH share one rule in MQTT 5: reason code and
 * properties may both be left out when the code is 0 and there are no properties (spec 3.4.2.1,
 * 3.14.2.1, 3.15.2.1). Otherwise both are written: AUTH has no short form with the code alone. */
function reasonAndProperties(p: { reasonCode?: number; properties?: Properties }): void {
  if (!p.reasonCode && !p.properties) return;
  byte(p.reasonCode || 0);
  properties(p.properties);
}

/** The variable header and payload of a packet of `type`. Server-side packets exist only in the profiles that have __SERVER__. */
function body(type: number, p: Packet, v: number): void {
  const v5 = __MQTT5__ && v === 5;
  const q = p as any; // fields are read per type below; the Packet union is checked at the API edge
  switch (type) {
    case CONNECT: connectBody(q, q.protocolVersion || v); return;
    case PUBLISH:
      str(q.topic);
      if (q.qos) u16(q.messageId);
      if (v5) properties(q.properties);
      raw(q.payload === undefined ? '' : q.payload);
      return;
    case PUBACK: case PUBREC: case PUBREL: case PUBCOMP:
      u16(q.messageId);
      if (v5) reasonAndProperties(q);
      return;
    case SUBSCRIBE: case UNSUBSCRIBE: {
      u16(q.messageId);
      if (v5) properties(q.properties);
      const list = type === SUBSCRIBE ? q.subscriptions : q.unsubscriptions;
      for (let i = 0; i < list.length; i++) {
        const s = list[i];
        if (type === UNSUBSCRIBE) { str(s); continue; }
        str(s.topic);
        byte(v5 ? s.qos | (s.nl ? 4 : 0) | (s.rap ? 8 : 0) | ((s.rh || 0) << 4) : s.qos); // 3.1.1: reserved bits
      }
      return;
    }
    case PINGREQ: case PINGRESP: return;
    case DISCONNECT: if (v5) reasonAndProperties(q); return;
  }
  if (__SERVER__ && (type === CONNACK || type === SUBACK || type === UNSUBACK)) {
    if (type === CONNACK) {
      byte(q.sessionPresent ? 1 : 0);
      byte((v5 ? q.reasonCode : q.returnCode) || 0);
      if (v5) properties(q.properties);
      return;
    }
    u16(q.messageId);
    if (v5) properties(q.properties);
    const codes = q.granted || [];
    if (type === SUBACK || v5) for (let i = 0; i < codes.length; i++) byte(codes[i]);
    return;
  }
  if (__MQTT5__ && type === AUTH && v5) { reasonAndProperties(q); return; }
  throw new Error('cannot encode ' + q.cmd + ' in MQTT ' + (v === 5 ? 5 : '3.1.1') + ' with this profile');
}

function firstByte(type: number, p: Packet): number {
  if (type === PUBLISH) {
    const q = p as Extract<Packet, { cmd: 'publish' }>;
    return 0x30 | (q.dup ? 8 : 0) | ((q.qos || 0) << 1) | (q.retain ? 1 : 0);
  }
  return (type << 4) | (type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 2 : 0);
}

function varintSize(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/**
 * Encodes `packet` for protocol version `version` (4 = 3.1.1, 5 = MQTT 5) into `buf` at `offset`.
 * Returns the number of bytes written; when `buf` is too small it writes nothing and returns the
 * negated size the packet needs, so the caller can grow or flush and try again.
 * Throws an Error for a packet that cannot be expressed (an unknown command, an oversize packet).
 */
export function encode(packet: Packet, version: number, buf: Uint8Array, offset: number): number {
  const type = packetType(packet.cmd);
  if (!type) throw new Error('unknown packet cmd ' + packet.cmd);
  let length: number;
  if (type === PUBLISH && !(packet as PublishPacket).properties) {
    length = publishLength(packet as PublishPacket, version);
  } else {
    out = null;
    at = 0;
    body(type, packet, version);
    length = at;
  }
  if (length > MAX_REMAINING_LENGTH) throw new Error('packet too large: ' + length + ' bytes');
  const total = 1 + varintSize(length) + length;
  if (offset + total > buf.length) return -total;
  out = buf;
  at = offset;
  byte(firstByte(type, packet));
  varint(length);
  body(type, packet, version);
  out = null;
  return total;
}

/**
 * Remaining length of a PUBLISH without properties, the steady state of a sensor: computed directly,
 * so the hot path skips the counting pass over the body.
 */
function publishLength(p: PublishPacket, v: number): number {
  const payload = p.payload;
  const n = payload === undefined ? 0 : typeof payload === 'string' ? utf8Length(payload) : payload.length;
  return 2 + strLength(p.topic) + (p.qos ? 2 : 0) + (v === 5 ? 1 : 0) + n;
}

/** Bytes `packet` takes on the wire, without writing it. */
export function encodedLength(packet: Packet, version: number): number {
  return -encode(packet, version, EMPTY, 0);
}
const EMPTY = new Uint8Array(0);
