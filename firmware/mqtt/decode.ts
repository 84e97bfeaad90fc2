// Decoder of one whole packet: bytes in, a reused packet object out, binary fields as views (no copies).
// It reads through a cursor over [b, p, e) that every primitive bounds-checks, so no input can read
// out of range (which throws on Espruino), and it stops with `fail()` carrying the MQTT 5 reason code.
import {
  AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL,
  SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE, WILL, CMD_NAMES, PROPERTIES, REASONS, BOOL, BYTE, U16, U32,
  VARINT, STRING, PAIR, MALFORMED_PACKET, PROTOCOL_ERROR, UNSUPPORTED_PROTOCOL_VERSION, TOPIC_NAME_INVALID,
} from './constants';
import { fail } from './errors';
import type { Properties } from './packets';
import { utf8Read } from './utf8';

let b: Uint8Array;
let p = 0;
let e = 0;

function need(n: number): void {
  if (p + n > e) fail(MALFORMED_PACKET, 'packet ends inside a field');
}

function rd8(): number {
  need(1);
  return b[p++];
}

function rd16(): number {
  need(2);
  const v = (b[p] << 8) | b[p + 1];
  p += 2;
  return v;
}

function rd32(): number {
  need(4);
  const v = b[p] * 16777216 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
  p += 4;
  return v;
}

/** A variable byte integer (spec 1.5.5): at most 4 bytes [MQTT-1.5.5-1]. */
function rdVarint(): number {
  let v = 0, m = 1;
  for (let i = 0; i < 4; i++) {
    const c = rd8();
    v += (c & 127) * m;
    if (c < 128) return v;
    m *= 128;
  }
  return fail(MALFORMED_PACKET, 'variable byte integer longer than 4 bytes');
}

function rdString(): string {
  return rdText(rd16());
}

/** The next `n` bytes as a string. */
function rdText(n: number): string {
  need(n);
  const s = utf8Read(b, p, p + n);
  if (s === null) fail(MALFORMED_PACKET, 'string is not valid MQTT UTF-8');
  p += n;
  return s;
}

function rdBinary(): Uint8Array {
  const n = rd16();
  need(n);
  p += n;
  return view(p - n, p);
}

// Topics repeat (a board hears the same few, a broker the same fleet), so recently decoded ASCII
// topics are kept and handed out again when the bytes match: no string is built for them.
const topicCache: string[] = [];

function rdTopic(): string {
  const n = rd16();
  need(n);
  const bytes = b, at = p | 0; // int32 locals: TurboFan would otherwise reload the module-level cursor per byte
  // the slot comes from the length and three sampled bytes, so a hit costs one pass (the compare)
  const slot = n ? (n + bytes[at] * 7 + bytes[at + (n >> 1)] * 3 + bytes[at + n - 1]) & 15 : 0;
  const cached = topicCache[slot];
  if (cached !== undefined && cached.length === n) {
    let i = 0;
    while (i < n && cached.charCodeAt(i) === bytes[at + i]) i++;
    if (i === n) { p = at + n; return cached; } // cached topics are ASCII: equal bytes mean an equal string
  }
  let ascii = true;
  for (let i = at; i < at + n; i++) {
    const c = bytes[i];
    if (c > 127 || c === 0) ascii = false;
    else if (c === 43 || c === 35) fail(TOPIC_NAME_INVALID, 'wildcard in a topic name'); // + or # [MQTT-3.3.2-2]
  }
  const s = rdText(n);
  if (ascii) topicCache[slot] = s;
  return s;
}

// The last view handed out, given again when the next one would cover the same bytes: a packet that
// was gathered from fragments lies at the start of the reader's buffer each time, so a stream of
// same-size messages costs no view object per message. (Views of whole packets in a chunk differ.)
let lastView: Uint8Array = new Uint8Array(0);

function view(from: number, to: number): Uint8Array {
  const v = lastView;
  if (v.buffer === b.buffer && v.byteOffset === b.byteOffset + from && v.length === to - from) return v;
  return (lastView = b.subarray(from, to));
}

