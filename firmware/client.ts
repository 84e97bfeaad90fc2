// The client: binds a Session (the protocol, sans-IO) to a transport and a clock from the Platform.
// It reconnects with capped exponential backoff and full jitter, runs the session's timers with one
// timeout, and offers MQTT.js's API (connect(url, options), publish, subscribe, unsubscribe, end, and
// the events connect, message, reconnect, offline, close, error), the same on a board and on Node.
// One object per client, its methods shared on the prototype: per client, the only functions made
// are the handlers of its socket and its one timer (each closure costs the board JsVars per client).
import type { Payload, Properties, QoS, Subscription } from './mqtt/packets';
import { UNSPECIFIED_ERROR } from './mqtt/constants';
import { Callback, createSession, error, invalidRequest, Session, SessionOptions, ONLINE } from './mqtt/session';
import type { Platform, PlatformSocket, SocketHandlers } from './platform';
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

type Listener = (a?: any, b?: any, c?: any) => void;

export interface MqttClient {
  readonly connected: boolean;
  readonly reconnecting: boolean;
  /** Reconnect attempts since the last successful CONNACK; the backoff grows with it. */
  readonly attempts: number;
  readonly reconnects: number;
  readonly session: Session;
  on(event: string, listener: Listener): MqttClient;
  once(event: string, listener: Listener): MqttClient;
  off(event: string, listener: Listener): MqttClient;
  removeListener(event: string, listener: Listener): MqttClient;
  /** Publishes; `cb(error)` runs when the broker has acknowledged (QoS>0) or the packet is written (QoS 0). */
  publish(topic: string, payload: Payload, options?: PublishOptions | Callback, cb?: Callback): MqttClient;
  /**
   * Subscribes to a filter, several, or an object {filter: {qos}} as MQTT.js takes; `cb(error, granted)`
   * gets [{topic, qos}] as MQTT.js does (qos 128 = refused). A malformed request is refused with an error.
   */
  subscribe(filters: string | string[] | SubscriptionMap, options?: { qos?: QoS; properties?: Properties } | Callback, cb?: Callback): MqttClient;
  unsubscribe(filters: string | string[], options?: { properties?: Properties } | Callback, cb?: Callback): MqttClient;
  /**
   * MQTT.js's end(force?, options?, cb?): disconnects cleanly (the broker drops the will) and stops
   * reconnecting. Without `force`, messages in flight are first given until they complete or the link
   * drops; with it, they are abandoned and their callbacks told so. `cb` runs once closed.
   */
  end(force?: boolean | object | (() => void), options?: object | (() => void), cb?: () => void): MqttClient;
  /** Connects again with the same options, also after end(). */
  reconnect(): MqttClient;
}

/** MQTT.js's subscription object: {filter: {qos}} (or {filter: qos}). */
export type SubscriptionMap = { [filter: string]: { qos?: QoS } | QoS };

/** MQTT.js's `connect(url, options)`, on a given platform. Throws for a URL that is not an MQTT URL. */
export function connect(platform: Platform, url: string, options?: ClientOptions): MqttClient {
  const u = parseBrokerUrl(url);
  if (!u) throw new Error('not an MQTT URL: ' + url);
  if (u.protocol.charAt(0) === 'w' && !platform.webSocket) throw new Error('ws:// needs sparrow-ws');
  return new (Client as unknown as new (p: Platform, u: BrokerUrl, o: ClientOptions) => Client)(platform, u, options || {});
}

/** A request made while offline, sent after the next CONNACK: unsubscribe, list, properties, callback. */
type Waiting = [boolean, Array<Subscription | string>, Properties | undefined, Callback | undefined];

/** One client's state. The functions below are its methods (on the prototype) and helpers taking it as `c`. */
interface Client extends MqttClient {
  connected: boolean;
  reconnecting: boolean;
  attempts: number;
  reconnects: number;
  session: Session;
  _platform: Platform;
  _url: BrokerUrl;
  _options: ClientOptions;
  _listeners: { [event: string]: Listener[] };
  _socket: PlatformSocket | null;
  _timer: unknown;
  /** When the timer fires, and whether it is the session's tick (not a connect timeout or a backoff). */
  _timerAt: number;
  _ticking: boolean;
  _ended: boolean;
  /** end(false) waits for the messages in flight: its callback (or true), until the store is empty. */
  _ending: (() => void) | boolean;
  /** The broker refused our credentials or authorization: no reconnecting until reconnect(). */
  _refused: boolean;
  /** Bumped for each socket: events of a socket already given up on must not touch the session. */
  _link: number;
  /** Subscriptions to make again when the broker has no session for us. */
  _subscriptions: Subscription[];
  /** Subscribe and unsubscribe requests made while offline, sent after the next CONNACK. */
  _waiting: Waiting[];
}

