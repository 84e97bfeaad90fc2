// `sparrow broker`: options from flags and an optional JSON config file (flags win), then a broker that
// runs until SIGINT or SIGTERM. Prints one `listening` line per port on stdout for scripts and tests.
import * as fs from 'fs';
import { parseArgs } from 'util';
import { Auth } from '../../broker/auth';
import { Broker } from '../../broker/broker';
import { createLogger, LEVELS } from '../../broker/log';
import { DEFAULTS, type BrokerOptions } from '../../broker/options';

/** The flags, for parseArgs; `sparrow`'s command table uses the same object (tools/cli/main.ts). */
export const BROKER_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  'ws-port': { type: 'string' },
  'ws-path': { type: 'string' },
  'ws-subprotocol-optional': { type: 'boolean' },
  'tls-port': { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'data-dir': { type: 'string' },
  fsync: { type: 'boolean' },
  passwd: { type: 'string' },
  'allow-anonymous': { type: 'boolean' },
  acl: { type: 'string' },
  'max-packet-size': { type: 'string' },
  'server-keep-alive': { type: 'string' },
  'max-keepalive': { type: 'string' },
  'receive-maximum': { type: 'string' },
  'max-inflight': { type: 'string' },
  'queue-high': { type: 'string' },
  'max-topic-levels': { type: 'string' },
  'max-queued-messages': { type: 'string' },
  'max-queued-bytes': { type: 'string' },
  'memory-limit': { type: 'string' },
  'stall-timeout': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'sys-interval': { type: 'string' },
  'log-level': { type: 'string' },
  config: { type: 'string', short: 'c' },
} as const;
const OPTIONS = { ...BROKER_OPTIONS, help: { type: 'boolean', short: 'h' } } as const;

/** The command's HTTP port; the library's default is off, so that tests and embedders open it only on purpose. */
export const CLI_WS_PORT = 8080;

export const BROKER_HELP = `Usage: sparrow broker [options]

Runs the Sparrow reference MQTT broker (MQTT 3.1.1 and 5) until SIGINT or SIGTERM.

Options:
  -p, --port N               TCP port (default ${DEFAULTS.port}; 0 picks a free one; "off" disables)
      --host ADDR            address to listen on (default ${DEFAULTS.host})
      --ws-port N            HTTP port: MQTT over WebSocket and the dashboard at / (default ${CLI_WS_PORT}; "off" disables)
      --ws-path PATH         WebSocket path (default ${DEFAULTS.wsPath})
      --ws-subprotocol-optional  accept WebSocket clients that do not offer the "mqtt" subprotocol
      --tls-port N           MQTT over TLS on this port (needs --cert and --key; usual 8883)
      --cert FILE            TLS certificate (PEM)
      --key FILE             TLS private key (PEM)
      --data-dir DIR         keep retained messages and persistent sessions in LMDB here
      --fsync                acknowledge QoS 1/2 publishes only once flushed to disk (with --data-dir)
      --passwd FILE          password file (mosquitto_passwd's; see sparrow passwd); anonymous clients are refused
      --allow-anonymous      with --passwd, still let clients without a user name in
      --acl FILE             per-user topic patterns (see docs/broker.md)
      --max-packet-size N    largest packet accepted, bytes (default ${DEFAULTS.maxPacketSize})
      --server-keep-alive S  keep alive imposed on MQTT 5 clients, seconds (default: the client's)
      --max-keepalive S      longest keep alive allowed (mosquitto's max_keepalive): MQTT 5 clients asking more or 0 are told S, 3.1.1 ones refused (default 0: any)
      --receive-maximum N    QoS 1/2 publishes a client may leave unacknowledged (default ${DEFAULTS.receiveMaximum})
      --max-inflight N       QoS 1/2 messages in flight to a client (default ${DEFAULTS.maxInflight})
      --queue-high N         queued messages per client that pause its publishers (default ${DEFAULTS.queueHigh})
      --max-queued-messages N  QoS 1/2 messages one session may hold, queued and in flight (default ${DEFAULTS.maxQueuedMessages})
      --max-queued-bytes N   bytes of messages one session may hold (default ${DEFAULTS.maxQueuedBytes}); past either bound a message is dropped and counted, a connected client disconnected
      --memory-limit N       bytes of messages all sessions together may hold; past it messages for offline sessions are dropped and counted (default ${DEFAULTS.memoryLimit}; 0: none)
      --stall-timeout MS     a subscriber whose full queue makes no progress this long is disconnected (default ${DEFAULTS.stallTimeout}; 0: never)
      --max-topic-levels N   levels a topic or filter may have; deeper ones are refused (default ${DEFAULTS.maxTopicLevels})
      --connect-timeout MS   time a new connection has to send CONNECT (default ${DEFAULTS.connectTimeout})
      --sys-interval S       seconds between $SYS updates, 0 disables (default ${DEFAULTS.sysInterval})
      --log-level LEVEL      ${LEVELS.join(', ')} or silent (default ${DEFAULTS.logLevel})
  -c, --config FILE          JSON file of options by their long names (e.g. {"port": 1884, "acl": "acl.txt"})
  -h, --help                 this help`;

