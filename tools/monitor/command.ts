// `sparrow monitor [PORT...]` and `sparrow ports`: the views over the Monitor. On a terminal a live
// table with keys for one board's raw console; with --json one JSON object per line and event; on a
// pipe, plain lines. --log DIR keeps each board's raw console in DIR/<id>.log.
import * as fs from 'fs';
import * as path from 'path';
import { Monitor, type MonitorEvent } from './monitor';
import { formatPorts, listPorts } from './ports';
import { nameReasons } from './reason';
import { KEYS_HELP, renderTable } from './table';

export interface MonitorArgs {
  ports: string[];
  baud: number;
  json: boolean;
  log?: string;
}

export async function runPorts(extra: string[], json: boolean): Promise<number> {
  const list = await listPorts(extra);
  console.log(json ? JSON.stringify(list, null, 2) : formatPorts(list));
  return 0;
}

export function runMonitor(args: MonitorArgs): Promise<number> {
  const monitor = new Monitor({ ports: args.ports, baudRate: args.baud });
  const logs = args.log ? new RawLogs(args.log) : null;
  if (logs) monitor.on('raw', (port: string, id: string | null, data: Buffer) => logs.write(port, id, data));
  const tty = !args.json && process.stdout.isTTY && process.stdin.isTTY;
  const table = tty ? new TableView(monitor) : null;
  const view = args.json ? jsonView() : table ? (e: MonitorEvent) => table.event(e) : plainView();
  monitor.on('event', (e: MonitorEvent) => { if (logs && e.type === 'closed') logs.closed(e.port, e.id); view(e); });
  if (!tty && !args.json) console.log('sparrow monitor: watching ' + (args.ports.length ? args.ports.join(', ') : 'USB boards') + ' at ' + args.baud + ' baud');
  monitor.start();
  return new Promise((resolve) => {
    const quit = () => { void monitor.stop().then(() => { if (table) table.close(); resolve(0); }); };
    process.once('SIGINT', quit);
    process.once('SIGTERM', quit);
    monitor.once('quit', quit);
  });
}

function jsonView(): (e: MonitorEvent) => void {
  return (e) => { process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n'); };
}

function plainView(): (e: MonitorEvent) => void {
  return (e) => {
    const who = (port: string, id: string | null) => '[' + (id || path.basename(port)) + ']';
    switch (e.type) {
      case 'console': console.log(who(e.port, e.id) + ' ' + e.text); break;
      case 'telemetry': {
        const d = e.data as { [k: string]: unknown };
        console.log(who(e.port, e.id) + ' ' + d.ev + (d.mqtt ? ' mqtt=' + d.mqtt + ' sent=' + d.sent + ' acked=' + d.acked + ' free=' + d.free + (d.error ? ' error=' + nameReasons(String(d.error)) : '') : ' ' + JSON.stringify(d)));
        break;
      }
      case 'board': console.log('-- board ' + e.id + ' ' + e.state + ' on ' + e.port + (e.previousPort && e.previousPort !== e.port ? ' (was ' + e.previousPort + ')' : '')); break;
      case 'open': console.log('-- opened ' + e.port); break;
      case 'closed': console.log('-- closed ' + e.port + ': ' + e.reason); break;
      case 'warning': console.log('-- note: ' + e.message); break;
    }
  };
}

/** Raw bytes per board: buffered until a telemetry line names the board, then DIR/<id>.log. */
class RawLogs {
  private pending = new Map<string, Buffer[]>();
  constructor(private readonly dir: string) { fs.mkdirSync(dir, { recursive: true }); }

  write(port: string, id: string | null, data: Buffer): void {
    if (!id) {
      const list = this.pending.get(port) || [];
      list.push(data);
      if (list.reduce((n, b) => n + b.length, 0) > 65536) { this.flushTo(path.basename(port), list); list.length = 0; }
      this.pending.set(port, list);
      return;
    }
    const held = this.pending.get(port);
    if (held && held.length) this.flushTo(id, held);
    this.pending.delete(port);
    fs.appendFileSync(this.file(id), data);
  }

  closed(port: string, id: string | null): void {
    const held = this.pending.get(port);
    if (held && held.length) this.flushTo(id || path.basename(port), held);
    this.pending.delete(port);
  }

  private flushTo(name: string, list: Buffer[]): void {
    fs.appendFileSync(this.file(name), Buffer.concat(list));
  }

  private file(name: string): string {
    return path.join(this.dir, name.replace(/[^\w.-]/g, '_') + '.log');
  }
}

/** The live table; keys 1-9 switch to a board's raw console, Ctrl-] back, q quits. */
class TableView {
  private recent: string[] = [];
  private rawPort: string | null = null;
  private dirty = false;
  private readonly perBoard = new Map<string, string[]>();
  private readonly onKey = (d: Buffer) => this.key(d);
  private timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly monitor: Monitor) {
    process.stdin.setRawMode(true);
    process.stdin.resume();
    process.stdin.on('data', this.onKey);
    monitor.on('raw', (port: string, _id: string | null, data: Buffer) => { if (port === this.rawPort) process.stdout.write(data); });
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
    process.stdout.write('\x1b[?25l');
    this.draw();
  }

  /** Gives the terminal back (cooked mode, cursor shown) and stops reading keys, so the process can end. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    process.stdin.off('data', this.onKey);
    process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stdout.write('\x1b[?25h\n');
  }

  event(e: MonitorEvent): void {
    if (e.type === 'console' || e.type === 'board' || e.type === 'warning' || e.type === 'closed') {
      const text = e.type === 'console' ? '[' + (e.id || path.basename(e.port)) + '] ' + e.text
        : e.type === 'board' ? '-- ' + e.id + ' ' + e.state + ' on ' + e.port
          : e.type === 'closed' ? '-- closed ' + e.port + ': ' + e.reason : '-- note: ' + e.message;
      this.recent.push(text);
      if (this.recent.length > 200) this.recent.shift();
      if (e.type === 'console') {
        const list = this.perBoard.get(e.port) || [];
        list.push(e.text);
        if (list.length > 100) list.shift();
        this.perBoard.set(e.port, list);
      }
    }
    if (!this.dirty) { this.dirty = true; setTimeout(() => { this.dirty = false; this.draw(); }, 100); }
  }

  private boards() {
    return [...this.monitor.boards.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  private draw(): void {
    if (this.rawPort || this.closed) return;
    const rows = process.stdout.rows || 24;
    const table = renderTable(this.boards(), Date.now(), this.monitor.connections().map((c) => c.path));
    const room = Math.max(0, rows - table.length - 4);
    const out = ['sparrow monitor', ...table, '', ...this.recent.slice(-room), KEYS_HELP];
    process.stdout.write('\x1b[H\x1b[2J' + out.map((l) => l.substring(0, (process.stdout.columns || 160) - 1)).join('\r\n'));
  }

  private key(d: Buffer): void {
    if (this.rawPort) {
      if (d.includes(0x1d)) { this.rawPort = null; this.draw(); return; }
      this.monitor.write(this.rawPort, d);
      return;
    }
    const k = d.toString();
    if (k === 'q' || d[0] === 3) { this.monitor.emit('quit'); return; }
    const n = parseInt(k, 10);
    const b = this.boards()[n - 1];
    if (b && b.present) {
      this.rawPort = b.port;
      process.stdout.write('\x1b[H\x1b[2J\x1b[?25h-- raw console of ' + b.id + ' on ' + b.port + ' (Ctrl-] back to the table)\r\n' + (this.perBoard.get(b.port) || []).slice(-20).join('\r\n') + '\r\n');
    }
  }
}
