// The two ends of each wire configuration: a server that has one sensor reading per second to deliver,
// and N clients (dashboards) that each want every reading. Each configuration is the same application
// (a 24-byte JSON reading of `fleet/sensor-00042/temperature`), carried differently:
//
//   http-poll      HTTP/1.1 keep-alive connection, the client GETs the latest reading once a second
//   http-long      HTTP/1.1 long-polling: the request waits on the server until the next reading
//   ws-push        WebSocket (`ws` server), the server pushes each reading as a text frame
//   mqtt{3,5}-*    the reference broker (broker/) forwards a sensor's PUBLISH to subscribers
//
// The clients send what a browser sends: Chrome's request headers for fetch() and for a WebSocket
// upgrade (a session cookie included), and MQTT.js-style client ids. The MQTT clients are a small
// client on the firmware codec, so that every packet (and nothing else) is under the bench's control.
import * as http from 'http';
import * as net from 'net';
import WebSocket, { WebSocketServer } from 'ws';
import { encodePacket, PacketReader } from '../../firmware/mqtt';
import type { DecodedPacket, Packet } from '../../firmware/mqtt';
import { Broker } from '../../broker/broker';
import { createLogger } from '../../broker/log';

export const TOPIC = 'fleet/sensor-00042/temperature';
export const PAYLOAD_BYTES = 24;
/** Keep alive of every configuration that needs one, seconds: MQTT's usual 60 s, and a 60 s WebSocket ping. */
export const KEEPALIVE_S = 60;

export type Transport = 'http-poll' | 'http-long' | 'ws' | 'mqtt-tcp' | 'mqtt-ws';

export interface WireConfig {
  id: string;
  label: string;
  transport: Transport;
  /** MQTT only. */
  version?: 4 | 5;
  qos?: 0 | 1;
  topicAlias?: boolean;
  /** Who sends the keep-alive probe, and how often per hour it is needed (0: the traffic keeps it alive). */
  keepalive: { by: 'client' | 'server' | 'none'; perHour: number; why: string };
}

export const CONFIGS: WireConfig[] = [
  { id: 'http-poll', label: 'HTTP/1.1 polling, 1 poll/s', transport: 'http-poll',
    keepalive: { by: 'none', perHour: 0, why: 'the poll every second keeps the connection alive' } },
  { id: 'http-long', label: 'HTTP/1.1 long-polling', transport: 'http-long',
    keepalive: { by: 'none', perHour: 0, why: 'a request is pending at all times' } },
  { id: 'ws-push', label: 'WebSocket push (ws)', transport: 'ws',
    keepalive: { by: 'server', perHour: 3600 / KEEPALIVE_S, why: 'server ping every 60 s, the browser answers pong' } },
  { id: 'mqtt3-q0-tcp', label: 'MQTT 3.1.1 QoS 0, TCP', transport: 'mqtt-tcp', version: 4, qos: 0,
    keepalive: { by: 'client', perHour: 3600 / KEEPALIVE_S, why: 'the subscriber sends nothing else, so PINGREQ every 60 s' } },
  { id: 'mqtt3-q1-tcp', label: 'MQTT 3.1.1 QoS 1, TCP', transport: 'mqtt-tcp', version: 4, qos: 1,
    keepalive: { by: 'client', perHour: 0, why: 'a PUBACK every second counts as client traffic [MQTT-3.1.2-23]' } },
  { id: 'mqtt3-q0-ws', label: 'MQTT 3.1.1 QoS 0, WebSocket', transport: 'mqtt-ws', version: 4, qos: 0,
    keepalive: { by: 'client', perHour: 3600 / KEEPALIVE_S, why: 'PINGREQ every 60 s' } },
  { id: 'mqtt3-q1-ws', label: 'MQTT 3.1.1 QoS 1, WebSocket', transport: 'mqtt-ws', version: 4, qos: 1,
    keepalive: { by: 'client', perHour: 0, why: 'PUBACKs keep it alive' } },
  { id: 'mqtt5-q0-alias', label: 'MQTT 5 QoS 0 + topic alias, TCP', transport: 'mqtt-tcp', version: 5, qos: 0, topicAlias: true,
    keepalive: { by: 'client', perHour: 3600 / KEEPALIVE_S, why: 'PINGREQ every 60 s' } },
];

