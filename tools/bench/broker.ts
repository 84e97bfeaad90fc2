// Broker suite: the reference broker against aedes (npm) and mosquitto (Debian), side by side in one
// harness, on the workloads: fan-in (10 publishers, 1 wildcard subscriber) and fan-out
// (1 publisher, 10 subscribers), at QoS 0 and 1, closed loop and at a fixed 10k msg/s.
//
// Every run is a fresh broker process and a fresh load process (broker-load.ts, the firmware codec on
// raw sockets), so on a two-core machine each has a core; the broker's CPU is read from /proc.
import { aedesVersion, hostBroker, mosquittoVersion, startBroker, type BrokerImpl, type HostSpec } from './broker-hosts';
import { runLoad, type LoadCell, type LoadResult, type LoadSpec, type Mode, type Shape } from './broker-load';
import { formatRatio, formatSummary, ratio, summarize, type Summary } from './stats';
import { inChild, type RunOptions, type Suite } from './suite';
import { markdownTable } from './table';

/** Messages in flight in the closed loop (SPARROW_BENCH_WINDOW overrides it, to explore; not for reports). */
const WINDOW = Number(process.env.SPARROW_BENCH_WINDOW) || 1000;
const RATE = 10000;
/** Targets: Sparrow ≥ 2× aedes everywhere, ≥ mosquitto's throughput at QoS 1, no loss at QoS 1. */
const AEDES_TARGET = 2;

type Cell = LoadCell;
const CELLS: Cell[] = [];
for (const mode of ['closed', 'rate'] as Mode[]) {
  for (const shape of ['fan-in', 'fan-out'] as Shape[]) for (const qos of [0, 1] as const) CELLS.push({ shape, qos, mode });
}
const key = (c: Cell) => `${c.shape}/${c.qos}/${c.mode}`;
const label = (c: Cell) => `${c.shape}, QoS ${c.qos}, ${c.mode === 'closed' ? 'closed loop' : (RATE / 1000) + 'k msg/s'}`;

type Results = { [cell: string]: { [impl: string]: LoadResult[] } };

async function run(options: RunOptions): Promise<string> {
  const quick = !!options.quick;
  const warmMs = quick ? 250 : 400, measureMs = quick ? 600 : 1000;
  const impls: BrokerImpl[] = ['sparrow', 'aedes'];
  const mosquitto = mosquittoVersion();
  if (mosquitto) impls.push('mosquitto');
  else options.log('mosquitto is not installed: comparing with aedes only');
  // for profiling one cell: SPARROW_BENCH_CELLS=fan-in/1/closed (shape/qos/mode, comma-separated); not for reports
  const only = process.env.SPARROW_BENCH_CELLS ? process.env.SPARROW_BENCH_CELLS.split(',') : null;
  const cells = only ? CELLS.filter((c) => only.includes(key(c))) : CELLS;
  const results: Results = {};
  for (const c of CELLS) { results[key(c)] = {}; for (const i of impls) results[key(c)][i] = []; }
  // each run starts every broker afresh; one load process measures all cells against it in turn
  for (let r = 0; r < options.runs; r++) {
    options.log('run ' + (r + 1) + ' of ' + options.runs);
    for (const impl of impls) {
      const broker = await startBroker(impl);
      try {
        const spec: LoadSpec = { kind: 'load', port: broker.port, pid: broker.pid, cells, window: WINDOW, rate: RATE, warmMs, measureMs };
        const out = await inChild<LoadResult[]>('broker', spec);
        out.forEach((res, i) => {
          const c = cells[i];
          results[key(c)][impl].push(res);
          options.log(`  ${label(c)}, ${impl}: ${kRate(res.delivered)} delivered, ${kRate(perCpu(res))} per CPU-s, p99 ${ms(res.p99)} ms, `
            + `loss ${pct(res.loss)}, broker CPU ${(res.brokerCpu * 100).toFixed(0)}%, load CPU ${(res.loadCpu * 100).toFixed(0)}%`);
        });
      } finally {
        await broker.stop();
      }
    }
  }
  return render(results, cells, impls, options.runs, warmMs, measureMs, mosquitto);
}

