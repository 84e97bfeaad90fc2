// The QoS engine, sans-IO: commands, received bytes and `now` go in; bytes to send, events and the
// next deadline come out. It owns no socket and reads no clock, so tests drive it byte by byte and a
// simulator runs thousands of them in virtual time. Outgoing messages that wait or are in flight live
// in the MessageStore as encoded PUBLISH packets, in the store's named states.
//
// One object per session, its state in fields and its code shared: a closure per session made ~30
// functions per connect, each a header and a scope copy in the board's JsVars. The public methods
// live on the prototype; the rest are module functions taking the session, so the board keeps one
// copy of each. Fields named `_x` are shortened by the build (mangleProps), as locals would be.
import {
  CONNACK, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, UNSUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, PINGRESP, DISCONNECT,
  PACKET_ID_NOT_FOUND, PACKET_TOO_LARGE, QUOTA_EXCEEDED, TOPIC_ALIAS_INVALID, TOPIC_NAME_INVALID,
  PROTOCOL_ERROR, RECEIVE_MAXIMUM_EXCEEDED, TOPIC_FILTER_INVALID, MALFORMED_PACKET, UNSPECIFIED_ERROR, reasonText, returnCodeText,
} from './constants';
import { ackPacket, bodyStart, connectPacket, packetLength, parsePacket, publishPacket, publishText, shortPacket, subscribePacket, type ReceivedPacket } from './client-codec';
import type { Payload, Properties, Subscription, Will } from './packets';
import {
  ACKED, AWAIT_ACK, AWAIT_PUBCOMP, DISCARDED, DONE, LOST, PUBCOMP_IN, PUBREC_IN, PUBREL_QUEUED, QUEUED, RELEASED, RESUMED, SENT,
  RECORD_HEADER, createStore, nextRecord, recordId, recordPacket, recordQos, storeAdd, storeCount, storeFind, storeMove, storeOldest,
  type MessageStore,
} from './store';
import { validTopicFilter, validTopicName } from './topic';

export interface SessionOptions {
  clientId: string;
  /** 4 (3.1.1) or 5. */
  protocolVersion?: number;
  clean?: boolean;
  /** Seconds; 0 turns keepalive off. */
  keepalive?: number;
  username?: string;
  password?: Payload;
  will?: Will;
  /** MQTT 5 CONNECT properties (sessionExpiryInterval, topicAliasMaximum, ...). */
  properties?: Properties;
  /** Most QoS>0 messages in flight at once; in MQTT 5 the broker's Receive Maximum may lower it. */
  inflightMax?: number;
  /** Bytes and records of the store that holds queued and in-flight messages (a record takes its packet plus RECORD_HEADER bytes). */
  storeBytes?: number;
  storeSlots?: number;
  /** Largest packet received, in bytes (told to an MQTT 5 broker as Maximum Packet Size). */
  maxPacketSize?: number;
  /** Milliseconds to wait for CONNACK, and for PINGRESP after a PINGREQ. */
  connectTimeout?: number;
  pingTimeout?: number;
}

/** Errors handed to callbacks and the 'error' event: a reason code and a text, like DecodeError. */
export interface SessionError {
  reasonCode: number;
  message: string;
}

export type Callback = (error: SessionError | null, result?: unknown) => void;

/** What the session asks of its driver: bytes to send, events to report. */
export interface SessionIO {
  write(bytes: Uint8Array, length: number): void;
  /**
   * Sends a packet as a string of one char per byte, if the transport writes strings natively
   * (Espruino's sockets); false when it does not, and the packet must go as bytes.
   */
  writeText?(text: string): boolean;
  /** The bytes of such a string (one per char), as a view made natively where the platform can (Espruino's E.toArrayBuffer). */
  textBytes?(text: string): Uint8Array;
  /**
   * 'connect' (connack), 'message' (topic, payload, packet), 'error' (SessionError), 'close' (reason,
   * and `true` when the broker refused our credentials or authorization: trying again cannot help).
   */
  event(name: string, a?: unknown, b?: unknown, c?: unknown): void;
}

/** Connection states. */
export const OFFLINE = 0, CONNECTING = 1, ONLINE = 2;

/** Counters, exposed for telemetry. */
export interface SessionStats {
  /** QoS>0 PUBLISH packets sent (resends included). */
  sent: number;
  /** QoS>0 messages completed by the broker's final ack. */
  acked: number;
  /** Messages delivered to the application. */
  received: number;
  /** QoS 0 messages dropped for lack of room. */
  dropped: number;
  /** Messages refused to the caller (full store, invalid, too large). */
  refused: number;
}

