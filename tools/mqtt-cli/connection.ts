// What `sparrow pub` and `sparrow sub` share: mosquitto_pub/sub's connection flags (-h -p -u -P -i -k -c
// -V -L --cafile --insecure) read into a broker URL and client options, and one connection attempt
// with the project's own client on Node. Errors in the flags throw a UsageError (exit 2, before any
// traffic); a broker that cannot be reached or refuses us rejects with its reason (exit 1).
import * as fs from 'fs';
import type { ConnectionOptions } from 'tls';
import { connect, type ClientOptions, type MqttClient } from '../../firmware/client';
import { withWebSocket } from '../../firmware/transports/websocket';
import { nodePlatform } from '../../host-sim/platform/node';
import { UsageError } from '../cli/usage';

export type Values = { [name: string]: string | boolean | Array<string | boolean> | undefined };

export const CONNECTION_OPTIONS = {
  host: { type: 'string', short: 'h' },
  port: { type: 'string', short: 'p' },
  url: { type: 'string', short: 'L' },
  username: { type: 'string', short: 'u' },
  pw: { type: 'string', short: 'P' },
  id: { type: 'string', short: 'i' },
  keepalive: { type: 'string', short: 'k' },
  'no-clean': { type: 'boolean', short: 'c' },
  'protocol-version': { type: 'string', short: 'V' },
  qos: { type: 'string', short: 'q' },
  cafile: { type: 'string' },
  insecure: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

export const CONNECTION_HELP = [
  '  -h HOST             broker host (default localhost)',
  '  -p PORT             broker port (default 1883, 8883 with --cafile)',
  '  -L URL              broker and topic as one URL: mqtt[s]://[user[:password]@]host[:port]/topic',
  '                      (also ws[s]://host[:port]/path, the topic then comes from -t)',
  '  -u USER, -P PASS    user name and password for the broker',
  '  -i ID               client id (default sparrow_<command>_<pid>)',
  '  -k S                keepalive in seconds (default 60)',
  '  -c                  persistent session (clean session off)',
  '  -V 5|311            MQTT version: 5, 311 (also mqttv5, mqttv311; default 311)',
  '  -q 0|1|2            QoS (default 0)',
  '      --cafile FILE   trust this CA certificate (PEM) and connect with TLS (mqtts)',
  '      --insecure      with TLS, do not check that the certificate names the host',
  '      --quiet         print no error messages (the exit code still tells)',
];

/** Where and how to connect, read from the flags; `topic` is the one a -L mqtt:// URL carried. */
export interface Connection {
  url: string;
  options: ClientOptions;
  tls: ConnectionOptions;
  topic?: string;
  qos: 0 | 1 | 2;
  quiet: boolean;
}

const SCHEMES: { [scheme: string]: { protocol: string; port: number } } = {
  'mqtt:': { protocol: 'mqtt', port: 1883 }, 'tcp:': { protocol: 'mqtt', port: 1883 },
  'mqtts:': { protocol: 'mqtts', port: 8883 }, 'ssl:': { protocol: 'mqtts', port: 8883 },
  'ws:': { protocol: 'ws', port: 80 }, 'wss:': { protocol: 'wss', port: 443 },
};

const VERSIONS: { [flag: string]: 4 | 5 } = { 5: 5, mqttv5: 5, 311: 4, mqttv311: 4 };

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A whole number from a flag, within bounds; UsageError otherwise. */
export function wholeFlag(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`${flag} wants a whole number from ${min} to ${max}, not "${text}"`);
  return n;
}

