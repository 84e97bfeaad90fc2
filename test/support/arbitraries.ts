// fast-check arbitraries for VALID MQTT packets (3.1.1 and 5) in mqtt-packet's shapes, plus the helpers
// the property and fuzz tests share: `normalize` (a canonical, comparable form of a packet from either
// codec) and `toChunks`.
import fc from 'fast-check';
import {
  PROPERTIES, REASONS, WILL, BOOL, BYTE, U16, U32, VARINT, STRING, BINARY, PAIR, packetType,
  CONNECT, CONNACK, PUBLISH, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK,
} from '../../firmware/mqtt';
import type { Packet, Properties } from '../../firmware/mqtt';

/** Versions the arbitraries take: 4 is MQTT 3.1.1 (a CONNECT may also say level 3, MQIsdp), 5 is MQTT 5. */
export type Version = 4 | 5;


// ---------------------------------------------------------------------------------------------------
// Strings

/** One code point of every UTF-8 length: 1 byte (no U+0000), 2, 3 (no surrogates) and 4 bytes. */
export const codePoint = (exclude = ''): fc.Arbitrary<string> => fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x01, max: 0x7f }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0x7ff }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 0x800, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0xffff })) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) },
).map((c) => String.fromCodePoint(c)).filter((s) => exclude.indexOf(s) < 0);

/** A valid MQTT UTF-8 string (spec 1.5.4): no U+0000, no lone surrogates; 4-byte characters included. */
export const utf8String = (maxLength = 12, minLength = 0, exclude = ''): fc.Arbitrary<string> =>
  fc.array(codePoint(exclude), { minLength, maxLength }).map((a) => a.join(''));

/** Bytes as a Uint8Array that owns its buffer. */
export const bytes = (maxLength = 24): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ maxLength }).map((a) => new Uint8Array(a));

/** One topic level: no '/', '+', '#'. */
const level = (maxLength = 6) => fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a', 'b', 'sensors', 'temp', '$SYS', 'x y', 'ü', '𝄞') },
  { weight: 2, arbitrary: utf8String(maxLength, 0, '/+#') },
);

/** A topic name (spec 4.7): at least one character, no wildcards [MQTT-3.3.2-2]. Empty levels allowed. */
export const topicName = (): fc.Arbitrary<string> =>
  fc.array(level(), { minLength: 1, maxLength: 4 }).map((l) => l.join('/')).filter((t) => t.length > 0);

/** A topic filter (spec 4.7.1): '+' fills whole levels, '#' only as the whole last level. */
export const topicFilter = (): fc.Arbitrary<string> =>
  fc.tuple(
    fc.array(fc.oneof({ weight: 3, arbitrary: level() }, { weight: 1, arbitrary: fc.constant('+') }), { minLength: 0, maxLength: 4 }),
    fc.boolean(),
  ).map(([levels, hash]) => (hash ? levels.concat('#') : levels).join('/')).filter((f) => f.length > 0);

// ---------------------------------------------------------------------------------------------------
// MQTT 5 properties and reason codes, from the protocol tables in firmware/mqtt/constants.ts

const qos = (): fc.Arbitrary<0 | 1 | 2> => fc.constantFrom(0 as const, 1 as const, 2 as const);
const messageId = (): fc.Arbitrary<number> => fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(1, 255, 256, 65535));
const u32 = (min: number) => fc.oneof(fc.integer({ min, max: 0xffffffff }), fc.constantFrom(Math.max(min, 1), 0xffffffff));
const varint = () => fc.oneof(
  fc.integer({ min: 1, max: 268435455 }),
  fc.constantFrom(1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455),
);

export const PROTOTYPE_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

/** User properties: a plain object, a key that repeats holds an array (of 2+ values, as both parsers build it). */
export const userProperties = (): fc.Arbitrary<{ [key: string]: string | string[] }> => {
  // keys named like Object.prototype members once decoded wrong; they stay in the mix
  const key = fc.oneof({ weight: 9, arbitrary: utf8String(8) }, { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) });
  const value = fc.oneof(
    { weight: 3, arbitrary: utf8String(8) },
    { weight: 1, arbitrary: fc.array(utf8String(6), { minLength: 2, maxLength: 3 }) },
  );
  return fc.uniqueArray(fc.tuple(key, value), { selector: (kv) => kv[0], minLength: 1, maxLength: 3 })
    .map((pairs) => {
      const o: { [key: string]: string | string[] } = {};
      for (const [k, v] of pairs) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      return o;
    });
};

