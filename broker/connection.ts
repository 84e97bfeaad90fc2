// One client's protocol on one link: CONNECT, the QoS flows both ways, subscriptions, keepalive,
// topic aliases and flow control. Bytes are decoded and encoded by the firmware codec; what outlives a
// packet callback is copied (the reader reuses its objects and views). Routing, sessions and storage
// belong to the broker.
import {
  encode, PacketReader, reasonText, validTopicFilter, CONNACK_RETURN_CODES,
  BAD_USERNAME_OR_PASSWORD, CLIENT_ID_NOT_VALID, NO_MATCHING_SUBSCRIBERS, NO_SUBSCRIPTION_EXISTED,
  NOT_AUTHORIZED, PACKET_ID_NOT_FOUND, PROTOCOL_ERROR, QUOTA_EXCEEDED, RECEIVE_MAXIMUM_EXCEEDED,
  SESSION_TAKEN_OVER, TOPIC_ALIAS_INVALID, TOPIC_FILTER_INVALID, TOPIC_NAME_INVALID, KEEP_ALIVE_TIMEOUT,
  UNSUPPORTED_PROTOCOL_VERSION, IMPLEMENTATION_SPECIFIC, BAD_AUTHENTICATION_METHOD, DISCONNECT_WITH_WILL,
  SERVER_SHUTTING_DOWN,
} from '../firmware/mqtt';
import type {
  AckPacket, ConnectPacket, DecodedPacket, DisconnectPacket, Packet, Properties, PublishPacket, QoS,
  SubscribePacket, UnsubscribePacket,
} from '../firmware/mqtt';
import type { Timer } from './clock';
import type { ConnectionHost } from './host';
import type { Link } from './link';
import { expired, forwardedProperties, remainingExpiry, type Message } from './message';
import { NEVER_EXPIRES, type Delivery, type Session } from './sessions';
import { levelCount, parseShared, type SubEntry } from './topic-tree';

/** Bytes a subscriber's socket must take within stall-timeout (acknowledging anything also counts) to be making progress. */
const STALL_PROGRESS_BYTES = 4096;
/** Stop moving queued messages to a link holding this many unsent bytes; go on at 'drain'. */
const WRITE_HIGH = 256 * 1024;
/** Output buffer sizes: the first one a connection takes, the most it grows to, and the least left over worth keeping. */
const OUT_FIRST = 1024, OUT_CHUNK = 64 * 1024, OUT_KEEP = 256;

type State = 'new' | 'connected' | 'closed';

/** The will a CONNECT carries, as the message the broker will publish and its delay. */
function willOf(w: NonNullable<ConnectPacket['will']>, clientId: string): { msg: Message; delay: number } {
  const wp = w.properties;
  const msg: Message = {
    topic: w.topic, payload: new Uint8Array(w.payload as Uint8Array), qos: (w.qos || 0) as QoS, retain: !!w.retain,
    properties: forwardedProperties(wp), expiresAt: 0, origin: clientId,
  };
  const ei = wp && wp.messageExpiryInterval;
  if (ei) msg.properties = { ...msg.properties, messageExpiryInterval: ei };
  return { msg, delay: (wp && wp.willDelayInterval) || 0 };
}

export class Connection {
  readonly reader: PacketReader;
  version = 4;
  state: State = 'new';
  clientId = '';
  username: string | undefined;
  session: Session | null = null;
  private will: { msg: Message; delay: number } | null = null;
  private keepaliveMs = 0;
  private lastSeen: number;
  private timer: Timer | null = null;
  // what the client allows us (MQTT 5 CONNECT properties)
  private clientReceiveMax = 65535;
  private clientMaxPacket = 0;
  private clientAliasMax = 0;
  private aliasesOut = new Map<string, number>();
  private aliasesIn = new Map<number, string>();
  private problemInfo = true;
  // output batching: packets are encoded into one buffer, written once per event-loop turn (see Broker.flushLater).
  // The buffer is taken at the first packet and grows with the connection's traffic: a fixed 64 KB each
  // cost a 100,000-board simulated fleet 6.4 GB, for connections that get a few dozen bytes a second.
  private out: Uint8Array = EMPTY;
  /**
   * out[outStart, outPos) is encoded and not yet written; what lies before outStart belongs to the link.
   * An offset, not a fresh view of the rest at each write: that view would live until the connection's
   * next packet, long enough in a big fleet to reach the old generation, once per message and board.
   */
  private outStart = 0;
  private outPos = 0;
  private outSize = OUT_FIRST;
  private flushScheduled = false;
  /** Acks held until the store has committed what their publish wrote, and the last one's promise. */
  private heldAcks = 0;
  private ackChain: Promise<void> = Promise.resolve();
  /** Sessions whose full queue paused this publisher. */
  private pausedBy = 0;
  private closeReason = '';
  // stall watch (see watchStall): bytes handed to the link, matched acks received, and both at the last check
  private bytesWritten = 0;
  private acksIn = 0;
  private stallMark = { taken: 0, acks: 0 };
  private stallTimer: Timer | null = null;
  /** A broker bridging in (bridgeMode): its subscriptions get No Local and Retain As Published, as in mosquitto. */
  private bridge = false;