/** A %-escaped part of a -L URL. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UsageError(`-L: "${text}" has a bad %-escape`);
  }
}

/** Reads the connection flags; throws a UsageError for anything wrong with them. */
export function connectionFrom(values: Values, command: string): Connection {
  let protocol = str(values, 'cafile') ? 'mqtts' : 'mqtt';
  let host = str(values, 'host') || 'localhost';
  let port: number | undefined;
  let path = '', topic: string | undefined;
  let username = str(values, 'username'), password = str(values, 'pw');
  const urlText = str(values, 'url');
  if (urlText !== undefined) {
    if (str(values, 'host') !== undefined || str(values, 'port') !== undefined) throw new UsageError('-L gives the host and port: do not also give -h or -p');
    // the path is split off by hand: in a topic, `#` and `?` are topic characters, not URL parts
    const authorityEnd = urlText.indexOf('/', urlText.indexOf('//') + 2);
    const pathText = authorityEnd < 0 ? '' : urlText.slice(authorityEnd);
    let u: URL;
    try {
      u = new URL(authorityEnd < 0 ? urlText : urlText.slice(0, authorityEnd));
    } catch {
      throw new UsageError(`-L: "${urlText}" is not a URL like mqtt://host:1883/topic`);
    }
    const scheme = SCHEMES[u.protocol];
    if (!scheme || !u.hostname || urlText.indexOf('//') < 0) throw new UsageError(`-L: "${urlText}" is not an mqtt://, mqtts://, ws:// or wss:// URL with a host`);
    protocol = scheme.protocol;
    host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    if (u.port) port = +u.port;
    if (u.username) username = decoded(u.username);
    if (u.password) password = decoded(u.password);
    if (protocol.charAt(0) === 'w') path = pathText === '/' ? '' : pathText;
    else if (pathText.length > 1) topic = decoded(pathText.slice(1));
  }
  if (str(values, 'port') !== undefined) port = wholeFlag('-p', str(values, 'port')!, 1, 65535);
  if (password !== undefined && username === undefined) throw new UsageError('-P needs -u: a password goes with a user name');
  const versionText = str(values, 'protocol-version') || '311';
  const protocolVersion = VERSIONS[versionText];
  if (!protocolVersion) {
    throw new UsageError(/^(mqttv)?31$/.test(versionText) ? 'MQTT 3.1 is not supported: use -V 311 or -V 5' : `-V wants 5 or 311 (or mqttv5, mqttv311), not "${versionText}"`);
  }
  const qos = wholeFlag('-q', str(values, 'qos') || '0', 0, 2) as 0 | 1 | 2;
  const options: ClientOptions = {
    clientId: str(values, 'id') || `sparrow_${command}_${process.pid}`,
    protocolVersion, clean: !values['no-clean'],
    keepalive: wholeFlag('-k', str(values, 'keepalive') || '60', 0, 65535),
    // one attempt: a command line tool says why it could not connect rather than retrying for ever
    reconnectPeriod: 0,
  };
  if (username !== undefined) options.username = username;
  if (password !== undefined) options.password = password;
  const tls: ConnectionOptions = {};
  const cafile = str(values, 'cafile');
  if (cafile !== undefined) {
    try {
      tls.ca = fs.readFileSync(cafile);
    } catch (e) {
      throw new UsageError(`--cafile: cannot read ${cafile}: ${(e as NodeJS.ErrnoException).code || (e as Error).message}`);
    }
  }
  if (values.insecure) tls.checkServerIdentity = () => undefined;
  const hostInUrl = host.indexOf(':') >= 0 ? '[' + host + ']' : host;
  const url = `${protocol}://${hostInUrl}:${port || SCHEMES[protocol + ':'].port}${path}`;
  return { url, options, tls, topic, qos, quiet: !!values.quiet };
}

/** Connects once: the client, and a promise that resolves once the broker accepted us, or rejects with why it did not. */
export function open(c: Connection): { client: MqttClient; connected: Promise<void> } {
  const client = connect(withWebSocket(nodePlatform({ tls: c.tls, log: () => {} })), c.url, { ...c.options });
  const connected = new Promise<void>((resolve, reject) => {
    // a refused CONNACK comes as 'error' (with the broker's reason) and then 'close'; once connected,
    // settling again does nothing, and the commands watch 'close' themselves
    let refused = '';
    client.on('error', (e: { message?: string }) => { refused = (e && e.message) || String(e); });
    client.on('close', (reason: string) => reject(new Error(refused || reason || 'connection closed')));
    client.on('connect', () => resolve());
  });
  return { client, connected };
}