/** Property value generators by name: the ranges the spec allows (2.2.2.2, 3.x.2.2). */
function propertyValue(name: string, type: number, packet: number): fc.Arbitrary<unknown> {
  switch (name) {
    case 'receiveMaximum': case 'topicAlias': return fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constant(65535));
    case 'maximumPacketSize': return u32(1);
    case 'maximumQoS': return fc.constantFrom(0, 1);
    case 'subscriptionIdentifier':
      // one in SUBSCRIBE [MQTT-3.8.2.1.2]; a PUBLISH to a client may carry several (spec 3.3.2.3.8)
      return packet === PUBLISH
        ? fc.oneof({ weight: 3, arbitrary: varint() }, { weight: 1, arbitrary: fc.array(varint(), { minLength: 2, maxLength: 3 }) })
        : varint();
    case 'responseTopic': return topicName();
    case 'userProperties': return userProperties();
  }
  switch (type) {
    case BOOL: return fc.boolean();
    case BYTE: return fc.integer({ min: 0, max: 1 });
    case U16: return fc.integer({ min: 0, max: 65535 });
    case U32: return u32(0);
    case VARINT: return varint();
    case STRING: return utf8String(10);
    case BINARY: return bytes(12);
    case PAIR: return userProperties();
  }
  throw new Error('no generator for property type ' + type);
}

/** Names of the properties allowed in a packet type (WILL = 0 for will properties). */
export function allowedProperties(type: number): string[] {
  const names: string[] = [];
  for (const id in PROPERTIES) {
    const [name, , mask] = PROPERTIES[id];
    if (mask & (1 << type)) names.push(name);
  }
  return names;
}

/** A property block for packet `type`: any subset of its properties, each in range. May be `{}`. */
export function properties(type: number): fc.Arbitrary<Properties> {
  const model: { [name: string]: fc.Arbitrary<unknown> } = {};
  for (const id in PROPERTIES) {
    const [name, kind] = PROPERTIES[id];
    if (allowedProperties(type).indexOf(name) >= 0) model[name] = propertyValue(name, kind, type);
  }
  const block = fc.record(model, { requiredKeys: [] }) as fc.Arbitrary<Properties>;
  // authentication data needs its method in a CONNECT (5.0 3.1.2.11.10): a lone one is a protocol error
  return type === CONNECT ? block.filter((p) => !p.authenticationData || p.authenticationMethod !== undefined) : block;
}

/** Properties for `type`, or none at all (absent rather than `{}` most of the time). */
const maybeProperties = (type: number) =>
  fc.option(properties(type), { nil: undefined, freq: 3 });

/** MQTT 5 reason codes allowed in packet `type` (spec 2.4, Table 2-6). */
export function reasonCodes(type: number): number[] {
  const codes: number[] = [];
  for (const c in REASONS) if (REASONS[c][1] & (1 << type)) codes.push(+c);
  return codes;
}

const reasonCode = (cmd: string) => fc.constantFrom(...reasonCodes(packetType(cmd)));

/** Omits the keys whose value is undefined, so that packets look like hand-written ones. */
function compact<T extends object>(o: T): T {
  const r: { [k: string]: unknown } = {};
  for (const k of Object.keys(o)) if ((o as { [k: string]: unknown })[k] !== undefined) r[k] = (o as { [k: string]: unknown })[k];
  return r as T;
}

// ---------------------------------------------------------------------------------------------------
// Packets