/** Reading number `seq` as exactly 24 bytes of JSON: {"t":21.50,"seq":000042}. */
export function reading(seq: number): string {
  const t = (20 + (seq % 50) / 10).toFixed(2);
  const s = '{"t":' + t + ',"seq":' + String(seq % 1e6).padStart(6, '0') + '}';
  if (s.length !== PAYLOAD_BYTES) throw new Error('reading is ' + s.length + ' bytes');
  return s;
}

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const COOKIE = 'session=4f9c2a1d7e3b8a6c5d0e1f2a3b4c5d6e';

/** What Chrome 124 sends for `fetch('/api/...')` from a same-origin dashboard page (header order as Chrome's). */
export function browserGet(host: string, path: string): string {
  return [
    'GET ' + path + ' HTTP/1.1',
    'Host: ' + host,
    'Connection: keep-alive',
    'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
    'sec-ch-ua-mobile: ?0',
    'User-Agent: ' + UA,
    'sec-ch-ua-platform: "Linux"',
    'Accept: */*',
    'Sec-Fetch-Site: same-origin',
    'Sec-Fetch-Mode: cors',
    'Sec-Fetch-Dest: empty',
    'Referer: http://' + host + '/dashboard',
    'Accept-Encoding: gzip, deflate, br, zstd',
    'Accept-Language: en-US,en;q=0.9',
    'Cookie: ' + COOKIE,
  ].join('\r\n') + '\r\n\r\n';
}

/** The headers Chrome adds to a WebSocket upgrade beyond those `ws` writes itself (Host, Upgrade, Key, Version, Extensions). */
function browserUpgradeHeaders(host: string): { [k: string]: string } {
  return {
    Pragma: 'no-cache', 'Cache-Control': 'no-cache', 'User-Agent': UA, Origin: 'http://' + host,
    'Accept-Encoding': 'gzip, deflate, br, zstd', 'Accept-Language': 'en-US,en;q=0.9', Cookie: COOKIE,
  };
}

// ---------------------------------------------------------------------------------------------------
// Servers

export interface WireServer {
  /** The port clients connect to (the one captured). */
  port: number;
  /** Delivers reading `seq` (push configurations) or makes it the latest (polling). */
  publish(seq: number): void;
  /** Readings k = 0..count-1 are due at t0 + k s: a polled server answers by the clock, so that a
   * reading is "the latest" at its time however late a busy event loop runs the publish timer. */
  schedule(t0: number, count: number): void;
  /** One keep-alive probe to every client, spread over `spreadMs` (server-side keep-alive only). */
  ping(spreadMs: number): void;
  close(): Promise<void>;
}

const PUBLISHER_ADDRESS = '127.0.0.2';

export async function startServer(c: WireConfig): Promise<WireServer> {
  if (c.transport === 'http-poll' || c.transport === 'http-long' || c.transport === 'ws') return startHttpServer(c);
  return startBrokerServer(c);
}