  constructor(readonly broker: ConnectionHost<Connection>, readonly link: Link) {
    this.reader = new PacketReader({ protocolVersion: 4, maxPacketSize: broker.options.maxPacketSize });
    this.lastSeen = broker.clock.now();
    link.listen({
      data: (chunk) => this.onData(chunk),
      drain: () => { if (this.session) this.pump(); },
      close: () => this.onClosed(),
    });
    this.timer = broker.clock.setTimeout(() => this.close(undefined, 'no CONNECT within ' + broker.options.connectTimeout + ' ms'), broker.options.connectTimeout);
  }

  get v5(): boolean { return this.version === 5; }
  private get log() { return this.broker.log; }
  private get clock() { return this.broker.clock; }
  private get name(): string { return `${this.link.remote}${this.clientId ? ' ' + this.clientId : ''}`; }

  // ---- input ----

  private onData(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    this.broker.stats.bytesReceived += chunk.length;
    let error;
    try {
      error = this.reader.push(chunk, this.onPacket);
    } catch (e) {
      this.log.error(`${this.name}: internal error ${(e as Error).stack || e}`);
      this.close(IMPLEMENTATION_SPECIFIC, 'internal error');
      return;
    }
    if (error && (this.state as State) !== 'closed') {
      this.broker.stats.protocolErrors++;
      if (this.state === 'new' && error.reasonCode === UNSUPPORTED_PROTOCOL_VERSION) {
        // [MQTT-3.1.2-2]: answer with return code 0x01 (a 3.1.1 CONNACK, which a 3.1 client reads too)
        this.sendNow({ cmd: 'connack', sessionPresent: false, returnCode: 1 }, 4);
      }
      this.close(error.reasonCode, error.message);
    }
  }

  private onPacket = (p: DecodedPacket): void => {
    if (this.state === 'closed') return;
    // keepalive counts whole control packets [MQTT-3.1.2-24]: a trickle of bytes of an unfinished one is not a sign of life
    this.lastSeen = this.clock.now();
    if (this.state === 'new') {
      if (p.cmd !== 'connect') { this.close(PROTOCOL_ERROR, 'first packet is ' + p.cmd + ', not connect'); return; } // [MQTT-3.1.0-1]
      this.onConnect(p as ConnectPacket);
      return;
    }
    switch (p.cmd) {
      case 'publish': this.onPublish(p as PublishPacket); return;
      case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': this.onAck(p as AckPacket); return;
      case 'subscribe': this.onSubscribe(p as SubscribePacket); return;
      case 'unsubscribe': this.onUnsubscribe(p as UnsubscribePacket); return;
      case 'pingreq': this.send({ cmd: 'pingresp' }); return;
      case 'disconnect': this.onDisconnect(p as DisconnectPacket); return;
      case 'connect': this.close(PROTOCOL_ERROR, 'second CONNECT'); return; // [MQTT-3.1.0-2]
      default: this.close(PROTOCOL_ERROR, p.cmd + ' is not sent by clients');
    }
  };

  // ---- CONNECT ----

