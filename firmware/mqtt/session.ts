// The QoS engine, sans-IO: commands, received bytes and `now` go in; bytes to send, events and the
// next deadline come out. It owns no socket and reads no clock, so tests drive it byte by byte and a
// simulator runs thousands of them in virtual time. Outgoing QoS>0 messages live in the MessageStore
// as encoded PUBLISH packets; their states are the store's named states, moved only by `advance`.
import {
  CONNACK, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, UNSUBACK, PINGRESP, DISCONNECT,
  PACKET_ID_NOT_FOUND, TOPIC_ALIAS_INVALID, PROTOCOL_ERROR, RECEIVE_MAXIMUM_EXCEEDED, CONNACK_RETURN_CODES,
  reasonText, packetType,
} from './constants';
import { encode } from './encode';
import type { DecodeError } from './errors';
import { PacketReader } from './frames';
import type { Packet, Payload, Properties, PublishPacket, Subscription, Will } from './packets';
import { AWAIT_PUBACK, AWAIT_PUBCOMP, AWAIT_PUBREC, MessageStore, QUEUED } from './store';
import { validTopicName } from './topic';

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
  /** MQTT 5 CONNECT properties (sessionExpiryInterval, receiveMaximum, topicAliasMaximum, ...). */
  properties?: Properties;
  /** Most QoS>0 messages in flight at once; in MQTT 5 the broker's Receive Maximum may lower it. */
  inflightMax?: number;
  /** Bytes and records of the store that holds queued and in-flight messages. */
  storeBytes?: number;
  storeSlots?: number;
  /** Largest packet received or sent, in bytes. */
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

/** What the session asks of its driver: bytes to send, events to report, the link to be closed. */
export interface SessionIO {
  write(bytes: Uint8Array, length: number): void;
  /** 'connect' (connack), 'message' (topic, payload, packet), 'error' (SessionError), 'close' (reason). */
  event(name: string, a?: unknown, b?: unknown, c?: unknown): void;
}

/** Connection states. */
export const OFFLINE = 0, CONNECTING = 1, ONLINE = 2;

/** Counters, exposed for telemetry. */
export interface SessionStats {
  sent: number;
  acked: number;
  received: number;
  dropped: number;
  refused: number;
}

const ERR_FULL = 0x97; // Quota exceeded: the store has no room for a QoS>0 message

export class Session {
  readonly options: SessionOptions;
  readonly version: number;
  state = OFFLINE;
  readonly store: MessageStore;
  readonly stats: SessionStats = { sent: 0, acked: 0, received: 0, dropped: 0, refused: 0 };
  private readonly io: SessionIO;
  private readonly reader: PacketReader;
  private out: Uint8Array;
  private nextId = 0;
  private inflight = 0;
  private window: number;
  private keepaliveMs: number;
  private lastWrite = 0;
  private pingDeadline = 0;
  private connackDeadline = 0;
  /** Packet ids of QoS 2 messages received and PUBREC'd, held until PUBREL: exactly-once delivery. */
  private held: number[] = [];
  private heldMax: number;
  /** Subscribe/unsubscribe requests waiting for their ack: [id, callback, id, callback, ...]. */
  private pending: unknown[] = [];
  /** MQTT 5 topic aliases: ours towards the broker (topic by alias), and the broker's towards us. */
  private aliasesOut: string[] = [];
  private aliasMaxOut = 0;
  private aliasesIn: string[] = [];
  private maxPacketOut = 0;

  constructor(options: SessionOptions, io: SessionIO) {
    this.options = options;
    this.io = io;
    this.version = __MQTT5__ && options.protocolVersion === 5 ? 5 : 4;
    const maxPacket = options.maxPacketSize || 4096;
    this.reader = new PacketReader({ protocolVersion: this.version, maxPacketSize: maxPacket });
    this.out = new Uint8Array(Math.min(maxPacket, 1024));
    this.store = new MessageStore(options.storeBytes || 4096, options.storeSlots || 32);
    this.window = options.inflightMax || 16;
    this.heldMax = (options.properties && options.properties.receiveMaximum) || 64;
    this.keepaliveMs = (options.keepalive === undefined ? 60 : options.keepalive) * 1000;
  }

