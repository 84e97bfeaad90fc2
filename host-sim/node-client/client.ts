// The package's client on Node: the firmware client (the board's very engine) inside an EventEmitter
// with MQTT.js's face. What a Node user expects and a board does not need lives here, not in the
// firmware: Buffer payloads, Error objects with `code`, socket errors such as ECONNREFUSED as 'error',
// no retrying after the broker refused the CONNECT, the async methods, end(force) waiting for what is
// in flight, reconnect(), and MQTT.js's handling of payloads that are not bytes or text.
import { EventEmitter } from 'events';
import type { Socket } from 'net';
import { connect as connectFirmware, MqttClient as FirmwareClient, PublishOptions } from '../../firmware/client';
import type { Properties, QoS } from '../../firmware/mqtt/packets';
import type { SessionError } from '../../firmware/mqtt/session';
import { validTopicFilter } from '../../firmware/mqtt/topic';
import { withWebSocket } from '../../firmware/transports/websocket';
import { nodePlatform } from '../platform/node';
import { NodeClientOptions, resolveConnect } from './options';

/** An Error as MQTT.js makes them: `code` is the MQTT reason code, or Node's socket error code. */
export interface MqttError extends Error {
  code?: number | string;
}

export type PacketCallback = (error: MqttError | null, result?: any) => void;
export interface Granted { topic: string; qos: number }
export type SubscribeRequest = string | string[] | { [topic: string]: { qos: QoS } };

/** The firmware session's refusal of a CONNECT starts so (firmware/mqtt/session.ts, connack()). */
const REFUSED = 'connection refused';

function mqttError(e: SessionError): MqttError {
  return Object.assign(new Error(e.message), { code: e.reasonCode });
}

export class MqttClient extends EventEmitter {
  /** The options as resolved (URL parts, given options, Node defaults), like MQTT.js's `client.options`. */
  readonly options: NodeClientOptions;
  /** True between end() being called and its completion, as MQTT.js. */
  disconnecting = false;
  /** True once end() completed, until reconnect(). */
  disconnected = false;
  private readonly url: string;
  private inner!: FirmwareClient;
  private socket: Socket | null = null;
  /** Callbacks of requests not yet answered: failed with "Connection closed" by end(), as MQTT.js does. */
  private readonly pending = new Set<PacketCallback>();
  /** The broker refused the CONNECT: the next close ends the client instead of retrying. */
  private refused = false;
  /** Set by end() without force while messages are in flight: runs when the last one is answered or the link drops. */
  private whenIdle: (() => void) | null = null;
  /** The socket's latest data, as Node handed it: a payload that is a view of it is handed out as it is. */
  private chunk: Buffer | null = null;

  constructor(urlOrOptions?: string | NodeClientOptions, options?: NodeClientOptions) {
    super();
    const resolved = resolveConnect(urlOrOptions, options);
    this.url = resolved.url;
    this.options = resolved.options;
    this.start();
  }

  get connected(): boolean { return this.inner.connected; }
  get reconnecting(): boolean { return !this.disconnected && !this.disconnecting && this.inner.reconnecting; }

  publish(topic: string, message: unknown, opts?: PublishOptions | PacketCallback, cb?: PacketCallback): this {
    if (typeof opts === 'function') { cb = opts; opts = undefined; }
    const payload = toPayload(message);
    const done = this.track(cb);
    if (this.disconnecting || this.disconnected) return this.fail(done, 'client disconnecting');
    this.inner.publish(topic, payload, opts || {}, (e) => done(e && mqttError(e)));
    return this;
  }