  private onConnect(p: ConnectPacket): void {
    const b = this.broker, o = b.options;
    this.version = p.protocolVersion || 4;
    this.bridge = !!p.bridgeMode;
    if (this.timer) this.clock.clearTimeout(this.timer);
    const props = p.properties || {};
    if (props.authenticationMethod) return this.refuse(BAD_AUTHENTICATION_METHOD, 5, 'enhanced authentication is not supported');
    if (!p.clientId && !this.v5 && !p.clean) return this.refuse(CLIENT_ID_NOT_VALID, 2, 'empty client id with a persistent session'); // [MQTT-3.1.3-8]
    const assigned = !p.clientId, clientId = p.clientId || b.assignClientId();
    this.clientId = clientId;
    if (!b.auth.login(p.username, p.password as Uint8Array | undefined)) {
      return this.refuse(BAD_USERNAME_OR_PASSWORD, 4, 'bad user name or password for ' + (p.username ?? 'anonymous'));
    }
    this.username = p.username;
    this.takeClientLimits(props);
    const keepalive = this.keepaliveFor(p.keepalive || 0);
    if (keepalive < 0) return this.refuse(CLIENT_ID_NOT_VALID, 2, `keepalive ${p.keepalive}s is over the maximum ${o.maxKeepalive}s`);
    this.keepaliveMs = keepalive * 1000;
    const expiry = this.v5 ? Math.min(props.sessionExpiryInterval || 0, o.maxSessionExpiry) : p.clean ? 0 : NEVER_EXPIRES;
    if (p.will && this.tooDeep(p.will.topic)) return this.refuse(TOPIC_NAME_INVALID, 5, this.tooDeep(p.will.topic)!);
    if (p.will) this.will = willOf(p.will, clientId);
    const { session, present } = b.openSession(this, clientId, !!p.clean, expiry, p.username);
    this.session = session;
    this.state = 'connected';
    const ack: Packet = { cmd: 'connack', sessionPresent: present, returnCode: 0, reasonCode: 0 };
    if (this.v5) ack.properties = this.connackProperties(p, assigned, keepalive, expiry);
    this.send(ack);
    this.log.info(`${this.name}: connected (MQTT ${this.v5 ? 5 : '3.1.1'}${this.bridge ? ' bridge' : ''}${this.username ? ', user ' + this.username : ''}, ` +
      `${p.clean ? 'clean' : 'resumed'} session${present ? ' present' : ''}, keepalive ${keepalive}s) over ${this.link.transport}`);
    this.armKeepalive();
    this.resume(session);
  }

  /** What an MQTT 5 client's CONNECT properties allow the broker to send it. */
  private takeClientLimits(props: Properties): void {
    this.clientReceiveMax = props.receiveMaximum || 65535;
    this.clientMaxPacket = props.maximumPacketSize || 0;
    this.clientAliasMax = props.topicAliasMaximum || 0;
    this.problemInfo = props.requestProblemInformation !== false;
  }

  /**
   * The keep alive a client gets, or -1 when it must be refused. With mosquitto's max_keepalive, an MQTT 5
   * client asking more (or 0) is told the maximum (Server Keep Alive); a 3.1.1 client cannot be told, so
   * it is refused with "identifier rejected", as mosquitto does.
   */
  private keepaliveFor(asked: number): number {
    const o = this.broker.options;
    const keepalive = this.v5 && o.serverKeepAlive ? o.serverKeepAlive : asked;
    if (!o.maxKeepalive || (keepalive !== 0 && keepalive <= o.maxKeepalive)) return keepalive;
    return this.v5 ? o.maxKeepalive : -1;
  }

  /** The MQTT 5 CONNACK's properties: the broker's limits and what it changed of the client's request. */
  private connackProperties(p: ConnectPacket, assigned: boolean, keepalive: number, expiry: number): Properties {
    const o = this.broker.options, props = p.properties || {};
    const cp: Properties = {
      receiveMaximum: o.receiveMaximum, topicAliasMaximum: o.topicAliasMaximum, maximumPacketSize: o.maxPacketSize,
      retainAvailable: true, wildcardSubscriptionAvailable: true, subscriptionIdentifiersAvailable: true,
      sharedSubscriptionAvailable: true,
    };
    if (assigned) cp.assignedClientIdentifier = this.clientId;
    if (o.serverKeepAlive || keepalive !== (p.keepalive || 0)) cp.serverKeepAlive = keepalive;
    if ((props.sessionExpiryInterval || 0) !== expiry) cp.sessionExpiryInterval = expiry;
    if (props.requestResponseInformation) cp.responseInformation = 'response/' + this.clientId;
    return cp;
  }

