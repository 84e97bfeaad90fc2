// The dashboard page: one MQTT connection over WebSocket (mqtt-ws.ts) feeds the fleet model (fleet.ts);
// the DOM is touched only in one requestAnimationFrame callback, however many messages came since the
// last frame. The device list is virtualized (table.ts); the only charts are the selected device's,
// one per sensor, and the message rate, so a 1,000-device fleet costs what a 20-device one does.
//
// Query parameters: `prefix` (topic prefix of the fleet, default `sparrow`, the firmware's and the
// simulator's default too), `device` (preselected id).
import type UPlot from 'uplot';
import { DEFAULT_PREFIX } from '../../firmware/app/config';
import { Fleet, type Device } from './fleet';
import { WsMqtt } from './mqtt-ws';
import { ago, DeviceTable, formatValue, setText } from './table';

const uPlot = (window as unknown as { uPlot: typeof UPlot }).uPlot;

const params = new URLSearchParams(location.search);
const prefix = (params.get('prefix') || DEFAULT_PREFIX).replace(/\/+$/, '');
const fleet = new Fleet(prefix, Date.now() / 1000);
let selected: string | null = params.get('device');
let filterText = '';
let stateFilter: 'all' | 'online' | 'offline' = 'all';
let listChanged = true;

const $ = (id: string) => document.getElementById(id) as HTMLElement;
const collator = new Intl.Collator(undefined, { numeric: true });
const COLORS = ['#4cc9f0', '#f72585', '#b5e48c', '#ffb703', '#9d8df1', '#ff8fab'];

// ---- the connection ----

const wsPath = document.body.dataset.wsPath && document.body.dataset.wsPath !== '%WS_PATH%' ? document.body.dataset.wsPath : '/mqtt';
const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + wsPath;
const conn = $('conn');
const client = new WsMqtt(url, 'dashboard-' + Math.random().toString(16).slice(2, 10), [prefix + '/+/+', '$SYS/broker/#'], {
  connected() { conn.textContent = 'live'; conn.className = 'pill live'; },
  message(topic, payload, retain) { fleet.handle(topic, payload, Date.now() / 1000, retain); schedule(); },
  disconnected(reason, retryMs) { conn.textContent = 'reconnecting in ' + Math.round(retryMs / 100) / 10 + ' s'; conn.className = 'pill down'; conn.title = reason; },
});

// ---- one frame for everything that changed ----

let frameRequested = false;
function schedule(): void {
  if (!frameRequested) { frameRequested = true; requestAnimationFrame(frame); }
}

const table = new DeviceTable($('scroller'), $('spacer'), $('thead'), (id) => select(id));
let list: Device[] = [];
let lastChart = 0, lastSlow = 0;

function frame(): void {
  frameRequested = false;
  const now = Date.now() / 1000;
  if (fleet.listDirty || listChanged) {
    rebuildList();
    table.setList(list, fleet.sensorNames, selected);
  } else {
    table.draw(false, now);
  }
  const sel = selected !== null ? fleet.devices.get(selected) : undefined;
  const selTouched = !!sel && sel.dirty;
  for (const d of fleet.touched) d.dirty = false;
  fleet.touched = [];
  if (!selected && list.length) select(list[0].id);
  // charts redraw at most 4 times a second: a reading a second per device needs no more
  if (selTouched && now - lastChart > 0.25) { lastChart = now; drawDetail(); }
  if (now - lastSlow >= 1) { lastSlow = now; slowParts(now); }
  if (fleet.sysDirty) { fleet.sysDirty = false; drawSys(now); }
}

function rebuildList(): void {
  fleet.listDirty = false;
  listChanged = false;
  const q = filterText.toLowerCase();
  const all: Device[] = [];
  let online = 0, offline = 0;
  for (const d of fleet.devices.values()) {
    if (d.state === 'online') online++;
    else if (d.state === 'offline') offline++;
    if (q && d.id.toLowerCase().indexOf(q) < 0) continue;
    if (stateFilter !== 'all' && d.state !== stateFilter) continue;
    all.push(d);
  }
  all.sort((a, b) => collator.compare(a.id, b.id));
  list = all;
  setText($('stat-devices'), String(fleet.devices.size));
  setText($('stat-online'), String(online));
  setText($('stat-offline'), String(offline));
  setText($('shown'), list.length === fleet.devices.size ? list.length + ' devices' : list.length + ' of ' + fleet.devices.size + ' shown');
  if (selected) drawDetailMeta();
}

/** Once a second: the rate chart, "last seen" ages and the selected device's header. */
function slowParts(now: number): void {
  fleet.expire(now);
  if (fleet.listDirty) { rebuildList(); table.setList(list, fleet.sensorNames, selected); }
  fleet.rate.roll(Math.floor(now));
  setText($('stat-rate'), String(fleet.rate.latest));
  if (rateChart) rateChart.setData([fleet.rate.t, fleet.rate.v]);
  table.draw(true, now);
  drawDetailMeta();
}
window.setInterval(schedule, 1000);

// ---- the selected device ----

let charts: { sensor: string; plot: UPlot }[] = [];

