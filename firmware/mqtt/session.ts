// The QoS engine, sans-IO: commands, received bytes and `now` go in; bytes to send, events and the
// next deadline come out. It owns no socket and reads no clock, so tests drive it byte by byte and a
// simulator runs thousands of them in virtual time. Outgoing messages that wait or are in flight live
// in the MessageStore as encoded PUBLISH packets; their states are the store's named states, moved
// only by its `advance`.
import {
  CONNACK, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, UNSUBACK, PINGRESP, DISCONNECT,
  PACKET_ID_NOT_FOUND, PACKET_TOO_LARGE, QUOTA_EXCEEDED, TOPIC_ALIAS_INVALID, TOPIC_NAME_INVALID,
  PROTOCOL_ERROR, RECEIVE_MAXIMUM_EXCEEDED, UNSPECIFIED_ERROR, CONNACK_RETURN_CODES, reasonText, packetType,
} from './constants';
import { encode, encodedLength } from './encode';
import { PacketReader } from './frames';
import type { Packet, Payload, Properties, PublishPacket, Subscription, Will } from './packets';
import { AWAIT_PUBACK, AWAIT_PUBCOMP, AWAIT_PUBREC, FREE, MessageStore, PUBREL_QUEUED, QUEUED } from './store';
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
  /** MQTT 5 CONNECT properties (sessionExpiryInterval, topicAliasMaximum, ...). */
  properties?: Properties;
  /** Most QoS>0 messages in flight at once; in MQTT 5 the broker's Receive Maximum may lower it. */
  inflightMax?: number;
  /** Bytes and records of the store that holds queued and in-flight messages. */
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
  /** 'connect' (connack), 'message' (topic, payload, packet), 'error' (SessionError), 'close' (reason). */
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

/** Store states that hold a packet id the broker knows: they count against the in-flight window. */
const IN_FLIGHT = 1 << AWAIT_PUBACK | 1 << AWAIT_PUBREC | 1 << AWAIT_PUBCOMP | 1 << PUBREL_QUEUED;

export class Session {
  readonly options: SessionOptions;
  readonly version: number;
  state = OFFLINE;
  readonly store: MessageStore;
  readonly stats: SessionStats = { sent: 0, acked: 0, received: 0, dropped: 0, refused: 0 };
  private readonly _io: SessionIO;
  private readonly _reader: PacketReader;
  private _out: Uint8Array;
  private _nextId = 0;
  /** In-flight window of this link: inflightMax, lowered by an MQTT 5 broker's Receive Maximum. */
  private _window = 0;
  private _keepaliveMs = 0;
  private _lastWrite = 0;
  private _lastRead = 0;
  private _pingDeadline = 0;
  private _connackDeadline = 0;
  /** Packet ids of QoS 2 messages received and PUBREC'd, held until PUBREL: exactly-once delivery. */
  private _held: number[] = [];
  /** Most QoS 2 messages the broker may have in flight towards us (our Receive Maximum). */
  private _heldMax: number;
  private _maxPacketIn: number;
  /** Subscribe/unsubscribe requests waiting for their ack: [id, callback, id, callback, ...]. */
  private _pending: unknown[] = [];
  /** Callbacks of completed messages and their results, waiting to run: [callback, error, ...]. */
  private _done: unknown[] = [];
  /** MQTT 5 topic aliases: ours towards the broker (alias k+1 is topic k), and the broker's towards us. */
  private _aliasesOut: string[] = [];
  private _aliasMaxOut = 0;
  private _aliasesIn: string[] = [];
  private _maxPacketOut = 0;

  constructor(options: SessionOptions, io: SessionIO) {
    this.options = options;
    this._io = io;
    this.version = __MQTT5__ && options.protocolVersion === 5 ? 5 : 4;
    this._maxPacketIn = options.maxPacketSize || 4096;
    this._reader = new PacketReader({ protocolVersion: this.version, maxPacketSize: this._maxPacketIn });
    this._out = new Uint8Array(256);
    this.store = new MessageStore(options.storeBytes || 4096, options.storeSlots || 32);
    this._heldMax = (options.properties && options.properties.receiveMaximum) || 64;
  }

