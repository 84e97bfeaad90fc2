// Encoder: writes one packet into a caller-given Uint8Array and allocates nothing.
// One body writer runs twice: first with no output to count the remaining length (which the fixed
// header needs up front), then for real. One function per packet shape keeps the layout in one place,
// which costs the board fewer bytes of code than a separate size calculator would.
// Every value is checked against the spec before a byte is written (validate, and the field writers
// themselves): a packet the spec does not allow throws an Error that says why, and is never written.
import {
  AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL,
  SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE, WILL, PROPERTIES, PROPERTY_IDS, REASONS, BOOL, BYTE, U16, U32,
  VARINT, STRING, BINARY, PAIR, CMD_NAMES, packetType,
} from './constants';
import type { Packet, Payload, Properties, PublishPacket, Will } from './packets';
import { validTopicFilter, validTopicName } from './topic';
import { utf8Length, utf8Write } from './utf8';

/** Largest remaining length a 4-byte variable byte integer can carry (spec 1.5.5). */
export const MAX_REMAINING_LENGTH = 268435455;

let out: Uint8Array | null = null; // null while counting
let at = 0;

function byte(v: number): void {
  if (out) out[at] = v;
  at++;
}

/** Throws the encoder's error: the packet is refused before anything is written. */
function refuse(why: string): never {
  throw new Error('cannot encode: ' + why);
}

function u16(v: number): void {
  if ((v & 0xffff) !== v) refuse(v + ' is not a whole number from 0 to 65535 (a 2-byte field)');
  byte(v >> 8);
  byte(v & 255);
}

function u32(v: number): void {
  if (v >>> 0 !== v) refuse(v + ' is not a whole number from 0 to 4294967295 (a 4-byte field)');
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

/** Refuses a property value its type does not allow: the same rules the decoder enforces. */
function checkPropertyValue(id: number, type: number, v: unknown): void {
  const name = PROPERTIES[id][0];
  // 0 is a protocol error for these four; maximumQoS is 0 or 1
  if (v === 0 && (id === 0x21 || id === 0x23 || id === 0x27 || id === 0x0b)) refuse(name + ' must not be 0');
  if (type === VARINT && !(typeof v === 'number' && v % 1 === 0 && v >= 0 && v <= MAX_REMAINING_LENGTH)) refuse(name + ' ' + v + ' is not a whole number from 0 to 268435455');
  if (type === BYTE && v !== 0 && v !== 1) refuse(name + ' ' + v + ' is not 0 or 1');
  if (type === STRING && typeof v !== 'string') refuse(name + ' is not a string');
  if (type === BINARY && typeof v !== 'string' && !(v instanceof Uint8Array)) refuse(name + ' is not bytes');
}

function propertyValue(id: number, type: number, v: unknown): void {
  checkPropertyValue(id, type, v);
  byte(id);
  if (type === BOOL) byte(v ? 1 : 0);
  else if (type === BYTE) byte(v as number);
  else if (type === U16) u16(v as number);
  else if (type === U32) u32(v as number);
  else if (type === VARINT) varint(v as number);
  else if (type === STRING) str(v as string);
  else binary(v as Uint8Array);
}

/** The properties of a packet of `type` (WILL for a will's), each one allowed there (spec 2.2.2.2). */
function propertyList(p: Properties, type: number): void {
  for (const name in p) {
    const v = (p as { [k: string]: unknown })[name];
    if (v === undefined) continue;
    const id = PROPERTY_IDS[name];
    if (!id) refuse('unknown MQTT 5 property ' + name);
    const def = PROPERTIES[id];
    if (!(def[2] & (1 << type))) refuse(name + ' is not allowed in ' + (type === WILL ? 'a will' : CMD_NAMES[type]));
    const kind = def[1];
    if (Array.isArray(v) && !(id === 0x0b && type === PUBLISH)) refuse(name + ' may appear only once');
    if (kind === PAIR) {
      const pairs = v as { [key: string]: string | string[] };
      for (const key in pairs) {
        const values = pairs[key];
        const list = Array.isArray(values) ? values : [values];
        for (let i = 0; i < list.length; i++) { byte(id); str(key); str('' + list[i]); }
      }
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) propertyValue(id, kind, v[i]);
    } else {
      propertyValue(id, kind, v);
    }
  }
}

/** A property block: its length, then the properties. The length needs a counting pass of its own. */
function properties(p: Properties | undefined, type: number): void {
  if (!p) { byte(0); return; }
  const saved = out, start = at;
  out = null;
  propertyList(p, type);
  const length = at - start;
  out = saved;
  at = start;
  varint(length);
  propertyList(p, type);
}

