// MQTT.js's ways of naming a broker, turned into what the firmware client takes: one MQTT URL and its
// options. The host has WHATWG URL, so `mqtt://user:pw@host:port/?clientId=x`, `tcp://` and
// `connect({ host, port, protocol })` work here as they do in MQTT.js; the board's own parser
// (firmware/url.ts) stays small and only ever sees the canonical URL built below.
import type { ClientOptions } from '../../firmware/client';
import type { Payload, Properties, QoS, Will } from '../../firmware/mqtt/packets';

/** MQTT.js's connect options that Sparrow honours, plus the store sizes of the firmware client. */
export interface NodeClientOptions extends ClientOptions {
  host?: string;
  hostname?: string;
  port?: number;
  /** mqtt, mqtts, tcp, ssl, tls, ws, wss (with or without the trailing colon). */
  protocol?: string;
  /** WebSocket path (ws://, wss://). */
  path?: string;
  /** false accepts a broker certificate that does not verify (self-signed test brokers). */
  rejectUnauthorized?: boolean;
  /** As MQTT.js: true keeps reconnecting after the broker refused the CONNECT (bad password, ...). */
  reconnectOnConnackError?: boolean;
  password?: Payload;
  will?: Will;
  properties?: Properties;
  qos?: QoS;
}

/** MQTT.js's protocol names, and the URL scheme the firmware client knows each by. */
const SCHEMES: { [protocol: string]: string } = {
  mqtt: 'mqtt', tcp: 'mqtt', mqtts: 'mqtts', ssl: 'mqtts', tls: 'mqtts', ws: 'ws', wss: 'wss',
};

/**
 * Sized for a Node process, not a board: the board's 4 KB / 64-record store refuses most of a burst
 * of QoS>0 publishes ("store full"), where MQTT.js queues them all. 8 MB holds a burst of 65,535
 * (every packet id) small messages; the area is allocated once, and untouched pages cost no memory.
 */
export const NODE_DEFAULTS: ClientOptions = {
  storeBytes: 8 * 1024 * 1024, storeSlots: 65535, inflightMax: 100, maxPacketSize: 256 * 1024 * 1024,
};

export interface ResolvedConnect {
  /** The canonical MQTT URL for the firmware client (no user info, no query). */
  url: string;
  options: NodeClientOptions;
}

/**
 * `connect(url, options)`, `connect(options)`: URL parts first, explicit options over them (as MQTT.js
 * merges them), then the Node defaults under everything. Throws an Error for what cannot be a broker.
 */
export function resolveConnect(urlOrOptions?: string | NodeClientOptions, maybeOptions?: NodeClientOptions): ResolvedConnect {
  const given = typeof urlOrOptions === 'object' && urlOrOptions !== null ? urlOrOptions : maybeOptions || {};
  const fromUrl: NodeClientOptions = typeof urlOrOptions === 'string' ? parseUrl(urlOrOptions) : {};
  const o: NodeClientOptions = { ...NODE_DEFAULTS, ...fromUrl, ...given };
  const protocol = (o.protocol || 'mqtt').replace(/:$/, '');
  const scheme = SCHEMES[protocol];
  if (!scheme) throw new Error('unknown protocol "' + protocol + '" (mqtt, mqtts, tcp, ssl, tls, ws, wss)');
  const host = o.hostname || o.host || 'localhost';
  const port = o.port === undefined ? undefined : Number(o.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new Error('invalid port: ' + o.port);
  if (o.clean === false && !o.clientId) throw new Error('Missing clientId for unclean clients'); // as MQTT.js
  // made up here, not by the firmware client, so that client.options.clientId names it as in MQTT.js
  o.clientId = o.clientId || 'sparrow_' + Math.random().toString(16).slice(2, 10);
  const authority = (host.indexOf(':') >= 0 ? '[' + host + ']' : host) + (port ? ':' + port : '');
  const path = scheme.charAt(0) === 'w' ? o.path || '/mqtt' : '';
  return { url: scheme + '://' + authority + path, options: o };
}

/** The parts of a broker URL MQTT.js reads: protocol, host, port, user:password, path and ?clientId=. */
function parseUrl(text: string): NodeClientOptions {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error('not a broker URL: ' + text);
  }
  const o: NodeClientOptions = { protocol: u.protocol.replace(/:$/, ''), host: u.hostname.replace(/^\[(.*)\]$/, '$1') };
  if (u.port) o.port = Number(u.port);
  if (u.username) o.username = decodeURIComponent(u.username);
  if (u.password) o.password = decodeURIComponent(u.password);
  if (u.pathname && u.pathname !== '/') o.path = u.pathname;
  const clientId = u.searchParams.get('clientId');
  if (clientId) o.clientId = clientId;
  return o;
}