  /** The transport is up: sends CONNECT and waits for CONNACK. */
  start(now: number): void {
    const o = this.options;
    this._reader.reset(this.version);
    this.state = CONNECTING;
    this._connackDeadline = now + (o.connectTimeout || 30000);
    this._pingDeadline = 0;
    this._keepaliveMs = (o.keepalive === undefined ? 60 : o.keepalive) * 1000;
    this._aliasesOut = []; // new arrays: assigning an array's length throws on Espruino
    this._aliasesIn = [];
    // an MQTT 5 broker is told our limits, so it holds back what we could not take instead of being disconnected
    const properties = __MQTT5__ && this.version === 5
      ? assign({ receiveMaximum: this._heldMax, maximumPacketSize: this._maxPacketIn }, o.properties)
      : undefined;
    this._send({
      cmd: 'connect', clientId: o.clientId, protocolVersion: this.version as 4, clean: o.clean !== false,
      keepalive: this._keepaliveMs / 1000, username: o.username, password: o.password, will: o.will,
      properties: properties,
    }, now);
  }

  /** The transport went down (or was closed): in-flight messages stay in the store for the next start. */
  stop(): void {
    this.state = OFFLINE;
    const pending = this._pending;
    this._pending = [];
    for (let k = 1; k < pending.length; k += 2) {
      const cb = pending[k] as Callback | undefined;
      if (cb) cb({ reasonCode: UNSPECIFIED_ERROR, message: 'connection lost before the broker answered' });
    }
  }

  /** Bytes from the transport (Uint8Array, or an Espruino socket string). */
  data(chunk: Uint8Array | string, now: number): void {
    this._lastRead = now;
    const error = typeof chunk === 'string'
      ? this._reader.pushString(chunk, (p) => this._receive(p, now))
      : this._reader.push(chunk, (p) => this._receive(p, now));
    if (error && this.state !== OFFLINE) this._failure(error.reasonCode, error.message, now);
  }

  /**
   * Publishes; QoS>0 messages (and QoS 0 ones that cannot go at once) go through the store, in order.
   * Returns false, with `cb` told why, when the message is refused: an invalid topic or QoS, a packet
   * over the broker's maximum, or a full store (QoS 0 waiting is dropped first to make room; QoS>0 is
   * never dropped once accepted).
   */
  publish(topic: string, payload: Payload, qos: number, retain: boolean, properties: Properties | undefined, cb: Callback | undefined, now: number): boolean {
    if (!validTopicName(topic) || !(qos >= 0 && qos <= (__QOS2__ ? 2 : 1))) return this._refuse(cb, TOPIC_NAME_INVALID, 'invalid topic or QoS');
    const packet: PublishPacket = { cmd: 'publish', topic: topic, payload: payload, qos: qos as 0, retain: retain, properties: properties };
    const s = this.store;
    if (qos) packet.messageId = this._allocateId();
    const n = encodedLength(packet, this.version);
    if (__MQTT5__ && this.state === ONLINE && this._maxPacketOut && n > this._maxPacketOut) return this._refuse(cb, PACKET_TOO_LARGE, 'packet over the broker maximum');
    if (!qos && this.state === ONLINE && s.find(-1, 1 << QUEUED) < 0) {
      this._sendPublish(packet, now);
      if (cb) cb(null);
      return true;
    }
    let i = s.reserve(n);
    while (i < 0 && this._dropOldestQos0()) i = s.reserve(n);
    if (i < 0) {
      this._drain();
      if (qos) return this._refuse(cb, QUOTA_EXCEEDED, 'message store full');
      this.stats.dropped++;
      if (cb) cb({ reasonCode: QUOTA_EXCEEDED, message: 'dropped: store full' });
      return false;
    }
    encode(packet, this.version, s.bytes, s.start[i]);
    s.ids[i] = packet.messageId || 0;
    s.qos[i] = qos;
    s.callbacks[i] = cb;
    this._flush(now, packet, i);
    return true;
  }

  subscribe(subscriptions: Subscription[], properties: Properties | undefined, cb: Callback | undefined, now: number): void {
    const id = this._allocateId();
    this._pending.push(id, cb);
    this._send({ cmd: 'subscribe', messageId: id, subscriptions: subscriptions, properties: properties }, now);
  }

  unsubscribe(topics: string[], properties: Properties | undefined, cb: Callback | undefined, now: number): void {
    const id = this._allocateId();
    this._pending.push(id, cb);
    this._send({ cmd: 'unsubscribe', messageId: id, unsubscriptions: topics, properties: properties }, now);
  }

  /** Clean disconnect: the broker discards the will. The driver closes the transport afterwards. */
  disconnect(reasonCode: number, now: number): void {
    if (this.state === ONLINE) this._send({ cmd: 'disconnect', reasonCode: reasonCode }, now);
    this.stop();
  }