/** The engine's face: what the client (and a test playing the broker) calls, and what it may read. */
export interface Session {
  readonly version: number;
  /** OFFLINE, CONNECTING or ONLINE. */
  readonly state: number;
  readonly stats: SessionStats;
  /** The transport is up: sends CONNECT and waits for CONNACK. */
  start(now: number): void;
  /** The transport went down (or was closed): in-flight messages stay in the store for the next start. */
  stop(): void;
  /** Bytes from the transport (Uint8Array, or an Espruino socket string, one char per byte). */
  data(chunk: Uint8Array | string, now: number): void;
  /**
   * Publishes; QoS>0 messages (and QoS 0 ones that cannot go at once) go through the store, in order.
   * Returns false, with `cb` told why, when the message is refused: an invalid topic or QoS, a packet
   * over the broker's maximum, or a full store (QoS 0 waiting is dropped first to make room; QoS>0 is
   * never dropped once accepted).
   */
  publish(topic: string, payload: Payload, qos: number, retain: boolean, properties: Properties | undefined, cb: Callback | undefined, now: number): boolean;
  /** SUBSCRIBE; false, with `cb` told why, for an empty list or a subscription that is not {topic: filter, qos: 0-2}. */
  subscribe(subscriptions: Subscription[], properties: Properties | undefined, cb: Callback | undefined, now: number): boolean;
  /** UNSUBSCRIBE; false, with `cb` told why, for an empty list or a filter that is not a valid topic filter. */
  unsubscribe(topics: string[], properties: Properties | undefined, cb: Callback | undefined, now: number): boolean;
  /** Gives up every message held (queued or in flight); each publisher is told `reason`. */
  discard(reason: string): void;
  /** Clean disconnect: the broker discards the will. The driver closes the transport afterwards. */
  disconnect(reasonCode: number, now: number): void;
  /** Runs timers; returns the next time (ms) it must be called, or 0 for none. */
  tick(now: number): number;
  deadline(): number;
  /** Messages waiting in the store (queued or in flight). */
  queued(): number;
  /** QoS>0 messages the broker holds a packet id of (they count against Receive Maximum). */
  inflightCount(): number;
}


/** Messages said more than once: a constant each, since the minifier does not merge equal strings. */
const MALFORMED = 'malformed packet', DROPPED = 'dropped: store full', TOO_LARGE = 'packet over the broker maximum';

/** An error for a callback or the 'error' event (the client's too). */
export function error(reasonCode: number, message: string): SessionError {
  return { reasonCode: reasonCode, message: message };
}

/** Store states that hold a packet id the broker knows: they count against the in-flight window. */
const IN_FLIGHT = 1 << AWAIT_ACK | 1 << AWAIT_PUBCOMP | 1 << PUBREL_QUEUED;

/** CONNACK refusals that no retry can cure: bad user name or password, not authorized (3.1.1 and MQTT 5). */
const FATAL_REFUSALS = [4, 5, 0x86, 0x87];

export function createSession(options: SessionOptions, io: SessionIO): Session {
  return new (Engine as unknown as new (o: SessionOptions, io: SessionIO) => Engine)(options, io);
}

/** One session's state. The functions below are its methods (on the prototype) and helpers taking it as `s`. */
interface Engine extends Session {
  version: number;
  state: number;
  stats: SessionStats;
  _options: SessionOptions;
  _io: SessionIO;
  _maxPacketIn: number;
  _store: MessageStore;
  /** Most QoS 2 messages the broker may have in flight towards us (our Receive Maximum). */
  _heldMax: number;
  // the packet being received: its first byte and remaining length (set for receive()), and a packet
  // split across chunks, held whole (fixed header and body) in _body: its bytes so far (0: none)
  _first: number;
  _length: number;
  _got: number;
  _body: Uint8Array;
  _nextId: number;
  /** In-flight window of this link: inflightMax, lowered by an MQTT 5 broker's Receive Maximum. */
  _window: number;
  _keepaliveMs: number;
  _lastWrite: number;
  _lastRead: number;
  _pingDeadline: number;
  _connackDeadline: number;
  /** Packet ids of QoS 2 messages received and PUBREC'd, held until PUBREL: exactly-once delivery. */
  _held: number[];
  /** Subscribe/unsubscribe requests waiting for their ack: [id, callback, id, callback, ...]. */
  _pending: unknown[];
  /** MQTT 5 topic aliases: ours towards the broker (alias k+1 is topic k), and the broker's towards us. */
  _aliasesOut: string[];
  _aliasMaxOut: number;
  _aliasesIn: string[];
  _maxPacketOut: number;
  /** The last topic name found valid, sent or received (unset before one): a board uses a few, often the same. */
  _validTopic?: string;
}

