// The client: binds a Session (the protocol, sans-IO) to a transport and a clock from the Platform.
// It reconnects with capped exponential backoff and full jitter, runs the session's timers with one
// timeout, and offers MQTT.js's API (connect(url, options), publish, subscribe, unsubscribe, end, and
// the events connect, message, reconnect, offline, close, error), the same on a board and on Node.
import type { Payload, Properties, QoS, Subscription } from './mqtt/packets';
import { Callback, Session, SessionError, SessionOptions, ONLINE } from './mqtt/session';
import type { Platform, PlatformSocket, SocketHandlers } from './platform';
import { connectWebSocket } from './transports/websocket';
import { BrokerUrl, parseBrokerUrl } from './url';

/** The session's options (clientId optional: one is made up) plus reconnecting. */
export interface ClientOptions extends Partial<SessionOptions> {
  /** First reconnect delay ceiling in ms (default 1000); 0 turns reconnecting off. */
  reconnectPeriod?: number;
  /** Cap of the backoff ceiling in ms (default 60000). */
  reconnectPeriodMax?: number;
}

export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  properties?: Properties;
}

type Listener = (a?: unknown, b?: unknown, c?: unknown) => void;

export class MqttClient {
  connected = false;
  reconnecting = false;
  /** Reconnect attempts since the last successful CONNACK; the backoff grows with it. */
  attempts = 0;
  reconnects = 0;
  readonly session: Session;
  private readonly platform: Platform;
  private readonly url: BrokerUrl;
  private readonly options: ClientOptions;
  private listeners: { [event: string]: Listener[] } = {};
  private socket: PlatformSocket | null = null;
  private timer: unknown = null;
  private ended = false;
  private link = 0;
  /** Subscriptions to make again when the broker has no session for us. */
  private subscriptions: Subscription[] = [];
  /** Subscribe requests made while offline, sent after the next CONNACK. */
  private waiting: Array<[Subscription[], Properties | undefined, Callback | undefined]> = [];

  constructor(platform: Platform, url: BrokerUrl, options: ClientOptions) {
    this.platform = platform;
    this.url = url;
    this.options = options;
    // as MQTT.js does, the options object is the session's too (with a client id made up if absent)
    options.clientId = options.clientId || 'sparrow_' + Math.floor(platform.random() * 0xffffff).toString(16);
    this.session = new Session(options as SessionOptions, {
      write: (bytes, n) => { if (this.socket) this.socket.write(bytes, n); },
      event: (name, a, b, c) => this.sessionEvent(name, a, b, c),
    });
    this.schedule(0, () => this.open());
  }

  on(event: string, listener: Listener): this {
    (this.listeners[event] || (this.listeners[event] = [])).push(listener);
    return this;
  }

  /** Publishes; `cb(error)` runs when the broker has acknowledged (QoS>0) or the packet is written (QoS 0). */
  publish(topic: string, payload: Payload, options?: PublishOptions | Callback, cb?: Callback): this {
    if (typeof options === 'function') { cb = options; options = undefined; }
    const o = options || {};
    this.session.publish(topic, payload, o.qos || 0, !!o.retain, o.properties, cb, this.platform.now());
    this.arm();
    return this;
  }

  /** Subscribes to a filter or several; `cb(error, granted)` gets [{topic, qos}] as MQTT.js does (qos 128 = refused). */
  subscribe(filters: string | string[], options?: { qos?: QoS; properties?: Properties } | Callback, cb?: Callback): this {
    if (typeof options === 'function') { cb = options; options = undefined; }
    const o = options || {};
    const list = typeof filters === 'string' ? [filters] : filters;
    const subs: Subscription[] = [];
    for (let i = 0; i < list.length; i++) subs.push({ topic: list[i], qos: o.qos || 0 });
    for (let i = 0; i < subs.length; i++) this.remember(subs[i]);
    this.sendSubscribe(subs, o.properties, cb);
    return this;
  }

  unsubscribe(filters: string | string[], cb?: Callback): this {
    const list = typeof filters === 'string' ? [filters] : filters;
    this.subscriptions = this.subscriptions.filter((s) => list.indexOf(s.topic) < 0);
    if (this.session.state === ONLINE) this.session.unsubscribe(list, undefined, cb, this.platform.now());
    else if (cb) cb(null);
    this.arm();
    return this;
  }

  /** Disconnects cleanly (the broker drops the will) and stops reconnecting. */
  end(cb?: () => void): this {
    this.ended = true;
    this.link++;
    this.session.disconnect(0, this.platform.now());
    this.clearTimer();
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.end();
    this.connected = false;
    this.emit('close');
    if (cb) cb();
    return this;
  }

  private emit(event: string, a?: unknown, b?: unknown, c?: unknown): void {
    const list = this.listeners[event];
    if (list) for (let i = 0; i < list.length; i++) list[i](a, b, c);
  }