  /** Runs timers; returns the next time (ms) it must be called, or 0 for none. */
  tick(now: number): number {
    if (this.state === CONNECTING && now >= this._connackDeadline) {
      this._close('CONNACK timeout');
    } else if (this.state === ONLINE && this._keepaliveMs) {
      if (this._pingDeadline && now >= this._pingDeadline) this._close('keepalive timeout: no PINGRESP');
      // the same sum as deadline(): `now - idle >= keepalive` can miss by a rounding error and spin
      else if (!this._pingDeadline && now >= this._idleSince() + this._keepaliveMs) {
        this._send({ cmd: 'pingreq' }, now);
        this._pingDeadline = now + (this.options.pingTimeout || this._keepaliveMs);
      }
    }
    return this.deadline();
  }

  deadline(): number {
    if (this.state === CONNECTING) return this._connackDeadline;
    if (this.state !== ONLINE || !this._keepaliveMs) return 0;
    return this._pingDeadline || this._idleSince() + this._keepaliveMs;
  }

  /**
   * Keepalive counts from the older of the last write and the last read: the spec only asks the client
   * to write within the keepalive, but a board that writes QoS 0 readings into a half-open link would then
   * never ping, and never notice that nothing comes back.
   */
  private _idleSince(): number {
    return Math.min(this._lastWrite, this._lastRead);
  }

  /** Messages waiting in the store (queued or in flight). */
  queued(): number {
    return this.store.live;
  }

  /** QoS>0 messages the broker holds a packet id of (they count against Receive Maximum). */
  inflightCount(): number {
    return this.store.countIn(IN_FLIGHT);
  }

  private _receive(p: any, now: number): void {
    const type = packetType(p.cmd);
    if (this.state === OFFLINE) return; // the rest of a chunk after the link was given up
    if (this.state === CONNECTING) {
      if (type !== CONNACK) return this._failure(PROTOCOL_ERROR, 'expected CONNACK, got ' + p.cmd, now);
      return this._connack(p, now);
    }
    if (type === PUBLISH) return this._incoming(p, now);
    if (type === PUBACK || type === PUBREC || type === PUBCOMP) return this._acked(type, p, now);
    if (type === PUBREL) {
      const k = this._held.indexOf(p.messageId);
      if (k >= 0) this._held.splice(k, 1);
      this._send({ cmd: 'pubcomp', messageId: p.messageId, reasonCode: k < 0 && this.version === 5 ? PACKET_ID_NOT_FOUND : 0 }, now);
      return;
    }
    if (type === SUBACK || type === UNSUBACK) {
      const k = this._pending.indexOf(p.messageId);
      if (k < 0 || k & 1) return;
      const cb = this._pending[k + 1] as Callback | undefined;
      this._pending.splice(k, 2);
      if (cb) cb(null, p.granted ? p.granted.slice() : []);
      return;
    }
    if (type === PINGRESP) { this._pingDeadline = 0; return; }
    if (type === DISCONNECT) return this._close('broker disconnected: ' + reasonText(p.reasonCode || 0));
    this._failure(PROTOCOL_ERROR, 'unexpected ' + p.cmd, now);
  }

  private _connack(p: any, now: number): void {
    const code = this.version === 5 ? p.reasonCode : p.returnCode;
    if (code) {
      const text = this.version === 5 ? reasonText(code) : CONNACK_RETURN_CODES[code];
      this._io.event('error', { reasonCode: code, message: 'connection refused: ' + text });
      return this._close('connection refused: ' + text);
    }
    this._lastWrite = this._lastRead = now;
    this._window = this.options.inflightMax || 16;
    this._aliasMaxOut = this._maxPacketOut = 0;
    const props: Properties | undefined = p.properties;
    if (__MQTT5__ && props) {
      if (props.receiveMaximum && props.receiveMaximum < this._window) this._window = props.receiveMaximum;
      if (props.serverKeepAlive !== undefined) this._keepaliveMs = props.serverKeepAlive * 1000;
      if (props.assignedClientIdentifier) this.options.clientId = props.assignedClientIdentifier;
      this._aliasMaxOut = Math.min(props.topicAliasMaximum || 0, 16);
      this._maxPacketOut = props.maximumPacketSize || 0;
    }
    // callbacks of messages completed here must not see the session ONLINE before the resend is ordered
    this._resume(!!p.sessionPresent);
    this.state = ONLINE;
    this._flush(now, undefined, -1);
    this._io.event('connect', p);
  }