/** MQTT 5 reason code check: the code must exist and be allowed on this packet type (spec 2.4). */
function rdReason(type: number): number {
  const c = rd8();
  const r = REASONS[c];
  if (!r || !(r[1] & (1 << type))) fail(MALFORMED_PACKET, 'reason code 0x' + c.toString(16) + ' is not valid in ' + CMD_NAMES[type]);
  return c;
}

/** A property block for packet `type` (WILL for will properties); undefined when empty. */
function rdProperties(type: number): Properties | undefined {
  const length = rdVarint();
  need(length);
  if (length === 0) return undefined;
  const end = p + length, outerEnd = e;
  e = end;
  const r: any = {};
  while (p < end) {
    const id = rdVarint();
    const def = PROPERTIES[id];
    if (!def) fail(MALFORMED_PACKET, 'unknown property 0x' + id.toString(16));
    const name = def[0], kind = def[1];
    if (!(def[2] & (1 << type))) fail(MALFORMED_PACKET, name + ' is not allowed in ' + (type ? CMD_NAMES[type] : 'will'));
    if (kind === PAIR) {
      const key = rdString(), value = rdString();
      // no prototype: keys such as `constructor` or `__proto__` are plain keys here
      const pairs = r.userProperties || (r.userProperties = Object.create(null));
      const old = pairs[key];
      pairs[key] = old === undefined ? value : Array.isArray(old) ? old.concat(value) : [old, value];
      continue;
    }
    let v: any;
    if (kind === BOOL) {
      v = rd8();
      if (v > 1) fail(PROTOCOL_ERROR, name + ' must be 0 or 1');
      v = v === 1;
    } else if (kind === BYTE) {
      v = rd8();
      if (v > 1) fail(PROTOCOL_ERROR, name + ' must be 0 or 1'); // maximumQoS [MQTT-3.2.2-9]
    } else if (kind === U16) v = rd16();
    else if (kind === U32) v = rd32();
    else if (kind === VARINT) v = rdVarint();
    else if (kind === STRING) v = rdString();
    else v = rdBinary();
    // receiveMaximum, topicAlias, maximumPacketSize and subscriptionIdentifier may not be 0
    if (v === 0 && (id === 0x21 || id === 0x23 || id === 0x27 || id === 0x0b)) fail(PROTOCOL_ERROR, name + ' must not be 0');
    const old = r[name];
    if (old === undefined) r[name] = v;
    else if (id === 0x0b && type === PUBLISH) r[name] = Array.isArray(old) ? old.concat(v) : [old, v];
    else fail(PROTOCOL_ERROR, name + ' appears twice');
  }
  e = outerEnd;
  return r;
}

function rdId(): number {
  const id = rd16();
  if (id === 0) fail(PROTOCOL_ERROR, 'packet identifier 0'); // [MQTT-2.2.1-3]
  return id;
}

function publish(o: any, flags: number, v5: boolean): void {
  const qos = (flags >> 1) & 3;
  if (qos === 3) fail(MALFORMED_PACKET, 'PUBLISH with QoS 3'); // [MQTT-3.3.1-4]
  if (qos === 0 && flags & 8) fail(MALFORMED_PACKET, 'DUP set on a QoS 0 PUBLISH'); // [MQTT-3.3.1-2]
  o.qos = qos;
  o.dup = (flags & 8) !== 0;
  o.retain = (flags & 1) !== 0;
  o.topic = rdTopic();
  o.messageId = qos ? rdId() : undefined;
  o.properties = v5 ? rdProperties(PUBLISH) : undefined;
  // (a wildcard in the topic was refused as it was read, in rdTopic)
  if (o.topic.length === 0 && !(o.properties && o.properties.topicAlias)) fail(PROTOCOL_ERROR, 'empty topic without a topic alias');
  o.payload = view(p, e);
  p = e;
}

function ack(o: any, type: number, v5: boolean): void {
  o.messageId = rdId();
  o.reasonCode = v5 ? (p < e ? rdReason(type) : 0) : undefined;
  o.properties = v5 && p < e ? rdProperties(type) : undefined;
}