  subscribe(request: SubscribeRequest, opts?: { qos?: QoS; properties?: Properties } | PacketCallback, cb?: PacketCallback): this {
    if (typeof opts === 'function') { cb = opts; opts = undefined; }
    const done = this.track(cb);
    if (this.disconnecting || this.disconnected) return this.fail(done, 'client disconnecting');
    // a map {topic: {qos}} is several requests with their own QoS; a string or a list shares one
    const groups: Array<[string[], QoS | undefined]> = typeof request === 'string' || Array.isArray(request)
      ? [[typeof request === 'string' ? [request] : request, opts && opts.qos]]
      : Object.keys(request).map((topic) => [[topic], request[topic].qos]);
    for (const [topics] of groups) {
      const bad = topics.find((t) => !validTopicFilter(t));
      if (bad !== undefined) return this.fail(done, 'Invalid topic ' + bad);
    }
    const granted: Granted[] = [];
    let left = groups.length;
    for (const [topics, qos] of groups) {
      this.inner.subscribe(topics, { qos: qos || 0, properties: opts && opts.properties }, (e, g) => {
        if (e) return done(mqttError(e));
        granted.push(...(g as Granted[]));
        if (--left === 0) done(null, granted);
      });
    }
    return this;
  }

  /** `opts` is MQTT.js's place for MQTT 5 UNSUBSCRIBE properties, which are not sent (yet). */
  unsubscribe(topics: string | string[], opts?: Record<string, unknown> | PacketCallback, cb?: PacketCallback): this {
    if (typeof opts === 'function') cb = opts;
    const done = this.track(cb);
    if (this.disconnecting || this.disconnected) return this.fail(done, 'client disconnecting');
    this.inner.unsubscribe(topics, (e) => done(e && mqttError(e)));
    return this;
  }

  /**
   * Disconnects cleanly and stops reconnecting. Without `force`, as MQTT.js, it first waits for the
   * messages in flight to be acknowledged while the link is up; what is still unanswered then gets
   * "Connection closed". Emits 'end', then calls `cb`. `opts` is MQTT.js's place for the MQTT 5
   * DISCONNECT's reason code and properties: the DISCONNECT always says 0, normal disconnection.
   */
  end(force?: boolean | (() => void), opts?: Record<string, unknown> | (() => void), cb?: () => void): this {
    if (typeof force === 'function') { cb = force; force = false; }
    if (typeof opts === 'function') cb = opts;
    if (cb) this.once('end', cb);
    if (this.disconnected) { process.nextTick(() => this.emit('end')); return this; }
    if (this.disconnecting) return this;
    this.disconnecting = true;
    if (force === true || !this.inner.connected || this.pending.size === 0) this.finish();
    else this.whenIdle = () => this.finish();
    return this;
  }

  /**
   * After end(): connects again with fresh stores (as MQTT.js); during end(), once it is done. While
   * running: drops the link, and the firmware client reconnects through its backoff with its store, so
   * nothing in flight is lost.
   */
  reconnect(): this {
    if (this.disconnecting) {
      this.once('end', () => this.reconnect()); // as MQTT.js: after the end() under way
    } else if (this.disconnected) {
      this.disconnected = false;
      this.start();
    } else if (this.socket) {
      this.socket.destroy();
    }
    return this;
  }

  publishAsync(topic: string, message: unknown, opts?: PublishOptions): Promise<unknown> {
    return promised((cb) => this.publish(topic, message, opts || {}, cb));
  }

  subscribeAsync(request: SubscribeRequest, opts?: { qos?: QoS; properties?: Properties }): Promise<Granted[]> {
    return promised((cb) => this.subscribe(request, opts || {}, cb)) as Promise<Granted[]>;
  }

  unsubscribeAsync(topics: string | string[]): Promise<unknown> {
    return promised((cb) => this.unsubscribe(topics, cb));
  }

  endAsync(force?: boolean): Promise<void> {
    return new Promise((resolve) => this.end(!!force, resolve));
  }