  private remember(sub: Subscription): void {
    for (let i = 0; i < this.subscriptions.length; i++) {
      if (this.subscriptions[i].topic === sub.topic) { this.subscriptions[i] = sub; return; }
    }
    this.subscriptions.push(sub);
  }

  private sendSubscribe(subs: Subscription[], properties: Properties | undefined, cb: Callback | undefined): void {
    if (this.session.state !== ONLINE) { this.waiting.push([subs, properties, cb]); return; } // sent on connect
    this.session.subscribe(subs, properties, cb && ((error, granted) => {
      const codes = (granted || []) as number[];
      cb(error, subs.map((s, i) => ({ topic: s.topic, qos: codes[i] === undefined ? 128 : codes[i] })));
    }), this.platform.now());
    this.arm();
  }

  /** After CONNACK: the subscriptions the broker lost with the session, then the requests made while offline. */
  private subscribeAgain(sessionPresent: boolean): void {
    const waiting = this.waiting;
    this.waiting = [];
    if (!sessionPresent) {
      const asked: string[] = [];
      for (let i = 0; i < waiting.length; i++) for (let k = 0; k < waiting[i][0].length; k++) asked.push(waiting[i][0][k].topic);
      const lost = this.subscriptions.filter((s) => asked.indexOf(s.topic) < 0);
      if (lost.length) this.sendSubscribe(lost, undefined, undefined);
    }
    for (let i = 0; i < waiting.length; i++) this.sendSubscribe(waiting[i][0], waiting[i][1], waiting[i][2]);
  }

  private open(): void {
    if (this.ended) return;
    // events of a socket we have already given up on must not touch the session
    const link = ++this.link;
    const handlers: SocketHandlers = {
      open: () => { if (link === this.link) { this.session.start(this.platform.now()); this.arm(); } },
      data: (chunk) => { if (link === this.link) { this.session.data(chunk, this.platform.now()); this.arm(); } },
      close: (reason) => { if (link === this.link) this.lost(reason); },
    };
    const u = this.url, secure = u.protocol === 'mqtts' || u.protocol === 'wss';
    const target = { host: u.host, port: u.port, tls: secure };
    try {
      this.socket = u.protocol === 'ws' || u.protocol === 'wss'
        ? connectWebSocket(this.platform, target, u.path, handlers)
        : this.platform.connect(target, handlers);
    } catch (e) {
      // Linux Espruino throws for a refused port or an unknown host; ESP32 reports it later by close()
      this.socket = null;
      this.lost('connect failed: ' + ((e as { message?: string }).message || e));
    }
  }

  private lost(reason: string): void {
    this.link++;
    const wasConnected = this.connected;
    this.socket = null;
    this.connected = false;
    this.session.stop();
    this.clearTimer();
    this.emit('close', reason);
    if (wasConnected) this.emit('offline', reason);
    if (this.ended) return;
    const base = this.options.reconnectPeriod === undefined ? 1000 : this.options.reconnectPeriod;
    if (!base) return;
    // full jitter (a uniform delay below a ceiling that doubles per attempt) spreads a fleet's reconnects
    const ceiling = Math.min(this.options.reconnectPeriodMax || 60000, base * Math.pow(2, this.attempts));
    this.attempts++;
    this.reconnecting = true;
    this.schedule(this.platform.random() * ceiling, () => {
      this.reconnects++;
      this.emit('reconnect');
      this.open();
    });
  }

  private sessionEvent(name: string, a: unknown, b: unknown, c: unknown): void {
    if (name === 'connect') {
      this.connected = true;
      this.reconnecting = false;
      this.attempts = 0;
      this.subscribeAgain(!!(a as { sessionPresent?: boolean }).sessionPresent);
      this.emit('connect', a);
    } else if (name === 'close') {
      const socket = this.socket;
      if (socket) socket.end();
      this.lost(a as string);
    } else if (name === 'error') {
      this.emit('error', a as SessionError);
    } else {
      this.emit(name, a, b, c);
    }
  }

  /** Keeps one timeout armed at the session's next deadline (keepalive, CONNACK timeout). */
  private arm(): void {
    const deadline = this.session.deadline();
    if (!deadline || !this.socket) return;
    this.schedule(Math.max(0, deadline - this.platform.now()), () => {
      this.session.tick(this.platform.now());
      this.arm();
    });
  }

  private schedule(ms: number, fn: () => void): void {
    this.clearTimer();
    this.timer = this.platform.setTimeout(() => { this.timer = null; fn(); }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== null) this.platform.clearTimeout(this.timer);
    this.timer = null;
  }
}

/** MQTT.js's `connect(url, options)`, on a given platform. Throws for a URL that is not an MQTT URL. */
export function connect(platform: Platform, url: string, options?: ClientOptions): MqttClient {
  const parsed = parseBrokerUrl(url);
  if (!parsed) throw new Error('not an MQTT URL: ' + url);
  return new MqttClient(platform, parsed, options || {});
}