const payload = (): fc.Arbitrary<Uint8Array | string> => fc.oneof(
  { weight: 6, arbitrary: bytes(40) },
  { weight: 2, arbitrary: utf8String(20) },
  // big enough to span several 536-byte chunks and a 2-byte remaining length
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 1500 }).map((n) => new Uint8Array(n).map((_, i) => (i * 7 + n) & 255)) },
  // rarely, a 3-byte remaining length (>= 16384)
  { weight: 1, arbitrary: fc.constantFrom(16380, 16400).map((n) => new Uint8Array(n).map((_, i) => i & 255)) },
);

function connect(v: Version): fc.Arbitrary<Packet> {
  const v5 = v === 5;
  const will = fc.record({
    topic: topicName(),
    payload: fc.oneof({ weight: 3, arbitrary: bytes(20) }, { weight: 1, arbitrary: utf8String(10) }),
    qos: qos(),
    retain: fc.boolean(),
    properties: v5 ? maybeProperties(WILL) : fc.constant(undefined),
  }, { requiredKeys: ['topic', 'payload'] });
  return fc.record({
    level: v5 ? fc.constant(5) : fc.constantFrom(4, 4, 4, 3),
    clean: fc.boolean(),
    keepalive: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(0, 60, 65535)),
    clientId: utf8String(23),
    will: fc.option(will, { nil: undefined }),
    username: fc.option(utf8String(12), { nil: undefined }),
    password: fc.option(fc.oneof(bytes(12), utf8String(8)), { nil: undefined }),
    properties: v5 ? maybeProperties(CONNECT) : fc.constant(undefined),
  }).map((r) => {
    const p = compact({
      cmd: 'connect' as const,
      protocolId: r.level === 3 ? 'MQIsdp' as const : 'MQTT' as const,
      protocolVersion: r.level as 3 | 4 | 5,
      clean: r.clean,
      keepalive: r.keepalive,
      // 3.1 needs a client id of 1-23 characters; 3.1.1 and 5 need one when not clean [MQTT-3.1.3-7]
      clientId: r.clientId === '' && (r.level === 3 || !r.clean) ? 'c' : r.clientId,
      will: r.will && compact(r.will),
      username: r.username,
      // 3.1.1 forbids a password without a user name [MQTT-3.1.2-22]; MQTT 5 allows it (3.1.2.9)
      password: r.password !== undefined && (v5 || r.username !== undefined) ? r.password : undefined,
      properties: r.properties,
    });
    return p;
  });
}

function connack(v: Version): fc.Arbitrary<Packet> {
  const code = v === 5 ? reasonCode('connack') : fc.integer({ min: 0, max: 5 });
  return fc.tuple(fc.boolean(), code, v === 5 ? maybeProperties(CONNACK) : fc.constant(undefined)).map(([sp, c, props]) => compact({
    cmd: 'connack' as const,
    // Session Present must be 0 with a refusal [MQTT-3.2.2-4] / [MQTT-3.2.2-6]
    sessionPresent: c === 0 ? sp : false,
    returnCode: v === 5 ? undefined : c,
    reasonCode: v === 5 ? c : undefined,
    properties: props,
  }));
}

function publish(v: Version): fc.Arbitrary<Packet> {
  return fc.record({
    topic: topicName(),
    payload: payload(),
    qos: qos(),
    dup: fc.boolean(),
    retain: fc.boolean(),
    messageId: messageId(),
    properties: v === 5 ? maybeProperties(PUBLISH) : fc.constant(undefined),
    aliasOnly: v === 5 ? fc.boolean() : fc.constant(false),
  }).map((r) => {
    let props = r.properties;
    let topic = r.topic;
    // MQTT 5: an empty topic name with a Topic Alias (spec 3.3.2.3.4)
    if (r.aliasOnly && props && props.topicAlias) topic = '';
    return compact({
      cmd: 'publish' as const,
      topic,
      payload: r.payload,
      qos: r.qos,
      dup: r.qos ? r.dup : false, // DUP must be 0 for QoS 0 [MQTT-3.3.1-2]
      retain: r.retain,
      messageId: r.qos ? r.messageId : undefined,
      properties: props,
    });
  });
}