  /** The transport is up: sends CONNECT and waits for CONNACK. */
  start(now: number): void {
    const o = this.options;
    this.reader.reset(this.version);
    this.state = CONNECTING;
    this.connackDeadline = now + (o.connectTimeout || 30000);
    this.pingDeadline = 0;
    this.aliasesOut.length = this.aliasesIn.length = 0;
    this.send({
      cmd: 'connect', clientId: o.clientId, protocolVersion: this.version as 4, clean: o.clean !== false,
      keepalive: this.keepaliveMs / 1000, username: o.username, password: o.password, will: o.will,
      properties: o.properties,
    }, now);
  }

  /** The transport went down (or was closed): in-flight messages stay in the store for the next start. */
  stop(): void {
    this.state = OFFLINE;
    this.inflight = 0;
    const pending = this.pending;
    this.pending = [];
    for (let k = 1; k < pending.length; k += 2) {
      const cb = pending[k] as Callback | undefined;
      if (cb) cb({ reasonCode: 0x80, message: 'connection lost before the broker answered' });
    }
  }

  /** Bytes from the transport (Uint8Array, or an Espruino socket string). */
  data(chunk: Uint8Array | string, now: number): void {
    const error = typeof chunk === 'string'
      ? this.reader.pushString(chunk, (p) => this.receive(p, now))
      : this.reader.push(chunk, (p) => this.receive(p, now));
    if (error) this.protocolFailure(error, now);
  }

  /**
   * Publishes; QoS>0 messages (and QoS 0 ones while offline) go through the store, in order. Returns
   * false, with `cb` told why, when the message is refused: an invalid topic, or a full store (QoS 0
   * waiting offline is dropped first to make room; QoS>0 is never dropped once accepted).
   */
  publish(topic: string, payload: Payload, qos: number, retain: boolean, properties: Properties | undefined, cb: Callback | undefined, now: number): boolean {
    if (!validTopicName(topic) || qos < 0 || qos > (__QOS2__ ? 2 : 1)) return this.refuse(cb, 0x90, 'invalid topic or QoS');
    const packet: PublishPacket = { cmd: 'publish', topic: topic, payload: payload, qos: qos as 0, retain: retain, properties: properties };
    if (qos === 0 && this.state === ONLINE && !this.queued()) {
      this.sendPublish(packet, now);
      if (cb) cb(null);
      return true;
    }
    const s = this.store;
    if (qos) packet.messageId = this.allocateId();
    const n = -encode(packet, this.version, EMPTY, 0);
    let i = s.reserve(n);
    while (i < 0 && this.dropOldestQos0()) i = s.reserve(n);
    if (i < 0) return this.refuse(cb, ERR_FULL, 'message store full');
    encode(packet, this.version, s.bytes, s.start[i]);
    s.ids[i] = packet.messageId || 0;
    s.qos[i] = qos;
    s.callbacks[i] = cb;
    this.flush(now, packet);
    return true;
  }

  subscribe(subscriptions: Subscription[], properties: Properties | undefined, cb: Callback | undefined, now: number): void {
    const id = this.allocateId();
    this.pending.push(id, cb);
    this.send({ cmd: 'subscribe', messageId: id, subscriptions: subscriptions, properties: properties }, now);
  }

  unsubscribe(topics: string[], properties: Properties | undefined, cb: Callback | undefined, now: number): void {
    const id = this.allocateId();
    this.pending.push(id, cb);
    this.send({ cmd: 'unsubscribe', messageId: id, unsubscriptions: topics, properties: properties }, now);
  }

  /** Clean disconnect: the broker discards the will. The driver closes the transport afterwards. */
  disconnect(reasonCode: number, now: number): void {
    if (this.state === ONLINE) this.send({ cmd: 'disconnect', reasonCode: reasonCode }, now);
    this.stop();
  }