  /**
   * After CONNACK: with the session present, messages in flight are sent again in their original
   * order, PUBLISH with DUP=1 and PUBREL as PUBREL [MQTT-4.4.0-1]; with the session lost they go out
   * again as new messages (DUP=0), except those the broker already PUBREC'd, which are complete.
   */
  private _resume(present: boolean): void {
    const s = this.store;
    if (!present) this._held = [];
    for (let k = 0; k < s.count; k++) {
      const i = s.slot(k), state = s.states[i];
      if (state === AWAIT_PUBCOMP || state === PUBREL_QUEUED) {
        if (!present) {
          this._complete(i, null);
          k = -1; // the ring's head may have moved past the freed record: rescan from it
        } else if (state === AWAIT_PUBCOMP) s.advance(i, PUBREL_QUEUED);
      } else if (state === AWAIT_PUBACK || state === AWAIT_PUBREC) {
        s.advance(i, QUEUED);
        if (present) s.bytes[s.start[i]] |= 8;
        else s.bytes[s.start[i]] &= ~8;
      }
    }
  }

  /**
   * Sends waiting records in order while the in-flight window allows; `fresh` is the packet just put in
   * slot `freshSlot` (sent from the object, so it may take a topic alias). Once a QoS>0 message must wait
   * for the window, every later PUBLISH waits too, to keep the order, but PUBRELs still go: they free
   * the window. Then the callbacks of what completed run.
   */
  private _flush(now: number, fresh: PublishPacket | undefined, freshSlot: number): void {
    const s = this.store;
    let inflight = s.countIn(IN_FLIGHT), blocked = false;
    for (let k = 0; k < s.count && this.state === ONLINE; k++) {
      const i = s.slot(k), state = s.states[i], qos = s.qos[i];
      if (state === PUBREL_QUEUED) {
        s.advance(i, AWAIT_PUBCOMP);
        this._send({ cmd: 'pubrel', messageId: s.ids[i] }, now);
        continue;
      }
      if (state !== QUEUED || blocked) continue;
      if (qos && inflight >= this._window) { blocked = true; continue; }
      const count = s.count;
      if (__MQTT5__ && this._maxPacketOut && s.lengths[i] > this._maxPacketOut) {
        // queued before this broker's maximum was known: refused, never sent cut or silently lost
        this.stats.refused++;
        this._complete(i, { reasonCode: PACKET_TOO_LARGE, message: 'packet over the broker maximum' });
      } else {
        if (i === freshSlot && fresh && this._aliasMaxOut) this._sendPublish(fresh, now);
        else this._write(s.bytes.subarray(s.start[i], s.start[i] + s.lengths[i]), s.lengths[i], now);
        if (qos) {
          s.advance(i, qos === 1 ? AWAIT_PUBACK : AWAIT_PUBREC);
          inflight++;
          this.stats.sent++;
          continue;
        }
        this._complete(i, null);
      }
      if (s.count !== count) k = -1; // the ring's head moved past the freed record: rescan from it
    }
    this._drain();
  }

  private _acked(type: number, p: any, now: number): void {
    const s = this.store, id = p.messageId;
    const expected = type === PUBACK ? 1 << AWAIT_PUBACK : type === PUBREC ? 1 << AWAIT_PUBREC | 1 << AWAIT_PUBCOMP : 1 << AWAIT_PUBCOMP;
    const i = s.find(id, expected);
    if (i < 0) {
      // a PUBREC for nothing we hold: answer anyway so the broker can finish [MQTT-4.3.3]
      if (type === PUBREC) this._send({ cmd: 'pubrel', messageId: id, reasonCode: this.version === 5 ? PACKET_ID_NOT_FOUND : 0 }, now);
      return;
    }
    const failed = (p.reasonCode || 0) >= 0x80;
    if (type === PUBREC && !failed) {
      s.advance(i, AWAIT_PUBCOMP); // from AWAIT_PUBCOMP too: a duplicate PUBREC is answered again
      this._send({ cmd: 'pubrel', messageId: id }, now);
      return;
    }
    if (!failed) this.stats.acked++;
    this._complete(i, failed ? { reasonCode: p.reasonCode, message: reasonText(p.reasonCode) } : null);
    this._flush(now, undefined, -1);
  }

