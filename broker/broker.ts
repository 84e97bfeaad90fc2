// The broker: wires listeners to connections, connections to sessions, and publishes to subscribers
// through the topic tree. Protocol details live in connection.ts; this file decides who gets what.
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as tls from 'tls';
import { WebSocketServer } from 'ws';
import { VERSION } from '../firmware/version';
import { QUOTA_EXCEEDED, SERVER_SHUTTING_DOWN, type QoS } from '../firmware/mqtt';
import { Auth } from './auth';
import type { Clock, Timer } from './clock';
import { Connection } from './connection';
import type { ConnectionHost } from './host';
import { serveHttp } from './http';
import { socketLink, webSocketLink, type Link } from './link';
import { createLogger, type Logger } from './log';
import type { Message } from './message';
import { withDefaults, type BrokerOptions } from './options';
import { Persistence } from './persistence';
import { RetainedStore } from './retained';
import { deliverySize, NEVER_EXPIRES, Session, type Delivery } from './sessions';
import { Stats } from './stats';
import { parseShared, TopicTree, type MatchVisitor, type SharedGroup, type SubEntry } from './topic-tree';
import { Wills } from './will';

/** Why a message was dropped, as counted in $SYS/broker/messages/dropped/<reason>. */
type DropReason = 'queue-full' | 'session-limit' | 'memory-limit';

export class Broker implements ConnectionHost<Connection> {
  readonly options: BrokerOptions;
  readonly log: Logger;
  readonly clock: Clock;
  readonly stats: Stats;
  readonly auth: Auth;
  readonly tree = new TopicTree<Session>();
  readonly retained = new RetainedStore();
  readonly sessions = new Map<string, Session>();
  readonly connections = new Set<Connection>();
  readonly wills: Wills;
  store: Persistence | null = null;
  /** Bytes of messages held by all sessions, queued and in flight (bounded by options.memoryLimit). */
  queuedBytes = 0;
  /** Bound ports, once listening (0 when the listener is off). */
  readonly ports = { tcp: 0, tls: 0, ws: 0 };
  private servers: { close(cb: () => void): void }[] = [];
  private sockets = new Set<net.Socket>();
  private sysTimer: Timer | null = null;
  private closing = false;

  constructor(options: Partial<BrokerOptions> = {}) {
    this.options = withDefaults(options);
    this.clock = this.options.clock;
    this.log = this.options.logger || createLogger(this.options.logLevel, undefined, this.clock);
    this.stats = new Stats(this.clock);
    this.auth = new Auth(this.options);
    this.wills = new Wills(this.clock, (m) => this.publish(m, null));
  }

  /** Creates a broker, loads its store and opens its listeners. */
  static async start(options: Partial<BrokerOptions> = {}): Promise<Broker> {
    const b = new Broker(options);
    try {
      if (b.options.dataDir) b.restore(Persistence.open(b.options.dataDir, b.options.fsync, b.clock));
      await b.listen();
    } catch (e) {
      await b.close();
      throw e;
    }
    b.startSys();
    return b;
  }

  // ---- listeners ----