function select(id: string): void {
  selected = id;
  const q = new URLSearchParams(location.search);
  q.set('device', id);
  history.replaceState(null, '', '?' + q.toString());
  listChanged = true;
  for (const c of charts) c.plot.destroy();
  charts = [];
  $('charts').innerHTML = '';
  drawDetail();
  schedule();
}

function drawDetailMeta(): void {
  const d = selected !== null ? fleet.devices.get(selected) : undefined;
  setText($('detail-title'), selected || 'Select a device');
  const badge = $('detail-state');
  badge.className = 'badge ' + (d ? d.state : 'unknown');
  setText(badge, d ? d.state + (d.stale ? ' (silent)' : '') : '');
  setText($('detail-meta'), d ? d.sensors.size + ' sensors · last message ' + ago(Date.now() / 1000 - d.seen) : '');
}

function drawDetail(): void {
  drawDetailMeta();
  const d = selected !== null ? fleet.devices.get(selected) : undefined;
  if (!d) return;
  const box = $('charts');
  for (const [sensor, series] of d.sensors) {
    let c = charts.find((x) => x.sensor === sensor);
    if (!c) {
      const wrap = box.appendChild(document.createElement('div'));
      wrap.className = 'chart';
      wrap.innerHTML = '<div class="chart-head"><span class="name"></span><span class="value"></span></div>';
      (wrap.querySelector('.name') as HTMLElement).textContent = sensor;
      const color = COLORS[charts.length % COLORS.length];
      (wrap.querySelector('.value') as HTMLElement).style.color = color;
      const plot = new uPlot(chartOptions(box.clientWidth - 4, 110, color), [[], []], wrap);
      c = { sensor, plot };
      charts.push(c);
    }
    setText(c.plot.root.parentElement!.querySelector('.value') as HTMLElement, formatValue(series.last));
    c.plot.setData(series.columns());
  }
}

function chartOptions(width: number, height: number, color: string): UPlot.Options {
  const axis = { stroke: '#8a93a6', grid: { stroke: 'rgba(255,255,255,0.06)', width: 1 }, ticks: { show: false }, font: '11px system-ui, sans-serif' };
  return {
    width, height, legend: { show: false }, cursor: { y: false, points: { size: 6 } },
    scales: { x: { time: true } },
    // one line of clock time under the chart: uPlot's default adds a second line with the date
    axes: [{ ...axis, space: 80, size: 26, values: (_u: UPlot, splits: number[]) => splits.map(clock) }, { ...axis, size: 50 }],
    series: [{}, { stroke: color, width: 2, fill: color + '22', points: { show: false } }],
  };
}

function clock(t: number): string {
  const d = new Date(t * 1000), two = (n: number) => (n < 10 ? '0' : '') + n;
  return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
}

// ---- message rate and broker statistics ----

let rateChart: UPlot | null = null;
function makeRateChart(): void {
  const box = $('rate-chart');
  rateChart = new uPlot(chartOptions(box.clientWidth - 4, 110, '#9d8df1'), [[], []], box);
}

const SYS_ROWS: [string, string][] = [
  ['version', 'version'], ['uptime', 'uptime'], ['clients/connected', 'clients connected'], ['clients/total', 'sessions'],
  ['subscriptions/count', 'subscriptions'], ['retained messages/count', 'retained messages'],
  ['messages/received', 'messages received'], ['messages/sent', 'messages sent'], ['messages/dropped', 'messages dropped'],
];
const previous = new Map<string, { v: number; t: number; rate?: string }>();

/** Messages per second from two $SYS counter values (the broker publishes them every few seconds). */
function counterRate(key: string, now: number): string {
  const v = Number(fleet.sys.get(key));
  const p = previous.get(key);
  if (!isFinite(v)) return '–';
  if (p && p.v === v) return p.rate !== undefined ? p.rate : '–';
  const rate = p && now > p.t ? Math.max(0, (v - p.v) / (now - p.t)).toFixed(0) : undefined;
  previous.set(key, { v, t: now, rate });
  return rate !== undefined ? rate : '–';
}

function drawSys(now: number): void {
  setText($('sys-clients'), fleet.sys.get('clients/connected') || '–');
  setText($('sys-rates'), counterRate('messages/received', now) + ' / ' + counterRate('messages/sent', now));
  const dl = $('sys');
  if (!dl.childElementCount) {
    for (const [, name] of SYS_ROWS) {
      dl.appendChild(document.createElement('dt')).textContent = name;
      dl.appendChild(document.createElement('dd'));
    }
  }
  SYS_ROWS.forEach(([key], i) => setText(dl.children[i * 2 + 1] as HTMLElement, fleet.sys.get(key) || '–'));
}

// ---- controls ----

$('filter').addEventListener('input', (ev) => { filterText = (ev.target as HTMLInputElement).value.trim(); listChanged = true; schedule(); });
$('state-filter').addEventListener('click', (ev) => {
  const b = (ev.target as HTMLElement).closest('button');
  if (!b) return;
  stateFilter = b.dataset.state as typeof stateFilter;
  $('state-filter').querySelectorAll('button').forEach((x) => x.classList.toggle('on', x === b));
  listChanged = true;
  schedule();
});
setText($('prefix'), prefix + '/#');
makeRateChart();
client.start();
schedule();