type Values = { [k: string]: string | boolean | undefined };

const NUMBERS: [string, keyof BrokerOptions][] = [
  ['max-packet-size', 'maxPacketSize'], ['server-keep-alive', 'serverKeepAlive'], ['max-keepalive', 'maxKeepalive'],
  ['receive-maximum', 'receiveMaximum'],
  ['max-inflight', 'maxInflight'], ['queue-high', 'queueHigh'], ['max-queued-messages', 'maxQueuedMessages'],
  ['max-queued-bytes', 'maxQueuedBytes'], ['memory-limit', 'memoryLimit'], ['stall-timeout', 'stallTimeout'], ['max-topic-levels', 'maxTopicLevels'],
  ['connect-timeout', 'connectTimeout'], ['sys-interval', 'sysInterval'],
];
/** Numbers the protocol bounds: the broker tells them to clients in fields of this range (a 0 there is a protocol error). */
const RANGES: { [flag: string]: [number, number] } = {
  'max-packet-size': [1, 268435460], 'server-keep-alive': [0, 65535], 'receive-maximum': [1, 65535], 'max-topic-levels': [1, 65535],
};
const PORTS: [string, keyof BrokerOptions][] = [['port', 'port'], ['ws-port', 'wsPort'], ['tls-port', 'tlsPort']];
const STRINGS: [string, keyof BrokerOptions][] = [
  ['host', 'host'], ['ws-path', 'wsPath'], ['cert', 'cert'], ['key', 'key'], ['data-dir', 'dataDir'],
  ['passwd', 'passwd'], ['acl', 'acl'], ['log-level', 'logLevel'],
];
const BOOLEANS: [string, keyof BrokerOptions][] = [
  ['fsync', 'fsync'], ['allow-anonymous', 'allowAnonymous'], ['ws-subprotocol-optional', 'wsSubprotocolOptional'],
];

/** Turns flags (and the config file they name) into broker options; throws a readable Error on bad input. */
export function brokerOptions(values: Values): Partial<BrokerOptions> {
  const fromFile = typeof values.config === 'string' ? configFileOptions(values.config) : {};
  const o: Partial<BrokerOptions> = { ...fromFile, ...toOptions(values, (flag) => `--${flag}`) };
  if ((o.cert === undefined) !== (o.key === undefined)) throw new Error('--cert and --key go together');
  if (o.cert && o.tlsPort === undefined) o.tlsPort = 8883;
  if (o.wsPort === undefined) o.wsPort = CLI_WS_PORT;
  return o;
}

/**
 * The options of a `-c FILE`: a JSON object keyed by the long flag names. A key that is not one, a value
 * of the wrong type or out of range, and a file that is not JSON are errors naming the file (and the key).
 */