  /** CONNACK with an error, then close [MQTT-3.2.2-7]. */
  private refuse(reason5: number, code311: number, why: string): void {
    this.sendNow(this.v5 ? { cmd: 'connack', sessionPresent: false, reasonCode: reason5 }
      : { cmd: 'connack', sessionPresent: false, returnCode: code311 }, this.version);
    this.log.warn(`${this.link.remote}: connection refused: ${why} (${this.v5 ? reasonText(reason5) : CONNACK_RETURN_CODES[code311]})`);
    this.closeReason = why;
    this.finish();
  }

  private armKeepalive(): void {
    if (!this.keepaliveMs) return;
    const limit = this.keepaliveMs * 1.5; // [MQTT-3.1.2-24]
    const check = () => {
      const idle = this.clock.now() - this.lastSeen;
      if (idle >= limit) this.close(KEEP_ALIVE_TIMEOUT, `no packet for ${idle} ms (keepalive ${this.keepaliveMs / 1000}s)`);
      else this.timer = this.clock.setTimeout(check, limit - idle);
    };
    this.timer = this.clock.setTimeout(check, limit);
  }

  /** After CONNACK: resend what was in flight, DUP set [MQTT-4.4.0-1], then the queue. */
  private resume(s: Session): void {
    for (const d of s.inflight.values()) {
      if (d.released) this.send({ cmd: 'pubrel', messageId: d.id });
      else this.sendPublish(d, true);
    }
    this.pump();
  }

  // ---- PUBLISH from the client ----

  private onPublish(p: PublishPacket): void {
    const b = this.broker, s = this.session!;
    b.stats.messagesReceived++;
    b.stats.publishReceived++;
    const topic = this.publishTopic(p);
    if (topic === null) return;
    const qos = (p.qos || 0) as QoS, id = p.messageId || 0;
    if (qos === 2 && s.incoming.has(id)) { this.ack({ cmd: 'pubrec', messageId: id }); return; } // a resend: delivered once [MQTT-4.3.3-2]
    if (this.overReceiveMaximum(qos)) return;
    let reason = 0;
    if (topic.charCodeAt(0) === 36 /* $ */ || !b.auth.allowed('write', topic, this.username, this.clientId)) {
      reason = NOT_AUTHORIZED;
      this.log.info(`${this.name}: publish to ${topic} refused by the ACL`);
    } else {
      const ei = p.properties && p.properties.messageExpiryInterval;
      const msg: Message = {
        topic, payload: new Uint8Array(p.payload as Uint8Array), qos, retain: !!p.retain,
        properties: this.v5 ? forwardedProperties(p.properties) : undefined,
        expiresAt: ei ? this.clock.now() + ei * 1000 : 0, origin: this.clientId,
      };
      const matched = b.publish(msg, this);
      if (!matched && this.v5) reason = NO_MATCHING_SUBSCRIBERS;
    }
    if (qos === 1) this.ack({ cmd: 'puback', messageId: id, reasonCode: reason });
    else if (qos === 2) {
      // a refused QoS 2 publish ends with the error PUBREC in MQTT 5; in 3.1.1 the flow completes as usual
      if (reason < 0x80 || !this.v5) { s.incoming.add(id); b.store?.saveSession(s); }
      this.ack({ cmd: 'pubrec', messageId: id, reasonCode: reason });
    }
  }

  /** A PUBLISH's topic, its alias resolved; null when the connection was closed for it. */
  private publishTopic(p: PublishPacket): string | null {
    let topic = p.topic;
    const alias = p.properties && p.properties.topicAlias;
    if (alias !== undefined) {
      if (alias > this.broker.options.topicAliasMaximum) { this.close(TOPIC_ALIAS_INVALID, `topic alias ${alias} over the maximum`); return null; } // [MQTT-3.3.2-9]
      if (topic) this.aliasesIn.set(alias, topic);
      else {
        const known = this.aliasesIn.get(alias);
        if (known === undefined) { this.close(PROTOCOL_ERROR, `unknown topic alias ${alias}`); return null; }
        topic = known;
      }
    }
    const deep = this.tooDeep(topic);
    if (deep) { this.close(TOPIC_NAME_INVALID, deep); return null; }
    return topic;
  }