function Engine(this: Engine, options: SessionOptions, io: SessionIO) {
  this.state = OFFLINE;
  this.stats = { sent: 0, acked: 0, received: 0, dropped: 0, refused: 0 };
  this._first = 0;
  this._length = 0;
  this._got = 0;
  this._body = new Uint8Array(64);
  this._nextId = 0;
  this._window = 0;
  this._keepaliveMs = 0;
  this._lastWrite = 0;
  this._lastRead = 0;
  this._pingDeadline = 0;
  this._connackDeadline = 0;
  this._held = [];
  this._pending = [];
  this._aliasesOut = [];
  this._aliasMaxOut = 0;
  this._aliasesIn = [];
  this._maxPacketOut = 0;
  this._options = options;
  this._io = io;
  this.version = __MQTT5__ && options.protocolVersion === 5 ? 5 : 4;
  this._maxPacketIn = options.maxPacketSize || 4096;
  this._store = createStore(options.storeBytes || STORE_BYTES, options.storeSlots || 64);
  this._heldMax = (options.properties && options.properties.receiveMaximum) || 64;
}

function start(this: Engine, now: number): void {
  const s = this, o = s._options;
  s._got = 0;
  s.state = CONNECTING;
  s._connackDeadline = now + (o.connectTimeout || 30000);
  s._pingDeadline = 0;
  s._keepaliveMs = (o.keepalive === undefined ? 60 : o.keepalive) * 1000;
  s._aliasesOut = []; // new arrays: assigning an array's length throws on Espruino
  s._aliasesIn = [];
  // an MQTT 5 broker is told our limits, so it holds back what we could not take instead of being disconnected
  const properties = __MQTT5__ && s.version === 5
    ? assign({ receiveMaximum: s._heldMax, maximumPacketSize: s._maxPacketIn }, o.properties)
    : undefined;
  write(s, connectPacket(s.version, o.clientId, o.clean !== false, s._keepaliveMs / 1000, o.username, o.password, o.will, properties), now);
}

function stop(this: Engine): void {
  const s = this, waiting = s._pending;
  s.state = OFFLINE;
  s._pending = [];
  for (let k = 1; k < waiting.length; k += 2) {
    const cb = waiting[k] as Callback | undefined;
    if (cb) cb(error(UNSPECIFIED_ERROR, 'connection lost'));
  }
}

/**
 * A packet that lies whole in a chunk is decoded where it lies (its binary fields are views of the
 * chunk); one split across chunks is held, header and body, in a buffer that grows up to
 * maxPacketSize. Bytes move by native copies, never a JS loop per byte.
 */
function data(this: Engine, chunk: Uint8Array | string, now: number): void {
  const s = this, bytes = typeof chunk === 'string' ? (s._io.textBytes || stringBytes)(chunk) : chunk, n = bytes.length;
  s._lastRead = now;
  let i = s._got && s.state !== OFFLINE ? complete(s, bytes, n, now) : 0;
  while (i < n && s.state !== OFFLINE) {
    const total = frame(s, bytes, i, n, now);
    if (total === -2) return;
    if (total < 0 || i + total > n) {
      // the rest of the chunk starts a packet: held until the next chunks complete it
      if (s._body.length < total) s._body = new Uint8Array(total);
      s._body.set(bytes.subarray(i, n), 0);
      s._got = n - i;
      return;
    }
    i += total;
    receive(s, bytes.subarray(i - s._length, i), now);
  }
}

/**
 * The whole length of the packet at bytes[at] (read no further than `end`), with its first byte and
 * remaining length set for receive(); -1 while its fixed header is cut short; -2 when the packet is
 * malformed or too large, and the link is closed: checked before anything is allocated, so a hostile
 * length cannot take the board's memory.
 */
function frame(s: Engine, bytes: Uint8Array, at: number, end: number, now: number): number {
  const total = bytes[at] < 16 ? -2 : packetLength(bytes, at, end);
  if (total === -2) {
    failure(s, MALFORMED_PACKET, MALFORMED, now);
  } else if (total > s._maxPacketIn) {
    failure(s, PACKET_TOO_LARGE, 'packet too large', now);
    return -2;
  } else if (total > 0) {
    s._first = bytes[at];
    s._length = at + total - bodyStart(bytes, at);
  }
  return total;
}

