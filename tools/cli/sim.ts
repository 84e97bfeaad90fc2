// `sparrow sim`: a fleet of simulated boards against the embedded broker or any broker, with faults,
// live progress, a final report and JSON. SIGINT stops the run early; it still drains and reports.
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_PREFIX } from '../../firmware/app/config';
import { AppRepl, openAppRepl } from '../../host-sim/fleet/app-repl';
import { FAULTS_HELP, noFaults, parseDuration, parseFaults } from '../../host-sim/platform/faults';
import { Fleet, FLEET_DEFAULTS, type FleetOptions } from '../../host-sim/fleet/fleet';
import { Progress } from '../../host-sim/fleet/progress';
import { PtyConsole } from '../../host-sim/fleet/pty-console';
import { buildReport, formatReport } from '../../host-sim/fleet/report';
import { UsageError } from './usage';
import { resolveShard, shardSize } from '../../host-sim/fleet/shard';
import { MERGE_HELP, writeJson } from './sim-merge';
import { serveParent, workersFor, splitCommand, workerSpec } from './sim-workers';

export const SIM_OPTIONS = {
  devices: { type: 'string', short: 'n' },
  broker: { type: 'string', short: 'b' },
  rate: { type: 'string' },
  qos: { type: 'string', short: 'q' },
  'payload-bytes': { type: 'string' },
  faults: { type: 'string' },
  duration: { type: 'string', short: 'd' },
  seed: { type: 'string' },
  shard: { type: 'string' },
  shards: { type: 'string' },
  json: { type: 'string' },
  virtual: { type: 'boolean' },
  app: { type: 'boolean' },
  telemetry: { type: 'string' },
  discovery: { type: 'string' },
  console: { type: 'boolean' },
  pty: { type: 'string' },
  keepalive: { type: 'string' },
  queue: { type: 'string' },
  prefix: { type: 'string' },
  'down-rate': { type: 'string' },
  ramp: { type: 'string' },
  drain: { type: 'string' },
  port: { type: 'string', short: 'p' },
  'ws-port': { type: 'string' },
  username: { type: 'string', short: 'u' },
  password: { type: 'string', short: 'P' },
  // the old names of --port and --ws-port, kept to say so
  'broker-port': { type: 'string' },
  'http-port': { type: 'string' },
  'no-local-addresses': { type: 'boolean' },
  'host-stats': { type: 'boolean' },
  'progress-interval': { type: 'string' },
  profile: { type: 'string' },
} as const;