function configFileOptions(file: string): Partial<BrokerOptions> {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${e instanceof SyntaxError ? 'not valid JSON: ' : ''}${(e as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${file}: not a JSON object of options`);
  const values: Values = {};
  for (const [key, v] of Object.entries(json)) {
    const spec = key === 'config' ? undefined : (BROKER_OPTIONS as { [k: string]: { type: string } })[key];
    if (!spec) throw new Error(`${file}: unknown key "${key}"${suggestKey(key)}`);
    const ok = spec.type === 'boolean' ? typeof v === 'boolean' : typeof v === 'string' || typeof v === 'number';
    if (!ok) throw new Error(`${file}: "${key}" wants ${spec.type === 'boolean' ? 'true or false' : 'a string or a number'}, not ${JSON.stringify(v)}`);
    values[key] = typeof v === 'number' ? String(v) : (v as string | boolean);
  }
  return toOptions(values, (flag) => `${file}: "${flag}"`);
}

/** ` (did you mean "ws-port"?)` for `wsPort`, `ws_port` or `WS-PORT`. */
function suggestKey(key: string): string {
  const flat = (k: string) => k.toLowerCase().replace(/[-_]/g, '');
  const match = Object.keys(BROKER_OPTIONS).find((k) => k !== 'config' && flat(k) === flat(key));
  return match ? ` (did you mean "${match}"?)` : ` (the keys are the long flag names, e.g. "port", "ws-port", "acl")`;
}

/** Options from flag-named values; `label(flag)` names a value in an error (`--port`, or a file and key). */
function toOptions(values: Values, label: (flag: string) => string): Partial<BrokerOptions> {
  const o: Partial<BrokerOptions> = {};
  const num = (flag: string, v: string | boolean | undefined): number => {
    const n = Number(v);
    if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new Error(`${label(flag)} wants a whole number, not "${v}"`);
    return n;
  };
  for (const [flag, key] of NUMBERS) {
    if (values[flag] === undefined) continue;
    const n = num(flag, values[flag]), range = RANGES[flag];
    if (range && (n < range[0] || n > range[1])) throw new Error(`${label(flag)}: ${n} is not from ${range[0]} to ${range[1]}`);
    (o as any)[key] = n;
  }
  if (o.maxKeepalive !== undefined && o.maxKeepalive > 65535) throw new Error(`${label('max-keepalive')}: ${o.maxKeepalive} is over 65535 seconds`);
  for (const [flag, key] of PORTS) {
    const v = values[flag];
    if (v === undefined) continue;
    (o as any)[key] = v === 'off' ? null : num(flag, v);
    if ((o as any)[key] !== null && (o as any)[key] > 65535) throw new Error(`${label(flag)}: ${v} is not a port`);
  }
  for (const [flag, key] of STRINGS) if (typeof values[flag] === 'string') (o as any)[key] = values[flag];
  for (const [flag, key] of BOOLEANS) if (values[flag] !== undefined) (o as any)[key] = !!values[flag];
  if (o.logLevel !== undefined && o.logLevel !== 'silent' && !(LEVELS as readonly string[]).includes(o.logLevel)) {
    throw new Error(`${label('log-level')}: "${o.logLevel}" is not one of ${LEVELS.join(', ')}, silent`);
  }
  return o;
}

/** Runs the broker command; resolves with the exit code once the broker has stopped. */
export async function brokerCommand(argv: string[]): Promise<number> {
  let values: Values;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values as Values;
  } catch (e) {
    console.error(`sparrow broker: ${(e as Error).message}\n\n${BROKER_HELP}`);
    return 2;
  }
  if (values.help) { console.log(BROKER_HELP); return 0; }
  return runBroker(values);
}

/** The option lines of --help (without the usage line and -h), for `sparrow broker --help`. */
export const BROKER_OPTION_HELP: string[] = BROKER_HELP.split('\n').filter((l) => /^\s+-/.test(l) && !/--help/.test(l));

/** Runs the broker on parsed flags until SIGINT or SIGTERM; resolves with the exit code. */
export async function runBroker(values: Values): Promise<number> {
  let options: Partial<BrokerOptions>;
  try {
    options = brokerOptions(values);
    new Auth(options); // a password or ACL file that cannot be read is a usage error, found before anything starts
  } catch (e) {
    console.error(`sparrow broker: ${(e as Error).message}`);
    return 2;
  }
  const log = createLogger(options.logLevel || DEFAULTS.logLevel);
  let broker: Broker;
  try {
    broker = await Broker.start({ ...options, logger: log });
  } catch (e) {
    log.error(`cannot start: ${(e as Error).message}`);
    return 1;
  }
  for (const [name, port] of Object.entries(broker.ports)) if (port) console.log(`listening ${name} ${port}`);
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      log.info(`${signal}: shutting down`);
      broker.close().then(() => resolve(0), (e) => { log.error(`shutdown: ${e}`); resolve(1); });
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}