/** Takes the start of `bytes` into the packet held from earlier chunks, and receives it once whole; returns the bytes it took. */
function complete(s: Engine, bytes: Uint8Array, n: number, now: number): number {
  let used = 0, total = frame(s, s._body, 0, s._got, now);
  // its fixed header may itself be cut: a byte at a time (at most 4) until its length can be read
  while (total === -1 && used < n) {
    s._body[s._got++] = bytes[used++];
    total = frame(s, s._body, 0, s._got, now);
  }
  if (total < 0) return total === -2 ? n : used;
  if (s._body.length < total) {
    const grown = new Uint8Array(total);
    grown.set(s._body.subarray(0, s._got));
    s._body = grown;
  }
  const k = Math.min(total - s._got, n - used);
  s._body.set(bytes.subarray(used, used + k), s._got);
  s._got += k;
  if (s._got === total) {
    s._got = 0;
    receive(s, s._body.subarray(total - s._length, total), now);
  }
  return used + k;
}

function publish(this: Engine, topic: string, payload: Payload, qos: number, retain: boolean, properties: Properties | undefined, cb: Callback | undefined, now: number): boolean {
  const s = this, store = s._store;
  if (!publishable(s, topic, payload, qos, cb)) return false;
  const io = s._io, online = s.state === ONLINE, id = qos ? allocateId(s) : 0;
  const text = asText(s, properties) ? publishText(s.version, topic, payload, qos, retain, id) : null;
  if (!qos && online && !store._count[QUEUED]) return publishAtOnce(s, text, topic, payload, retain, properties, cb, now);
  const packet = text !== null ? io.textBytes!(text) : publishPacket(s.version, topic, payload, qos, retain, id, properties);
  if (!storePacket(s, packet, qos, cb)) return false;
  const fresh = store._end - packet.length - RECORD_HEADER;
  if (online && store._count[QUEUED] === 1 && !store._count[PUBREL_QUEUED] && (!qos || storeCount(store, IN_FLIGHT) < s._window)) {
    // the only one in line: sent now, without a walk over the store, as the string it was built as, or
    // from its parts, so that it may take a topic alias (the store keeps the full topic for a resend)
    if (text !== null && io.writeText!(text)) s._lastWrite = now;
    else write(s, (__MQTT5__ && s._aliasMaxOut && aliased(s, topic, payload, qos, retain, id, properties)) || recordPacket(store, fresh), now);
    sent(s, fresh, qos);
    drain(s);
  } else {
    flush(s, now);
  }
  return true;
}

/** A QoS 0 PUBLISH with nothing queued before it: written now, never stored. */
function publishAtOnce(s: Engine, text: string | null, topic: string, payload: Payload, retain: boolean, properties: Properties | undefined, cb: Callback | undefined, now: number): boolean {
  if (text !== null && s._io.writeText!(text)) {
    s._lastWrite = now; // the board's common case, a reading sent as the string it was built as: no bytes at all
  } else {
    const packet = text !== null ? s._io.textBytes!(text) : publishPacket(s.version, topic, payload, 0, retain, 0, properties);
    if (__MQTT5__ && s._maxPacketOut && packet.length > s._maxPacketOut) return refuse(s, cb, PACKET_TOO_LARGE, TOO_LARGE);
    write(s, (__MQTT5__ && s._aliasMaxOut && aliased(s, topic, payload, 0, retain, 0, properties)) || packet, now);
  }
  if (cb) cb(null);
  return true;
}

/**
 * Whether a PUBLISH may be built as a string (publishText, which says whether it is ASCII): on a
 * transport that writes strings, without properties. The store then gets its bytes from a native
 * view of the string, with no JS loop per byte.
 */
function asText(s: Engine, properties: Properties | undefined): boolean {
  const io = s._io;
  return !!io.writeText && !!io.textBytes && !(__MQTT5__ && (properties || s._aliasMaxOut || s._maxPacketOut));
}

/** Refuses (and tells) a publish of a topic, payload or QoS that has no place on the wire. */
function publishable(s: Engine, topic: string, payload: Payload, qos: number, cb: Callback | undefined): boolean {
  if (typeof topic !== 'string' || topic !== s._validTopic && !validTopicName(topic) || !(qos >= 0 && qos <= (__QOS2__ ? 2 : 1))) return refuse(s, cb, TOPIC_NAME_INVALID, 'invalid topic or QoS');
  s._validTopic = topic;
  if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) return refuse(s, cb, UNSPECIFIED_ERROR, 'payload must be a string or Uint8Array');
  return true;
}

