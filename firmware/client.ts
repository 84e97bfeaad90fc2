// The client: binds a Session (the protocol, sans-IO) to a transport and a clock from the Platform.
// It reconnects with capped exponential backoff and full jitter, runs the session's timers with one
// timeout, and offers MQTT.js's API (connect(url, options), publish, subscribe, unsubscribe, end, and
// the events connect, message, reconnect, offline, close, error), the same on a board and on Node.
// A closure, like the session: its state is local variables, the cheapest text on a board.
import type { Payload, Properties, QoS, Subscription } from './mqtt/packets';
import { Callback, createSession, invalidRequest, Session, SessionError, SessionOptions, ONLINE } from './mqtt/session';
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
   * Subscribes to a filter or several; `cb(error, granted)` gets [{topic, qos}] as MQTT.js does (qos 128
   * = refused). A malformed request (no filter, an invalid one, a bad QoS) is refused: `cb` gets the
   * error, or else the 'error' event, and nothing goes on the wire.
   */
  subscribe(filters: string | string[], options?: { qos?: QoS; properties?: Properties } | Callback, cb?: Callback): MqttClient;
  unsubscribe(filters: string | string[], cb?: Callback): MqttClient;
  /**
   * MQTT.js's end(force?, options?, cb?): disconnects cleanly (the broker drops the will) and stops
   * reconnecting. Without `force`, messages held are first given until they complete or the link
   * drops; with it, or then, they are given up and their callbacks told so. `cb` runs once closed.
   */
  end(force?: boolean | (() => void), options?: object | (() => void), cb?: () => void): MqttClient;
  /** Connects again with the same options, also after end() or a refusal of the credentials. */
  reconnect(): MqttClient;
}

/** MQTT.js's `connect(url, options)`, on a given platform. Throws for a URL that is not an MQTT URL. */
export function connect(platform: Platform, url: string, options?: ClientOptions): MqttClient {
  const u = parseBrokerUrl(url);
  if (!u) throw new Error('not an MQTT URL: ' + url);
  if (u.protocol.charAt(0) === 'w' && !platform.webSocket) throw new Error('ws:// needs sparrow-ws');
  return createClient(platform, u, options || {});
}