async function startHttpServer(c: WireConfig): Promise<WireServer> {
  let latest = -1, t0 = Infinity, count = 0;
  const due = () => Math.min(count - 1, Math.floor((Date.now() - t0) / 1000));
  const waiting: http.ServerResponse[] = [];
  // what Express's res.json() sends, less its ETag and X-Powered-By: a length, not chunked encoding
  const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(PAYLOAD_BYTES), 'Cache-Control': 'no-store' };
  const send = (res: http.ServerResponse, seq: number) => { res.writeHead(200, headers); res.end(reading(seq)); };
  const server = http.createServer((req, res) => {
    if (c.transport === 'http-long') {
      const after = Number(/after=(-?\d+)/.exec(req.url || '')?.[1] ?? -1);
      if (latest > after) send(res, latest);
      else waiting.push(res);
    } else send(res, Math.max(latest, due(), 0));
  });
  // browsers keep a connection for minutes; Node's default 5 s would close the idle ones during setup
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  server.requestTimeout = 0;
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => { s.setNoDelay(true); sockets.add(s); s.on('close', () => sockets.delete(s)); });
  const wss = c.transport === 'ws' ? new WebSocketServer({ server, path: '/live' }) : null;
  const clients: WebSocket[] = [];
  wss?.on('connection', (ws) => { clients.push(ws); ws.on('close', () => { const i = clients.indexOf(ws); if (i >= 0) clients.splice(i, 1); }); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', 1024, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    publish(seq) {
      latest = seq;
      if (c.transport === 'http-long') for (const res of waiting.splice(0)) send(res, seq);
      for (const ws of clients) ws.send(reading(seq)); // a text frame, as a JSON push would be
    },
    schedule(start, n) { t0 = start; count = n; },
    ping(spreadMs) { spread(clients.slice(), spreadMs, (ws) => ws.ping()); },
    async close() {
      for (const ws of clients) ws.terminate();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function startBrokerServer(c: WireConfig): Promise<WireServer> {
  const broker = await Broker.start({
    port: 0, host: '127.0.0.1', wsPort: c.transport === 'mqtt-ws' ? 0 : null, sysInterval: 0,
    logger: createLogger('error', () => { /* quiet */ }), queueHigh: 100000, queueLow: 50000,
  });
  // the sensor: a publisher on its own source address, which the capture filter leaves out
  const publisher = await MqttClient.open({ transport: 'mqtt-tcp', port: broker.ports.tcp, localAddress: PUBLISHER_ADDRESS, version: c.version!, clientId: 'sensor-00042' });
  return {
    port: c.transport === 'mqtt-ws' ? broker.ports.ws : broker.ports.tcp,
    publish(seq) { publisher.publish(reading(seq), c.qos!, seq); },
    schedule() { /* the publisher's PUBLISH is the reading */ },
    ping() { /* MQTT keep-alive is the client's job */ },
    async close() { publisher.destroy(); await broker.close(); },
  };
}

// ---------------------------------------------------------------------------------------------------
// Clients

export interface Endpoint { port: number; localAddress: string }

export interface WireClient {
  /** Readings received with a sequence number not seen before. */
  delivered: number;
  /** Responses or messages received, stale ones included (a poll answered with a reading already seen). */
  messages: number;
  /** Starts receiving: polls at `phaseMs` past each second for `count` seconds, or opens the long poll. */
  start(count: number, phaseMs: number): void;
  /** The client's keep-alive probe (MQTT PINGREQ); no-op where the server probes. */
  ping(): void;
  close(): void;
}

export async function openClient(c: WireConfig, e: Endpoint, index: number): Promise<WireClient> {
  switch (c.transport) {
    case 'http-poll': case 'http-long': return HttpClient.open(c, e);
    case 'ws': return WsPushClient.open(e);
    default: {
      const clientId = 'mqttjs_' + (0x10000000 + index * 7919).toString(16).slice(-8);
      const m = await MqttClient.open({ transport: c.transport, port: e.port, localAddress: e.localAddress, version: c.version!, clientId, topicAlias: c.topicAlias });
      await m.subscribe(TOPIC, c.qos!);
      return m;
    }
  }
}

function connectTcp(e: Endpoint): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: e.port, host: '127.0.0.1', localAddress: e.localAddress }, () => { s.off('error', reject); resolve(s); });
    s.on('error', reject);
  });
}

class HttpClient implements WireClient {
  delivered = 0;
  messages = 0;
  private last = -1;
  private buf = '';
  private remaining = 0;
  private timer: NodeJS.Timeout | null = null;
  private host: string;