/**
 * Puts a PUBLISH in the store (refused if over an MQTT 5 broker's maximum), dropping the oldest QoS 0
 * messages to make room; when there is none to drop, a QoS 1/2 publish is refused and a QoS 0 one
 * dropped (and counted). The store copies the packet: dropping QoS 0 encodes nothing, so the scratch
 * bytes stay valid.
 */
function storePacket(s: Engine, packet: Uint8Array, qos: number, cb: Callback | undefined): boolean {
  if (__MQTT5__ && s.state === ONLINE && s._maxPacketOut && packet.length > s._maxPacketOut) return refuse(s, cb, PACKET_TOO_LARGE, TOO_LARGE);
  while (!storeAdd(s._store, packet, cb)) {
    if (dropOldestQos0(s)) continue;
    drain(s);
    if (qos) return refuse(s, cb, QUOTA_EXCEEDED, 'store full');
    s.stats.dropped++;
    if (cb) cb(error(QUOTA_EXCEEDED, DROPPED));
    return false;
  }
  return true;
}

function subscribe(this: Engine, subscriptions: Subscription[], properties: Properties | undefined, cb: Callback | undefined, now: number): boolean {
  return request(this, false, subscriptions, properties, cb, now);
}

function unsubscribe(this: Engine, topics: string[], properties: Properties | undefined, cb: Callback | undefined, now: number): boolean {
  return request(this, true, topics, properties, cb, now);
}

function discard(this: Engine, reason: string): void {
  const store = this._store;
  for (let at = store._first; at < store._end && store._live; at = nextRecord(store, at)) storeMove(store, at, DISCARDED, error(UNSPECIFIED_ERROR, reason));
  drain(this);
}

function disconnect(this: Engine, reasonCode: number, now: number): void {
  if (this.state === ONLINE) write(this, shortPacket(DISCONNECT, reasonCode), now);
  this.stop();
}

function tick(this: Engine, now: number): number {
  const s = this;
  if (s.state === CONNECTING && now >= s._connackDeadline) {
    close(s, 'CONNACK timeout');
  } else if (s.state === ONLINE && s._keepaliveMs) {
    if (s._pingDeadline && now >= s._pingDeadline) close(s, 'keepalive timeout: no PINGRESP');
    // the same sum as deadline(): `now - idle >= keepalive` can miss by a rounding error and spin
    else if (!s._pingDeadline && now >= idleSince(s) + s._keepaliveMs) {
      write(s, shortPacket(PINGREQ, 0), now);
      s._pingDeadline = now + (s._options.pingTimeout || s._keepaliveMs);
    }
  }
  return s.deadline();
}

function deadline(this: Engine): number {
  const s = this;
  if (s.state === CONNECTING) return s._connackDeadline;
  if (s.state !== ONLINE || !s._keepaliveMs) return 0;
  return s._pingDeadline || idleSince(s) + s._keepaliveMs;
}

function queued(this: Engine): number {
  return this._store._live;
}

function inflightCount(this: Engine): number {
  return storeCount(this._store, IN_FLIGHT);
}

/** Default bytes of the message store: 24 sensor readings at QoS 1 (a 40-byte PUBLISH each), 60 JsVars on the board. */
const STORE_BYTES = 1024;

/**
 * A socket string (one char per byte) as bytes, copied: for hosts that hand strings. The board's
 * platform hands views of its socket strings instead (firmware/espruino.ts), made natively.
 */
function stringBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 255;
  return bytes;
}

/**
 * Keepalive counts from the older of the last write and the last read: the spec only asks the client
 * to write within the keepalive, but a board that writes QoS 0 readings into a half-open link would then
 * never ping, and never notice that nothing comes back.
 */
function idleSince(s: Engine): number {
  return Math.min(s._lastWrite, s._lastRead);
}

/**
 * Why a SUBSCRIBE (a list of {topic, qos}) or an UNSUBSCRIBE (a list of filters) cannot be sent, or ''
 * when it can: an empty list would be a malformed packet [MQTT-3.8.3-3] [MQTT-3.10.3-2]. Any QoS the
 * protocol has may be asked for, in every profile: the small one asks 2 of a broker as a checker does.
 */