  /**
   * Closes the connection of an MQTT 5 client past the Receive Maximum it was told. Only an MQTT 5 client is
   * told it, so only it can be held to it; a 3.1.1 client's QoS 2 ids are bounded by the packet id space,
   * and its QoS 1 backlog by pausing its reads (see ack).
   */
  private overReceiveMaximum(qos: QoS): boolean {
    const max = this.broker.options.receiveMaximum;
    if (!this.v5) return false;
    if (qos === 2 && this.session!.incoming.size >= max) {
      this.close(RECEIVE_MAXIMUM_EXCEEDED, `more than ${max} QoS 2 publishes unacknowledged`); // [MQTT-3.3.4-9]
      return true;
    }
    if (qos === 1 && this.heldAcks >= max) {
      this.close(RECEIVE_MAXIMUM_EXCEEDED, `more than ${max} publishes unacknowledged`);
      return true;
    }
    return false;
  }

  /** Why a topic or filter is refused for its depth (see BrokerOptions.maxTopicLevels), or null when it is not. */
  private tooDeep(topic: string): string | null {
    const limit = this.broker.options.maxTopicLevels;
    if (topic.length < limit) return null; // n levels take at least n - 1 characters
    const n = levelCount(topic);
    return n > limit ? `topic of ${n} levels, over the limit of ${limit}` : null;
  }

  /** Sends an ack once the store has committed what the acknowledged publish wrote, in order. */
  private ack(a: Packet): void {
    const store = this.broker.store;
    if (!store || (!this.heldAcks && !store.dirty)) { this.send(a); return; }
    if (++this.heldAcks === this.broker.options.receiveMaximum) this.refreshPause();
    // chained, so acks go out in the order of their publishes [MQTT-4.6.0-2] even when lmdb settles
    // the promises of its write batches out of order
    const committed = store.written();
    this.ackChain = this.ackChain.then(() => committed).then(() => {
      if (this.heldAcks-- === this.broker.options.receiveMaximum) this.refreshPause();
      this.send(a);
    }, (e) => {
      this.log.error(`${this.name}: store write failed: ${e}`);
      this.close(IMPLEMENTATION_SPECIFIC, 'store write failed');
    });
  }

  // ---- acks from the client (our outgoing QoS flows) ----

  private onAck(p: AckPacket): void {
    const s = this.session!, b = this.broker;
    if (p.cmd === 'pubrel') {
      const had = s.incoming.delete(p.messageId);
      if (had) b.store?.saveSession(s);
      this.ack({ cmd: 'pubcomp', messageId: p.messageId, reasonCode: had || !this.v5 ? 0 : PACKET_ID_NOT_FOUND });
      return;
    }
    const d = s.inflight.get(p.messageId);
    if (!d) { this.log.debug(`${this.name}: ${p.cmd} for unknown packet id ${p.messageId}`); return; }
    const expect = d.qos === 1 ? 'puback' : d.released ? 'pubcomp' : 'pubrec';
    if (p.cmd !== expect) { this.log.debug(`${this.name}: ${p.cmd} for packet id ${p.messageId}, expected ${expect}`); return; }
    this.acksIn++;
    if (p.cmd === 'pubrec' && !((p.reasonCode || 0) >= 0x80)) {
      d.released = true;
      if (s.persistent) b.store?.saveDelivery(s, d);
      this.send({ cmd: 'pubrel', messageId: d.id });
      return;
    }
    s.inflight.delete(p.messageId);
    b.release(s, d);
    if (d.seq) b.store?.deleteDelivery(s, d);
    this.pump();
  }

  // ---- SUBSCRIBE / UNSUBSCRIBE ----

  private onSubscribe(p: SubscribePacket): void {
    const b = this.broker, s = this.session!;
    const subId = p.properties && (p.properties.subscriptionIdentifier as number | undefined);
    const granted: number[] = [];
    const fresh: [SubEntry<Session>, boolean][] = [];
    for (const sub of p.subscriptions) {
      const parsed = parseShared(sub.topic), shared = parsed === 'invalid' ? null : parsed;
      const inner = shared ? shared.filter : sub.topic;
      if (parsed === 'invalid' || !validTopicFilter(inner) || this.tooDeep(inner)) { granted.push(this.v5 ? TOPIC_FILTER_INVALID : 0x80); continue; }
      if (shared && sub.nl) return this.close(PROTOCOL_ERROR, 'No Local on a shared subscription'); // [MQTT-3.8.3-4]
      const refused = this.refusedFilter(sub.topic, inner);
      if (refused) { granted.push(this.v5 ? refused : 0x80); continue; }
      const e = this.entryFor(sub, shared, subId);
      const existed = b.subscribe(s, e, shared ? shared.filter : sub.topic);
      granted.push(sub.qos);
      fresh.push([e, existed]);
    }
    this.send({ cmd: 'suback', messageId: p.messageId, granted });
    // retained messages after the SUBACK, per Retain Handling (spec 3.3.1.3)
    for (const [e, existed] of fresh) {
      if (e.group !== undefined || e.rh === 2 || (e.rh === 1 && existed)) continue;
      b.sendRetained(s, e);
    }
  }

