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
  private readonly _platform: Platform;
  private readonly _url: BrokerUrl;
  private readonly _options: ClientOptions;
  private _listeners: { [event: string]: Listener[] } = {};
  private _socket: PlatformSocket | null = null;
  private _timer: unknown = null;
  private _ended = false;
  private _link = 0;
  /** Subscriptions to make again when the broker has no session for us. */
  private _subscriptions: Subscription[] = [];
  /** Subscribe (list of subscriptions) and unsubscribe (list of filters) requests made while offline, sent after the next CONNACK. */
  private _waiting: Array<[Subscription[] | string[], Properties | undefined, Callback | undefined]> = [];

  constructor(platform: Platform, url: BrokerUrl, options: ClientOptions) {
    this._platform = platform;
    this._url = url;
    this._options = options;
    // as MQTT.js does, the options object is the session's too (with a client id made up if absent)
    options.clientId = options.clientId || 'sparrow_' + Math.floor(platform.random() * 0xffffff).toString(16);
    this.session = new Session(options as SessionOptions, {
      write: (bytes, n) => { if (this._socket) this._socket.write(bytes, n); },
      event: (name, a, b, c) => this._sessionEvent(name, a, b, c),
    });
    this._schedule(0, () => this._open());
  }

  on(event: string, listener: Listener): this {
    (this._listeners[event] || (this._listeners[event] = [])).push(listener);
    return this;
  }

  /** Publishes; `cb(error)` runs when the broker has acknowledged (QoS>0) or the packet is written (QoS 0). */
  publish(topic: string, payload: Payload, options?: PublishOptions | Callback, cb?: Callback): this {
    if (typeof options === 'function') { cb = options; options = undefined; }
    const o = options || {};
    this.session.publish(topic, payload, o.qos || 0, !!o.retain, o.properties, cb, this._platform.now());
    this._arm();
    return this;
  }

  /** Subscribes to a filter or several; `cb(error, granted)` gets [{topic, qos}] as MQTT.js does (qos 128 = refused). */
  subscribe(filters: string | string[], options?: { qos?: QoS; properties?: Properties } | Callback, cb?: Callback): this {
    if (typeof options === 'function') { cb = options; options = undefined; }
    const o = options || {};
    const list = typeof filters === 'string' ? [filters] : filters;
    const subs: Subscription[] = [];
    for (let i = 0; i < list.length; i++) subs.push({ topic: list[i], qos: o.qos || 0 });
    for (let i = 0; i < subs.length; i++) this._remember(subs[i]);
    this._sendRequest(subs, o.properties, cb && ((error, granted) => {
      const codes = (granted || []) as number[];
      cb(error, subs.map((s, i) => ({ topic: s.topic, qos: codes[i] === undefined ? 128 : codes[i] })));
    }));
    return this;
  }

  unsubscribe(filters: string | string[], cb?: Callback): this {
    const list = typeof filters === 'string' ? [filters] : filters;
    this._subscriptions = this._subscriptions.filter((s) => list.indexOf(s.topic) < 0);
    this._sendRequest(list, undefined, cb);
    return this;
  }

  /** Disconnects cleanly (the broker drops the will) and stops reconnecting. */
  end(cb?: () => void): this {
    this._ended = true;
    this._link++;
    this.session.disconnect(0, this._platform.now());
    this._clearTimer();
    const socket = this._socket;
    this._socket = null;
    if (socket) socket.end();
    this.connected = false;
    this._emit('close');
    if (cb) cb();
    return this;
  }

  private _emit(event: string, a?: unknown, b?: unknown, c?: unknown): void {
    const list = this._listeners[event];
    if (list) for (let i = 0; i < list.length; i++) list[i](a, b, c);
  }

  private _remember(sub: Subscription): void {
    for (let i = 0; i < this._subscriptions.length; i++) {
      if (this._subscriptions[i].topic === sub.topic) { this._subscriptions[i] = sub; return; }
    }
    this._subscriptions.push(sub);
  }

  /**
   * A SUBSCRIBE (a list of subscriptions) or an UNSUBSCRIBE (a list of filters), now or, while offline,
   * after the next CONNACK: a persistent session must hear an unsubscribe made offline too.
   */
  private _sendRequest(list: Subscription[] | string[], properties: Properties | undefined, cb: Callback | undefined): void {
    if (this.session.state !== ONLINE) { this._waiting.push([list, properties, cb]); return; }
    const now = this._platform.now();
    if (typeof list[0] === 'string') this.session.unsubscribe(list as string[], properties, cb, now);
    else this.session.subscribe(list as Subscription[], properties, cb, now);
    this._arm();
  }

  /** After CONNACK: the subscriptions the broker lost with the session, then the requests made while offline. */
  private _subscribeAgain(sessionPresent: boolean): void {
    const waiting = this._waiting;
    this._waiting = [];
    if (!sessionPresent) {
      // not those asked again below: each SUBSCRIBE makes the broker send its retained messages again
      const asked: string[] = [];
      for (let i = 0; i < waiting.length; i++) for (let k = 0; k < waiting[i][0].length; k++) asked.push((waiting[i][0][k] as Subscription).topic);
      const lost = this._subscriptions.filter((s) => asked.indexOf(s.topic) < 0);
      if (lost.length) this._sendRequest(lost, undefined, undefined);
    }
    for (let i = 0; i < waiting.length; i++) this._sendRequest(waiting[i][0], waiting[i][1], waiting[i][2]);
  }

  private _open(): void {
    if (this._ended) return;
    // events of a socket we have already given up on must not touch the session
    const link = ++this._link;
    const handlers: SocketHandlers = {
      open: () => { if (link === this._link) { this.session.start(this._platform.now()); this._arm(); } },
      data: (chunk) => { if (link === this._link) { this.session.data(chunk, this._platform.now()); this._arm(); } },
      close: (reason) => { if (link === this._link) this._lost(reason); },
    };
    const u = this._url, secure = u.protocol === 'mqtts' || u.protocol === 'wss';
    const target = { host: u.host, port: u.port, tls: secure };
    // the CONNACK timeout covers the TCP, TLS and WebSocket handshakes too: an ESP32 may never report a lost SYN
    this._schedule(this._options.connectTimeout || 30000, () => {
      const socket = this._socket;
      if (socket) socket.end();
      this._lost('connect timeout');
    });
    try {
      const socket = __WS__ && (u.protocol === 'ws' || u.protocol === 'wss')
        ? connectWebSocket(this._platform, target, u.path, handlers)
        : this._platform.connect(target, handlers);
      if (link === this._link) this._socket = socket; // else it closed already, inside connect()
    } catch (e) {
      // Linux Espruino throws for a refused port or an unknown host; ESP32 reports it later by close()
      this._socket = null;
      this._lost('connect failed: ' + ((e as { message?: string }).message || e));
    }
  }

  private _lost(reason: string): void {
    this._link++;
    const wasConnected = this.connected;
    this._socket = null;
    this.connected = false;
    this.session.stop();
    this._clearTimer();
    this._emit('close', reason);
    if (wasConnected) this._emit('offline', reason);
    if (this._ended) return;
    const base = this._options.reconnectPeriod === undefined ? 1000 : this._options.reconnectPeriod;
    if (!base) return;
    // full jitter (a uniform delay below a ceiling that doubles per attempt) spreads a fleet's reconnects
    const ceiling = Math.min(this._options.reconnectPeriodMax || 60000, base * Math.pow(2, this.attempts));
    this.attempts++;
    this.reconnecting = true;
    this._schedule(this._platform.random() * ceiling, () => {
      this.reconnects++;
      this._emit('reconnect');
      this._open();
    });
  }

  private _sessionEvent(name: string, a: unknown, b: unknown, c: unknown): void {
    if (name === 'connect') {
      this.connected = true;
      this.reconnecting = false;
      this.attempts = 0;
      this._subscribeAgain(!!(a as { sessionPresent?: boolean }).sessionPresent);
      this._emit('connect', a);
    } else if (name === 'close') {
      const socket = this._socket;
      if (socket) socket.end();
      this._lost(a as string);
    } else if (name === 'error') {
      this._emit('error', a as SessionError);
    } else {
      this._emit(name, a, b, c);
    }
  }

  /** Keeps one timeout armed at the session's next deadline (keepalive, CONNACK timeout). */
  private _arm(): void {
    const deadline = this.session.deadline();
    if (!deadline || !this._socket) return;
    this._schedule(Math.max(0, deadline - this._platform.now()), () => {
      this.session.tick(this._platform.now());
      this._arm();
    });
  }

  private _schedule(ms: number, fn: () => void): void {
    this._clearTimer();
    this._timer = this._platform.setTimeout(() => { this._timer = null; fn(); }, ms);
  }

  private _clearTimer(): void {
    if (this._timer !== null) this._platform.clearTimeout(this._timer);
    this._timer = null;
  }
}

/** MQTT.js's `connect(url, options)`, on a given platform. Throws for a URL that is not an MQTT URL. */
export function connect(platform: Platform, url: string, options?: ClientOptions): MqttClient {
  const parsed = parseBrokerUrl(url);
  if (!parsed) throw new Error('not an MQTT URL: ' + url);
  return new MqttClient(platform, parsed, options || {});
}