  private constructor(private c: WireConfig, private socket: net.Socket, port: number) {
    this.host = '127.0.0.1:' + port;
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => this.data(d));
    socket.on('error', () => { /* counted as missing readings */ });
  }

  static async open(c: WireConfig, e: Endpoint): Promise<HttpClient> { return new HttpClient(c, await connectTcp(e), e.port); }

  start(count: number, phaseMs: number): void {
    this.remaining = count;
    if (this.c.transport === 'http-long') { this.request(); return; }
    this.timer = setTimeout(() => {
      this.request();
      this.timer = setInterval(() => { if (this.remaining > 0) this.request(); else clearInterval(this.timer!); }, 1000);
    }, phaseMs);
  }

  private request(): void {
    this.remaining--;
    const path = this.c.transport === 'http-long' ? '/api/sensors/sensor-00042/next?after=' + this.last : '/api/sensors/sensor-00042/latest';
    this.socket.write(browserGet(this.host, path), 'latin1');
  }

  private data(d: string): void {
    this.buf += d;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/\r\ncontent-length: *(\d+)/i.exec(this.buf.slice(0, end))?.[1] ?? 0);
      if (this.buf.length < end + 4 + len) return;
      const body = this.buf.slice(end + 4, end + 4 + len);
      this.buf = this.buf.slice(end + 4 + len);
      const seq = Number(/"seq":(\d+)/.exec(body)?.[1] ?? -1);
      this.messages++;
      if (seq > this.last) { this.last = seq; this.delivered++; }
      if (this.c.transport === 'http-long' && this.remaining > 0) this.request();
    }
  }

  ping(): void { /* none needed */ }
  close(): void { if (this.timer) clearInterval(this.timer); this.socket.end(); }
}

class WsPushClient implements WireClient {
  delivered = 0;
  messages = 0;
  private last = -1;
  private constructor(private ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages++;
      const seq = Number(/"seq":(\d+)/.exec(String(data))?.[1] ?? -1);
      if (seq > this.last) { this.last = seq; this.delivered++; }
    });
    ws.on('error', () => { /* counted as missing readings */ });
  }

  static open(e: Endpoint): Promise<WsPushClient> {
    const host = '127.0.0.1:' + e.port;
    const ws = new WebSocket('ws://' + host + '/live', { headers: browserUpgradeHeaders(host), localAddress: e.localAddress });
    return new Promise((resolve, reject) => {
      ws.once('open', () => { ws.off('error', reject); (ws as any)._socket.setNoDelay(true); resolve(new WsPushClient(ws)); });
      ws.once('error', reject);
    });
  }

  start(): void { /* the server pushes */ }
  ping(): void { /* the server pings, ws answers pong as a browser does */ }
  close(): void { this.ws.close(1000); }
}

interface MqttOpen { transport: 'mqtt-tcp' | 'mqtt-ws'; port: number; localAddress: string; version: 4 | 5; clientId: string; topicAlias?: boolean }

/** A minimal MQTT client on the firmware codec, over a TCP socket or a WebSocket (subprotocol `mqtt`). */
export class MqttClient implements WireClient {
  delivered = 0;
  messages = 0;
  readonly received: DecodedPacket[] = [];
  private last = -1;
  private reader: PacketReader;
  private waiters: { cmd: string; resolve: (p: DecodedPacket) => void }[] = [];
  private write: (b: Uint8Array) => void;
  private end: () => void;
  /** Keep the decoded packets (for tests); the bench only counts. */
  keep = false;

  private constructor(private o: MqttOpen, link: { write(b: Uint8Array): void; end(): void; onData(f: (b: Uint8Array) => void): void }) {
    this.reader = new PacketReader({ protocolVersion: o.version });
    this.write = link.write;
    this.end = link.end;
    link.onData((chunk) => { this.reader.push(chunk, (p) => this.packet(p)); });
  }

