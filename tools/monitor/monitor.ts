// The monitor's core: watches serial ports, opens each board's console with serialport, splits it into
// lines, parses telemetry lines (firmware/app/telemetry.ts, the same module the firmware formats them
// with) and keeps one record per board id. A port that vanishes marks its board gone; a board that
// shows up again, on the same port or another, is recognised by its id. Views (table, JSON, plain)
// listen to its events; it never prints itself.
import { EventEmitter } from 'events';
import * as fs from 'fs';
import { SerialPort } from 'serialport';
import { parseLine, type StatusLine } from '../../firmware/app/telemetry';
import { LineSplitter, visible } from './lines';
import { boardPorts, listPorts } from './ports';

export interface BoardRecord {
  id: string;
  port: string;
  present: boolean;
  /** The last status line. */
  status: StatusLine | null;
  /** When the last line of any kind came (ms since epoch). */
  lastSeen: number;
  /** Times seen again after being gone. */
  returns: number;
}

/** What views get; `--json` prints these as they are. */
export type MonitorEvent =
  | { type: 'open'; port: string }
  | { type: 'telemetry'; port: string; id: string; data: object }
  | { type: 'console'; port: string; id: string | null; text: string; partial?: boolean }
  | { type: 'board'; port: string; id: string; state: 'new' | 'back' | 'gone'; previousPort?: string }
  | { type: 'closed'; port: string; id: string | null; reason: string }
  | { type: 'warning'; message: string };

export interface MonitorOptions {
  /** Ports to watch; none: find boards by USB id, and keep looking. */
  ports: string[];
  baudRate: number;
  /** How often missing ports are looked for and open ones checked (ms). */
  pollMs?: number;
}

/** One open console. */
class Connection {
  id: string | null = null;
  private splitter: LineSplitter;
  constructor(readonly port: SerialPort, readonly path: string, onLine: (c: Connection, line: string, complete: boolean) => void) {
    this.splitter = new LineSplitter((line, complete) => onLine(this, line, complete));
  }
  push(d: Buffer): void { this.splitter.push(d); }
  flush(): void { this.splitter.flush(); }
}

export class Monitor extends EventEmitter {
  readonly boards = new Map<string, BoardRecord>();
  private readonly conns = new Map<string, Connection>();
  private readonly opening = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private warned = false;

  constructor(private readonly options: MonitorOptions) {
    super();
  }

  start(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.pollMs || 300);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.conns.values()].map((c) => new Promise<void>((r) => (c.port.isOpen ? c.port.close(() => r()) : r()))));
  }

  /** Bytes typed by the user to one board's console (raw mode). */
  write(path: string, data: Buffer): void {
    const c = this.conns.get(path);
    if (c && c.port.isOpen) c.port.write(data);
  }

  /** Open connections by port, with the board id once known. */
  connections(): Array<{ path: string; id: string | null }> {
    return [...this.conns.values()].map((c) => ({ path: c.path, id: c.id }));
  }

  private emitEvent(e: MonitorEvent): void {
    this.emit('event', e);
  }

  /** Opens ports that (re)appeared; closes those whose device node vanished (a pulled cable). */
  private async poll(): Promise<void> {
    for (const c of [...this.conns.values()]) if (!fs.existsSync(c.path)) this.lost(c, 'device vanished (unplugged)');
    let wanted = this.options.ports;
    if (wanted.length === 0) {
      const list = await listPorts();
      if (list.warning && !this.warned) { this.warned = true; this.emitEvent({ type: 'warning', message: list.warning }); }
      wanted = boardPorts(list);
    }
    for (const p of wanted) if (!this.conns.has(p) && !this.opening.has(p) && !this.stopped && fs.existsSync(p)) this.open(p);
  }

  private open(path: string): void {
    this.opening.add(path);
    const port = new SerialPort({ path, baudRate: this.options.baudRate, autoOpen: false });
    port.open((e) => {
      this.opening.delete(path);
      if (e || this.stopped) { if (port.isOpen) port.close(); return; } // tried again at the next poll
      const c = new Connection(port, path, (conn, line, complete) => this.line(conn, line, complete));
      this.conns.set(path, c);
      port.on('data', (d: Buffer) => { this.emit('raw', path, c.id, d); c.push(d); });
      port.on('close', () => this.lost(c, 'port closed'));
      port.on('error', (err) => this.lost(c, err.message));
      this.emitEvent({ type: 'open', port: path });
    });
  }

  private lost(c: Connection, reason: string): void {
    if (this.conns.get(c.path) !== c) return;
    this.conns.delete(c.path);
    c.flush();
    if (c.port.isOpen) c.port.close(() => undefined);
    this.emitEvent({ type: 'closed', port: c.path, id: c.id, reason });
    const b = c.id ? this.boards.get(c.id) : undefined;
    if (b && b.port === c.path && b.present) {
      b.present = false;
      this.emitEvent({ type: 'board', port: c.path, id: b.id, state: 'gone' });
    }
  }

  private line(c: Connection, raw: string, complete: boolean): void {
    const text = visible(raw);
    const t = complete ? parseLine(raw.replace(/\r+$/, '')) : null;
    if (!t) {
      if (text.length || !complete) this.emitEvent({ type: 'console', port: c.path, id: c.id, text, partial: complete ? undefined : true });
      return;
    }
    this.identify(c, t.id);
    const b = this.boards.get(t.id)!;
    b.lastSeen = Date.now();
    if (t.ev !== 'config') b.status = t as StatusLine;
    this.emitEvent({ type: 'telemetry', port: c.path, id: t.id, data: t });
  }

  /** The id a telemetry line names: a new board, a board back from gone, or one that moved. */
  private identify(c: Connection, id: string): void {
    if (c.id === id) return;
    const before = c.id ? this.boards.get(c.id) : undefined;
    if (before && before.port === c.path && before.present) { // another board on this port now
      before.present = false;
      this.emitEvent({ type: 'board', port: c.path, id: before.id, state: 'gone' });
    }
    c.id = id;
    const b = this.boards.get(id);
    if (!b) {
      this.boards.set(id, { id, port: c.path, present: true, status: null, lastSeen: Date.now(), returns: 0 });
      this.emitEvent({ type: 'board', port: c.path, id, state: 'new' });
      return;
    }
    const previousPort = b.port;
    const wasGone = !b.present;
    b.port = c.path;
    b.present = true;
    if (wasGone || previousPort !== c.path) {
      b.returns++;
      this.emitEvent({ type: 'board', port: c.path, id, state: 'back', previousPort });
    }
  }
}