function ack(cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp', v: Version): fc.Arbitrary<Packet> {
  if (v === 4) return messageId().map((id) => ({ cmd, messageId: id }));
  return fc.record({
    messageId: messageId(),
    reasonCode: fc.option(reasonCode(cmd), { nil: undefined }),
    properties: maybeProperties(packetType(cmd)),
  }, { requiredKeys: ['messageId'] }).map((r) => compact({ cmd, ...r }));
}

function subscribe(v: Version): fc.Arbitrary<Packet> {
  const sub = v === 5
    ? fc.record({ topic: topicFilter(), qos: qos(), nl: fc.boolean(), rap: fc.boolean(), rh: fc.constantFrom(0, 1, 2) },
      { requiredKeys: ['topic', 'qos'] })
    : fc.record({ topic: topicFilter(), qos: qos() });
  return fc.record({
    messageId: messageId(),
    subscriptions: fc.array(sub, { minLength: 1, maxLength: 4 }),
    properties: v === 5 ? maybeProperties(SUBSCRIBE) : fc.constant(undefined),
  }).map((r) => compact({ cmd: 'subscribe' as const, ...r }));
}

function suback(v: Version): fc.Arbitrary<Packet> {
  const code = v === 5 ? reasonCode('suback') : fc.constantFrom(0, 1, 2, 0x80);
  return fc.record({
    messageId: messageId(),
    granted: fc.array(code, { minLength: 1, maxLength: 5 }),
    properties: v === 5 ? maybeProperties(SUBACK) : fc.constant(undefined),
  }).map((r) => compact({ cmd: 'suback' as const, ...r }));
}

function unsubscribe(v: Version): fc.Arbitrary<Packet> {
  return fc.record({
    messageId: messageId(),
    unsubscriptions: fc.array(topicFilter(), { minLength: 1, maxLength: 4 }),
    properties: v === 5 ? maybeProperties(UNSUBSCRIBE) : fc.constant(undefined),
  }).map((r) => compact({ cmd: 'unsubscribe' as const, ...r }));
}

function unsuback(v: Version): fc.Arbitrary<Packet> {
  if (v === 4) return messageId().map((id) => ({ cmd: 'unsuback' as const, messageId: id }));
  return fc.record({
    messageId: messageId(),
    granted: fc.array(reasonCode('unsuback'), { minLength: 1, maxLength: 4 }),
    properties: maybeProperties(UNSUBACK),
  }).map((r) => compact({ cmd: 'unsuback' as const, ...r }));
}

function reasonOnly(cmd: 'disconnect' | 'auth', v: Version): fc.Arbitrary<Packet> {
  if (v === 4) return fc.constant({ cmd } as Packet);
  return fc.record({
    reasonCode: fc.option(reasonCode(cmd), { nil: undefined }),
    properties: maybeProperties(packetType(cmd)),
  }, { requiredKeys: [] }).map((r) => compact({ cmd, ...r }) as Packet);
}

/** Every packet command, in type order. AUTH exists only in MQTT 5. */
export const COMMANDS = ['connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe',
  'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'] as const;
export type Command = typeof COMMANDS[number];

export function commandsOf(v: Version): Command[] {
  return COMMANDS.filter((c) => v === 5 || c !== 'auth');
}

/** A valid packet of command `cmd` for protocol `v`. */
export function packetOf(cmd: Command, v: Version): fc.Arbitrary<Packet> {
  switch (cmd) {
    case 'connect': return connect(v);
    case 'connack': return connack(v);
    case 'publish': return publish(v);
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': return ack(cmd, v);
    case 'subscribe': return subscribe(v);
    case 'suback': return suback(v);
    case 'unsubscribe': return unsubscribe(v);
    case 'unsuback': return unsuback(v);
    case 'pingreq': case 'pingresp': return fc.constant({ cmd });
    case 'disconnect': return reasonOnly('disconnect', v);
    case 'auth':
      if (v !== 5) throw new Error('AUTH exists only in MQTT 5');
      return reasonOnly('auth', v);
  }
}

/** A valid packet of any command for protocol `v` (CONNECTs of v are MQTT 5 for 5, 3.1.1 or 3.1 for 4). */
export function anyPacket(v: Version): fc.Arbitrary<Packet> {
  return fc.oneof(...commandsOf(v).map((c) => packetOf(c, v)));
}