export function invalidRequest(list: Array<Subscription | string>, unsubscribe: boolean): string {
  if (!(list instanceof Array) || !list.length) return 'no topic filter';
  for (let i = 0; i < list.length; i++) {
    const sub = list[i] as Subscription, filter = unsubscribe ? sub : sub && sub.topic;
    if (typeof filter !== 'string' || !validTopicFilter(filter) || !unsubscribe && !(sub.qos >= 0 && sub.qos <= 2)) {
      return 'invalid ' + (unsubscribe ? 'topic filter: ' : 'subscription: ') + JSON.stringify(sub);
    }
  }
  return '';
}

/** SUBSCRIBE or UNSUBSCRIBE, when valid; the callback waits for the ack. */
function request(s: Engine, unsubscribe: boolean, list: Array<Subscription | string>, properties: Properties | undefined, cb: Callback | undefined, now: number): boolean {
  const invalid = invalidRequest(list, unsubscribe);
  if (invalid) return refuse(s, cb, TOPIC_FILTER_INVALID, invalid);
  const id = allocateId(s);
  s._pending.push(id, cb);
  write(s, subscribePacket(s.version, unsubscribe ? UNSUBSCRIBE : SUBSCRIBE, id, list, properties), now);
  return true;
}

function receive(s: Engine, body: Uint8Array, now: number): void {
  const type = s._first >> 4, flags = s._first & 15;
  s._first = 0;
  let p: ReceivedPacket;
  try {
    p = parsePacket(type, flags, body, s._length, s.version);
  } catch (e) {
    if (typeof e !== 'number') throw e;
    return failure(s, e, e === MALFORMED_PACKET ? MALFORMED : reasonText(e), now);
  }
  const id = p.messageId as number;
  if (s.state === CONNECTING) return type === CONNACK ? connack(s, p, now) : failure(s, PROTOCOL_ERROR, 'expected CONNACK', now);
  if (type === PUBLISH) return incoming(s, p, now);
  if (type === PUBACK || type === PUBREC || type === PUBCOMP) return acked(s, type, p, now);
  if (__QOS2__ && type === PUBREL) {
    const k = s._held.indexOf(id);
    if (k >= 0) s._held.splice(k, 1);
    return write(s, ackPacket(PUBCOMP, id, k < 0 && __MQTT5__ && s.version === 5 ? PACKET_ID_NOT_FOUND : 0), now);
  }
  if (type === SUBACK || type === UNSUBACK) {
    const k = s._pending.indexOf(id);
    if (k < 0 || k & 1) return;
    const cb = s._pending[k + 1] as Callback | undefined;
    s._pending.splice(k, 2);
    if (cb) cb(null, p.granted); // none in a 3.1.1 UNSUBACK
    return;
  }
  if (type === PINGRESP) { s._pingDeadline = 0; return; }
  if (__MQTT5__ && type === DISCONNECT && s.version === 5) return close(s, 'broker disconnected: ' + reasonText(p.reasonCode || 0));
  failure(s, PROTOCOL_ERROR, 'unexpected packet', now);
}

function connack(s: Engine, p: ReceivedPacket, now: number): void {
  const v5 = __MQTT5__ && s.version === 5, code = (v5 ? p.reasonCode : p.returnCode) as number;
  if (code) {
    const text = 'connection refused: ' + (v5 ? reasonText(code) : returnCodeText(code)); // the codec refuses codes over 5
    s._io.event('error', error(code, text));
    return close(s, text, FATAL_REFUSALS.indexOf(code) >= 0 && (code > 5) === v5);
  }
  s._lastWrite = s._lastRead = now;
  s._window = s._options.inflightMax || 16;
  s._aliasMaxOut = s._maxPacketOut = 0;
  const props = p.properties;
  if (__MQTT5__ && props) {
    if (props.receiveMaximum && props.receiveMaximum < s._window) s._window = props.receiveMaximum;
    if (props.serverKeepAlive !== undefined) s._keepaliveMs = props.serverKeepAlive * 1000;
    if (props.assignedClientIdentifier) s._options.clientId = props.assignedClientIdentifier;
    s._aliasMaxOut = Math.min(props.topicAliasMaximum || 0, 16);
    s._maxPacketOut = props.maximumPacketSize || 0;
  }
  // callbacks of messages completed here must not see the session ONLINE before the resend is ordered
  resume(s, !!p.sessionPresent);
  s.state = ONLINE;
  flush(s, now);
  s._io.event('connect', p);
}

/**
 * After CONNACK: with the session present, messages in flight are sent again in their original
 * order, PUBLISH with DUP=1 and PUBREL as PUBREL [MQTT-4.4.0-1]; with the session lost they go out
 * again as new messages (DUP=0), except those the broker already PUBREC'd, which are complete.
 */