  private start(): void {
    this.refused = false;
    const platform = nodePlatform({
      log: () => undefined,
      insecureTls: this.options.rejectUnauthorized === false,
      nodeChunks: true,
      onSocket: (s) => this.watch(s),
    });
    // a copy: the firmware client keeps its options object and writes a made-up clientId into it
    const inner = connectFirmware(withWebSocket(platform), this.url, { ...this.options });
    this.inner = inner;
    inner.on('connect', (connack) => this.emit('connect', connack));
    inner.on('reconnect', () => this.emit('reconnect'));
    inner.on('offline', () => this.emit('offline'));
    inner.on('message', (topic: string, payload: Uint8Array, packet) => this.message(topic, payload, packet));
    inner.on('error', (e: SessionError) => {
      if (e.message.indexOf(REFUSED) === 0 && !this.options.reconnectOnConnackError) this.refused = true;
      this.emit('error', mqttError(e));
    });
    inner.on('close', () => {
      if (inner !== this.inner || this.disconnected) return; // the close of end() itself, or of a client replaced by reconnect()
      this.emit('close');
      if (this.refused || this.disconnecting) this.finish(); // as MQTT.js: a refused CONNECT is not retried
    });
  }

  /**
   * Node's own socket errors (ECONNREFUSED, ENOTFOUND, ...) reach the user as MQTT.js reports them. Its
   * data is noted before the firmware reads it (prepended), so message() knows the chunk it came in.
   */
  private watch(socket: Socket): void {
    this.socket = socket;
    socket.prependListener('data', (chunk: Buffer) => { this.chunk = chunk; });
    socket.on('error', (e: MqttError) => { if (e.code && this.socket === socket) this.emit('error', e); });
    socket.on('close', () => { if (this.socket === socket) this.socket = null; });
  }

  /**
   * The payload as a Buffer, as MQTT.js hands it. The session decodes a packet that lies whole in one
   * chunk where it lies, so its payload is a view of the socket's Buffer, which Node never writes again:
   * it is handed out as it is. A packet split across chunks was collected in the session's receive
   * buffer, which the next split packet overwrites: only that payload is copied.
   */
  private message(topic: string, payload: Uint8Array, packet: { payload?: Uint8Array }): void {
    const chunk = this.chunk;
    const buffer = chunk && payload.buffer === chunk.buffer ? Buffer.from(payload.buffer, payload.byteOffset, payload.length) : Buffer.from(payload);
    packet.payload = buffer;
    this.emit('message', topic, buffer, packet);
  }

  private finish(): void {
    this.whenIdle = null;
    this.disconnected = true;
    this.disconnecting = false;
    this.socket = null; // first: what the socket still reports after end() is no news to the user
    const wasConnected = this.inner.connected;
    this.inner.end();
    if (wasConnected) this.emit('close'); // as MQTT.js: the link's close, then 'end'
    for (const done of [...this.pending]) done(new Error('Connection closed'));
    this.emit('end');
  }

  /** A callback that reports once, leaves the pending set, and tells end() when nothing is left. */
  private track(cb: PacketCallback | undefined): PacketCallback {
    const done: PacketCallback = (e, result) => {
      if (!this.pending.delete(done)) return;
      if (cb) cb(e, result);
      if (this.pending.size === 0 && this.whenIdle) this.whenIdle();
    };
    this.pending.add(done);
    return done;
  }

  private fail(done: PacketCallback, message: string): this {
    process.nextTick(() => done(new Error(message)));
    return this;
  }
}

/**
 * A publish payload as MQTT.js takes it: text and bytes as they are, null/undefined as empty, an
 * ArrayBuffer as its bytes; anything else (a number, an object) is refused with the TypeError MQTT.js
 * throws, before anything reaches the store or the wire.
 */
function toPayload(message: unknown): string | Uint8Array {
  if (message === null || message === undefined) return '';
  if (typeof message === 'string' || message instanceof Uint8Array) return message;
  if (message instanceof ArrayBuffer) return new Uint8Array(message);
  const what = typeof message === 'object' ? 'an instance of ' + ((message as object).constructor?.name || 'Object') : 'type ' + typeof message;
  throw new TypeError('The "message" argument must be of type string or an instance of Buffer, Uint8Array or ArrayBuffer. Received ' + what);
}

function promised(call: (cb: PacketCallback) => void): Promise<unknown> {
  return new Promise((resolve, reject) => call((e, result) => (e ? reject(e) : resolve(result))));
}