function Client(this: Client, platform: Platform, url: BrokerUrl, options: ClientOptions) {
  this.connected = false;
  this.reconnecting = false;
  this.attempts = 0;
  this.reconnects = 0;
  this._listeners = {};
  this._socket = null;
  this._timer = null;
  this._timerAt = 0;
  this._ticking = false;
  this._ended = false;
  this._ending = false;
  this._refused = false;
  this._link = 0;
  this._subscriptions = [];
  this._waiting = [];
  const c = this;
  c._platform = platform;
  c._url = url;
  c._options = options;
  // as MQTT.js does, the options object is the session's too (with a client id made up if absent)
  options.clientId = options.clientId || 'sparrow_' + Math.floor(platform.random() * 0xffffff).toString(16);
  c.session = createSession(options as SessionOptions, {
    write: (bytes, n) => { if (c._socket) c._socket.write(bytes, n); },
    writeText: (text) => {
      const s = c._socket;
      if (!s || !s.writeText) return false;
      s.writeText(text);
      return true;
    },
    textBytes: platform.textBytes,
    event: (name, a, b, d) => { sessionEvent(c, name, a, b, d); },
  });
  schedule(c, 0, open);
}

function on(this: Client, event: string, listener: Listener): MqttClient {
  (this._listeners[event] || (this._listeners[event] = [])).push(listener);
  return this;
}

function once(this: Client, event: string, listener: Listener): MqttClient {
  const c = this, once = (a?: unknown, b?: unknown, d?: unknown) => { c.off(event, once); listener(a, b, d); };
  (once as { _listener?: Listener })._listener = listener;
  return c.on(event, once);
}

function off(this: Client, event: string, listener: Listener): MqttClient {
  // a new array, not a splice: an emit going through the old one (a once() firing) must not skip the next listener
  const list = this._listeners[event] || [], kept: Listener[] = [];
  let found = false;
  for (let i = 0; i < list.length; i++) {
    if (!found && (list[i] === listener || (list[i] as { _listener?: Listener })._listener === listener)) found = true;
    else kept.push(list[i]);
  }
  this._listeners[event] = kept;
  return this;
}

function publish(this: Client, topic: string, payload: Payload, o?: PublishOptions | Callback, cb?: Callback): MqttClient {
  if (typeof o === 'function') { cb = o; o = undefined; }
  o = o || {};
  if (this._ending || this._ended) {
    if (cb) cb(error(UNSPECIFIED_ERROR, 'client is ending'));
  } else {
    // no arm(): a publish never brings the session's deadline nearer (keepalive counts from the older of
    // the last write and read), and the timer already armed stays right
    this.session.publish(topic, payload, o.qos || 0, !!o.retain, o.properties, cb, this._platform.now());
  }
  return this;
}

function subscribe(this: Client, filters: string | string[] | SubscriptionMap, o?: { qos?: QoS; properties?: Properties } | Callback, cb?: Callback): MqttClient {
  if (typeof o === 'function') { cb = o; o = undefined; }
  o = o || {};
  const subs: Subscription[] = [], qos = o.qos || 0;
  if (typeof filters === 'string' || filters instanceof Array) {
    const list = typeof filters === 'string' ? [filters] : filters;
    for (let i = 0; i < list.length; i++) subs.push({ topic: list[i], qos: qos as QoS });
  } else {
    for (const topic in filters) {
      const v = filters[topic];
      subs.push({ topic: topic, qos: (typeof v === 'number' ? v : v && v.qos || 0) as QoS });
    }
  }
  if (!request(this, false, subs, o.properties, cb && ((e, granted) => {
    const codes = (granted || []) as number[], out = [];
    for (let i = 0; i < subs.length; i++) out.push({ topic: subs[i].topic, qos: codes[i] === undefined ? 128 : codes[i] });
    cb!(e, out);
  }))) return this;
  for (let i = 0; i < subs.length; i++) remember(this, subs[i]);
  return this;
}

