// The QoS engine, sans-IO: commands, received bytes and `now` go in; bytes to send, events and the
// next deadline come out. It owns no socket and reads no clock, so tests drive it byte by byte and a
// simulator runs thousands of them in virtual time. Outgoing messages that wait or are in flight live
// in the MessageStore as encoded PUBLISH packets, in the store's named states.
//
// A closure, not a class: its state is local variables, which the minifier shortens to a letter or
// two, where `this._x` would cost the board seven bytes of RAM-resident text at each of ~250 uses.
import {
  CONNACK, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, UNSUBACK, PINGRESP, DISCONNECT,
  PACKET_ID_NOT_FOUND, PACKET_TOO_LARGE, QUOTA_EXCEEDED, TOPIC_ALIAS_INVALID, TOPIC_NAME_INVALID,
  PROTOCOL_ERROR, RECEIVE_MAXIMUM_EXCEEDED, TOPIC_FILTER_INVALID, MALFORMED_PACKET, UNSPECIFIED_ERROR, CONNACK_RETURN_CODES, reasonText,
} from './constants';
import { ackPacket, connectPacket, parsePacket, publishPacket, shortPacket, subscribePacket, type ReceivedPacket } from './client-codec';
import type { Payload, Properties, Subscription, Will } from './packets';
import {
  ACKED, AWAIT_ACK, AWAIT_PUBCOMP, DISCARDED, DONE, LOST, PUBCOMP_IN, PUBREC_IN, PUBREL_QUEUED, QUEUED, RELEASED, RESUMED, SENT,
  createStore, nextRecord, recordId, recordPacket, recordQos, storeAdd, storeCount, storeFind, storeMove, storeOldest,
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
  /** Bytes and records of the store that holds queued and in-flight messages (a record takes its packet plus 3 bytes). */
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
  /** SUBSCRIBE; false, with `cb` (or else 'error') told why, for an empty list or a subscription that is not {topic: filter, qos}. */
  subscribe(subscriptions: Subscription[], properties: Properties | undefined, cb: Callback | undefined, now: number): boolean;
  /** UNSUBSCRIBE; false, with `cb` (or else 'error') told why, for an empty list or an invalid filter. */
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

function error(reasonCode: number, message: string): SessionError {
  return { reasonCode: reasonCode, message: message };
}

/** Store states that hold a packet id the broker knows: they count against the in-flight window. */
const IN_FLIGHT = 1 << AWAIT_ACK | 1 << AWAIT_PUBCOMP | 1 << PUBREL_QUEUED;

/** CONNACK refusals that no retry can cure: bad user name or password, not authorized (3.1.1 4 and 5, MQTT 5 0x86 and 0x87). */
const FATAL_REFUSALS = [4, 5, 0x86, 0x87];

/** Default bytes of the message store: about 25 QoS 1 sensor readings (a 40-byte PUBLISH each), 60 JsVars on the board. */
const STORE_BYTES = 1024;

/**
 * Why a SUBSCRIBE (a list of {topic, qos}) or an UNSUBSCRIBE (a list of filters) cannot be sent, or ''
 * when it can: an empty list would be a malformed packet [MQTT-3.8.3-3] [MQTT-3.10.3-2].
 */
export function invalidRequest(list: Array<Subscription | string>, unsubscribe: boolean): string {
  if (!(list instanceof Array) || !list.length) return 'no topic filter';
  for (let i = 0; i < list.length; i++) {
    const sub = list[i] as Subscription, filter = unsubscribe ? sub : sub && sub.topic;
    if (typeof filter !== 'string' || !validTopicFilter(filter) || !unsubscribe && !(sub.qos >= 0 && sub.qos <= (__QOS2__ ? 2 : 1))) {
      return 'invalid ' + (unsubscribe ? 'topic filter: ' : 'subscription: ') + JSON.stringify(sub);
    }
  }
  return '';
}

/**
 * A socket string (one char per byte) as bytes, copied: for hosts that hand strings. The board's
 * platform hands views of its socket strings instead (firmware/espruino.ts), made natively.
 */
function stringBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 255;
  return bytes;
}