  /** Runs timers; returns the next time (ms) it must be called, or 0 for none. */
  tick(now: number): number {
    if (this.state === CONNECTING && now >= this.connackDeadline) {
      this.close('CONNACK timeout');
    } else if (this.state === ONLINE && this.keepaliveMs) {
      if (this.pingDeadline && now >= this.pingDeadline) this.close('keepalive timeout: no PINGRESP');
      else if (!this.pingDeadline && now - this.lastWrite >= this.keepaliveMs) {
        this.send({ cmd: 'pingreq' }, now);
        this.pingDeadline = now + (this.options.pingTimeout || this.keepaliveMs);
      }
    }
    return this.deadline();
  }

  deadline(): number {
    if (this.state === CONNECTING) return this.connackDeadline;
    if (this.state !== ONLINE || !this.keepaliveMs) return 0;
    return this.pingDeadline || this.lastWrite + this.keepaliveMs;
  }

  /** Messages waiting in the store (queued or in flight). */
  queued(): number {
    return this.store.live;
  }

  inflightCount(): number {
    return this.inflight;
  }

  private receive(p: any, now: number): void {
    const type = packetType(p.cmd);
    if (this.state === CONNECTING) {
      if (type !== CONNACK) return this.violation('expected CONNACK, got ' + p.cmd);
      return this.connack(p, now);
    }
    if (type === PUBLISH) return this.incoming(p, now);
    if (type === PUBACK || type === PUBREC || type === PUBCOMP) return this.acked(type, p, now);
    if (type === PUBREL) {
      const k = this.held.indexOf(p.messageId);
      if (k >= 0) this.held.splice(k, 1);
      this.send({ cmd: 'pubcomp', messageId: p.messageId, reasonCode: k < 0 && this.version === 5 ? PACKET_ID_NOT_FOUND : 0 }, now);
      return;
    }
    if (type === SUBACK || type === UNSUBACK) {
      for (let k = 0; k < this.pending.length; k += 2) {
        if (this.pending[k] !== p.messageId) continue;
        const cb = this.pending[k + 1] as Callback | undefined;
        this.pending.splice(k, 2);
        if (cb) cb(null, p.granted ? p.granted.slice() : []);
        return;
      }
      return;
    }
    if (type === PINGRESP) { this.pingDeadline = 0; return; }
    if (type === DISCONNECT) return this.close('broker disconnected: ' + reasonText(p.reasonCode || 0));
    this.violation('unexpected ' + p.cmd);
  }

  private connack(p: any, now: number): void {
    const code = this.version === 5 ? p.reasonCode : p.returnCode;
    if (code) {
      const text = this.version === 5 ? reasonText(code) : CONNACK_RETURN_CODES[code];
      this.io.event('error', { reasonCode: code, message: 'connection refused: ' + text });
      return this.close('connection refused: ' + text);
    }
    this.state = ONLINE;
    this.lastWrite = now;
    this.window = this.options.inflightMax || 16;
    this.aliasMaxOut = 0;
    this.maxPacketOut = 0;
    const props: Properties | undefined = p.properties;
    if (__MQTT5__ && props) {
      if (props.receiveMaximum && props.receiveMaximum < this.window) this.window = props.receiveMaximum;
      if (props.serverKeepAlive !== undefined) this.keepaliveMs = props.serverKeepAlive * 1000;
      if (props.assignedClientIdentifier) this.options.clientId = props.assignedClientIdentifier;
      this.aliasMaxOut = Math.min(props.topicAliasMaximum || 0, 16);
      this.maxPacketOut = props.maximumPacketSize || 0;
    }
    this.resume(!!p.sessionPresent, now);
    this.io.event('connect', p);
  }