function resume(s: Engine, present: boolean): void {
  const store = s._store, b = store._bytes;
  if (!present) s._held = [];
  if (!storeCount(store, IN_FLIGHT)) return;
  for (let at = store._first; at < store._end; at = nextRecord(store, at)) {
    if (b[at] === AWAIT_ACK) b[at + RECORD_HEADER] = present ? b[at + RECORD_HEADER] | 8 : b[at + RECORD_HEADER] & ~8; // the DUP flag, not the state
    storeMove(store, at, present ? RESUMED : LOST, null);
  }
}

/**
 * Sends waiting records in order while the in-flight window allows. Once a QoS>0 message must wait
 * for the window, every later PUBLISH waits too, to keep the order, but PUBRELs still go: they free
 * the window. Then the callbacks of what completed run.
 */
function flush(s: Engine, now: number): void {
  const store = s._store, b = store._bytes;
  if (!store._count[QUEUED] && !store._count[PUBREL_QUEUED]) return drain(s); // nothing to send: the common case after an ack
  let inflight = storeCount(store, IN_FLIGHT), blocked = false;
  for (let at = store._first; at < store._end && s.state === ONLINE && storeCount(store, 1 << QUEUED | 1 << PUBREL_QUEUED); at = nextRecord(store, at)) {
    const state = b[at], qos = recordQos(store, at);
    if (__QOS2__ && state === PUBREL_QUEUED) {
      storeMove(store, at, RELEASED);
      write(s, ackPacket(PUBREL, recordId(store, at), 0), now);
    } else if (state === QUEUED && !blocked) {
      if (qos && inflight >= s._window) {
        blocked = true;
      } else if (__MQTT5__ && s._maxPacketOut && nextRecord(store, at) - at - RECORD_HEADER > s._maxPacketOut) {
        // queued before this broker's maximum was known: refused, never sent cut or silently lost
        s.stats.refused++;
        storeMove(store, at, DONE, error(PACKET_TOO_LARGE, TOO_LARGE));
      } else {
        write(s, recordPacket(store, at), now);
        sent(s, at, qos);
        if (qos) inflight++;
      }
    }
  }
  drain(s);
}

/** The record at `at` went out: QoS 0 is done, QoS>0 awaits its ack. */
function sent(s: Engine, at: number, qos: number): void {
  storeMove(s._store, at, qos ? SENT : DONE, null);
  if (qos) s.stats.sent++;
}

function acked(s: Engine, type: number, p: ReceivedPacket, now: number): void {
  const id = p.messageId as number, store = s._store;
  const at = storeFind(store, id, type === PUBCOMP ? 1 << AWAIT_PUBCOMP : type === PUBREC ? 1 << AWAIT_ACK | 1 << AWAIT_PUBCOMP : 1 << AWAIT_ACK);
  if (at < 0) {
    // a PUBREC for nothing we hold: answer anyway so the broker can finish [MQTT-4.3.3]
    if (type === PUBREC) write(s, ackPacket(PUBREL, id, __MQTT5__ && s.version === 5 ? PACKET_ID_NOT_FOUND : 0), now);
    return;
  }
  if (recordQos(store, at) !== (type === PUBACK ? 1 : 2)) return;
  const failed = __MQTT5__ && (p.reasonCode || 0) >= 0x80; // 3.1.1 acks carry no reason code
  if (__QOS2__ && type === PUBREC && !failed) {
    storeMove(store, at, PUBREC_IN); // from AWAIT_PUBCOMP too: a duplicate PUBREC is answered again
    return write(s, ackPacket(PUBREL, id, 0), now);
  }
  if (!failed) s.stats.acked++;
  storeMove(store, at, type === PUBCOMP ? PUBCOMP_IN : ACKED, failed ? error(p.reasonCode as number, reasonText(p.reasonCode as number)) : null);
  flush(s, now);
}

