// The board's settings: one JSON file in Storage, laid over defaults and checked before anything
// connects. A config that cannot run is reported and not used: the app then waits for provisioning
// rather than publish under a wrong id or prefix, or hammer a wrong broker.
import type { PlatformStorage } from '../platform';
import { parseBrokerUrl } from '../url';

export const CONFIG_FILE = 'sparrow.json';
/** The topic prefix of a board left at its default; the simulator's fleets and the dashboard default to it too. */
export const DEFAULT_PREFIX = 'sparrow';

export interface Config {
  /** Device id: the MQTT client id and the topic level after the prefix. */
  id: string;
  /** Wi-Fi network to join; '' keeps whatever network the board already has. */
  ssid: string;
  wifiPassword: string;
  /** mqtt://, mqtts://, ws:// or wss:// URL; there is no default. */
  broker: string;
  username: string;
  password: string;
  /** Seconds between two samples. */
  interval: number;
  /** Seconds between two telemetry lines; 0 for event lines only. */
  telemetry: number;
  /** First topic level(s): topics are `<prefix>/<id>/...`. */
  prefix: string;
  /** Analog pin sampled as the sensor `analog` ('' for none). */
  pin: string;
  /** Home Assistant's discovery prefix ('homeassistant') to announce the sensors under; '' for none. Full image. */
  discovery: string;
}

/** Settings never printed: config lines show them as "***" when set. */
const SECRETS = ['wifiPassword', 'password'];

export function defaults(id: string): Config {
  return { id: id, ssid: '', wifiPassword: '', broker: '', username: '', password: '', interval: 10, telemetry: 10, prefix: DEFAULT_PREFIX, pin: '', discovery: '' };
}

/** Lays `changes` over `config` in place; null (or undefined) puts a setting back to its default. */
export function merge(config: Config, changes: object, base: Config): Config {
  const c = config as any, d = base as any, o = changes as any;
  for (const k in o) {
    if (o[k] !== null && o[k] !== undefined) c[k] = o[k];
    else if (k in d) c[k] = d[k];
    else delete c[k];
  }
  return config;
}

/** Why `config` cannot run, as "setting: reason", or '' when it can. */
export function configError(config: Config): string {
  const c = config as any, d = defaults('') as any;
  for (const k in c) {
    if (!(k in d)) return k + ': unknown setting';
    if (typeof c[k] !== typeof d[k]) return k + ': must be a ' + typeof d[k];
  }
  const url = parseBrokerUrl(config.broker);
  if (!url) return 'broker: ' + (config.broker ? 'not an mqtt://, mqtts://, ws:// or wss:// URL' : 'not set');
  // the small image leaves WebSocket out: said here, not found out when connect() refuses the URL
  if (!__WS__ && url.protocol.charAt(0) === 'w') return 'broker: ws:// needs the full image';
  // MQTT 3.1.1 forbids a password without a user name [MQTT-3.1.2-22]; brokers close the connection
  if (config.password && !config.username) return 'password: needs a username';
  if (!config.id || hasAny(config.id, '/+#')) return 'id: must be one topic level (no / + #)';
  if (!topicLevels(config.prefix)) return 'prefix: must be topic levels (no + #, no empty level)';
  // a conditional, not an early return: esbuild drops the other branch, not code after a return
  const discovery = __DISCOVERY__ ? discoveryError(config) : config.discovery ? 'discovery: needs the full image' : '';
  if (discovery) return discovery;
  return secondsError('interval', config.interval) || (config.telemetry ? secondsError('telemetry', config.telemetry) : '');
}

/** Whether `s` is one or more topic levels, without wildcards or an empty level. */
function topicLevels(s: string): boolean {
  // not indexOf('//'): Espruino 2v29 finds a longer needle whose start matches the end ("/a/".indexOf("//") is 2)
  return !hasAny(s, '+#') && s.split('/').indexOf('') < 0;
}

/** The characters Home Assistant allows in a discovery topic's node id. */
const WORD = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';

/** Why the `discovery` setting cannot run with this config, or '' (also when it is off). */
function discoveryError(config: Config): string {
  if (!config.discovery) return '';
  if (!topicLevels(config.discovery)) return 'discovery: must be topic levels (no + #, no empty level)';
  // Home Assistant ignores a discovery topic whose node id has other characters
  for (let i = 0; i < config.id.length; i++) if (WORD.indexOf(config.id.charAt(i)) < 0) return 'id: only letters, digits, _ and - with discovery';
  return '';
}

/** Whether `s` contains any of `chars`; a loop, as regular expressions are unreliable on Espruino. */
function hasAny(s: string, chars: string): boolean {
  for (let i = 0; i < chars.length; i++) if (s.indexOf(chars.charAt(i)) >= 0) return true;
  return false;
}

/** Periods from a tenth of a second (tests, fast sensors) to a day. */
export function secondsError(name: string, s: number): string {
  return s >= 0.1 && s <= 86400 ? '' : name + ': seconds from 0.1 to 86400';
}

/** The stored config over the defaults, and why it cannot run ('' when it can). */
export function readConfig(storage: PlatformStorage, base: Config): { config: Config; error: string } {
  const config = merge({} as Config, base, base);
  let stored: unknown;
  try {
    const text = storage.read(CONFIG_FILE);
    stored = text ? JSON.parse(text) : {};
  } catch (e) {
    return { config: config, error: CONFIG_FILE + ': not JSON' };
  }
  if (typeof stored !== 'object' || !stored) return { config: config, error: CONFIG_FILE + ': not a JSON object' };
  merge(config, stored, base);
  const error = configError(config);
  return { config: config, error: error && CONFIG_FILE + ': ' + error };
}

/** A copy fit to print: secrets become "***" when set, so a reader can tell they are there. */
export function publicConfig(config: Config): Config {
  const c = merge({} as Config, config, config) as any;
  for (let i = 0; i < SECRETS.length; i++) if (c[SECRETS[i]]) c[SECRETS[i]] = '***';
  return c;
}