export const SIM_HELP = [
  '  -n, --devices N          boards in the whole fleet (default ' + FLEET_DEFAULTS.devices + ')',
  '  -b, --broker URL|embedded  mqtt://, mqtts://, ws:// or wss:// broker (mqtt://user:password@host too), or the',
  '                           in-process one (default embedded: MQTT on :' + FLEET_DEFAULTS.brokerPort + ', WebSocket and dashboard on :' + FLEET_DEFAULTS.httpPort + ',',
  '                           free ports if taken)',
  '  -u, --username U, -P, --password P   log in to the broker (every board, the checker)',
  '      --rate R/s           readings per second per board, e.g. 1/s, 0.1/s or 6/min (default 1/s)',
  '  -q, --qos 0|1|2|mixed    QoS of the readings; mixed gives board i QoS i mod 3 (default 1)',
  '      --payload-bytes B    size of each reading (default ' + FLEET_DEFAULTS.payloadBytes + ')',
  ...FAULTS_HELP.map((l) => '    ' + l),
  '  -d, --duration T         how long to run, e.g. 60s, 10min, 24h (virtual time with --virtual; default 60s,',
  '                           and with --app over real TCP until SIGINT or SIGTERM)',
  '      --seed S             seed of every random choice (default 1): the same seed replays a virtual run exactly',
  '      --shard i/n          run only device ids with id mod n = i (one slice of a fleet split over machines)',
  '      --shards N           with JOB_COMPLETION_INDEX (a Kubernetes Indexed Job\'s pod index) in the environment:',
  '                           run shard JOB_COMPLETION_INDEX/N (or N from SPARROW_SHARDS); see deploy/',
  '      --json FILE|-        write the final report as JSON (- : on stdout, the rest on stderr), with latency',
  '                           histograms, for `sparrow sim merge`',
  '      --virtual            virtual time, in-memory links and the in-process broker: hours of a fleet in minutes',
  '      --app                boards run the firmware image (dist/espruino/firmware.<profile>.js, what flash.sh',
  '                           uploads) as device ids sensor-00000...: status (birth/will) on TOPIC/<id>/status,',
  '                           a reading every 1/rate s on TOPIC/<id>/temperature, commands on TOPIC/<id>/cmd,',
  '                           telemetry lines on the console; the report compares each board\'s acked counter',
  '                           with what the checker received (--qos, --payload-bytes, --down-rate do not apply)',
  '      --telemetry S        with --app: seconds between the boards\' telemetry lines (default 10, 0 for none)',
  '      --discovery PREFIX   with --app: boards announce their sensors to Home Assistant under PREFIX (normally',
  '                           homeassistant): retained configs on PREFIX/sensor/<id>/<sensor>/config (full profile)',
  '      --console            one board (-n 1): its console on stdout, the progress on stderr',
  '      --pty DIR            each board\'s console as a pseudo-terminal DIR/board-<id> (needs socat); with --app',
  '                           it is the board\'s Espruino-like REPL (echo, prompt, DLE lines): `sparrow` is the',
  '                           app (configure/config/status), E.reboot() restarts it, require("Storage") is the',
  '                           board\'s Storage, telemetry lines are printed: `sparrow provision DIR/board-<id>` works,',
  '                           and `./flash.sh --port DIR/board-<id>` replaces the board\'s app with the uploaded image',
  '                           (it runs from the board\'s Storage at every boot; its counters stay in the report)',
  '      --keepalive S        MQTT keepalive of the boards, seconds (default ' + FLEET_DEFAULTS.keepalive + ')',
  '      --queue N            message store slots per board: offline queue and in-flight (default ' + FLEET_DEFAULTS.queue + ')',
  '      --prefix TOPIC       readings go to TOPIC/<id> (default ' + FLEET_DEFAULTS.prefix + ')',
  '      --down-rate R/s      also send each board R messages per second on TOPIC/in/<id>',
  '      --ramp N/s           boards started per second over real TCP (default ' + FLEET_DEFAULTS.ramp + ')',
  '      --drain T            longest wait at the end for queues to empty (default 2min)',
  '  -p, --port N, --ws-port N|off   ports of the embedded broker, as `sparrow broker` names them (real TCP)',
  '      --no-local-addresses do not spread boards over 127.1.x.y source addresses',
  '      --host-stats         put wall time and heap in a virtual run\'s JSON too (they vary from run to run)',
  '      --progress-interval T  time between progress updates (default 1s)',
  '      --profile small|full library bundle the boards run (default full)',
  '      Over real TCP a fleet larger than one process can hold (one open file per board) runs in worker processes',
  '      on its own, their reports merged; an OS limit hit during a run (EMFILE, EADDRNOTAVAIL...) ends it with exit 1.',
  '  Exit code: 0; 1 when an accepted QoS 1/2 reading was lost or is still pending at the end, a QoS 2 reading',
  '  was delivered twice, or the broker cannot be reached (said within 10 s); 2 bad usage.',
  ...MERGE_HELP,
];

type Values = { [k: string]: string | boolean | undefined };