  /**
   * After CONNACK: with the session present, messages in flight are sent again in their original
   * order, PUBLISH with DUP=1 and PUBREL as PUBREL [MQTT-4.4.0-1]; with the session lost they go out
   * again as new messages, except those the broker already PUBREC'd, which it has taken charge of.
   */
  private resume(sessionPresent: boolean, now: number): void {
    const s = this.store;
    if (!sessionPresent) this.held.length = 0;
    for (let k = 0; k < s.count; k++) {
      const i = s.slot(k), state = s.states[i];
      if (state === AWAIT_PUBCOMP && !sessionPresent) this.complete(i, null);
      else if (state === AWAIT_PUBCOMP) {
        this.inflight++;
        this.send({ cmd: 'pubrel', messageId: s.ids[i] }, now);
      } else if (state === AWAIT_PUBACK || state === AWAIT_PUBREC) {
        s.states[i] = QUEUED;
        if (sessionPresent) s.bytes[s.start[i]] |= 8; // DUP
      }
    }
    this.flush(now, undefined);
  }

  /** Sends queued records in order while the in-flight window allows; `fresh` is the just-published packet. */
  private flush(now: number, fresh: PublishPacket | undefined): void {
    if (this.state !== ONLINE) return;
    const s = this.store;
    for (let k = 0; k < s.count; k++) {
      const i = s.slot(k);
      if (s.states[i] !== QUEUED) continue;
      const qos = s.qos[i];
      if (qos && this.inflight >= this.window) return;
      const last = k === s.count - 1;
      // the newest record may go out with a topic alias, built from the packet object while we have it
      if (last && fresh && this.aliasMaxOut) this.sendPublish(fresh, now);
      else this.write(s.bytes.subarray(s.start[i], s.start[i] + s.length[i]), s.length[i], now);
      if (qos) {
        this.advance(i, qos === 1 ? AWAIT_PUBACK : AWAIT_PUBREC);
        this.inflight++;
        this.stats.sent++;
      } else {
        this.complete(i, null);
        k--; // completing may move the ring's head
      }
    }
  }

  /** The one place a record's state moves; a move the protocol does not allow is a bug, reported loudly. */
  private advance(i: number, to: number): void {
    const from = this.store.states[i];
    const legal = (from === QUEUED && (to === AWAIT_PUBACK || to === AWAIT_PUBREC))
      || (from === AWAIT_PUBREC && to === AWAIT_PUBCOMP);
    if (!legal) throw new Error('illegal message state move ' + from + ' -> ' + to);
    this.store.states[i] = to;
  }

  private acked(type: number, p: any, now: number): void {
    const s = this.store;
    const expected = type === PUBACK ? AWAIT_PUBACK : type === PUBREC ? AWAIT_PUBREC : AWAIT_PUBCOMP;
    const i = s.find(p.messageId, 1 << expected);
    if (i < 0) {
      // an ack for nothing we sent: answer a PUBREC anyway so the broker can finish [MQTT-4.3.3]
      if (type === PUBREC) this.send({ cmd: 'pubrel', messageId: p.messageId, reasonCode: this.version === 5 ? PACKET_ID_NOT_FOUND : 0 }, now);
      return;
    }
    const failed = (p.reasonCode || 0) >= 0x80;
    if (type === PUBREC && !failed) {
      this.advance(i, AWAIT_PUBCOMP);
      this.send({ cmd: 'pubrel', messageId: p.messageId }, now);
      return;
    }
    this.inflight--;
    this.stats.acked++;
    this.complete(i, failed ? { reasonCode: p.reasonCode, message: reasonText(p.reasonCode) } : null);
    this.flush(now, undefined);
  }

  private incoming(p: any, now: number): void {
    let topic: string = p.topic;
    const alias = __MQTT5__ && p.properties ? p.properties.topicAlias : 0;
    if (alias) {
      const max = (this.options.properties && this.options.properties.topicAliasMaximum) || 0;
      if (alias > max) return this.failure(TOPIC_ALIAS_INVALID, 'topic alias ' + alias + ' over the maximum', now);
      if (topic) this.aliasesIn[alias] = topic;
      else topic = this.aliasesIn[alias];
      if (!topic) return this.failure(PROTOCOL_ERROR, 'unknown topic alias ' + alias, now);
    }
    const qos = p.qos, id = p.messageId;
    if (qos === 2) {
      if (this.held.indexOf(id) < 0) {
        if (this.held.length >= this.heldMax) return this.failure(RECEIVE_MAXIMUM_EXCEEDED, 'too many QoS 2 messages in flight', now);
        this.held.push(id);
        this.deliver(topic, p);
      }
      this.send({ cmd: 'pubrec', messageId: id }, now);
      return;
    }
    this.deliver(topic, p);
    if (qos === 1) this.send({ cmd: 'puback', messageId: id }, now);
  }