// ---- rendering ----

const med = (rs: LoadResult[], f: (r: LoadResult) => number): Summary => summarize(rs.map(f));
const kRate = (v: number) => (v >= 1e5 ? (v / 1e3).toFixed(0) : (v / 1e3).toFixed(1)) + ' k/s';
const ms = (v: number | null) => (v === null || isNaN(v) ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const pct = (v: number) => (v === 0 ? '0' : v < 0.0001 ? '<0.01%' : (v * 100).toFixed(2) + '%');
/** Deliveries per broker CPU-second: how much a broker does with what it burns, the fixed-rate comparison. */
const perCpu = (r: LoadResult) => (r.brokerCpu > 0 ? r.delivered / r.brokerCpu : 0);

function render(results: Results, cells: Cell[], impls: BrokerImpl[], runs: number, warmMs: number, measureMs: number, mosquitto: string | null): string {
  const names: { [i: string]: string } = { sparrow: 'Sparrow', aedes: 'aedes ' + aedesVersion(), mosquitto: 'mosquitto ' + mosquitto };
  const parts: string[] = [];
  parts.push('Brokers: Sparrow (`broker/`, defaults), ' + impls.filter((i) => i !== 'sparrow').map((i) => names[i]).join(', ')
    + ' (defaults: mosquitto keeps 20 QoS 1 messages in flight and queues 1000 per client). Each cell: median (min–max) of '
    + runs + ' runs; each run starts every broker afresh. Targets: Sparrow ≥ ' + AEDES_TARGET
    + '× aedes everywhere, ≥ mosquitto\'s throughput at QoS 1, zero loss at QoS 1.');

  // throughput: closed-loop rows show delivered msgs/s; fixed-rate rows, where every broker delivers the
  // offered load, show deliveries per broker CPU-second. The efficiency table has that for every row:
  // it does not depend on how much of a core a busy machine left the broker.
  const table = (metricOf: (c: Cell) => [string, (r: LoadResult) => number], judge: boolean) => {
    const rows: string[][] = [];
    for (const c of cells) {
      const rs = results[key(c)];
      const [metricName, metric] = metricOf(c);
      const s = impls.map((i) => med(rs[i], metric));
      const row = [label(c), metricName, ...s.map((x) => formatSummary(x, kRate))];
      const vsAedes = ratio(s[0].median, s[1].median);
      row.push(formatRatio(vsAedes));
      const checks = [vsAedes >= AEDES_TARGET];
      if (mosquitto) {
        const vsMosq = ratio(s[0].median, s[2].median);
        row.push(formatRatio(vsMosq));
        if (c.qos === 1 && c.mode === 'closed') checks.push(vsMosq >= 1);
      }
      if (judge) row.push(checks.every(Boolean) ? '✅' : '❌ missed');
      rows.push(row);
    }
    const head = ['Workload', 'Metric', ...impls.map((i) => names[i].split(' ')[0]), '× aedes', ...(mosquitto ? ['× mosquitto'] : []), ...(judge ? ['Target'] : [])];
    return markdownTable(head, rows, ['left', 'left', ...impls.map(() => 'right' as const), 'right', ...(mosquitto ? ['right' as const] : []), 'left']);
  };
  parts.push('### Throughput\n\n' + table((c) => (c.mode === 'closed' ? ['delivered msgs/s', (r) => r.delivered] : ['msgs per broker CPU-s', perCpu]), true));
  parts.push('### Efficiency: deliveries per second of broker CPU time\n\n' + table(() => ['msgs per broker CPU-s', perCpu], false));

  const lat: string[][] = [], loss: string[][] = [];
  for (const c of cells) {
    const rs = results[key(c)];
    lat.push([label(c), ...impls.map((i) => ms(med(rs[i], (r) => r.p50).median) + ' / ' + ms(med(rs[i], (r) => r.p99).median))]);
    const losses = impls.map((i) => med(rs[i], (r) => r.loss).max);
    const ok = c.qos === 0 || losses[0] === 0;
    loss.push([label(c), ...impls.map((i, k) => pct(losses[k]) + ' / ' + (med(rs[i], (r) => r.brokerCpu).median * 100).toFixed(0) + '%'),
      c.qos === 1 ? (ok ? 'no loss ✅' : 'no loss ❌ missed') : '']);
  }
  parts.push('### Latency, p50 / p99 in ms (medians over runs)\n\n'
    + markdownTable(['Workload', ...impls.map((i) => names[i].split(' ')[0])], lat, ['left', ...impls.map(() => 'right' as const)]));
  parts.push('### Loss (worst run) / broker CPU (median, % of one core)\n\n'
    + markdownTable(['Workload', ...impls.map((i) => names[i].split(' ')[0]), 'Target'], loss, ['left', ...impls.map(() => 'right' as const), 'left']));

  const loadCpu = summarize(cells.flatMap((c) => impls.flatMap((i) => results[key(c)][i].map((r) => r.loadCpu))));
  parts.push(methodText(warmMs, measureMs, loadCpu));
  return parts.join('\n\n');
}

function methodText(warmMs: number, measureMs: number, loadCpu: Summary): string {
  return [
    '### Method',
    '',
    '- **Processes.** Each run starts each broker afresh, and one fresh load process measures the eight workloads '
      + 'against it in turn, with new connections and topics for each. The broker runs alone in its process (Sparrow and aedes in a fork of the benchmark, mosquitto as '
      + 'Debian\'s binary); the load runs in another, so on an idle two-core machine each has a core of its own. The load is the '
      + 'firmware codec on raw TCP sockets (`tools/bench/broker-load.ts`): MQTT 3.1.1, clean sessions, 16-byte '
      + 'payloads carrying publisher, sequence number and send time. Its CPU share in the measured windows was '
      + formatSummary(loadCpu, (v) => (v * 100).toFixed(0) + '%') + ' of a core, so the load is not what saturates.',
    '- **Workloads.** Fan-in: 10 publishers on `bench/<run>/p<i>`, one subscriber on `bench/<run>/+`. Fan-out: one '
      + 'publisher on `bench/<run>/all`, 10 subscribers on it. Subscriptions at the QoS of the publishes; subscribers '
      + 'acknowledge each QoS 1 message at once.',
    '- **Closed loop:** at most ' + WINDOW + ' messages published and not yet delivered (to every subscriber), split '
      + 'evenly over the publishers; each delivery lets the next message go. **Fixed rate:** ' + RATE.toLocaleString('en-US')
      + ' publishes per second over all publishers (fan-out delivers ten times that), sent every millisecond as they '
      + 'fall due. A broker that keeps up delivers the offered load, so the comparison there is deliveries per second '
      + 'of broker CPU time; one that does not shows it in its latency (its backlog grows through the window).',
    '- **Window.** ' + warmMs + ' ms of warm-up, then ' + measureMs + ' ms measured: deliveries per second, the latency '
      + 'of messages sent inside the window (send to receipt, one clock), and the broker\'s CPU time (user + system '
      + 'from `/proc/<pid>/stat`) over wall time. Then publishing stops and the run waits until every message has '
      + 'arrived or nothing has come for a second; loss is what is still missing, over the whole run.',
    '- Ratios are Sparrow\'s median over the other broker\'s median. The machine is shared with other work: '
      + 'compare medians, and read the min–max ranges as the noise.',
  ].join('\n');
}

async function child(spec: LoadSpec | HostSpec): Promise<unknown> {
  if (spec.kind === 'host') { await hostBroker(spec); return {}; }
  return runLoad(spec);
}

export const broker: Suite = { name: 'broker', section: 'Broker', run, child: (spec) => child(spec as LoadSpec | HostSpec) };