  static async open(o: MqttOpen): Promise<MqttClient> {
    let client: MqttClient;
    if (o.transport === 'mqtt-tcp') {
      const s = await connectTcp({ port: o.port, localAddress: o.localAddress });
      s.setNoDelay(true);
      s.on('error', () => { /* counted as missing readings */ });
      client = new MqttClient(o, { write: (b) => s.write(b), end: () => s.end(), onData: (f) => s.on('data', f) });
    } else {
      const host = '127.0.0.1:' + o.port;
      const ws = new WebSocket('ws://' + host + '/mqtt', ['mqtt'], { headers: browserUpgradeHeaders(host), localAddress: o.localAddress });
      await new Promise<void>((resolve, reject) => { ws.once('open', () => { ws.off('error', reject); resolve(); }); ws.once('error', reject); });
      (ws as any)._socket.setNoDelay(true);
      ws.on('error', () => { /* counted as missing readings */ });
      client = new MqttClient(o, { write: (b) => ws.send(b, { binary: true }), end: () => ws.close(1000), onData: (f) => ws.on('message', (d: Buffer) => f(d)) });
    }
    const connect: Packet = { cmd: 'connect', protocolVersion: o.version, clean: true, clientId: o.clientId, keepalive: KEEPALIVE_S };
    if (o.topicAlias) connect.properties = { topicAliasMaximum: 16 };
    client.send(connect);
    const ack: any = await client.next('connack');
    if (ack.returnCode || ack.reasonCode) throw new Error('CONNACK refused: ' + JSON.stringify(ack));
    return client;
  }

  send(p: Packet): void { this.write(encodePacket(p, { protocolVersion: this.o.version })); }

  next(cmd: string, ms = 30000): Promise<DecodedPacket> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no ' + cmd + ' within ' + ms + ' ms')), ms);
      this.waiters.push({ cmd, resolve: (p) => { clearTimeout(t); resolve(p); } });
    });
  }

  async subscribe(topic: string, qos: 0 | 1): Promise<void> {
    this.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] });
    await this.next('suback');
  }

  publish(payload: string, qos: 0 | 1, seq: number): void {
    const p: Packet = { cmd: 'publish', topic: TOPIC, payload, qos, retain: false, dup: false };
    if (qos) p.messageId = (seq % 65535) + 1;
    this.send(p);
  }

  private packet(p: DecodedPacket): void {
    if (p.cmd === 'publish') {
      const pub = p as Extract<DecodedPacket, { cmd: 'publish' }>;
      if (pub.qos && pub.messageId !== undefined) this.send({ cmd: 'puback', messageId: pub.messageId });
      this.messages++;
      const text = typeof pub.payload === 'string' ? pub.payload : Buffer.from(pub.payload).toString('latin1');
      const seq = Number(/"seq":(\d+)/.exec(text)?.[1] ?? -1);
      if (seq > this.last) { this.last = seq; this.delivered++; }
    }
    const copy = this.keep || this.waiters.length ? JSON.parse(JSON.stringify(p, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v))) : p;
    if (this.keep) this.received.push(copy);
    const i = this.waiters.findIndex((w) => w.cmd === p.cmd);
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(copy);
  }

  start(): void { /* the broker pushes */ }
  ping(): void { this.send({ cmd: 'pingreq' }); }
  close(): void { this.send({ cmd: 'disconnect' }); this.end(); }
  destroy(): void { this.end(); }
}

/** Calls `f` on each item, spread evenly over `ms`. */
export function spread<T>(items: T[], ms: number, f: (item: T) => void): void {
  const n = items.length;
  if (!n) return;
  const slots = Math.max(1, Math.min(n, Math.floor(ms / 5)));
  for (let s = 0; s < slots; s++) {
    setTimeout(() => { for (let i = s; i < n; i += slots) f(items[i]); }, (s * ms) / slots);
  }
}