  /** The broker's record of a granted subscription. */
  private entryFor(sub: SubscribePacket['subscriptions'][number], shared: { group: string } | null, subId: number | undefined): SubEntry<Session> {
    return {
      // a bridge must not get back what it published here, and keeps the retained flags it forwards
      session: this.session!, filter: sub.topic, qos: sub.qos, nl: !!sub.nl || (this.bridge && !shared), rap: !!sub.rap || this.bridge,
      rh: sub.rh || 0, id: subId, group: shared ? shared.group : undefined,
    };
  }

  /** The MQTT 5 reason a valid subscription to `filter` (`inner` without a share prefix) is refused by the ACL or the quota, or 0. */
  private refusedFilter(filter: string, inner: string): number {
    const s = this.session!;
    if (!this.broker.auth.allowed('read', inner, this.username, this.clientId)) {
      this.log.info(`${this.name}: subscription to ${filter} refused by the ACL`);
      return NOT_AUTHORIZED;
    }
    if (!s.subs.has(filter) && s.subs.size >= this.broker.options.maxSubscriptions) return QUOTA_EXCEEDED;
    return 0;
  }

  private onUnsubscribe(p: UnsubscribePacket): void {
    const b = this.broker, s = this.session!;
    const codes = p.unsubscriptions.map((f) => (b.unsubscribe(s, f) ? 0 : NO_SUBSCRIPTION_EXISTED));
    this.send({ cmd: 'unsuback', messageId: p.messageId, granted: this.v5 ? codes : undefined });
  }

  private onDisconnect(p: DisconnectPacket): void {
    const s = this.session!;
    const newExpiry = p.properties && p.properties.sessionExpiryInterval;
    if (newExpiry !== undefined) {
      if (s.expiry === 0 && newExpiry !== 0) return this.close(PROTOCOL_ERROR, 'session expiry set at DISCONNECT after 0 at CONNECT'); // [MQTT-3.14.2-2]
      s.expiry = Math.min(newExpiry, this.broker.options.maxSessionExpiry);
    }
    if (p.reasonCode !== DISCONNECT_WITH_WILL) this.will = null; // [MQTT-3.14.4-3]
    this.closeReason = 'client disconnected' + (p.reasonCode ? ` (${reasonText(p.reasonCode)})` : '');
    this.log.info(`${this.name}: ${this.closeReason}`);
    this.finish();
  }

  // ---- output ----

  /** Moves queued messages into flight while the client's window and the link allow. */
  pump(): void {
    const s = this.session;
    if (!s || this.state !== 'connected') return;
    const window = Math.min(this.clientReceiveMax, this.broker.options.maxInflight);
    const now = this.clock.now();
    while (s.queue.length) {
      if (this.link.buffered() + this.outPos - this.outStart > WRITE_HIGH) break; // go on at 'drain'
      const d = s.queue.peek()!;
      if (d.qos > 0 && s.inflight.size >= window) break;
      s.queue.shift();
      if (expired(d.msg, now)) {
        this.broker.release(s, d);
        if (d.seq) this.broker.store?.deleteDelivery(s, d);
        continue;
      }
      if (d.qos > 0) {
        d.id = s.packetId();
        s.inflight.set(d.id, d);
        if (d.seq) this.broker.store?.saveDelivery(s, d);
      } else this.broker.release(s, d); // QoS 0 is done once sent
      this.sendPublish(d, false);
    }
    if (s.queue.length <= this.broker.options.queueLow) {
      if (s.blocked.size) this.broker.unblock(s);
      else if (this.paused !== (this.pausedBy > 0)) this.refreshPause();
    }
  }