/**
 * Several packets of one connection. A CONNECT switches a reader to its level, so a stream carries at
 * most one, first, and in a 3.1.1 stream it is not a 3.1 one (3.1 and 3.1.1 decode alike anyway).
 */
export function packetStream(v: Version, maxLength = 6): fc.Arbitrary<Packet[]> {
  const nonConnect = fc.oneof(...commandsOf(v).filter((c) => c !== 'connect').map((c) => packetOf(c, v)));
  return fc.tuple(fc.option(packetOf('connect', v), { nil: undefined }), fc.array(nonConnect, { minLength: 1, maxLength }))
    .map(([c, rest]) => (c ? [c] : []).concat(rest));
}

// ---------------------------------------------------------------------------------------------------
// Comparison and chunking

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

const utf8 = (s: string): number[] => Array.from(Buffer.from(s, 'utf8'));

/** Deep copy: bytes (Buffer, Uint8Array) to number arrays, objects to plain objects without undefined fields. */
function plain(v: unknown): Plain {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v === null || typeof v !== 'object') return v as Plain;
  const o: { [k: string]: Plain } = {};
  // Object.keys: own keys only, which also reads mqtt-packet's null-prototype userProperties
  for (const k of Object.keys(v)) {
    const x = (v as { [k: string]: unknown })[k];
    if (x !== undefined) Object.defineProperty(o, k, { value: plain(x), enumerable: true, writable: true, configurable: true });
  }
  return o;
}

/** A property block in the one form both codecs read back: empty blocks dropped, one-element lists as scalars. */
function normalizeProperties(p: Plain | undefined): Plain | undefined {
  if (!p || typeof p !== 'object' || Array.isArray(p)) return p;
  for (const k of Object.keys(p)) {
    const v = p[k];
    // a one-element list is one property on the wire, which both decoders read back as a scalar
    if (Array.isArray(v) && v.length === 1 && k !== 'correlationData' && k !== 'authenticationData') p[k] = v[0];
    if (k === 'userProperties' && v && typeof v === 'object' && !Array.isArray(v)) {
      for (const key of Object.keys(v)) {
        const x = v[key];
        if (Array.isArray(x) && x.length === 1) v[key] = x[0];
        if (Array.isArray(x) && x.length === 0) delete v[key];
      }
      if (Object.keys(v).length === 0) delete p[k];
    }
  }
  return Object.keys(p).length ? p : undefined;
}

/** mqtt-packet's parser puts these on every packet (from its Packet class); only PUBLISH means them. */
const PARSER_BOOKKEEPING = ['length', 'retain', 'qos', 'dup', 'topic', 'payload'];

/**
 * A packet from our encoder's input, our decoder, mqtt-packet's parser or its generator's input, in one
 * form that deepStrictEqual can compare:
 * - bytes (Buffer, Uint8Array, and string payloads and passwords, which are sent as UTF-8) become number arrays;
 * - undefined fields are dropped, empty property blocks too (on the wire they are a 0 length or nothing);
 * - mqtt-packet's parser bookkeeping (`length`, and the `retain`/`qos`/`dup`/`topic`/`payload` its Packet
 *   class puts on every packet) is dropped outside PUBLISH;
 * - the defaults both codecs agree on are filled: protocolId/protocolVersion/clean of CONNECT, will qos and
 *   retain, PUBLISH qos/dup/retain, sessionPresent, and with `version` 5 the reason code 0 that an omitted
 *   reason code means (3.4.2.1, 3.14.2.1, 3.15.2.1) and SUBSCRIBE's nl/rap/rh. CONNECT keepalive is NOT
 *   filled: our encoder defaults it to 60, mqtt-packet's to 0, so the arbitraries always set it.
 */