function incoming(s: Engine, p: ReceivedPacket, now: number): void {
  let topic = p.topic as string;
  const alias = __MQTT5__ && p.properties ? p.properties.topicAlias : 0;
  if (alias) {
    const max = (s._options.properties && s._options.properties.topicAliasMaximum) || 0;
    if (alias > max) return failure(s, TOPIC_ALIAS_INVALID, 'topic alias ' + alias + ' over the maximum', now); // [MQTT-3.3.2-9]
    if (topic) s._aliasesIn[alias] = topic;
    else topic = s._aliasesIn[alias];
  }
  if (!topic || topic !== s._validTopic && !validTopicName(topic)) return failure(s, PROTOCOL_ERROR, 'invalid topic', now);
  s._validTopic = topic;
  const qos = p.qos, id = p.messageId as number;
  if (!__QOS2__ && qos === 2) return failure(s, PROTOCOL_ERROR, 'QoS 2 is not in this profile', now);
  if (__QOS2__ && qos === 2) {
    if (s._held.indexOf(id) < 0) {
      if (s._held.length >= s._heldMax) return failure(s, RECEIVE_MAXIMUM_EXCEEDED, 'receive maximum exceeded', now);
      s._held.push(id);
      deliver(s, topic, p);
    }
    return write(s, ackPacket(PUBREC, id, 0), now);
  }
  deliver(s, topic, p);
  if (qos) write(s, ackPacket(PUBACK, id, 0), now);
}

function deliver(s: Engine, topic: string, p: ReceivedPacket): void {
  s.stats.received++;
  s._io.event('message', topic, p.payload, p);
}

/** Runs the callbacks of the records that left the store. After a walk: a callback may publish, which may compact the store. */
function drain(s: Engine): void {
  const done = s._store._done;
  while (done.length) {
    const cb = done.shift() as Callback | undefined, e = done.shift() as SessionError | null;
    if (cb) cb(e);
  }
}

function dropOldestQos0(s: Engine): boolean {
  const at = storeOldest(s._store, 1 << QUEUED, true);
  if (at < 0) return false;
  s.stats.dropped++;
  storeMove(s._store, at, DONE, error(QUOTA_EXCEEDED, DROPPED));
  return true;
}

/** A request refused before anything went on the wire: its callback is told, or else the 'error' event. */
function refuse(s: Engine, cb: Callback | undefined, reasonCode: number, message: string): false {
  const e = error(reasonCode, message);
  s.stats.refused++;
  if (cb) cb(e);
  else s._io.event('error', e);
  return false;
}

/** A packet id in use by nothing in the store or awaiting a SUBACK/UNSUBACK [MQTT-2.2.1-3]. */
function allocateId(s: Engine): number {
  for (;;) {
    s._nextId = s._nextId >= 65535 ? 1 : s._nextId + 1;
    if (storeFind(s._store, s._nextId, ~1) < 0 && s._pending.indexOf(s._nextId) < 0) return s._nextId;
  }
}

/**
 * The PUBLISH again with a topic alias, where the broker allows them [MQTT-3.3.2-12] (and with an empty
 * topic once the broker knows the alias); null when no alias applies, and the full packet goes.
 */
function aliased(s: Engine, topic: string, payload: Payload, qos: number, retain: boolean, id: number, properties: Properties | undefined): Uint8Array | null {
  let alias = s._aliasesOut.indexOf(topic) + 1;
  const known = alias > 0;
  if (!known && s._aliasesOut.length < s._aliasMaxOut) alias = s._aliasesOut.push(topic);
  return alias ? publishPacket(5, known ? '' : topic, payload, qos, retain, id, assign(assign({}, properties), { topicAlias: alias })) : null;
}

function write(s: Engine, packet: Uint8Array, now: number): void {
  if (__MQTT5__ && s._maxPacketOut && packet.length > s._maxPacketOut) {
    s._io.event('error', error(PACKET_TOO_LARGE, TOO_LARGE));
    return;
  }
  s._lastWrite = now;
  s._io.write(packet, packet.length);
}

/** A protocol error on the link: tell the broker why (MQTT 5), report it, and drop the link. */
function failure(s: Engine, reasonCode: number, message: string, now: number): void {
  if (__MQTT5__ && s.version === 5 && s.state === ONLINE) write(s, shortPacket(DISCONNECT, reasonCode), now);
  s._io.event('error', error(reasonCode, message));
  close(s, message);
}

function close(s: Engine, reason: string, fatal?: boolean): void {
  s.stop();
  s._io.event('close', reason, fatal);
}

/** Object.assign for the firmware's ES5 library: copies `from`'s own fields onto `to`. */
function assign(to: Properties, from: Properties | undefined): Properties {
  for (const k in from) (to as { [k: string]: unknown })[k] = (from as { [k: string]: unknown })[k];
  return to;
}


// Espruino does not hoist function declarations: the prototype comes after every function it names
(Engine as unknown as { prototype: object }).prototype = {
  start: start, stop: stop, data: data, publish: publish, subscribe: subscribe, unsubscribe: unsubscribe, discard: discard, disconnect: disconnect, tick: tick, deadline: deadline, queued: queued, inflightCount: inflightCount,
};