function connack(o: any, v5: boolean): void {
  const flags = rd8();
  if (flags > 1) fail(MALFORMED_PACKET, 'CONNACK reserved flags set'); // [MQTT-3.2.2-1]
  o.sessionPresent = flags === 1;
  if (v5) {
    o.reasonCode = rdReason(CONNACK);
    o.returnCode = undefined;
    o.properties = rdProperties(CONNACK);
  } else {
    o.reasonCode = o.properties = undefined;
    o.returnCode = rd8();
    if (o.returnCode > 5) fail(PROTOCOL_ERROR, 'CONNACK return code ' + o.returnCode);
  }
}

function suback(o: any, type: number, v5: boolean): void {
  o.messageId = rdId();
  o.properties = v5 ? rdProperties(type) : undefined;
  const granted: number[] = [];
  while (p < e && (v5 || type === SUBACK)) {
    if (v5) { granted.push(rdReason(type)); continue; }
    const c = rd8();
    if (c > 2 && c !== 0x80) fail(MALFORMED_PACKET, 'SUBACK return code 0x' + c.toString(16));
    granted.push(c);
  }
  // a code for each filter of the request, which has at least one: none is a packet cut short
  if ((v5 || type === SUBACK) && granted.length === 0) fail(MALFORMED_PACKET, CMD_NAMES[type] + ' without return codes');
  o.granted = type === UNSUBACK && !v5 ? undefined : granted;
}

/** CONNECT's protocol name and level; sets them (and bridgeMode) on `o` and returns the level. */
function protocolLevel(o: any): number {
  const protocolId = rdString();
  const raw = rd8();
  // a bridge sets the top bit of the 3.1 or 3.1.1 level (mosquitto's try_private: 0x83, 0x84)
  const level = raw & 0x7f;
  if (!((protocolId === 'MQTT' && (raw === 4 || (__MQTT5__ && raw === 5) || raw === 0x84)) || (protocolId === 'MQIsdp' && level === 3))) {
    fail(UNSUPPORTED_PROTOCOL_VERSION, 'unsupported protocol ' + protocolId + ' level ' + raw); // [MQTT-3.1.2-2]
  }
  o.protocolId = protocolId;
  o.protocolVersion = level;
  o.bridgeMode = raw !== level || undefined;
  return level;
}

function connect(o: any): number {
  const level = protocolLevel(o), v5 = level === 5;
  const flags = rd8();
  if (flags & 1) fail(MALFORMED_PACKET, 'CONNECT reserved flag set'); // [MQTT-3.1.2-3]
  const willFlag = flags & 4, willQos = (flags >> 3) & 3;
  if (willQos === 3) fail(MALFORMED_PACKET, 'will QoS 3'); // [MQTT-3.1.2-14]
  if (!willFlag && (willQos || flags & 32)) fail(MALFORMED_PACKET, 'will QoS or retain without a will'); // [MQTT-3.1.2-13]
  if (!v5 && flags & 64 && !(flags & 128)) fail(MALFORMED_PACKET, 'password without user name'); // [MQTT-3.1.2-22]
  o.clean = (flags & 2) !== 0;
  o.keepalive = rd16();
  o.properties = v5 ? rdProperties(CONNECT) : undefined;
  if (o.properties && o.properties.authenticationData && o.properties.authenticationMethod === undefined) fail(PROTOCOL_ERROR, 'authentication data without a method'); // 5.0 3.1.2.11.10
  o.clientId = rdString();
  if (willFlag) {
    const will: any = { qos: willQos, retain: (flags & 32) !== 0 };
    will.properties = v5 ? rdProperties(WILL) : undefined;
    will.topic = rdTopic();
    // a will has no topic alias to stand for its topic: an empty one is no topic name [MQTT-4.7.3-1]
    if (!will.topic) fail(TOPIC_NAME_INVALID, 'empty will topic');
    will.payload = rdBinary();
    o.will = will;
  } else o.will = undefined;
  o.username = flags & 128 ? rdString() : undefined;
  o.password = flags & 64 ? rdBinary() : undefined;
  return level;
}