/** "1/s", "0.5/s", "6/min", "2" → per second. */
function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/(s|min|h))?$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a rate like 1/s or 6/min`);
  return parseFloat(m[1]) / (m[2] === 'min' ? 60 : m[2] === 'h' ? 3600 : 1);
}

function whole(name: string, text: string, min = 0): number {
  if (!/^\d+$/.test(text) || +text < min) throw new Error(`--${name} wants a whole number${min ? ' >= ' + min : ''}, not "${text}"`);
  return +text;
}

/** Flags to fleet options; throws a readable Error for bad input. */
export function simOptions(v: Values): FleetOptions & { json?: string; pty?: string; showConsole: boolean; hostStats: boolean; faultsText: string; interval: number } {
  const s = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const o: any = { ...FLEET_DEFAULTS, faultsText: s('faults') || '' };
  if (s('devices')) o.devices = whole('devices', s('devices')!, 1);
  if (s('broker')) Object.assign(o, brokerAndLogin(s('broker')!, s('username'), s('password')));
  else if (s('username') || s('password')) o.login = login(s('username'), s('password'));
  if (v.virtual && o.broker !== 'embedded') throw new Error('--virtual runs the in-process broker on virtual time: it cannot use --broker ' + s('broker'));
  if (s('rate')) o.rate = parseRate(s('rate')!);
  if (s('qos')) {
    const q = s('qos')!;
    if (!/^(0|1|2|mixed)$/.test(q)) throw new Error(`--qos wants 0, 1, 2 or mixed, not "${q}"`);
    o.qos = q === 'mixed' ? 'mixed' : +q;
  }
  if (s('payload-bytes')) o.payloadBytes = whole('payload-bytes', s('payload-bytes')!, 1);
  o.faults = parseFaults(s('faults'));
  if (!v.virtual && shapesLinks(o.faults)) throw new Error('latency=, bandwidth=, split= and merge= shape in-memory links: use them with --virtual');
  if (s('duration')) o.duration = parseDuration(s('duration')!);
  // the fleet of `npm start`: real boards run until stopped, as a fleet on a desk would
  else if (v.app && !v.virtual) o.duration = Infinity;
  if (s('seed')) o.seed = whole('seed', s('seed')!);
  o.shard = resolveShard(s('shard'), s('shards'), process.env);
  o.virtual = !!v.virtual;
  o.app = !!v.app;
  if (o.app) {
    for (const k of ['qos', 'payload-bytes', 'down-rate']) if (s(k)) throw new Error(`--${k} is for the accounting workload; --app boards publish as the firmware does (QoS 1 readings)`);
    if (!(o.rate >= 1 / 86400 && o.rate <= 10)) throw new Error('--app boards sample every 0.1 to 86400 s: --rate from 10/s down to 1/24h');
  } else if (s('telemetry') || s('discovery')) throw new Error(`--${s('telemetry') ? 'telemetry' : 'discovery'} is for --app boards`);
  if (s('telemetry')) {
    const t = parseFloat(s('telemetry')!);
    if (!/^\d+(\.\d+)?$/.test(s('telemetry')!) || (t !== 0 && (t < 0.1 || t > 86400))) throw new Error('--telemetry wants seconds from 0.1 to 86400, or 0');
    o.telemetry = t;
  }
  if (s('keepalive')) o.keepalive = whole('keepalive', s('keepalive')!);
  if (s('queue')) o.queue = whole('queue', s('queue')!, 1);
  if (s('prefix')) o.prefix = s('prefix');
  if (s('down-rate')) o.downRate = parseRate(s('down-rate')!);
  if (s('ramp')) o.ramp = parseRate(s('ramp')!);
  if (s('drain')) o.drain = parseDuration(s('drain')!);
  if (s('broker-port')) throw new Error('--broker-port is now --port (-p), as in `sparrow broker`');
  if (s('http-port')) throw new Error('--http-port is now --ws-port, as in `sparrow broker`');
  if ((s('port') || s('ws-port')) && (o.broker !== 'embedded' || v.virtual)) throw new Error('--port and --ws-port are the embedded broker\'s: not with --broker URL or --virtual');
  if (s('port')) o.brokerPort = whole('port', s('port')!);
  if (s('ws-port')) o.httpPort = s('ws-port') === 'off' ? null : whole('ws-port', s('ws-port')!);
  if (v['no-local-addresses']) o.localAddresses = false;
  if (s('profile')) {
    if (!/^(small|full)$/.test(s('profile')!)) throw new Error('--profile wants small or full');
    o.profile = s('profile');
  }
  if (!o.app && o.rate === 0 && o.downRate === 0) throw new Error('--rate 0 without --down-rate: the boards would have nothing to send or receive');
  if (s('discovery')) {
    if (o.profile === 'small') throw new Error('--discovery needs the full profile');
    if (/[+#]/.test(s('discovery')!) || ('/' + s('discovery') + '/').includes('//')) throw new Error('--discovery wants topic levels (no + #, no empty level)');
    o.discovery = s('discovery');
  }
  o.json = s('json');
  if (o.json !== undefined && o.json !== '-') checkWritable(o.json);
  if (o.json === '-' && v.console) throw new Error('--console and --json - both want stdout: give --json a FILE');
  o.pty = s('pty');
  o.showConsole = !!v.console;
  o.hostStats = !!v['host-stats'];
  o.interval = s('progress-interval') ? parseDuration(s('progress-interval')!) : 1000;
  if (o.showConsole && o.devices !== 1) throw new Error('--console shows one board\'s console: use it with --devices 1 (or --pty for many)');
  if (o.qos === 2 && o.profile === 'small') throw new Error('the small profile has no QoS 2');
  return o;
}

/** The link shapes of --faults that only in-memory links have. */
function shapesLinks(faults: ReturnType<typeof parseFaults>): boolean {
  const none = noFaults().shape, shape = faults.shape;
  return (Object.keys(none) as Array<keyof typeof none>).some((k) => shape[k] !== none[k]);
}

function login(username: string | undefined, password: string | undefined): FleetOptions['login'] {
  if (username === undefined) throw new Error('--password needs --username: a password goes with a user name');
  return password === undefined ? { username } : { username, password };
}

/**
 * --broker as the fleet's URL and login: the user info of mqtt://user:password@host comes off the URL
 * (the boards' URL parser takes none) and becomes the login, unless -u/-P give one.
 */
function brokerAndLogin(text: string, username: string | undefined, password: string | undefined): Pick<FleetOptions, 'broker' | 'login'> {
  if (text === 'embedded') return { broker: text, login: username || password ? login(username, password) : undefined };
  let u: URL | null = null;
  try { u = new URL(text); } catch { /* said below */ }
  if (!u || !/^(mqtts?|wss?):$/.test(u.protocol) || !u.hostname || !/^[a-z]+:\/\//.test(text)) {
    throw new Error(`--broker: "${text}" is not embedded nor an mqtt://, mqtts://, ws:// or wss:// URL`);
  }
  const user = u.username ? decodeURIComponent(u.username) : undefined;
  const pass = u.password ? decodeURIComponent(u.password) : undefined;
  if (user !== undefined && (username !== undefined || password !== undefined)) throw new Error('the broker URL has a user: do not also give --username/--password');
  u.username = u.password = '';
  // URL writes mqtt://host:1883 with the path it has ('' for mqtt:, '/' added for ws:)
  const broker = u.protocol + '//' + u.host + (u.pathname === '/' && !/^wss?:/.test(u.protocol) ? '' : u.pathname);
  return { broker, login: user !== undefined ? login(user, pass) : username || password ? login(username, password) : undefined };
}