  private _incoming(p: any, now: number): void {
    let topic: string = p.topic;
    const alias = __MQTT5__ && p.properties ? p.properties.topicAlias : 0;
    if (alias) {
      const max = (this.options.properties && this.options.properties.topicAliasMaximum) || 0;
      if (alias > max) return this._failure(TOPIC_ALIAS_INVALID, 'topic alias ' + alias + ' over the maximum', now); // [MQTT-3.3.2-9]
      if (topic) this._aliasesIn[alias] = topic;
      else topic = this._aliasesIn[alias];
      if (!topic) return this._failure(PROTOCOL_ERROR, 'unknown topic alias ' + alias, now);
    }
    const qos = p.qos, id = p.messageId;
    if (qos === 2) {
      if (this._held.indexOf(id) < 0) {
        if (this._held.length >= this._heldMax) return this._failure(RECEIVE_MAXIMUM_EXCEEDED, 'too many QoS 2 messages in flight', now);
        this._held.push(id);
        this._deliver(topic, p);
      }
      this._send({ cmd: 'pubrec', messageId: id }, now);
      return;
    }
    this._deliver(topic, p);
    if (qos === 1) this._send({ cmd: 'puback', messageId: id }, now);
  }

  private _deliver(topic: string, p: any): void {
    this.stats.received++;
    this._io.event('message', topic, p.payload, p);
  }

  /**
   * Frees record i; its publisher is told by the next _drain. Deferred because a callback may publish,
   * and a publish may compact the store, renumbering the slots a walk over the store is visiting.
   */
  private _complete(i: number, error: SessionError | null): void {
    this._done.push(this.store.callbacks[i], error);
    this.store.advance(i, FREE);
  }

  private _drain(): void {
    const done = this._done;
    while (done.length) {
      const cb = done.shift() as Callback | undefined, error = done.shift() as SessionError | null;
      if (cb) cb(error);
    }
  }

  private _dropOldestQos0(): boolean {
    const s = this.store;
    for (let k = 0; k < s.count; k++) {
      const i = s.slot(k);
      if (s.states[i] === QUEUED && s.qos[i] === 0) {
        this.stats.dropped++;
        this._complete(i, { reasonCode: QUOTA_EXCEEDED, message: 'dropped: store full' });
        return true;
      }
    }
    return false;
  }

  private _refuse(cb: Callback | undefined, reasonCode: number, message: string): false {
    this.stats.refused++;
    if (cb) cb({ reasonCode: reasonCode, message: message });
    return false;
  }

  /** A packet id in use by nothing in the store or awaiting a SUBACK/UNSUBACK [MQTT-2.2.1-3]. */
  private _allocateId(): number {
    for (;;) {
      this._nextId = this._nextId >= 65535 ? 1 : this._nextId + 1;
      const id = this._nextId;
      if (this.store.find(id, ~1) < 0 && this._pending.indexOf(id) < 0) return id;
    }
  }

  /** Sends a PUBLISH from its packet object, with a topic alias where the broker allows them [MQTT-3.3.2-12]. */
  private _sendPublish(packet: PublishPacket, now: number): void {
    if (__MQTT5__ && this._aliasMaxOut) {
      const topic = packet.topic;
      let alias = this._aliasesOut.indexOf(topic) + 1;
      const known = alias > 0;
      if (!known && this._aliasesOut.length < this._aliasMaxOut) alias = this._aliasesOut.push(topic);
      if (alias) {
        const props = assign({}, packet.properties);
        props.topicAlias = alias;
        packet = { cmd: 'publish', topic: known ? '' : topic, payload: packet.payload, qos: packet.qos, retain: packet.retain, messageId: packet.messageId, properties: props };
      }
    }
    this._send(packet, now);
  }

  private _send(packet: Packet, now: number): void {
    let n = encode(packet, this.version, this._out, 0);
    if (n < 0) {
      this._out = new Uint8Array(-n);
      n = encode(packet, this.version, this._out, 0);
    }
    this._write(this._out, n, now);
  }

  private _write(bytes: Uint8Array, n: number, now: number): void {
    if (__MQTT5__ && this._maxPacketOut && n > this._maxPacketOut) {
      this._io.event('error', { reasonCode: PACKET_TOO_LARGE, message: 'packet of ' + n + ' bytes over the broker maximum' });
      return;
    }
    this._lastWrite = now;
    this._io.write(bytes, n);
  }

  /** A protocol error on the link: tell the broker why (MQTT 5), report it, and drop the link. */
  private _failure(reasonCode: number, message: string, now: number): void {
    if (this.version === 5 && this.state === ONLINE) this._send({ cmd: 'disconnect', reasonCode: reasonCode }, now);
    this._io.event('error', { reasonCode: reasonCode, message: message });
    this._close(message);
  }

  private _close(reason: string): void {
    this.stop();
    this._io.event('close', reason);
  }
}

/** Object.assign for the firmware's ES5 library: copies `from`'s own fields onto `to`. */
function assign(to: Properties, from: Properties | undefined): Properties {
  for (const k in from) (to as { [k: string]: unknown })[k] = (from as { [k: string]: unknown })[k];
  return to;
}