function createClient(platform: Platform, url: BrokerUrl, options: ClientOptions): MqttClient {
  const listeners: { [event: string]: Listener[] } = {};
  let socket: PlatformSocket | null = null;
  let timer: unknown = null;
  /** When the timer fires, and whether it is the session's tick (not a connect timeout or a backoff). */
  let timerAt = 0, ticking = false;
  let ended = false;
  /** end(false) waits for the messages held: its callback (or true) until nothing is held. */
  let ending: (() => void) | boolean = false;
  /** The broker refused our credentials or authorization: no reconnecting until reconnect(). */
  let refused = false;
  /** Bumped for each socket: events of a socket already given up on must not touch the session. */
  let link = 0;
  /** Subscriptions to make again when the broker has no session for us. */
  let subscriptions: Subscription[] = [];
  /** Subscribe (list of subscriptions) and unsubscribe (list of filters) requests made while offline, sent after the next CONNACK. */
  let waiting: Array<[Subscription[] | string[], Properties | undefined, Callback | undefined, boolean | undefined]> = [];

  // as MQTT.js does, the options object is the session's too (with a client id made up if absent)
  options.clientId = options.clientId || 'sparrow_' + Math.floor(platform.random() * 0xffffff).toString(16);
  // Espruino does not hoist function declarations: what runs at creation comes after all of them
  function on(event: string, listener: Listener): MqttClient {
    (listeners[event] || (listeners[event] = [])).push(listener);
    return self;
  }

  function once(event: string, listener: Listener): MqttClient {
    const wrapper = (a?: unknown, b?: unknown, c?: unknown) => { off(event, wrapper); listener(a, b, c); };
    (wrapper as { listener?: Listener }).listener = listener;
    return on(event, wrapper);
  }

  function off(event: string, listener: Listener): MqttClient {
    // a new array, not a splice: an emit going through the old one (a once() firing) must not skip the next listener
    const list = listeners[event] || [], kept: Listener[] = [];
    let found = false;
    for (let i = 0; i < list.length; i++) {
      if (!found && (list[i] === listener || (list[i] as { listener?: Listener }).listener === listener)) found = true;
      else kept.push(list[i]);
    }
    listeners[event] = kept;
    return self;
  }

  function publish(topic: string, payload: Payload, o?: PublishOptions | Callback, cb?: Callback): MqttClient {
    if (typeof o === 'function') { cb = o; o = undefined; }
    o = o || {};
    if (ending || ended) {
      if (cb) cb({ reasonCode: 0x80, message: 'client ended' });
      return self;
    }
    session.publish(topic, payload, o.qos || 0, !!o.retain, o.properties, cb, platform.now());
    arm();
    return self;
  }

  function subscribe(filters: string | string[], o?: { qos?: QoS; properties?: Properties } | Callback, cb?: Callback): MqttClient {
    if (typeof o === 'function') { cb = o; o = undefined; }
    o = o || {};
    const list = typeof filters === 'string' ? [filters] : filters, subs: Subscription[] = [];
    for (let i = 0; i < list.length; i++) subs.push({ topic: list[i], qos: o.qos || 0 } as Subscription);
    if (request(subs, o.properties, cb && ((error, granted) => {
      const codes = (granted || []) as number[];
      cb!(error, subs.map((s, i) => ({ topic: s.topic, qos: codes[i] === undefined ? 128 : codes[i] })));
    }))) subs.forEach(remember);
    return self;
  }

  function unsubscribe(filters: string | string[], cb?: Callback): MqttClient {
    const list = typeof filters === 'string' ? [filters] : filters;
    if (request(list, undefined, cb, true)) subscriptions = subscriptions.filter((s) => list.indexOf(s.topic) < 0);
    return self;
  }

  function end(force?: boolean | (() => void), options?: object | (() => void), cb?: () => void): MqttClient {
    // MQTT.js's shapes: end(cb), end(force, cb), end(force, options, cb)
    if (typeof force === 'function') cb = force;
    else if (typeof options === 'function') cb = options as () => void;
    if (ended) {
      if (cb) cb();
    } else if (force !== true && self.connected && session.queued()) {
      ending = cb || true;
    } else {
      finish(cb);
    }
    return self;
  }

  /** end(): DISCONNECT, the socket closed, messages still held given up (their publishers told), 'close' and 'end'. */
  function finish(cb?: (() => void) | boolean): void {
    ended = true;
    ending = false;
    link++;
    session.disconnect(0, platform.now());
    session.discard('client ended');
    clearTimer();
    const s = socket;
    socket = null;
    if (s) s.end();
    self.connected = self.reconnecting = false;
    emit('close');
    emit('end');
    if (typeof cb === 'function') cb();
  }

  function reconnect(): MqttClient {
    ended = refused = false;
    ending = false;
    if (socket) lostLink('reconnect');
    self.reconnects++;
    emit('reconnect');
    open();
    return self;
  }

  function emit(event: string, a?: unknown, b?: unknown, c?: unknown): void {
    const list = listeners[event];
    if (list) for (let i = 0; i < list.length; i++) list[i](a, b, c);
  }

  function remember(sub: Subscription): void {
    for (let i = 0; i < subscriptions.length; i++) {
      if (subscriptions[i].topic === sub.topic) { subscriptions[i] = sub; return; }
    }
    subscriptions.push(sub);
  }

  /**
   * A SUBSCRIBE (a list of subscriptions) or an UNSUBSCRIBE (a list of filters), now or, while offline,
   * after the next CONNACK: a persistent session must hear an unsubscribe made offline too.
   */
  function request(list: Subscription[] | string[], properties: Properties | undefined, cb: Callback | undefined, unsubscribe?: boolean): boolean {
    const invalid = invalidRequest(list, !!unsubscribe);
    if (invalid) {
      // as the session refuses: the callback is told, or else the 'error' event; nothing is kept
      const e: SessionError = { reasonCode: 0x8f, message: invalid };
      if (cb) cb(e);
      else emit('error', e);
      return false;
    }
    if (session.state !== ONLINE) { waiting.push([list, properties, cb, unsubscribe]); return true; }
    if (unsubscribe) session.unsubscribe(list as string[], properties, cb, platform.now());
    else session.subscribe(list as Subscription[], properties, cb, platform.now());
    arm();
    return true;
  }

  /** After CONNACK: the subscriptions the broker lost with the session, then the requests made while offline. */
  function subscribeAgain(sessionPresent: boolean): void {
    const asked = waiting;
    waiting = [];
    if (!sessionPresent) {
      // not those asked again below: each SUBSCRIBE makes the broker send its retained messages again
      const topics: string[] = [];
      for (let i = 0; i < asked.length; i++) for (let k = 0; k < asked[i][0].length; k++) if (!asked[i][3]) topics.push((asked[i][0][k] as Subscription).topic);
      const lost = subscriptions.filter((s) => topics.indexOf(s.topic) < 0);
      if (lost.length) request(lost, undefined, undefined);
    }
    for (let i = 0; i < asked.length; i++) request(asked[i][0], asked[i][1], asked[i][2], asked[i][3]);
  }

  function open(): void {
    if (ended) return;
    const mine = ++link;
    const handlers: SocketHandlers = {
      open: () => { if (mine === link) { session.start(platform.now()); arm(); } },
      data: (chunk) => {
        if (mine !== link) return;
        session.data(chunk, platform.now());
        arm();
        if (ending && !session.queued()) finish(ending); // end(false) waited for these
      },
      close: (reason) => { if (mine === link) lost(reason); },
    };
    const target = { host: url.host, port: url.port, tls: url.protocol === 'mqtts' || url.protocol === 'wss' };
    // the CONNACK timeout covers the TCP, TLS and WebSocket handshakes too: an ESP32 may never report a lost SYN
    schedule(options.connectTimeout || 30000, () => {
      if (socket) socket.end();
      lost('connect timeout');
    });
    try {
      const s = url.protocol.charAt(0) === 'w' ? platform.webSocket!(target, url.path, handlers) : platform.connect(target, handlers);
      if (mine === link) socket = s; // else it closed already, inside connect()
    } catch (e) {
      // Linux Espruino throws for a refused port or an unknown host; ESP32 reports it later by close()
      socket = null;
      lost('connect failed: ' + ((e as { message?: string }).message || e));
    }
  }

  /** Gives up the current link: its later events are ignored; the session keeps its messages. */
  function lostLink(reason: string): void {
    link++;
    const wasConnected = self.connected, s = socket;
    socket = null;
    self.connected = false;
    session.stop();
    clearTimer();
    if (s) s.end();
    emit('close', reason);
    if (wasConnected) emit('offline', reason);
  }

  function lost(reason: string): void {
    lostLink(reason);
    if (ending) return finish(ending);
    if (ended || refused) return;
    const base = options.reconnectPeriod === undefined ? 1000 : options.reconnectPeriod;
    if (!base) return;
    // full jitter (a uniform delay below a ceiling that doubles per attempt) spreads a fleet's reconnects
    const ceiling = Math.min(options.reconnectPeriodMax || 60000, base * Math.pow(2, self.attempts));
    self.attempts++;
    self.reconnecting = true;
    schedule(platform.random() * ceiling, () => {
      self.reconnects++;
      emit('reconnect');
      open();
    });
  }

  function sessionEvent(name: string, a: unknown, b: unknown, c: unknown): void {
    if (name === 'connect') {
      self.connected = true;
      self.reconnecting = false;
      self.attempts = 0;
      subscribeAgain(!!(a as { sessionPresent?: boolean }).sessionPresent);
    } else if (name === 'close') {
      // a refusal of our credentials or authorization: retrying cannot help (MQTT.js stops too)
      if (b) refused = true;
      return lost(a as string);
    }
    emit(name, a, b, c);
  }

  /**
   * Keeps one timeout armed at the session's next deadline (keepalive, CONNACK timeout). Traffic moves
   * the keepalive deadline later at every packet; a tick already due earlier stays armed (it finds
   * nothing to do and arms the new deadline), so a busy link does not cancel and set a timer per packet.
   */
  function arm(): void {
    const deadline = session.deadline();
    if (!deadline || !socket || (ticking && timer !== null && timerAt <= deadline)) return;
    schedule(Math.max(0, deadline - platform.now()), () => {
      session.tick(platform.now());
      arm();
    });
    ticking = true;
  }

  function schedule(ms: number, fn: () => void): void {
    clearTimer();
    ticking = false;
    timerAt = platform.now() + ms;
    timer = platform.setTimeout(() => { timer = null; fn(); }, ms);
  }

  function clearTimer(): void {
    if (timer !== null) platform.clearTimeout(timer);
    timer = null;
  }

  const session = createSession(options as SessionOptions, {
    write: (bytes, n) => { if (socket) socket.write(bytes, n); },
    event: sessionEvent,
  });
  const self = {
    connected: false, reconnecting: false, attempts: 0, reconnects: 0, session: session,
    on: on, once: once, off: off, removeListener: off, publish: publish, subscribe: subscribe, unsubscribe: unsubscribe,
    end: end, reconnect: reconnect,
  };
  schedule(0, open);
  return self;
}