  private sendPublish(d: Delivery, dup: boolean): void {
    const m = d.msg, p = OUTGOING_PUBLISH;
    p.topic = m.topic;
    p.payload = m.payload;
    p.qos = d.qos;
    p.dup = dup;
    p.retain = d.retain;
    p.messageId = d.qos ? d.id : undefined;
    p.properties = undefined;
    if (this.v5) {
      let props = m.properties;
      const left = remainingExpiry(m, this.clock.now());
      if (left !== undefined || d.subIds || this.clientAliasMax) props = { ...props };
      if (left !== undefined) props!.messageExpiryInterval = left;
      if (d.subIds) props!.subscriptionIdentifier = d.subIds.length === 1 ? d.subIds[0] : d.subIds;
      if (this.clientAliasMax && !dup) {
        const known = this.aliasesOut.get(m.topic);
        if (known) { props!.topicAlias = known; p.topic = ''; }
        else if (this.aliasesOut.size < this.clientAliasMax) {
          const a = this.aliasesOut.size + 1;
          this.aliasesOut.set(m.topic, a);
          props!.topicAlias = a;
        }
      }
      p.properties = props;
    }
    if (this.clientMaxPacket && this.fits(p) === false) {
      // a packet over the client's Maximum Packet Size is discarded as if delivered [MQTT-3.1.2-25]
      this.log.debug(`${this.name}: message on ${m.topic} over the client's maximum packet size, dropped`);
      if (p.properties && p.properties.topicAlias && p.topic) this.aliasesOut.delete(m.topic);
      this.broker.stats.messagesDropped++;
      if (d.qos) {
        this.session!.inflight.delete(d.id);
        this.broker.release(this.session!, d);
        if (d.seq) this.broker.store?.deleteDelivery(this.session!, d);
      }
      return;
    }
    this.broker.stats.messagesSent++;
    this.broker.stats.publishSent++;
    this.send(p);
  }

  private fits(p: Packet): boolean {
    const n = -encode(p, this.version, EMPTY, 0);
    return n <= this.clientMaxPacket;
  }

