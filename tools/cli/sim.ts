// `sparrow sim`: a fleet of simulated boards against the embedded broker or any broker, with faults,
// live progress, a final report and JSON. SIGINT stops the run early; it still drains and reports.
import * as fs from 'fs';
import * as path from 'path';
import { AppRepl, openAppRepl } from '../../host-sim/fleet/app-repl';
import { FAULTS_HELP, parseDuration, parseFaults } from '../../host-sim/platform/faults';
import { Fleet, FLEET_DEFAULTS, FleetOptions } from '../../host-sim/fleet/fleet';
import { Progress } from '../../host-sim/fleet/progress';
import { PtyConsole } from '../../host-sim/fleet/pty-console';
import { buildReport, formatReport } from '../../host-sim/fleet/report';
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
  console: { type: 'boolean' },
  pty: { type: 'string' },
  keepalive: { type: 'string' },
  queue: { type: 'string' },
  prefix: { type: 'string' },
  'down-rate': { type: 'string' },
  ramp: { type: 'string' },
  drain: { type: 'string' },
  'broker-port': { type: 'string' },
  'http-port': { type: 'string' },
  'no-local-addresses': { type: 'boolean' },
  'host-stats': { type: 'boolean' },
  'progress-interval': { type: 'string' },
  profile: { type: 'string' },
} as const;

export const SIM_HELP = [
  '  -n, --devices N          boards in the whole fleet (default ' + FLEET_DEFAULTS.devices + ')',
  '  -b, --broker URL|embedded  mqtt://, mqtts://, ws:// or wss:// broker, or the in-process one (default embedded:',
  '                           MQTT on :' + FLEET_DEFAULTS.brokerPort + ', WebSocket and dashboard on :' + FLEET_DEFAULTS.httpPort + ', free ports if taken)',
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
  '      --broker-port N, --http-port N|off   ports of the embedded broker (real TCP)',
  '      --no-local-addresses do not spread boards over 127.1.x.y source addresses',
  '      --host-stats         put wall time and heap in a virtual run\'s JSON too (they vary from run to run)',
  '      --progress-interval T  time between progress updates (default 1s)',
  '      --profile small|full library bundle the boards run (default full)',
  '  Over real TCP a fleet larger than one process can hold (one open file per board) runs in worker processes',
  '  on its own, their reports merged; an OS limit hit during a run (EMFILE, EADDRNOTAVAIL...) ends it with exit 1.',
  '  Exit code: 0, or 1 when an accepted QoS 1/2 reading was lost or a QoS 2 reading was delivered twice.',
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
  if (s('broker')) o.broker = s('broker');
  if (o.broker !== 'embedded' && !/^(mqtts?|wss?):\/\/[^/]/.test(o.broker)) throw new Error(`--broker: "${o.broker}" is not embedded nor an mqtt://, mqtts://, ws:// or wss:// URL`);
  if (s('rate')) o.rate = parseRate(s('rate')!);
  if (s('qos')) {
    const q = s('qos')!;
    if (!/^(0|1|2|mixed)$/.test(q)) throw new Error(`--qos wants 0, 1, 2 or mixed, not "${q}"`);
    o.qos = q === 'mixed' ? 'mixed' : +q;
  }
  if (s('payload-bytes')) o.payloadBytes = whole('payload-bytes', s('payload-bytes')!, 1);
  o.faults = parseFaults(s('faults'));
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
  } else if (s('telemetry')) throw new Error('--telemetry is for --app boards');
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
  if (s('broker-port')) o.brokerPort = whole('broker-port', s('broker-port')!);
  if (s('http-port')) o.httpPort = s('http-port') === 'off' ? null : whole('http-port', s('http-port')!);
  if (v['no-local-addresses']) o.localAddresses = false;
  if (s('profile')) {
    if (!/^(small|full)$/.test(s('profile')!)) throw new Error('--profile wants small or full');
    o.profile = s('profile');
  }
  o.json = s('json');
  o.pty = s('pty');
  o.showConsole = !!v.console;
  o.hostStats = !!v['host-stats'];
  o.interval = s('progress-interval') ? parseDuration(s('progress-interval')!) : 1000;
  if (o.showConsole && o.devices !== 1) throw new Error('--console shows one board\'s console: use it with --devices 1 (or --pty for many)');
  if (o.qos === 2 && o.profile === 'small') throw new Error('the small profile has no QoS 2');
  return o;
}

/** Runs `sparrow sim`; resolves with the exit code. */
export async function simCommand(values: Values): Promise<number> {
  // a worker of a split run: the parent's command line, with its sub-shard, broker and report channel
  const worker = workerSpec();
  if (worker) values = { ...values, shard: worker.shard.index + '/' + worker.shard.count, shards: undefined, json: undefined, broker: worker.broker || values.broker };
  let o: ReturnType<typeof simOptions>;
  try {
    o = simOptions(values);
  } catch (e) {
    console.error('sparrow sim: ' + (e as Error).message);
    return 2;
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
  // the console has stdout when shown; progress and messages then go to stderr
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
  const v = report.violations;
  return v.lostQos1 + v.lostQos2 + v.duplicatesQos2 ? 1 : 0;
}

/** Says where the embedded broker listens, once it does. */
async function waitForBroker(fleet: Fleet, out: NodeJS.WritableStream): Promise<void> {
  for (let i = 0; i < 500 && !fleet.brokerUrl; i++) await new Promise((r) => setTimeout(r, 10));
  if (fleet.broker && !fleet.o.virtual) {
    const p = fleet.broker.ports;
    // the dashboard shows the fleet's topics when told its prefix
    const dashboard = p.ws ? `http://127.0.0.1:${p.ws}/` + (fleet.o.app ? '?prefix=' + encodeURIComponent(fleet.o.prefix) : '') : '';
    out.write(`embedded broker: mqtt://127.0.0.1:${p.tcp}` + (dashboard ? `, WebSocket on ws://127.0.0.1:${p.ws}/mqtt\ndashboard: ${dashboard}` : '') + '\n');
  }
}
