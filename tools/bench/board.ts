// Board suite: the library bundles (dist/espruino/sparrow-mqtt.{small,full}.js) on the real Espruino
// interpreter (ESPRUINO_BIN or --espruino PATH), against a mosquitto started on a free loopback port,
// beside a peer library given by path (--peer PATH: Espruino's own MQTT module, minified), in one sitting.
// JsVars after require, connected and subscribed, with the code in RAM (as an upload leaves it) and read
// from Storage (as a flashed board runs it); µs per QoS 0 publish, QoS 1 publish one at a time and QoS 0
// message received, with the code in RAM (the Linux build's Storage is a file, slower than a board's flash).
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { decodePackets, encodePacket } from '../../firmware/mqtt';
import { BENCH_PAYLOAD, BENCH_RX, harnessScript, type HarnessOptions } from './board-harness';
import { mosquittoVersion, startBroker } from './broker-hosts';
import { espruinoDir, espruinoVersion, startEspruino, writeStorage } from './espruino';
import { formatSummary, summarize, Summary } from './stats';
import type { RunOptions, Suite } from './suite';
import { markdownTable } from './table';

/** Timed batches per run, and operations per batch. */
const BATCHES = 7, PER_BATCH = 40;
/** Longest a run may take before it counts as hung. */
const RUN_MS = 120000;

interface Library { label: string; file: string; api: HarnessOptions['api']; peer: boolean }

const STEPS = ['require', 'connected', 'subscribed'] as const;
const SPEEDS = [
  { id: 'pub0', label: 'µs per QoS 0 publish' },
  { id: 'pub1', label: 'µs per QoS 1 publish, one at a time' },
  { id: 'rx', label: 'µs per QoS 0 message received' },
] as const;

/**
 * One run's numbers: JsVars at each step (and before loading), and the µs of its fastest batch: other
 * processes on the machine can only add time to a batch, so the fastest is the closest to the cost.
 */
type RunResult = { [k: string]: number };

/** The repository's root, from tools/bench (sources) or dist/node (the built bench). */
function root(): string {
  return path.resolve(__dirname, '..', '..');
}

function libraries(peer: string | undefined): Library[] {
  const dist = path.join(root(), 'dist', 'espruino');
  const list: Library[] = [];
  if (peer) list.push({ label: path.basename(peer), file: peer, api: 'espruino', peer: true });
  list.push({ label: 'Sparrow full', file: path.join(dist, 'sparrow-mqtt.full.js'), api: 'sparrow', peer: false });
  list.push({ label: 'Sparrow small', file: path.join(dist, 'sparrow-mqtt.small.js'), api: 'sparrow', peer: false });
  return list;
}

/** A client on the host that sends the board its QoS 0 messages, all at once, when the board asks. */
async function hostPublisher(port: number): Promise<{ burst(n: number): void; close(): void }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(encodePacket({ cmd: 'connect', clientId: 'bench-host', keepalive: 0, clean: true }));
      socket.once('data', (d) => {
        const p = decodePackets(new Uint8Array(d))[0] as { cmd: string; returnCode?: number };
        if (p.cmd === 'connack' && !p.returnCode) resolve(); else reject(new Error('mosquitto refused the host publisher'));
      });
    });
  });
  const one = encodePacket({ cmd: 'publish', topic: BENCH_RX, payload: BENCH_PAYLOAD, qos: 0 });
  return {
    burst(n) { socket.write(Buffer.concat(Array.from({ length: n }, () => Buffer.from(one)))); },
    close() { socket.destroy(); },
  };
}

function median(values: number[]): number {
  return summarize(values).median;
}

function fastest(values: number[]): number {
  return summarize(values).min;
}

