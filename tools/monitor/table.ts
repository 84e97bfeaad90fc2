// The live table of `sparrow monitor` on a terminal: one row per board, the console lines that are not
// telemetry below it, and the keys. Rendering is a pure function of the monitor's records, so it can
// be tested (and a README sample made) without a terminal.
import type { BoardRecord } from './monitor';
import { nameReasons } from './reason';

const COLUMNS: Array<[string, number, (b: BoardRecord, now: number) => string]> = [
  ['#', 2, () => ''],
  ['ID', 14, (b) => b.id],
  ['PORT', 14, (b) => tail(b.port.replace(/^\/dev\//, ''), 14)],
  ['FW', 11, (b) => (b.status ? b.status.fw + '/' + b.status.profile : '')],
  ['WIFI', 10, (b) => (b.status ? b.status.wifi : '')],
  ['MQTT', 12, (b) => (b.present ? (b.status ? b.status.mqtt : '?') : 'GONE')],
  ['BROKER', 22, (b) => (b.status ? b.status.broker.replace(/^mqtt:\/\//, '') : '')],
  ['SENT/ACK/RECV', 14, (b) => (b.status ? b.status.sent + '/' + b.status.acked + '/' + b.status.received : '')],
  ['INFL/Q', 7, (b) => (b.status ? b.status.inflight + '/' + b.status.queued : '')],
  ['RECON', 5, (b) => (b.status ? String(b.status.reconnects) : '')],
  ['FREE', 6, (b) => (b.status && b.status.free !== null ? String(b.status.free) : '')],
  ['UP', 8, (b, now) => (b.status ? duration(b.status.uptime + (b.present ? Math.floor((now - b.lastSeen) / 1000) : 0)) : '')],
  ['LAST ERROR', 30, (b) => (b.status && b.status.error ? nameReasons(b.status.error) : '')],
];

export function duration(s: number): string {
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
  return Math.floor(s / 3600) + 'h' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
}

/** The end of a long text (a port's path tells itself apart at its end), marked with '~'. */
function tail(text: string, width: number): string {
  return text.length > width ? '~' + text.substring(text.length - width + 1) : text;
}

function cell(text: string, width: number): string {
  return text.length > width ? text.substring(0, width - 1) + '~' : text.padEnd(width);
}

/** The table as lines of text (no colours, no cursor codes). */
export function renderTable(boards: BoardRecord[], now: number, pending: string[]): string[] {
  const lines = [COLUMNS.map(([h, w]) => cell(h, w)).join(' ').trimEnd()];
  boards.forEach((b, i) => lines.push(COLUMNS.map(([, w, f], c) => cell(c === 0 ? String(i + 1) : f(b, now), w)).join(' ').trimEnd()));
  if (boards.length === 0) lines.push('(no board has sent telemetry yet' + (pending.length ? '; open: ' + pending.join(', ') : '') + ')');
  return lines;
}

export const KEYS_HELP = 'keys: 1-9 raw console of that board (Ctrl-] back to the table)   q quit';