  private async listen(): Promise<void> {
    const o = this.options;
    const track = (s: net.Socket) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); };
    if (o.port !== null) {
      const server = net.createServer((s) => { track(s); this.attach(socketLink(s, 'tcp', this.clock)); });
      this.ports.tcp = await this.bind(server, o.port, 'MQTT');
    }
    if (o.tlsPort !== null) {
      if (!o.cert || !o.key) throw new Error('--tls-port needs --cert and --key');
      const secureContext = tls.createSecureContext({ cert: fs.readFileSync(o.cert), key: fs.readFileSync(o.key) });
      // the connection is attached at TCP accept, before the handshake, so that its CONNECT timeout
      // covers the handshake too: a peer that never sends a ClientHello is closed like one that never sends CONNECT
      const server = net.createServer((raw) => {
        track(raw);
        const s = new tls.TLSSocket(raw, { isServer: true, secureContext });
        s.on('error', (e) => this.log.debug(`TLS ${raw.remoteAddress}:${raw.remotePort}: ${e.message}`));
        this.attach(socketLink(s, 'tls', this.clock));
      });
      this.ports.tls = await this.bind(server, o.tlsPort, 'MQTT over TLS');
    }
    if (o.wsPort !== null) {
      const server = http.createServer((req, res) => serveHttp(req, res, o.wsPath));
      server.on('connection', track);
      const wss = new WebSocketServer({
        server, path: o.wsPath, maxPayload: o.maxPacketSize + 8,
        handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
        // the spec's subprotocol is `mqtt` (section 6.0); without it the upgrade is refused unless relaxed
        verifyClient: (info, done) => (o.wsSubprotocolOptional || offersMqtt(info.req.headers['sec-websocket-protocol'])
          ? done(true) : done(false, 400, 'MQTT over WebSocket needs the "mqtt" subprotocol')),
      });
      wss.on('connection', (ws, req) => this.attach(webSocketLink(ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`, 'ws', this.clock)));
      wss.on('error', (e) => this.log.error(`WebSocket server: ${e.message}`));
      this.servers.push(wss);
      this.ports.ws = await this.bind(server, o.wsPort, `MQTT over WebSocket (path ${o.wsPath})`);
    }
  }

  private bind(server: net.Server, port: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.host, () => {
        server.off('error', reject);
        server.on('error', (e) => this.log.error(`${what} listener: ${e.message}`));
        this.servers.push(server);
        const bound = (server.address() as net.AddressInfo).port;
        this.log.info(`${what} listening on ${this.options.host}:${bound}`);
        resolve(bound);
      });
    });
  }

  /** Runs the MQTT protocol on a link (exported for in-process transports too). */
  attach(link: Link): Connection {
    this.stats.connectionsTotal++;
    const c = new Connection(this, link);
    this.connections.add(c);
    return c;
  }

  /** Closes every connection (MQTT 5 clients hear 0x8B), the listeners and the store. Wills are not sent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const clock = this.clock;
    if (this.sysTimer) clock.clearTimeout(this.sysTimer);
    for (const c of [...this.connections]) c.close(SERVER_SHUTTING_DOWN, 'server shutting down');
    this.wills.clear();
    for (const s of this.sessions.values()) if (s.expiryTimer) clock.clearTimeout(s.expiryTimer);
    // servers close once their connections have ended; a peer that never reads (a stalled subscriber, a
    // browser's keep-alive connection) would hold that up for ever, so after a second they are cut
    const closed = Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    const cut = clock.setTimeout(() => {
      for (const s of this.sockets) s.destroy();
      for (const s of this.servers) if ('closeAllConnections' in s) (s as { closeAllConnections(): void }).closeAllConnections();
    }, 1000);
    await closed;
    clock.clearTimeout(cut);
    for (const s of this.sockets) s.destroy();
    if (this.store) { await this.store.close(); this.store = null; }
    this.log.info('broker stopped');
  }

  // ---- output batching ----

  private toFlush: Connection[] = [];

  /**
   * Writes `conn`'s encoded packets once the current event-loop turn has handled all its input: every
   * socket read of the turn (one per publisher at low rates) adds to the same write per subscriber,
   * so a message costs a fraction of a write syscall instead of one each (see Clock.defer).
   */
  flushLater(conn: Connection): void {
    if (this.toFlush.push(conn) === 1) this.clock.defer(this.flushAll);
  }

  private flushAll = (): void => {
    const list = this.toFlush;
    this.toFlush = [];
    for (let i = 0; i < list.length; i++) list[i].flush();
  };

  // ---- sessions ----

  assignClientId(): string {
    return 'sparrow-' + randomBytes(8).toString('hex');
  }

  /** Attaches `conn` to its session: taking it over from an older connection, resuming or starting anew. */
  openSession(conn: Connection, clientId: string, clean: boolean, expiry: number, username?: string): { session: Session; present: boolean } {
    let s = this.sessions.get(clientId);
    if (s && s.conn) (s.conn as Connection).takenOver();
    s = this.sessions.get(clientId); // a takeover may have ended the old session
    if (s && s.username !== username) {
      // another user never inherits a session: it ends as a clean start would end it (docs/broker.md)
      this.log.warn(`${clientId}: session of ${s.username ?? 'anonymous'} ended by a connection of ${username ?? 'anonymous'}`);
      this.endSession(s);
      s = undefined;
    }
    if (s && clean) {
      this.endSession(s); // a clean start ends the old session, and a will waiting on it goes now
      s = undefined;
    }
    this.wills.cancel(clientId); // [MQTT-3.1.3-9]
    const present = !!s;
    if (!s) {
      s = new Session(clientId, username);
      this.sessions.set(clientId, s);
    }
    if (s.expiryTimer) { this.clock.clearTimeout(s.expiryTimer); s.expiryTimer = null; }
    s.username = username;
    s.expiry = expiry;
    s.conn = conn;
    if (present) this.dropUnreadable(s); // the ACL may have changed since (a restart with another file)
    if (this.store) { if (s.persistent) this.store.saveSession(s); else if (present) this.store.deleteSession(s); }
    return { session: s, present };
  }

  /** A connection ended; `connected` when it had a session. */
  connectionEnded(conn: Connection, connected: boolean): void {
    this.connections.delete(conn);
    if (!connected) return;
    const s = conn.session;
    if (!s || s.conn !== conn) return;
    const will = conn.takeWill();
    s.conn = null;
    this.unblock(s);
    if (this.closing) return; // state stays as it is for the next start; wills wait too
    if (will) {
      if (this.auth.allowed('write', will.msg.topic, conn.username, s.clientId)) this.wills.schedule(s.clientId, will.msg, will.delay);
      else this.log.info(`${s.clientId}: will on ${will.msg.topic} refused by the ACL`);
    }
    if (s.expiry === 0) this.endSession(s);
    else {
      if (s.expiry !== NEVER_EXPIRES) s.expiryTimer = this.clock.setTimeout(() => this.endSession(s), s.expiry * 1000);
      this.store?.saveSession(s);
    }
  }

  /** Drops the queued and in-flight messages the session's user may no longer read. */
  private dropUnreadable(s: Session): void {
    const readable = (d: Delivery) => this.auth.allowed('read', d.msg.topic, s.username, s.clientId);
    const queued = s.queue.toArray();
    if (queued.some((d) => !readable(d))) {
      s.queue.clear();
      for (const d of queued) {
        if (readable(d)) s.queue.push(d);
        else if (d.seq) this.store?.deleteDelivery(s, d);
      }
    }
    for (const [id, d] of s.inflight) {
      if (readable(d)) continue;
      s.inflight.delete(id);
      if (d.seq) this.store?.deleteDelivery(s, d);
    }
  }

  /** The session is over: its will (if still waiting) goes, its subscriptions and messages are dropped. */
  endSession(s: Session): void {
    if (this.sessions.get(s.clientId) !== s) return;
    this.wills.fire(s.clientId);
    if (s.expiryTimer) this.clock.clearTimeout(s.expiryTimer);
    for (const e of s.subs.values()) this.tree.remove(treePath(e), s, e.group);
    s.subs.clear();
    s.queue.clear();
    s.inflight.clear();
    this.queuedBytes -= s.bytes;
    s.bytes = 0;
    this.sessions.delete(s.clientId);
    this.unblock(s);
    this.store?.deleteSession(s);
    this.log.debug(`${s.clientId}: session ended`);
  }

  // ---- subscriptions ----

  /** Adds or replaces [MQTT-3.8.4-3] a subscription; true when one with this filter existed. */
  subscribe(s: Session, e: SubEntry<Session>, path: string): boolean {
    const existed = s.subs.has(e.filter);
    s.subs.set(e.filter, e);
    this.tree.add(path, e);
    if (s.persistent) this.store?.saveSession(s);
    return existed;
  }

  unsubscribe(s: Session, filter: string): boolean {
    const e = s.subs.get(filter);
    if (!e) return false;
    s.subs.delete(filter);
    this.tree.remove(treePath(e), s, e.group);
    if (s.persistent) this.store?.saveSession(s);
    return true;
  }

  /** Queues the retained messages matching a new subscription (sent with RETAIN set [MQTT-3.3.1-8]). */
  sendRetained(s: Session, e: SubEntry<Session>): void {
    for (const m of this.retained.match(e.filter, this.clock.now())) {
      this.deliver(s, m, (m.qos < e.qos ? m.qos : e.qos) as QoS, true, e.id !== undefined ? [e.id] : undefined, null);
    }
  }

  // ---- publishing ----

  /**
   * Routes `msg` to every matching session, once each at the highest QoS of its matching subscriptions
   * (with every matching subscription id); shared groups get one copy, round-robin. Returns how many
   * sessions it went to.
   */
  publish(msg: Message, from: Connection | null): number {
    if (msg.retain) this.retain(msg);
    // the matching walk reports into reused state (see Session.hitEpoch); a publish made while another
    // is being delivered (none today, but cheap to allow) gets fresh arrays instead of clobbering them
    const nested = this.routing;
    this.routing = true;
    const r = this.router;
    r.msg = msg;
    r.epoch = ++this.epoch;
    r.hits = nested ? [] : this.hits;
    r.groups = null;
    r.hits.length = 0;
    try {
      this.tree.match(msg.topic, r);
      const hits = r.hits, groups = r.groups as SharedGroup<Session>[] | null;
      let count = 0;
      for (let i = 0; i < hits.length; i++) {
        const s = hits[i];
        this.deliver(s, msg, (msg.qos < s.hitQos ? msg.qos : s.hitQos) as QoS, s.hitRap && msg.retain, s.hitIds, from);
        count++;
      }
      if (groups) {
        for (const g of groups) {
          const e = pickMember(g);
          this.deliver(e.session, msg, (msg.qos < e.qos ? msg.qos : e.qos) as QoS, e.rap && msg.retain, e.id !== undefined ? [e.id] : undefined, from);
          count++;
        }
      }
      hits.length = 0; // let go of the sessions
      return count;
    } finally {
      this.routing = nested;
    }
  }

  private routing = false;
  private epoch = 0;
  private hits: Session[] = [];
  private router = new Router();

  private retain(msg: Message): void {
    if (msg.origin === '') { this.retained.set(msg); return; } // $SYS values are retained in memory only
    if (msg.payload.length === 0) {
      this.retained.set(msg);
      this.store?.deleteRetained(msg.topic);
    } else {
      this.retained.set(msg);
      this.store?.saveRetained(msg);
    }
  }

  /** Queues one message for one session and moves it on if the client is online. */
  deliver(s: Session, msg: Message, qos: QoS, retain: boolean, subIds: number[] | undefined, from: Connection | null): void {
    const o = this.options;
    // read access is checked for every message, not only at SUBSCRIBE: a `deny` rule may cover part of
    // what a subscription matches
    if (!this.auth.allowed('read', msg.topic, s.username, s.clientId)) return;
    const conn = s.conn as Connection | null;
    const d: Delivery = { msg, qos, retain, subIds, id: 0, released: false, seq: 0 };
    if (qos === 0) {
      if (!conn) return; // QoS 0 is not queued for offline clients
      if (s.queue.length >= o.queueHigh * 4) { this.dropped(s, 'queue-full'); return; }
    } else {
      const over = this.overBound(s, deliverySize(d), conn !== null);
      if (over) {
        this.dropped(s, over);
        // a connected client this far behind is not keeping up: it leaves, its session keeps what it holds
        if (conn) conn.close(QUOTA_EXCEEDED, `queue over its bound (${s.queue.length + s.inflight.size} messages, ${s.bytes} bytes)`);
        return;
      }
      if (s.persistent && this.store) this.store.saveDelivery(s, d);
    }
    this.hold(s, d);
    s.queue.push(d);
    if (!conn) return;
    conn.pump();
    if (s.queue.length >= o.queueHigh) {
      // back-pressure: stop reading the publisher instead of growing the queue without bound, for as
      // long as the subscriber makes progress (Connection.watchStall)
      if (from && from !== conn && !s.blocked.has(from)) { s.blocked.add(from); from.block(); }
      conn.refreshPause();
      if (s.blocked.size) conn.watchStall();
    }
  }

  /** The bound a QoS 1/2 delivery of `size` bytes would take `s` past, if any. */
  private overBound(s: Session, size: number, connected: boolean): DropReason | null {
    const o = this.options;
    if (s.queue.length + s.inflight.size >= o.maxQueuedMessages || s.bytes + size > o.maxQueuedBytes) return 'session-limit';
    if (!connected && o.memoryLimit && this.queuedBytes + size > o.memoryLimit) return 'memory-limit';
    return null;
  }

  /** `d` is now held by `s` (queued or in flight), until release. */
  hold(s: Session, d: Delivery): void {
    const n = deliverySize(d);
    s.bytes += n;
    this.queuedBytes += n;
  }

  /** `d` has left `s`: sent at QoS 0, acknowledged, expired or discarded. */
  release(s: Session, d: Delivery): void {
    const n = deliverySize(d);
    s.bytes -= n;
    this.queuedBytes -= n;
  }

  private dropped(s: Session, why: DropReason): void {
    const st = this.stats;
    if (why === 'queue-full') st.droppedQueueFull++;
    else if (why === 'session-limit') st.droppedSessionLimit++;
    else st.droppedMemoryLimit++;
    if (st.messagesDropped++ % 1000 === 0) this.log.warn(`${s.clientId}: message dropped (${why}); ${st.messagesDropped} so far`);
  }

  /** The session's queue drained (or it went away): let its publishers read again. */
  unblock(s: Session): void {
    if (!s.blocked.size) return;
    const list = [...s.blocked] as Connection[];
    s.blocked.clear();
    for (const c of list) c.unblock();
    const own = s.conn as Connection | null;
    if (own) own.refreshPause();
  }

  // ---- $SYS ----

  private startSys(): void {
    if (!this.options.sysInterval) return;
    const every = this.options.sysInterval * 1000;
    const tick = () => {
      this.publishSys();
      this.sysTimer = this.clock.setTimeout(tick, every);
    };
    tick();
  }

  publishSys(): void {
    const values = this.stats.snapshot({
      clients: [...this.sessions.values()].filter((s) => s.conn).length, sessions: this.sessions.size,
      subscriptions: this.tree.size, retained: this.retained.size, queuedBytes: this.queuedBytes, version: VERSION,
    });
    for (const [topic, value] of values) {
      const m: Message = { topic, payload: Buffer.from(value), qos: 0, retain: true, expiresAt: 0, origin: '' };
      this.publish(m, null);
    }
  }

  // ---- persistence ----

  private restore(store: Persistence): void {
    this.store = store;
    const { retained, sessions } = store.load();
    for (const m of retained) this.retained.set(m);
    const now = this.clock.now();
    for (const r of sessions) {
      const s = new Session(r.clientId, r.username);
      s.expiry = r.expiry;
      for (const id of r.incoming) s.incoming.add(id);
      this.sessions.set(s.clientId, s);
      for (const e of r.subs) {
        const entry: SubEntry<Session> = { ...e, session: s };
        s.subs.set(e.filter, entry);
        this.tree.add(treePath(entry), entry);
      }
      for (const d of r.deliveries) {
        if (d.id) s.inflight.set(d.id, d);
        else s.queue.push(d);
        this.hold(s, d);
      }
      if (s.expiry !== NEVER_EXPIRES) {
        const left = Math.max(0, r.disconnectedAt + s.expiry * 1000 - now);
        s.expiryTimer = this.clock.setTimeout(() => this.endSession(s), left);
      }
    }
    this.log.info(`restored ${sessions.length} sessions and ${retained.length} retained messages from ${this.options.dataDir}`);
  }
}

/**
 * Collects the sessions a publish goes to, once each, merging overlapping subscriptions to the highest
 * QoS with every subscription id [MQTT-3.3.4-2], [MQTT-3.3.4-3]. One instance serves every publish.
 */
class Router implements MatchVisitor<Session> {
  msg: Message = null as unknown as Message;
  epoch = 0;
  hits: Session[] = [];
  groups: SharedGroup<Session>[] | null = null;

  entry(e: SubEntry<Session>): void {
    const s = e.session;
    if (e.nl && s.clientId === this.msg.origin) return; // No Local [MQTT-3.8.3-3]
    if (s.hitEpoch !== this.epoch) {
      s.hitEpoch = this.epoch;
      s.hitQos = e.qos;
      s.hitIds = e.id !== undefined ? [e.id] : undefined;
      s.hitRap = e.rap;
      this.hits.push(s);
      return;
    }
    if (e.qos > s.hitQos) s.hitQos = e.qos;
    if (e.id !== undefined) (s.hitIds || (s.hitIds = [])).push(e.id);
    s.hitRap = s.hitRap || e.rap;
  }

  group(g: SharedGroup<Session>): void {
    (this.groups || (this.groups = [])).push(g);
  }
}

/** True when a Sec-WebSocket-Protocol header offers `mqtt` (or `mqttv3.1`, the MQTT 3.1 name MQTT.js still sends). */
function offersMqtt(header: string | undefined): boolean {
  return !!header && header.split(',').some((p) => p.trim() === 'mqtt' || p.trim() === 'mqttv3.1');
}

/** The filter the tree files a subscription under (without `$share/group/`). */
function treePath(e: SubEntry<Session>): string {
  if (e.group === undefined) return e.filter;
  const p = parseShared(e.filter);
  return p && p !== 'invalid' ? p.filter : e.filter;
}

/** Next member of a shared group, round-robin, preferring connected ones. */
function pickMember(g: SharedGroup<Session>): SubEntry<Session> {
  const n = g.members.length;
  for (let i = 0; i < n; i++) {
    const e = g.members[(g.next + i) % n];
    if (e.session.conn) { g.next = (g.next + i + 1) % n; return e; }
  }
  const e = g.members[g.next % n];
  g.next = (g.next + 1) % n;
  return e;
}