/** One run of one library in a fresh interpreter; `fromStorage` writes the code into Storage first. */
async function runOnce(bin: string, lib: Library, port: number, fromStorage: boolean, publisher: { burst(n: number): void }): Promise<RunResult> {
  const cwd = espruinoDir();
  const name = lib.peer ? 'MQTT' : 'sparrow-mqtt';
  const code = fs.readFileSync(lib.file, 'utf8');
  try {
    if (fromStorage) await writeStorage(bin, cwd, { [name]: code });
    fs.writeFileSync(path.join(cwd, 'bench.js'), harnessScript({
      api: lib.api, code: fromStorage ? null : code, name, port, speed: !fromStorage, batches: BATCHES, perBatch: PER_BATCH,
    }));
    const e = startEspruino(bin, cwd, 'bench.js');
    try {
      const r: RunResult = {};
      const step = async (k: string) => {
        const line = await e.next('bench', RUN_MS);
        if (line.k !== k) throw new Error('expected @bench ' + k + ', got ' + JSON.stringify(line));
        return line.v;
      };
      r.start = await step('start');
      for (const s of STEPS) r[s] = await step(s);
      if (!fromStorage) {
        r.pub0 = fastest(await step('pub0'));
        r.pub1 = fastest(await step('pub1'));
        for (let b = 1; b <= BATCHES; b++) {
          await step('rx-ready');
          publisher.burst(PER_BATCH);
        }
        r.rx = fastest(await step('rx'));
      }
      await step('done');
      return r;
    } finally {
      await e.kill();
    }
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

function jsVars(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

function micros(v: number): string {
  return Math.round(v).toLocaleString('en-US') + ' µs';
}

/** "median (min–max)", then "×ratio" to the peer's median when there is a peer. */
function cell(s: Summary, format: (v: number) => string, peer: Summary | undefined, rate: boolean): string {
  let text = formatSummary(s, format).replace(/ µs/g, '');
  if (rate) text += ' (' + (1000 / s.median).toFixed(1) + ' k/s)';
  if (peer) text += ', ×' + (s.median / peer.median).toFixed(2);
  return text;
}

export const board: Suite = {
  name: 'board',
  section: 'Board: the library on the Espruino interpreter',
  async run(options: RunOptions): Promise<string> {
    const bin = options.espruino;
    if (!bin) throw new Error('the board suite needs the interpreter: ESPRUINO_BIN or --espruino PATH');
    const libs = libraries(options.peer);
    for (const lib of libs) if (!fs.existsSync(lib.file)) throw new Error(lib.file + ' is missing: run `npm run build` first');
    const loadBefore = os.loadavg()[0];
    const broker = await startBroker('mosquitto');
    const publisher = await hostPublisher(broker.port);
    const results: { [label: string]: { ram: RunResult[]; storage: RunResult[] } } = {};
    try {
      for (const lib of libs) results[lib.label] = { ram: [], storage: [] };
      // the libraries take turns run by run, so that a slow spell of the machine falls on all of them
      for (let run = 0; run < options.runs; run++) {
        for (const lib of libs) {
          options.log(lib.label + ': run ' + (run + 1) + ' of ' + options.runs);
          results[lib.label].ram.push(await runOnce(bin, lib, broker.port, false, publisher));
          results[lib.label].storage.push(await runOnce(bin, lib, broker.port, true, publisher));
        }
      }
    } finally {
      publisher.close();
      await broker.stop();
    }
    const dir = espruinoDir();
    const version = espruinoVersion(bin, dir);
    fs.rmSync(dir, { recursive: true, force: true });
    const load = 'load average ' + loadBefore.toFixed(1) + ' before, ' + os.loadavg()[0].toFixed(1) + ' after, on ' + os.cpus().length + ' cores';
    return report(libs, results, bin, version, options.runs, load);
  },
  async child(): Promise<unknown> {
    throw new Error('the board suite runs the interpreter, not Node children');
  },
};

/** Issue 12's targets (16,383 build, same sitting as Espruino's module): JsVars at most, or speed against the peer. */
const TARGETS: Array<{ lib: string; where: 'ram' | 'storage'; k: string; max?: number; peerFactor?: number; what: string }> = [
  { lib: 'Sparrow full', where: 'ram', k: 'subscribed', max: 1200, what: 'full, connected + subscribed, code in RAM: ≤ 1,200 JsVars' },
  { lib: 'Sparrow small', where: 'ram', k: 'subscribed', max: 650, what: 'small, connected + subscribed, code in RAM: ≤ 650 JsVars' },
  { lib: 'Sparrow full', where: 'storage', k: 'subscribed', max: 600, what: 'full, connected + subscribed, from Storage: ≤ 600 JsVars' },
  { lib: 'Sparrow small', where: 'storage', k: 'subscribed', max: 400, what: 'small, connected + subscribed, from Storage: ≤ 400 JsVars' },
  { lib: 'Sparrow full', where: 'ram', k: 'pub0', peerFactor: 1 / 2, what: 'QoS 0 publish: ≥ 2× the module\'s rate (≤ ½ its µs)' },
  { lib: 'Sparrow full', where: 'ram', k: 'rx', peerFactor: 1 / 1.5, what: 'QoS 0 receive: ≥ 1.5× the module\'s rate (≤ ⅔ its µs)' },
  { lib: 'Sparrow full', where: 'ram', k: 'pub1', peerFactor: 1, what: 'QoS 1 one at a time: ≤ the module\'s µs' },
];

function report(libs: Library[], results: { [label: string]: { ram: RunResult[]; storage: RunResult[] } }, bin: string, version: string, runs: number, load: string): string {
  const peer = libs.find((l) => l.peer);
  // the harness alone (its own functions, nothing loaded): what the Storage runs use before loading
  const floorOf = (lib: Library) => median(results[lib.label].storage.map((r) => r.start));
  const sum = (lib: Library, where: 'ram' | 'storage', k: string) => {
    const floor = k === 'require' || k === 'connected' || k === 'subscribed' ? floorOf(lib) : 0;
    return summarize(results[lib.label][where].map((r) => r[k] - floor));
  };
  const rows: string[][] = [];
  for (const where of ['ram', 'storage'] as const) {
    for (const k of STEPS) {
      const label = 'JsVars ' + (k === 'require' ? 'after require' : k === 'connected' ? 'connected' : 'connected + subscribed') + (where === 'ram' ? ', code in RAM' : ', code from Storage');
      rows.push([label, ...libs.map((l) => cell(sum(l, where, k), jsVars, peer && !l.peer ? sum(peer, where, k) : undefined, false))]);
    }
  }
  for (const s of SPEEDS) {
    rows.push([s.label + ' (code in RAM)', ...libs.map((l) => cell(sum(l, 'ram', s.id), micros, peer && !l.peer ? sum(peer, 'ram', s.id) : undefined, true))]);
  }
  const floor = summarize(libs.flatMap((l) => results[l.label].storage.map((r) => r.start)));
  const targets = TARGETS.filter((t) => libs.some((l) => l.label === t.lib) && (t.max !== undefined || peer)).map((t) => {
    const lib = libs.find((l) => l.label === t.lib)!;
    const v = sum(lib, t.where, t.k).median;
    const limit = t.max !== undefined ? t.max : sum(peer!, t.where, t.k).median * t.peerFactor!;
    const format = t.max !== undefined ? jsVars : micros;
    return [t.what, format(v), format(limit), v <= limit ? 'met' : 'missed by ' + format(v - limit) + ' (' + (v / limit).toFixed(1) + '×)'];
  });
  return [
    `Espruino ${version}, Linux build \`${path.basename(bin)}\` (${path.basename(bin).replace(/\D/g, '') || '?'} JsVars); mosquitto ${mosquittoVersion() || '?'} on loopback. ` +
    `Each cell is the median of ${runs} runs, each in a fresh interpreter, then (min–max)` + (peer ? ` and ×, Sparrow's median over ${peer.label}'s` : '') + '. ' +
    `Machine ${load}: the µs figures are only as steady as the machine (JsVars do not depend on it)` + (peer ? ', and the ratios, measured in turns, are the figures to read.' : '.'),
    '',
    markdownTable(['', ...libs.map((l) => l.label)], rows, ['left', ...libs.map(() => 'right' as const)]),
    '',
    ...(targets.length ? ['Issue 12\'s targets (medians above):', '', markdownTable(['target', 'measured', 'limit', 'verdict'], targets, ['left', 'right', 'right', 'left']), ''] : []),
    `- JsVars: what the library takes: \`process.memory().usage\` (after a GC) less the harness alone (${jsVars(floor.median)} JsVars: the ` +
    `empty interpreter and this bench's own functions), with the library loaded by \`Modules.addCached\` from a string (RAM) or from ` +
    `\`require("Storage").read\` (Storage); "connected" and "subscribed" include the client the bench makes and its adapter's few closures.`,
    `- QoS 0 publish: ${PER_BATCH} publishes in a loop, timed with \`getTime()\` (what the board's CPU spends in the call and \`socket.write\`); ` +
    `then a QoS 1 publish whose ack says they all went. QoS 1: ${PER_BATCH} publishes, each after the ack of the one before (round trips through mosquitto included). ` +
    `QoS 0 received: the host sends ${PER_BATCH} messages at once; from the first arrival to the last. Each run gives its fastest of ${BATCHES} batches.`,
    `- Rerun: \`ESPRUINO_BIN=path/to/${path.basename(bin)} npm run bench:board -- --peer path/to/${peer ? peer.label : 'MQTT.min.js'} --write docs/benchmarks.md\`.`,
  ].join('\n');
}