function connectBody(p: Extract<Packet, { cmd: 'connect' }>, v: number): void {
  const will: Will | undefined = p.will;
  str(p.protocolId || (v === 3 ? 'MQIsdp' : 'MQTT'));
  byte(p.bridgeMode ? v | 0x80 : v); // a bridge's flag on the protocol level (mosquitto's try_private)
  let flags = p.clean === false ? 0 : 2;
  if (will) flags |= 4 | ((will.qos || 0) << 3) | (will.retain ? 32 : 0);
  if (p.password !== undefined) flags |= 64;
  if (p.username !== undefined) flags |= 128;
  byte(flags);
  u16(p.keepalive === undefined ? 60 : p.keepalive);
  if (__MQTT5__ && v === 5) properties(p.properties, CONNECT);
  str(p.clientId || '');
  if (will) {
    if (__MQTT5__ && v === 5) properties(will.properties, WILL);
    str(will.topic);
    binary(will.payload);
  }
  if (p.username !== undefined) str(p.username);
  if (p.password !== undefined) binary(p.password);
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT and AUTH share one rule in MQTT 5: reason code and
 * properties may both be left out when the code is 0 and there are no properties (spec 3.4.2.1,
 * 3.14.2.1, 3.15.2.1). Otherwise both are written: AUTH has no short form with the code alone. */
function reasonAndProperties(p: { reasonCode?: number; properties?: Properties }, type: number): void {
  if (!p.reasonCode && !p.properties) return;
  byte(p.reasonCode || 0);
  properties(p.properties, type);
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
      if (v5) properties(q.properties, PUBLISH);
      raw(q.payload === undefined ? '' : q.payload);
      return;
    case PUBACK: case PUBREC: case PUBREL: case PUBCOMP:
      u16(q.messageId);
      if (v5) reasonAndProperties(q, type);
      return;
    case SUBSCRIBE: case UNSUBSCRIBE: {
      u16(q.messageId);
      if (v5) properties(q.properties, type);
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
    case DISCONNECT: if (v5) reasonAndProperties(q, DISCONNECT); return;
  }
  if (__SERVER__ && (type === CONNACK || type === SUBACK || type === UNSUBACK)) {
    if (type === CONNACK) {
      byte(q.sessionPresent ? 1 : 0);
      byte((v5 ? q.reasonCode : q.returnCode) || 0);
      if (v5) properties(q.properties, CONNACK);
      return;
    }
    u16(q.messageId);
    if (v5) properties(q.properties, type);
    const codes = q.granted || [];
    if (type === SUBACK || v5) for (let i = 0; i < codes.length; i++) byte(codes[i]);
    return;
  }
  if (__MQTT5__ && type === AUTH && v5) { reasonAndProperties(q, AUTH); return; }
  throw new Error('cannot encode ' + q.cmd + ' in MQTT ' + (v === 5 ? 5 : '3.1.1') + ' with this profile');
}

/** A QoS, or refuses: 0, 1 or 2 (3 is malformed [MQTT-3.3.1-4]). */
function qosOf(q: unknown, what: string): number {
  if (q === undefined) return 0;
  if (q !== 0 && q !== 1 && q !== 2) refuse(what + ' QoS ' + q + ' is not 0, 1 or 2');
  return q;
}

/** A packet identifier: 1 to 65535 [MQTT-2.2.1-3]. */
function packetId(id: unknown, cmd: string): void {
  if (typeof id !== 'number' || id < 1 || (id & 0xffff) !== id) refuse(cmd + ' packet identifier ' + id + ' is not from 1 to 65535');
}

/** A reason code this packet type may carry in MQTT 5 (spec 2.4). */
function reasonFor(code: unknown, type: number): void {
  const r = REASONS[code as number];
  if (!r || !(r[1] & (1 << type))) refuse('reason code ' + code + ' is not valid in ' + CMD_NAMES[type]);
}

/**
 * The last topic found valid: a sensor publishes to the same topic again and again. Unset until one
 * is (not '': the first packet of a process with an empty topic would then go unchecked).
 */
let validTopic: string | undefined;

function validTopicOrRefuse(topic: unknown, what: string): void {
  if (typeof topic === 'string' && topic === validTopic) return;
  if (typeof topic !== 'string' || !validTopicName(topic)) refuse(what + ' topic ' + JSON.stringify(topic) + ' is not a valid topic name');
  validTopic = topic;
}

/** The rules of the spec that a field writer alone cannot see: packet ids, QoS, flags that go together, topics. */
function validate(type: number, q: any, v: number): void {
  const check = CHECKS[type];
  if (check) check(q, __MQTT5__ && v === 5, type, v);
}

function checkConnect(q: any, _v5: boolean, _type: number, v: number): void {
  const level = q.protocolVersion || v;
  if (level !== 4 && level !== 3 && !(__MQTT5__ && level === 5)) refuse('MQTT protocol version ' + level + ' is not spoken (3, 4 or 5)');
  if (level < 5 && q.clean === false && !q.clientId) refuse('a persistent session (clean false) needs a client id [MQTT-3.1.3-7]');
  if (level < 5 && q.password !== undefined && q.username === undefined) refuse('a password without a user name [MQTT-3.1.2-22]');
  if (q.will) { qosOf(q.will.qos, 'will'); validTopicOrRefuse(q.will.topic, 'will'); }
}

function checkPublish(q: any, v5: boolean): void {
  const qos = qosOf(q.qos, 'PUBLISH');
  if (qos) packetId(q.messageId, 'PUBLISH');
  else if (q.dup) refuse('DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]');
  if (!(q.topic === '' && v5 && q.properties && q.properties.topicAlias)) validTopicOrRefuse(q.topic, 'PUBLISH');
}

function checkAck(q: any, v5: boolean, type: number): void {
  packetId(q.messageId, q.cmd);
  checkReason(q, v5, type);
}

/** SUBSCRIBE and UNSUBSCRIBE: at least one valid filter [MQTT-3.8.3-3], [MQTT-3.10.3-2]; a SUBSCRIBE's options. */
function checkRequest(q: any, _v5: boolean, type: number): void {
  packetId(q.messageId, q.cmd);
  const subscribe = type === SUBSCRIBE, list = subscribe ? q.subscriptions : q.unsubscriptions;
  if (!list || !list.length) refuse(q.cmd + ' without a topic filter [MQTT-3.8.3-3], [MQTT-3.10.3-2]');
  for (let i = 0; i < list.length; i++) {
    const f = subscribe ? list[i].topic : list[i];
    if (typeof f !== 'string' || !validTopicFilter(f)) refuse(q.cmd + ' filter ' + JSON.stringify(f) + ' is not a valid topic filter');
    if (!subscribe) continue;
    qosOf(list[i].qos, 'SUBSCRIBE');
    const rh = list[i].rh || 0;
    if (rh !== 0 && rh !== 1 && rh !== 2) refuse('retain handling ' + rh + ' is not 0, 1 or 2');
  }
}

function checkConnack(q: any, v5: boolean): void {
  if ((v5 ? q.reasonCode : q.returnCode) && q.sessionPresent) refuse('sessionPresent with a refusing CONNACK [MQTT-3.2.2-4]');
  if (v5) checkReason(q, v5, CONNACK);
  else if (!(q.returnCode === undefined || (q.returnCode >= 0 && q.returnCode <= 5 && q.returnCode % 1 === 0))) refuse('CONNACK return code ' + q.returnCode + ' is not from 0 to 5');
}

/** SUBACK and UNSUBACK: a code per filter, from the type's own list. */
function checkGranted(q: any, v5: boolean, type: number): void {
  packetId(q.messageId, q.cmd);
  const codes = q.granted || [];
  if (type === SUBACK && !codes.length) refuse('SUBACK without return codes');
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (v5) reasonFor(c, type);
    else if (type === SUBACK && c !== 0 && c !== 1 && c !== 2 && c !== 0x80) refuse('SUBACK return code ' + c + ' is not 0, 1, 2 or 0x80');
  }
}