export function normalize(packet: unknown, version?: number): { [k: string]: Plain } {
  const p = plain(packet) as { [k: string]: Plain };
  const cmd = p.cmd as string;
  if (cmd !== 'publish') for (const k of PARSER_BOOKKEEPING) delete p[k];
  else delete p.length;
  if (p.properties !== undefined) {
    const props = normalizeProperties(p.properties);
    if (props === undefined) delete p.properties; else p.properties = props;
  }
  const v5 = version === 5;
  switch (cmd) {
    case 'connect': {
      if (p.protocolVersion === undefined) p.protocolVersion = version || 4;
      if (p.protocolId === undefined) p.protocolId = p.protocolVersion === 3 ? 'MQIsdp' : 'MQTT';
      if (p.clean === undefined) p.clean = true;
      if (p.clientId === undefined) p.clientId = '';
      if (typeof packetField(packet, 'password') === 'string') p.password = utf8(packetField(packet, 'password') as string);
      const will = p.will as { [k: string]: Plain } | undefined;
      if (will) {
        if (will.qos === undefined) will.qos = 0;
        if (will.retain === undefined) will.retain = false;
        const wp = (packetField(packet, 'will') as { payload?: unknown }).payload;
        if (typeof wp === 'string') will.payload = utf8(wp);
        if (will.properties !== undefined) {
          const props = normalizeProperties(will.properties);
          if (props === undefined) delete will.properties; else will.properties = props;
        }
      }
      break;
    }
    case 'connack':
      if (p.sessionPresent === undefined) p.sessionPresent = false;
      if (v5 && p.reasonCode === undefined) p.reasonCode = 0;
      if (version !== undefined && !v5 && p.returnCode === undefined) p.returnCode = 0;
      break;
    case 'publish': {
      if (p.qos === undefined) p.qos = 0;
      if (p.dup === undefined) p.dup = false;
      if (p.retain === undefined) p.retain = false;
      if (p.qos === 0) delete p.messageId; // not on the wire at QoS 0
      const pl = packetField(packet, 'payload');
      if (typeof pl === 'string') p.payload = utf8(pl);
      if (p.payload === undefined || p.payload === null) p.payload = [];
      break;
    }
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': case 'disconnect': case 'auth':
      if (v5 && p.reasonCode === undefined) p.reasonCode = 0;
      break;
    case 'subscribe':
      if (v5) {
        for (const s of p.subscriptions as { [k: string]: Plain }[]) {
          if (s.nl === undefined) s.nl = false;
          if (s.rap === undefined) s.rap = false;
          if (s.rh === undefined) s.rh = 0;
        }
      }
      break;
  }
  return p;
}

function packetField(packet: unknown, key: string): unknown {
  return (packet as { [k: string]: unknown })[key];
}

/** Splits `bytes` at the given cut points (any numbers: taken modulo the length, sorted, deduplicated). */
export function toChunks(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const n = data.length;
  const at = Array.from(new Set(cuts.map((c) => (n ? Math.abs(Math.floor(c)) % (n + 1) : 0)))).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const c of at) {
    if (c > from) { chunks.push(data.subarray(from, c)); from = c; }
  }
  if (from < n || chunks.length === 0) chunks.push(data.subarray(from, n));
  return chunks;
}

/** Fixed-size chunks (Espruino hands socket data over in pieces of up to 536 bytes). */
export function fixedChunks(data: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) chunks.push(data.subarray(i, Math.min(i + size, data.length)));
  if (chunks.length === 0) chunks.push(data);
  return chunks;
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Bytes as a "binary string" (one char per byte), as Espruino's sockets deliver them. */
export function byteString(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]);
  return s;
}

/** Deep copy with Uint8Arrays as Buffers: mqtt-packet's generator can only write Buffers. */
export function withBuffers<T>(v: T): T {
  if (v instanceof Uint8Array) return Buffer.from(v) as unknown as T;
  if (Array.isArray(v)) return v.map(withBuffers) as unknown as T;
  if (v === null || typeof v !== 'object') return v;
  const o: { [k: string]: unknown } = {};
  for (const k of Object.keys(v)) {
    Object.defineProperty(o, k, { value: withBuffers((v as { [k: string]: unknown })[k]), enumerable: true, writable: true, configurable: true });
  }
  return o as T;
}