function unsubscribe(this: Client, filters: string | string[], o?: { properties?: Properties } | Callback, cb?: Callback): MqttClient {
  if (typeof o === 'function') { cb = o; o = undefined; }
  const list = typeof filters === 'string' ? [filters] : filters;
  if (request(this, true, list, o && o.properties, cb)) {
    const kept: Subscription[] = [];
    for (let i = 0; i < this._subscriptions.length; i++) if (list.indexOf(this._subscriptions[i].topic) < 0) kept.push(this._subscriptions[i]);
    this._subscriptions = kept;
  }
  return this;
}

function end(this: Client, force?: boolean | object | (() => void), options?: object | (() => void), cb?: () => void): MqttClient {
  // MQTT.js's shapes: end(cb), end(force, cb), end(force, options, cb)
  if (typeof force === 'function') cb = force as () => void;
  else if (typeof options === 'function') cb = options as () => void;
  const c = this;
  if (c._ended) {
    if (cb) cb();
  } else if (force !== true && c.connected && c.session.queued()) {
    c._ending = cb || true;
  } else {
    finish(c, cb);
  }
  return c;
}

function reconnect(this: Client): MqttClient {
  const c = this;
  c._ended = c._refused = false;
  c._ending = false;
  drop(c, 'reconnect');
  c.reconnects++;
  emit(c, 'reconnect');
  open(c);
  return c;
}

function emit(c: Client, event: string, a?: unknown, b?: unknown, d?: unknown): void {
  const list = c._listeners[event];
  if (list) for (let i = 0; i < list.length; i++) list[i](a, b, d);
}

/** end(): DISCONNECT, the socket closed, messages still held abandoned (their publishers told), 'close' and 'end'. */
function finish(c: Client, cb?: (() => void) | boolean): void {
  c._ended = true;
  c._ending = false;
  c._link++;
  c.session.disconnect(0, c._platform.now());
  c.session.discard('client ended');
  clearTimer(c);
  const s = c._socket;
  c._socket = null;
  if (s) s.end();
  c.connected = c.reconnecting = false;
  emit(c, 'close');
  emit(c, 'end');
  if (typeof cb === 'function') cb();
}

/** end(false) finishes once nothing is held any more. */
function checkEnding(c: Client): void {
  if (c._ending && !c.session.queued()) finish(c, c._ending);
}

function remember(c: Client, sub: Subscription): void {
  const subs = c._subscriptions;
  for (let i = 0; i < subs.length; i++) {
    if (subs[i].topic === sub.topic) { subs[i] = sub; return; }
  }
  subs.push(sub);
}

/**
 * A SUBSCRIBE or an UNSUBSCRIBE, now or, while offline, after the next CONNACK: a persistent session
 * must hear an unsubscribe made offline too. A malformed one is refused at once; returns false then.
 */
function request(c: Client, unsubscribe: boolean, list: Array<Subscription | string>, properties: Properties | undefined, cb: Callback | undefined): boolean {
  const invalid = invalidRequest(list, unsubscribe);
  if (invalid) {
    // as the session refuses: the callback is told, or else the 'error' event
    if (cb) cb(error(UNSPECIFIED_ERROR, invalid));
    else emit(c, 'error', error(UNSPECIFIED_ERROR, invalid));
    return false;
  }
  if (c.session.state !== ONLINE) { c._waiting.push([unsubscribe, list, properties, cb]); return true; }
  const now = c._platform.now();
  if (unsubscribe) c.session.unsubscribe(list as string[], properties, cb, now);
  else c.session.subscribe(list as Subscription[], properties, cb, now);
  arm(c);
  return true;
}

/** After CONNACK: the subscriptions the broker lost with the session, then the requests made while offline. */
function subscribeAgain(c: Client, sessionPresent: boolean): void {
  const asked = c._waiting;
  c._waiting = [];
  if (!sessionPresent) {
    // not those asked again below: each SUBSCRIBE makes the broker send its retained messages again
    const topics: string[] = [], lost: Subscription[] = [];
    for (let i = 0; i < asked.length; i++) for (let k = 0; k < asked[i][1].length; k++) topics.push((asked[i][1][k] as Subscription).topic);
    for (let i = 0; i < c._subscriptions.length; i++) if (topics.indexOf(c._subscriptions[i].topic) < 0) lost.push(c._subscriptions[i]);
    if (lost.length) request(c, false, lost, undefined, undefined);
  }
  for (let i = 0; i < asked.length; i++) request(c, asked[i][0], asked[i][1], asked[i][2], asked[i][3]);
}