  private deliver(topic: string, p: any): void {
    this.stats.received++;
    this.io.event('message', topic, p.payload, p);
  }

  private complete(i: number, error: SessionError | null): void {
    const cb = this.store.callbacks[i] as Callback | undefined;
    this.store.callbacks[i] = undefined;
    this.store.free(i);
    if (cb) cb(error);
  }

  private dropOldestQos0(): boolean {
    const s = this.store;
    for (let k = 0; k < s.count; k++) {
      const i = s.slot(k);
      if (s.states[i] === QUEUED && s.qos[i] === 0) {
        this.stats.dropped++;
        this.complete(i, { reasonCode: ERR_FULL, message: 'dropped: store full' });
        return true;
      }
    }
    return false;
  }

  private refuse(cb: Callback | undefined, reasonCode: number, message: string): false {
    this.stats.refused++;
    if (cb) cb({ reasonCode: reasonCode, message: message });
    return false;
  }

  /** A packet id in use by nothing in flight, in the store or awaiting a SUBACK/UNSUBACK [MQTT-2.2.1-3]. */
  private allocateId(): number {
    for (;;) {
      this.nextId = this.nextId >= 65535 ? 1 : this.nextId + 1;
      const id = this.nextId;
      if (this.store.find(id, 0xff) < 0 && this.pending.indexOf(id) < 0) return id;
    }
  }

  /** Sends a PUBLISH from its packet object, with a topic alias where the broker allows them. */
  private sendPublish(packet: PublishPacket, now: number): void {
    if (__MQTT5__ && this.aliasMaxOut) {
      const topic = packet.topic;
      let alias = this.aliasesOut.indexOf(topic) + 1;
      const known = alias > 0;
      if (!known && this.aliasesOut.length < this.aliasMaxOut) alias = this.aliasesOut.push(topic);
      if (alias) {
        const props: Properties = {};
        for (const k in packet.properties) (props as any)[k] = (packet.properties as any)[k];
        props.topicAlias = alias;
        packet = { cmd: 'publish', topic: known ? '' : topic, payload: packet.payload, qos: packet.qos, retain: packet.retain, messageId: packet.messageId, properties: props };
      }
    }
    this.send(packet, now);
  }

  private send(packet: Packet, now: number): void {
    let n = encode(packet, this.version, this.out, 0);
    if (n < 0) {
      this.out = new Uint8Array(-n);
      n = encode(packet, this.version, this.out, 0);
    }
    this.write(this.out, n, now);
  }

  private write(bytes: Uint8Array, n: number, now: number): void {
    if (__MQTT5__ && this.maxPacketOut && n > this.maxPacketOut) {
      this.io.event('error', { reasonCode: 0x95, message: 'packet of ' + n + ' bytes over the broker maximum' });
      return;
    }
    this.lastWrite = now;
    this.io.write(bytes, n);
  }

  private protocolFailure(error: DecodeError, now: number): void {
    this.failure(error.reasonCode, error.message, now);
  }

  private violation(message: string): void {
    this.failure(PROTOCOL_ERROR, message, 0);
  }

  /** A protocol error on the link: tell the broker why (MQTT 5), report it, and drop the link. */
  private failure(reasonCode: number, message: string, now: number): void {
    if (this.version === 5 && this.state === ONLINE) this.send({ cmd: 'disconnect', reasonCode: reasonCode }, now);
    this.io.event('error', { reasonCode: reasonCode, message: message });
    this.close(message);
  }

  private close(reason: string): void {
    this.stop();
    this.io.event('close', reason);
  }
}

const EMPTY = new Uint8Array(0);