function subscribe(o: any, v5: boolean): void {
  o.messageId = rdId();
  o.properties = v5 ? rdProperties(SUBSCRIBE) : undefined;
  const subscriptions: any[] = [];
  while (p < e) {
    const topic = rdString();
    const opts = rd8();
    if (opts & (v5 ? 0xc0 : 0xfc)) fail(MALFORMED_PACKET, 'SUBSCRIBE options reserved bits set'); // [MQTT-3.8.3-5]
    const qos = opts & 3, rh = (opts >> 4) & 3;
    if (qos === 3) fail(v5 ? PROTOCOL_ERROR : MALFORMED_PACKET, 'SUBSCRIBE with QoS 3'); // 5.0 3.8.3.1; 3.1.1 [MQTT-3-8.3-4]
    if (rh === 3) fail(PROTOCOL_ERROR, 'retain handling 3');
    subscriptions.push(v5 ? { topic: topic, qos: qos, nl: (opts & 4) !== 0, rap: (opts & 8) !== 0, rh: rh } : { topic: topic, qos: qos });
  }
  if (!subscriptions.length) fail(PROTOCOL_ERROR, 'SUBSCRIBE without topics'); // [MQTT-3.8.3-3]
  o.subscriptions = subscriptions;
}

function unsubscribe(o: any, v5: boolean): void {
  o.messageId = rdId();
  o.properties = v5 ? rdProperties(UNSUBSCRIBE) : undefined;
  const topics: string[] = [];
  while (p < e) topics.push(rdString());
  if (!topics.length) fail(PROTOCOL_ERROR, 'UNSUBSCRIBE without topics'); // [MQTT-3.10.3-2]
  o.unsubscriptions = topics;
}

/** Fixed-header flags each packet type must carry (spec 2.1.3); PUBLISH's are its own. */
function expectedFlags(type: number): number {
  return type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 2 : 0;
}

/**
 * Decodes the packet in bytes[start..end) (whole: fixed header through payload) into `o`, whose `cmd`
 * must already be the packet's. `bodyStart` is where the variable header starts. Returns the protocol
 * level of a CONNECT (the reader switches to it) or 0. Throws only through `fail`.
 */
export function decodeInto(o: any, bytes: Uint8Array, start: number, bodyStart: number, end: number, version: number): number {
  b = bytes;
  p = bodyStart;
  e = end;
  const type = bytes[start] >> 4, flags = bytes[start] & 15;
  const v5 = __MQTT5__ && version === 5;
  if (type !== PUBLISH && flags !== expectedFlags(type)) fail(MALFORMED_PACKET, CMD_NAMES[type] + ' with reserved flags 0x' + flags.toString(16)); // [MQTT-2.2.2-2]
  let level = 0;
  if (type === PUBLISH) publish(o, flags, v5);
  else if (type === PUBACK || type === PUBREC || type === PUBREL || type === PUBCOMP) ack(o, type, v5);
  else if (type === PINGREQ || type === PINGRESP) { /* nothing after the fixed header */ }
  else if (type === DISCONNECT) {
    o.reasonCode = v5 ? (p < e ? rdReason(DISCONNECT) : 0) : undefined;
    o.properties = v5 && p < e ? rdProperties(DISCONNECT) : undefined;
  } else if (__MQTT5__ && type === AUTH && v5) {
    o.reasonCode = p < e ? rdReason(AUTH) : 0;
    o.properties = p < e ? rdProperties(AUTH) : undefined;
  } else if (type === CONNACK) connack(o, v5);
  else if (type === SUBACK || type === UNSUBACK) suback(o, type, v5);
  else if (__SERVER__ && type === CONNECT) level = connect(o);
  else if (__SERVER__ && type === SUBSCRIBE) subscribe(o, v5);
  else if (__SERVER__ && type === UNSUBSCRIBE) unsubscribe(o, v5);
  else fail(type === 0 || type === AUTH ? MALFORMED_PACKET : PROTOCOL_ERROR, 'unexpected packet type ' + type);
  if (p !== e) fail(MALFORMED_PACKET, CMD_NAMES[type] + ' has ' + (e - p) + ' bytes too many');
  return level;
}