function open(c: Client): void {
  if (c._ended) return;
  const mine = ++c._link, platform = c._platform, url = c._url;
  const handlers: SocketHandlers = {
    open: () => { if (mine === c._link) { c.session.start(platform.now()); arm(c); } },
    data: (chunk) => { if (mine === c._link) { c.session.data(chunk, platform.now()); arm(c); checkEnding(c); } },
    close: (reason) => { if (mine === c._link) lost(c, reason); },
  };
  const target = { host: url.host, port: url.port, tls: url.protocol === 'mqtts' || url.protocol === 'wss' };
  // the CONNACK timeout covers the TCP, TLS and WebSocket handshakes too: an ESP32 may never report a lost SYN
  schedule(c, c._options.connectTimeout || 30000, connectTimeout);
  try {
    const s = url.protocol.charAt(0) === 'w' ? platform.webSocket!(target, url.path, handlers) : platform.connect(target, handlers);
    if (mine === c._link) c._socket = s; // else it closed already, inside connect()
  } catch (e) {
    // Linux Espruino throws for a refused port or an unknown host; ESP32 reports it later by close()
    c._socket = null;
    lost(c, 'connect failed: ' + ((e as { message?: string }).message || e));
  }
}

function connectTimeout(c: Client): void {
  if (c._socket) c._socket.end();
  lost(c, 'connect timeout');
}

/** Gives up the current socket: its later events are ignored; the session keeps its messages. */
function drop(c: Client, reason: string): boolean {
  const s = c._socket, was = c.connected;
  c._link++;
  c._socket = null;
  c.connected = false;
  c.session.stop();
  clearTimer(c);
  if (s) s.end();
  emit(c, 'close', reason);
  if (was) emit(c, 'offline', reason);
  return was;
}

function lost(c: Client, reason: string): void {
  drop(c, reason);
  if (c._ending) return finish(c, c._ending);
  const o = c._options, base = o.reconnectPeriod === undefined ? 1000 : o.reconnectPeriod;
  if (c._ended || c._refused || !base) return;
  // full jitter (a uniform delay below a ceiling that doubles per attempt) spreads a fleet's reconnects
  const ceiling = Math.min(o.reconnectPeriodMax || 60000, base * Math.pow(2, c.attempts));
  c.attempts++;
  c.reconnecting = true;
  schedule(c, c._platform.random() * ceiling, backoffDone);
}

function backoffDone(c: Client): void {
  c.reconnects++;
  emit(c, 'reconnect');
  open(c);
}

function sessionEvent(c: Client, name: string, a: unknown, b: unknown, d: unknown): void {
  if (name === 'connect') {
    c.connected = true;
    c.reconnecting = false;
    c.attempts = 0;
    subscribeAgain(c, !!(a as { sessionPresent?: boolean }).sessionPresent);
  } else if (name === 'close') {
    // a refusal of our credentials or authorization: retrying cannot help (MQTT.js stops too)
    if (b) c._refused = true;
    return lost(c, a as string);
  }
  emit(c, name, a, b, d);
}

/**
 * Keeps one timeout armed at the session's next deadline (keepalive, CONNACK timeout). Traffic moves
 * the keepalive deadline later at every packet; a tick already due earlier stays armed (it finds
 * nothing to do and arms the new deadline), so a busy link does not cancel and set a timer per packet.
 */
function arm(c: Client): void {
  const deadline = c.session.deadline();
  if (!deadline || !c._socket || (c._ticking && c._timer !== null && c._timerAt <= deadline)) return;
  schedule(c, Math.max(0, deadline - c._platform.now()), tick);
  c._ticking = true;
}

function tick(c: Client): void {
  c.session.tick(c._platform.now());
  arm(c);
}

/** The client's one timer: `fn(c)` in `ms`. */
function schedule(c: Client, ms: number, fn: (c: Client) => void): void {
  clearTimer(c);
  c._ticking = false;
  c._timerAt = c._platform.now() + ms;
  c._timer = c._platform.setTimeout(() => { c._timer = null; fn(c); }, ms);
}

function clearTimer(c: Client): void {
  if (c._timer !== null) c._platform.clearTimeout(c._timer);
  c._timer = null;
}


// Espruino does not hoist function declarations: the prototype comes after every function it names
(Client as unknown as { prototype: object }).prototype = {
  on: on, once: once, off: off, removeListener: off, publish: publish, subscribe: subscribe, unsubscribe: unsubscribe, end: end, reconnect: reconnect,
};