/** --json FILE must be writable before the run starts, not found unwritable when the report is due. */
function checkWritable(file: string): void {
  const where = path.resolve(file);
  try {
    if (fs.existsSync(where)) {
      if (fs.statSync(where).isDirectory()) throw new Error('it is a directory');
      fs.accessSync(where, fs.constants.W_OK);
    } else fs.accessSync(path.dirname(where), fs.constants.W_OK);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as NodeJS.ErrnoException).code || (e as Error).message;
    throw new Error(`--json: cannot write ${file}: ${why}`);
  }
}

/** Runs `sparrow sim`; resolves with the exit code (throws a UsageError for bad flags). */
export async function simCommand(values: Values): Promise<number> {
  // a worker of a split run: the parent's command line, with its sub-shard, broker and report channel
  const worker = workerSpec();
  if (worker) values = { ...values, shard: worker.shard.index + '/' + worker.shard.count, shards: undefined, json: undefined, broker: worker.broker || values.broker };
  let o: ReturnType<typeof simOptions>;
  try {
    o = simOptions(values);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let workers = 0;
  try {
    if (!o.virtual) workers = workersFor(shardSize(o.shard, o.devices), o.broker === 'embedded', !o.pty && !o.showConsole && !worker);
  } catch (e) {
    console.error('sparrow sim: ' + (e as Error).message);
    return 1;
  }
  if (workers) return splitCommand(o, workers);
  const ptys = new Map<number, PtyConsole>();
  const repls = new Map<number, AppRepl>();
  const stdoutConsole = o.showConsole;
  o.console = (id, line) => {
    if (stdoutConsole) process.stdout.write(line + '\n');
    const p = ptys.get(id);
    if (p) p.write(line);
    const r = repls.get(id);
    if (r) r.console.print(line + '\r\n');
  };
  if (o.app && o.pty) o.appFiles = (id) => (repls.has(id) ? repls.get(id)!.files : undefined);
  const fleet = new Fleet(o);
  if (o.pty) {
    const dir = path.resolve(o.pty);
    fs.mkdirSync(dir, { recursive: true });
    try {
      for (const id of fleet.ids()) {
        if (o.app) repls.set(id, await openAppRepl(fleet, id, dir, (text) => console.error('sparrow sim: ' + text)));
        else ptys.set(id, await PtyConsole.open(dir, 'board-' + id, (line) => o.console!(id, '> ' + line)));
      }
    } catch (e) {
      for (const p of ptys.values()) p.close();
      for (const r of repls.values()) await r.close();
      console.error('sparrow sim: ' + (e as Error).message);
      return 1;
    }
    console.error(`sparrow sim: consoles at ${dir}/board-<id> (${ptys.size + repls.size}${o.app ? ', Espruino-like REPLs' : ''})`);
  }
  // the console, or the JSON report, has stdout when asked for; progress and messages then go to stderr
  const out = stdoutConsole || o.json === '-' ? process.stderr : process.stdout;
  const parent = worker ? serveParent(() => fleet.requestStop()) : null;
  // --app readings carry no time stamp: no latency to show
  const progress = new Progress(out, o.app ? null : fleet.ledger.latency);
  const onInt = (signal: NodeJS.Signals) => {
    if (fleet.stopping) { console.error('sparrow sim: second ' + signal + ', exiting without a report'); process.exit(130); }
    console.error('\nsparrow sim: ' + signal + ', stopping (draining briefly, then the report)');
    fleet.requestStop();
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onInt); // `timeout`, a service manager: stop the same way, with the report
  try {
    const started = fleet.run((s) => (parent ? parent.tick(s, fleet.ledger.latency) : progress.update(s)), o.interval);
    await waitForBroker(fleet, out);
    await started;
  } catch (e) {
    console.error('sparrow sim: ' + (e as Error).message);
    return 1;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onInt);
    for (const p of ptys.values()) p.close();
    for (const r of repls.values()) await r.close();
  }
  const report = buildReport(fleet, o.faultsText, o.hostStats);
  if (parent) await parent.report(report);
  else out.write('\n' + formatReport(report) + '\n');
  if (o.json) writeJson(o.json, report);
  return report.verdict === 'OK' ? 0 : 1;
}

/** Says which broker the fleet uses: where the embedded one listens, once it does. */
async function waitForBroker(fleet: Fleet, out: NodeJS.WritableStream): Promise<void> {
  for (let i = 0; i < 500 && !fleet.brokerUrl; i++) await new Promise((r) => setTimeout(r, 10));
  // a URL broker: said before the checker tries it (minus any password), so a wait for it is explained
  if (!fleet.broker && fleet.brokerUrl) out.write(`broker: ${fleet.brokerUrl}${fleet.o.login ? ' as ' + fleet.o.login.username : ''}\n`);
  if (fleet.broker && !fleet.o.virtual) {
    const p = fleet.broker.ports;
    // the dashboard shows the default prefix's boards; another prefix goes in its URL
    const dashboard = p.ws ? `http://127.0.0.1:${p.ws}/` + (fleet.o.app && fleet.o.prefix !== DEFAULT_PREFIX ? '?prefix=' + encodeURIComponent(fleet.o.prefix) : '') : '';
    out.write(`embedded broker: mqtt://127.0.0.1:${p.tcp}` + (dashboard ? `, WebSocket on ws://127.0.0.1:${p.ws}/mqtt\ndashboard: ${dashboard}` : '') + '\n');
  }
}