/** An MQTT 5 reason code, when there is one, from the type's own list (spec 2.4). */
function checkReason(q: any, v5: boolean, type: number): void {
  if (v5 && q.reasonCode) reasonFor(q.reasonCode, type);
}

/** The checks by packet type: one per kind of packet, as the decoder has one reader per kind. */
const CHECKS: { [type: number]: (q: any, v5: boolean, type: number, version: number) => void } = {
  [CONNECT]: checkConnect, [PUBLISH]: checkPublish, [PUBACK]: checkAck, [PUBREC]: checkAck, [PUBREL]: checkAck,
  [PUBCOMP]: checkAck, [SUBSCRIBE]: checkRequest, [UNSUBSCRIBE]: checkRequest, [CONNACK]: checkConnack,
  [SUBACK]: checkGranted, [UNSUBACK]: checkGranted, [DISCONNECT]: checkReason, [AUTH]: checkReason,
};

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
 * Throws an Error, writing nothing, for a packet the spec does not allow: an unknown command or protocol
 * version, a value out of its field's range, a QoS, packet id, topic, reason code or property that is not
 * valid where it stands, an oversize packet.
 */
export function encode(packet: Packet, version: number, buf: Uint8Array, offset: number): number {
  const type = packetType(packet.cmd);
  if (!type) refuse('unknown packet cmd ' + packet.cmd);
  if (version !== 4 && version !== 3 && !(__MQTT5__ && version === 5)) refuse('MQTT protocol version ' + version + ' is not spoken (3, 4 or 5)');
  validate(type, packet, version);
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