export function createSession(options: SessionOptions, io: SessionIO): Session {
  const version = __MQTT5__ && options.protocolVersion === 5 ? 5 : 4;
  const maxPacketIn = options.maxPacketSize || 4096;
  const store = createStore(options.storeBytes || STORE_BYTES, options.storeSlots || 64);
  /** Most QoS 2 messages the broker may have in flight towards us (our Receive Maximum). */
  const heldMax = (options.properties && options.properties.receiveMaximum) || 64;
  const stats: SessionStats = { sent: 0, acked: 0, received: 0, dropped: 0, refused: 0 };
  // the packet being received: first byte (0 before one), remaining length, its varint's next
  // multiplier (0 once read) and size so far, and the body bytes collected
  let first = 0, length = 0, multiplier = 0, lengthBytes = 0, got = 0, body = new Uint8Array(64);
  let state = OFFLINE, nextId = 0;
  /** In-flight window of this link: inflightMax, lowered by an MQTT 5 broker's Receive Maximum. */
  let inflightWindow = 0;
  let keepaliveMs = 0, lastWrite = 0, lastRead = 0, pingDeadline = 0, connackDeadline = 0;
  /** Packet ids of QoS 2 messages received and PUBREC'd, held until PUBREL: exactly-once delivery. */
  let held: number[] = [];
  /** Subscribe/unsubscribe requests waiting for their ack: [id, callback, id, callback, ...]. */
  let pending: unknown[] = [];
  /** MQTT 5 topic aliases: ours towards the broker (alias k+1 is topic k), and the broker's towards us. */
  let aliasesOut: string[] = [], aliasMaxOut = 0, aliasesIn: string[] = [], maxPacketOut = 0;

  function start(now: number): void {
    const o = options;
    first = 0;
    state = CONNECTING;
    connackDeadline = now + (o.connectTimeout || 30000);
    pingDeadline = 0;
    keepaliveMs = (o.keepalive === undefined ? 60 : o.keepalive) * 1000;
    aliasesOut = []; // new arrays: assigning an array's length throws on Espruino
    aliasesIn = [];
    // an MQTT 5 broker is told our limits, so it holds back what we could not take instead of being disconnected
    const properties = __MQTT5__ && version === 5
      ? assign({ receiveMaximum: heldMax, maximumPacketSize: maxPacketIn }, o.properties)
      : undefined;
    write(connectPacket(version, o.clientId, o.clean !== false, keepaliveMs / 1000, o.username, o.password, o.will, properties), now);
  }

  function stop(): void {
    state = OFFLINE;
    const waiting = pending;
    pending = [];
    for (let k = 1; k < waiting.length; k += 2) {
      const cb = waiting[k] as Callback | undefined;
      if (cb) cb(error(UNSPECIFIED_ERROR, 'connection lost'));
    }
  }

  /**
   * A packet that lies whole in a chunk is decoded where it lies (its binary fields are views of the
   * chunk); one split across chunks is collected in a buffer that grows up to maxPacketSize. The body
   * moves by native copies, never a JS loop per byte; only the fixed header is read byte by byte.
   */
  function data(chunk: Uint8Array | string, now: number): void {
    const bytes = typeof chunk === 'string' ? stringBytes(chunk) : chunk, n = bytes.length;
    lastRead = now;
    for (let i = 0; i < n && state !== OFFLINE;) {
      if (first && !multiplier) {
        // the body: a view of the chunk when all of it is here and nothing was collected before
        const k = Math.min(n - i, length - got);
        if (!got && k === length) {
          receive(bytes.subarray(i, i + k), now);
        } else {
          body.set(bytes.subarray(i, i + k), got);
          got += k;
          if (got === length) receive(body, now);
        }
        i += k;
        continue;
      }
      const c = bytes[i++];
      if (!first) {
        if (c < 16) return failure(MALFORMED_PACKET, MALFORMED, now);
        first = c;
        length = got = lengthBytes = 0;
        multiplier = 1;
        continue;
      }
      length += (c & 127) * multiplier;
      lengthBytes++;
      multiplier = c & 128 ? multiplier * 128 : 0;
      if (lengthBytes === 4 && multiplier) return failure(MALFORMED_PACKET, MALFORMED, now);
      if (!multiplier) {
        // checked before anything is allocated: a hostile length must not take the board's memory
        if (length + lengthBytes + 1 > maxPacketIn) return failure(PACKET_TOO_LARGE, 'packet too large', now);
        if (body.length < length) body = new Uint8Array(length);
        if (!length) receive(body, now);
      }
    }
  }

  function publish(topic: string, payload: Payload, qos: number, retain: boolean, properties: Properties | undefined, cb: Callback | undefined, now: number): boolean {
    if (typeof topic !== 'string' || !validTopicName(topic) || !(qos >= 0 && qos <= (__QOS2__ ? 2 : 1))) return refuse(cb, TOPIC_NAME_INVALID, 'invalid topic or QoS');
    if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) return refuse(cb, UNSPECIFIED_ERROR, 'payload must be a string or Uint8Array');
    const online = state === ONLINE, id = qos ? allocateId() : 0;
    const packet = publishPacket(version, topic, payload, qos, retain, id, properties);
    if (__MQTT5__ && online && maxPacketOut && packet.length > maxPacketOut) return refuse(cb, PACKET_TOO_LARGE, TOO_LARGE);
    if (!qos && online && !store._count[QUEUED]) {
      sendPublish(topic, payload, 0, retain, 0, properties, packet, now);
      if (cb) cb(null);
      return true;
    }
    // the store copies the packet: dropping QoS 0 to make room encodes nothing, so the scratch bytes stay valid
    while (!storeAdd(store, packet, cb)) {
      if (!dropOldestQos0()) {
        drain();
        if (qos) return refuse(cb, QUOTA_EXCEEDED, 'store full');
        stats.dropped++;
        if (cb) cb(error(QUOTA_EXCEEDED, DROPPED));
        return false;
      }
    }
    const fresh = store._end - packet.length - 3;
    if (online && store._count[QUEUED] === 1 && !store._count[PUBREL_QUEUED] && (!qos || storeCount(store, IN_FLIGHT) < inflightWindow)) {
      // the only one in line: sent now, without a walk over the store, from its parts, so that it may
      // take a topic alias (the store keeps the full topic for a resend)
      sendPublish(topic, payload, qos, retain, id, properties, recordPacket(store, fresh), now);
      sent(fresh, qos);
      drain();
    } else {
      flush(now);
    }
    return true;
  }

  /** SUBSCRIBE (0x82, a list of subscriptions) or UNSUBSCRIBE (0xa2, a list of filters), when valid; the callback waits for the ack. */
  function request(first: number, list: Array<Subscription | string>, properties: Properties | undefined, cb: Callback | undefined, now: number): boolean {
    const invalid = invalidRequest(list, first === 0xa2);
    if (invalid) return refuse(cb, TOPIC_FILTER_INVALID, invalid);
    const id = allocateId();
    pending.push(id, cb);
    write(subscribePacket(version, first, id, list, properties), now);
    return true;
  }

  function discard(reason: string): void {
    for (let at = store._first; at < store._end && store._live; at = nextRecord(store, at)) storeMove(store, at, DISCARDED, error(UNSPECIFIED_ERROR, reason));
    drain();
  }

  function disconnect(reasonCode: number, now: number): void {
    if (state === ONLINE) write(shortPacket(0xe0, reasonCode), now);
    stop();
  }

  function tick(now: number): number {
    if (state === CONNECTING && now >= connackDeadline) {
      close('CONNACK timeout');
    } else if (state === ONLINE && keepaliveMs) {
      if (pingDeadline && now >= pingDeadline) close('keepalive timeout: no PINGRESP');
      // the same sum as deadline(): `now - idle >= keepalive` can miss by a rounding error and spin
      else if (!pingDeadline && now >= idleSince() + keepaliveMs) {
        write(shortPacket(0xc0, 0), now);
        pingDeadline = now + (options.pingTimeout || keepaliveMs);
      }
    }
    return deadline();
  }

  function deadline(): number {
    if (state === CONNECTING) return connackDeadline;
    if (state !== ONLINE || !keepaliveMs) return 0;
    return pingDeadline || idleSince() + keepaliveMs;
  }

  /**
   * Keepalive counts from the older of the last write and the last read: the spec only asks the client
   * to write within the keepalive, but a board that writes QoS 0 readings into a half-open link would then
   * never ping, and never notice that nothing comes back.
   */
  function idleSince(): number {
    return Math.min(lastWrite, lastRead);
  }

  function receive(bytes: Uint8Array, now: number): void {
    const type = first >> 4, flags = first & 15;
    first = 0;
    let p: ReceivedPacket;
    try {
      p = parsePacket(type, flags, bytes, length, version);
    } catch (e) {
      if (typeof e !== 'number') throw e;
      return failure(e, e === MALFORMED_PACKET ? MALFORMED : 'packet id 0', now); // the codec's only protocol error
    }
    const id = p.messageId as number;
    if (state === CONNECTING) return type === CONNACK ? connack(p, now) : failure(PROTOCOL_ERROR, 'expected CONNACK', now);
    if (type === PUBLISH) return incoming(p, now);
    if (type === PUBACK || type === PUBREC || type === PUBCOMP) return acked(type, p, now);
    if (__QOS2__ && type === PUBREL) {
      const k = held.indexOf(id);
      if (k >= 0) held.splice(k, 1);
      return write(ackPacket(PUBCOMP, id, k < 0 && __MQTT5__ && version === 5 ? PACKET_ID_NOT_FOUND : 0), now);
    }
    if (type === SUBACK || type === UNSUBACK) {
      const k = pending.indexOf(id);
      if (k < 0 || k & 1) return;
      const cb = pending[k + 1] as Callback | undefined;
      pending.splice(k, 2);
      if (cb) cb(null, p.granted); // none in a 3.1.1 UNSUBACK
      return;
    }
    if (type === PINGRESP) { pingDeadline = 0; return; }
    if (__MQTT5__ && type === DISCONNECT && version === 5) return close('broker disconnected: ' + reasonText(p.reasonCode || 0));
    failure(PROTOCOL_ERROR, 'unexpected packet', now);
  }

  function connack(p: ReceivedPacket, now: number): void {
    const v5 = __MQTT5__ && version === 5, code = (v5 ? p.reasonCode : p.returnCode) as number;
    if (code) {
      const text = 'connection refused: ' + (v5 ? reasonText(code) : CONNACK_RETURN_CODES[code] || reasonText(code));
      io.event('error', error(code, text));
      return close(text, FATAL_REFUSALS.indexOf(code) >= 0 && code > 5 === v5);
    }
    lastWrite = lastRead = now;
    inflightWindow = options.inflightMax || 16;
    aliasMaxOut = maxPacketOut = 0;
    const props = p.properties;
    if (__MQTT5__ && props) {
      if (props.receiveMaximum && props.receiveMaximum < inflightWindow) inflightWindow = props.receiveMaximum;
      if (props.serverKeepAlive !== undefined) keepaliveMs = props.serverKeepAlive * 1000;
      if (props.assignedClientIdentifier) options.clientId = props.assignedClientIdentifier;
      aliasMaxOut = Math.min(props.topicAliasMaximum || 0, 16);
      maxPacketOut = props.maximumPacketSize || 0;
    }
    // callbacks of messages completed here must not see the session ONLINE before the resend is ordered
    resume(!!p.sessionPresent);
    state = ONLINE;
    flush(now);
    io.event('connect', p);
  }

  /**
   * After CONNACK: with the session present, messages in flight are sent again in their original
   * order, PUBLISH with DUP=1 and PUBREL as PUBREL [MQTT-4.4.0-1]; with the session lost they go out
   * again as new messages (DUP=0), except those the broker already PUBREC'd, which are complete.
   */
  function resume(present: boolean): void {
    const b = store._bytes;
    if (!present) held = [];
    for (let at = store._first; at < store._end && storeCount(store, IN_FLIGHT); at = nextRecord(store, at)) {
      if (b[at] === AWAIT_ACK) b[at + 3] = present ? b[at + 3] | 8 : b[at + 3] & ~8; // the DUP flag, not the state
      storeMove(store, at, present ? RESUMED : LOST, null);
    }
  }

  /**
   * Sends waiting records in order while the in-flight window allows. Once a QoS>0 message must wait
   * for the window, every later PUBLISH waits too, to keep the order, but PUBRELs still go: they free
   * the window. Then the callbacks of what completed run.
   */
  function flush(now: number): void {
    const b = store._bytes;
    let inflight = storeCount(store, IN_FLIGHT), blocked = false;
    for (let at = store._first; at < store._end && state === ONLINE && storeCount(store, 1 << QUEUED | 1 << PUBREL_QUEUED); at = nextRecord(store, at)) {
      const state = b[at], qos = recordQos(store, at);
      if (__QOS2__ && state === PUBREL_QUEUED) {
        storeMove(store, at, RELEASED);
        write(ackPacket(PUBREL, recordId(store, at), 0), now);
      } else if (state === QUEUED && !blocked) {
        if (qos && inflight >= inflightWindow) {
          blocked = true;
        } else if (__MQTT5__ && maxPacketOut && nextRecord(store, at) - at - 3 > maxPacketOut) {
          // queued before this broker's maximum was known: refused, never sent cut or silently lost
          stats.refused++;
          storeMove(store, at, DONE, error(PACKET_TOO_LARGE, TOO_LARGE));
        } else {
          write(recordPacket(store, at), now);
          sent(at, qos);
          if (qos) inflight++;
        }
      }
    }
    drain();
  }

  /** The record at `at` went out: QoS 0 is done, QoS>0 awaits its ack. */
  function sent(at: number, qos: number): void {
    storeMove(store, at, qos ? SENT : DONE, null);
    if (qos) stats.sent++;
  }

  function acked(type: number, p: ReceivedPacket, now: number): void {
    const id = p.messageId as number;
    const at = storeFind(store, id, type === PUBCOMP ? 1 << AWAIT_PUBCOMP : type === PUBREC ? 1 << AWAIT_ACK | 1 << AWAIT_PUBCOMP : 1 << AWAIT_ACK);
    if (at < 0) {
      // a PUBREC for nothing we hold: answer anyway so the broker can finish [MQTT-4.3.3]
      if (type === PUBREC) write(ackPacket(PUBREL, id, __MQTT5__ && version === 5 ? PACKET_ID_NOT_FOUND : 0), now);
      return;
    }
    if (recordQos(store, at) !== (type === PUBACK ? 1 : 2)) return;
    const failed = __MQTT5__ && (p.reasonCode || 0) >= 0x80; // 3.1.1 acks carry no reason code
    if (__QOS2__ && type === PUBREC && !failed) {
      storeMove(store, at, PUBREC_IN); // from AWAIT_PUBCOMP too: a duplicate PUBREC is answered again
      return write(ackPacket(PUBREL, id, 0), now);
    }
    if (!failed) stats.acked++;
    storeMove(store, at, type === PUBCOMP ? PUBCOMP_IN : ACKED, failed ? error(p.reasonCode as number, reasonText(p.reasonCode as number)) : null);
    flush(now);
  }

  function incoming(p: ReceivedPacket, now: number): void {
    let topic = p.topic as string;
    const alias = __MQTT5__ && p.properties ? p.properties.topicAlias : 0;
    if (alias) {
      const max = (options.properties && options.properties.topicAliasMaximum) || 0;
      if (alias > max) return failure(TOPIC_ALIAS_INVALID, 'topic alias ' + alias + ' over the maximum', now); // [MQTT-3.3.2-9]
      if (topic) aliasesIn[alias] = topic;
      else topic = aliasesIn[alias];
    }
    if (!topic || !validTopicName(topic)) return failure(PROTOCOL_ERROR, 'invalid topic', now);
    const qos = p.qos, id = p.messageId as number;
    if (!__QOS2__ && qos === 2) return failure(PROTOCOL_ERROR, 'QoS 2 is not in this profile', now);
    if (__QOS2__ && qos === 2) {
      if (held.indexOf(id) < 0) {
        if (held.length >= heldMax) return failure(RECEIVE_MAXIMUM_EXCEEDED, 'receive maximum exceeded', now);
        held.push(id);
        deliver(topic, p);
      }
      return write(ackPacket(PUBREC, id, 0), now);
    }
    deliver(topic, p);
    if (qos) write(ackPacket(PUBACK, id, 0), now);
  }

  function deliver(topic: string, p: ReceivedPacket): void {
    stats.received++;
    io.event('message', topic, p.payload, p);
  }

  /** Runs the callbacks of the records that left the store. After a walk: a callback may publish, which may compact the store. */
  function drain(): void {
    const done = store._done;
    while (done.length) {
      const cb = done.shift() as Callback | undefined, e = done.shift() as SessionError | null;
      if (cb) cb(e);
    }
  }

  function dropOldestQos0(): boolean {
    const at = storeOldest(store, 1 << QUEUED, true);
    if (at < 0) return false;
    stats.dropped++;
    storeMove(store, at, DONE, error(QUOTA_EXCEEDED, DROPPED));
    return true;
  }

  /** A request refused before anything went on the wire: its callback is told, or else the 'error' event. */
  function refuse(cb: Callback | undefined, reasonCode: number, message: string): false {
    const e = error(reasonCode, message);
    stats.refused++;
    if (cb) cb(e);
    else io.event('error', e);
    return false;
  }

  /** A packet id in use by nothing in the store or awaiting a SUBACK/UNSUBACK [MQTT-2.2.1-3]. */
  function allocateId(): number {
    for (;;) {
      nextId = nextId >= 65535 ? 1 : nextId + 1;
      if (storeFind(store, nextId, ~1) < 0 && pending.indexOf(nextId) < 0) return nextId;
    }
  }

  /**
   * Sends a PUBLISH, with a topic alias where the broker allows them [MQTT-3.3.2-12]: the packet is
   * encoded again with the alias, and an empty topic once the broker knows it. `packet` is the one
   * with the full topic, sent when no alias applies.
   */
  function sendPublish(topic: string, payload: Payload, qos: number, retain: boolean, id: number, properties: Properties | undefined, packet: Uint8Array, now: number): void {
    if (__MQTT5__ && aliasMaxOut) {
      let alias = aliasesOut.indexOf(topic) + 1;
      const known = alias > 0;
      if (!known && aliasesOut.length < aliasMaxOut) alias = aliasesOut.push(topic);
      if (alias) packet = publishPacket(5, known ? '' : topic, payload, qos, retain, id, assign(assign({}, properties), { topicAlias: alias }));
    }
    write(packet, now);
  }

  function write(packet: Uint8Array, now: number): void {
    if (__MQTT5__ && maxPacketOut && packet.length > maxPacketOut) {
      io.event('error', error(PACKET_TOO_LARGE, TOO_LARGE));
      return;
    }
    lastWrite = now;
    io.write(packet, packet.length);
  }

  /** A protocol error on the link: tell the broker why (MQTT 5), report it, and drop the link. */
  function failure(reasonCode: number, message: string, now: number): void {
    if (__MQTT5__ && version === 5 && state === ONLINE) write(shortPacket(0xe0, reasonCode), now);
    io.event('error', error(reasonCode, message));
    close(message);
  }

  function close(reason: string, fatal?: boolean): void {
    stop();
    io.event('close', reason, fatal);
  }

  // Espruino does not hoist function declarations: the object that names them comes after all of them
  return {
    version: version, stats: stats,
    start: start, stop: stop, data: data, publish: publish,
    subscribe: (list: Subscription[], properties: Properties | undefined, cb: Callback | undefined, now: number) => request(0x82, list, properties, cb, now),
    unsubscribe: (list: string[], properties: Properties | undefined, cb: Callback | undefined, now: number) => request(0xa2, list, properties, cb, now),
    discard: discard, disconnect: disconnect, tick: tick, deadline: deadline,
    queued: () => store._live,
    inflightCount: () => storeCount(store, IN_FLIGHT),
    // a getter: the closure's own code reads a local, shorter on the board than a property
    get state() { return state; },
  };
}

/** Object.assign for the firmware's ES5 library: copies `from`'s own fields onto `to`. */
function assign(to: Properties, from: Properties | undefined): Properties {
  for (const k in from) (to as { [k: string]: unknown })[k] = (from as { [k: string]: unknown })[k];
  return to;
}