  /** Encodes `p` into the output buffer, to be written at the end of this tick. */
  send(p: Packet): void {
    if (this.state === 'closed') return;
    let n = encode(p, this.version, this.out, this.outPos);
    if (n < 0) {
      // a turn's packets outgrew the buffer (or there is none yet): write what is there, take a bigger one
      if (this.outPos > this.outStart) this.outSize = Math.min(OUT_CHUNK, this.outSize * 2);
      this.flush();
      if (-n > this.out.length - this.outPos) {
        this.out = Buffer.allocUnsafe(Math.max(-n, this.outSize));
        this.outStart = this.outPos = 0;
      }
      n = encode(p, this.version, this.out, this.outPos);
    }
    this.outPos += n;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.broker.flushLater(this);
    }
  }

  flush = (): void => {
    this.flushScheduled = false;
    const n = this.outPos - this.outStart;
    if (!n) return;
    this.broker.stats.bytesSent += n;
    this.bytesWritten += n;
    this.link.write(this.out.subarray(this.outStart, this.outPos));
    // the written bytes belong to the link now: continue after them, or in a fresh buffer when too little is left
    if (this.out.length - this.outPos >= OUT_KEEP) this.outStart = this.outPos;
    else { this.out = EMPTY; this.outStart = this.outPos = 0; }
  };

  /** Encodes and writes at once (for the last packet before closing). */
  private sendNow(p: Packet, version: number): void {
    const n = -encode(p, version, EMPTY, 0);
    const buf = new Uint8Array(n);
    encode(p, version, buf, 0);
    this.flush();
    this.link.write(buf);
  }

  // ---- back-pressure ----

  /** A subscriber's queue is full: stop reading this publisher's socket. */
  block(): void {
    this.pausedBy++;
    this.refreshPause();
  }

  unblock(): void {
    if (this.pausedBy > 0) this.pausedBy--;
    this.refreshPause();
  }

  /**
   * Paused while some subscriber's queue is full, except when this client's own queue is full too:
   * then it must go on reading its acknowledgements, or two clients publishing to each other could
   * wait for each other for ever. Paused too while a 3.1.1 client has Receive Maximum acks waiting for
   * the store: it was never told that limit, so it is slowed down instead of disconnected.
   */
  refreshPause(): void {
    const s = this.session, o = this.broker.options;
    const own = s !== null && s.queue.length >= o.queueHigh;
    const storeBound = !this.v5 && this.heldAcks >= o.receiveMaximum;
    const pause = ((this.pausedBy > 0 && !own) || storeBound) && this.state !== 'closed';
    if (pause === this.paused) return;
    this.paused = pause;
    if (pause) { this.link.pause(); this.broker.stats.backpressurePauses++; }
    else this.link.resume();
  }
  private paused = false;

  // ---- stalled subscribers ----

  /**
   * A full queue is either a slow reader's, whose publishers it is fair to pace, or a stuck one's
   * (stopped reading, or only pings), which must not hold them. The first time its queue is full the
   * subscriber is on probation: publishers go on, its queue grows (up to the session bounds), and it
   * must acknowledge something or let its socket take STALL_PROGRESS_BYTES within stall-timeout. If
   * it does, it paces its publishers from then on; if it does not, now or at any later check while
   * its queue is above queue-low, it is disconnected and its session keeps what it holds.
   */
  watchStall(): void {
    const ms = this.broker.options.stallTimeout;
    if (this.stallTimer || !ms || this.state !== 'connected') return;
    this.stallMark = { taken: this.bytesWritten - this.link.buffered(), acks: this.acksIn };
    this.stallTimer = this.clock.setTimeout(this.checkStall, ms);
  }

  /** True once publishers may be paused on this client's full queue (always, without a stall-timeout). */
  get paces(): boolean { return this.pacing || !this.broker.options.stallTimeout; }
  private pacing = false;

  private checkStall = (): void => {
    this.stallTimer = null;
    const s = this.session, o = this.broker.options;
    if (this.state !== 'connected' || !s) return;
    const taken = this.bytesWritten - this.link.buffered() - this.stallMark.taken;
    const progressed = this.acksIn > this.stallMark.acks || taken >= STALL_PROGRESS_BYTES;
    if (progressed) this.pacing = true; // it reads: from now on its full queue paces its publishers
    if (s.queue.length <= o.queueLow) return; // it caught up
    if (progressed) { this.watchStall(); return; }
    this.broker.stats.clientsStalled++;
    this.close(QUOTA_EXCEEDED, `not reading: its queue of ${s.queue.length} made no progress in ${o.stallTimeout} ms`);
  };

  // ---- closing ----

  /** The server ends the connection: in MQTT 5 (once connected) with a DISCONNECT carrying `reason`. */
  close(reason: number | undefined, why: string): void {
    if (this.state === 'closed') return;
    const level = reason === SESSION_TAKEN_OVER || reason === undefined || reason === SERVER_SHUTTING_DOWN ? 'info' : 'warn';
    this.log[level](`${this.name}: closing: ${why}${reason !== undefined ? ` (${reasonText(reason)})` : ''}`);
    this.closeReason = why;
    if (this.v5 && this.state === 'connected' && reason !== undefined) {
      const d: DisconnectPacket = { cmd: 'disconnect', reasonCode: reason };
      if (this.problemInfo && reason >= 0x80 && reason !== SESSION_TAKEN_OVER) d.properties = { reasonString: why.slice(0, 200) };
      this.send(d);
    }
    this.finish();
  }

  /** Flushes, ends the link and lets go of the session now (not at the link's close event). */
  private finish(): void {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    if (this.timer) this.clock.clearTimeout(this.timer);
    if (this.stallTimer) this.clock.clearTimeout(this.stallTimer);
    this.flush();
    this.link.end();
    this.broker.connectionEnded(this, wasConnected);
  }

  private onClosed(): void {
    if (this.state !== 'closed') {
      this.closeReason = 'connection lost';
      this.log.info(`${this.name}: connection lost`);
      this.finish();
    }
    this.link.destroy();
  }

  /** The broker's view of how it ended: the will to publish, if any. */
  takeWill(): { msg: Message; delay: number } | null {
    const w = this.will;
    this.will = null;
    return w;
  }

  takenOver(): void {
    this.close(SESSION_TAKEN_OVER, 'session taken over by a new connection'); // [MQTT-3.1.4-3]
  }

  get why(): string { return this.closeReason; }
  /** For tests and $SYS. */
  get unsent(): number { return this.outPos - this.outStart + this.link.buffered(); }
}

const EMPTY = new Uint8Array(0);
/**
 * The PUBLISH being encoded, shared by every connection (encoding reads it at once and keeps nothing).
 * One per connection held each subscriber's last topic and payload until its next message: in a big
 * simulated fleet those outlived the young generation, and every message became old-generation garbage.
 */
const OUTGOING_PUBLISH: PublishPacket = { cmd: 'publish', topic: '', payload: '' };
