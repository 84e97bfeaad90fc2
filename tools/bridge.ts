// `sparrow bridge PORT... --broker URL`: the host end of the serial transport (docs/serial.md). Each
// port is one board; each board session gets its own TCP connection to the broker, opened when the
// board asks (OPEN) and closed with it, so the broker sees every board as its own client. The frames
// and retransmission are the firmware's own (firmware/transports/serial-frame.ts).
import * as net from 'net';
import { SerialPort } from 'serialport';
import { SerialLink } from '../firmware/transports/serial-frame';
import { parseBrokerUrl } from '../firmware/url';

export interface BridgeArgs {
  ports: string[];
  broker: string;
  baud: number;
  json: boolean;
  /** Milliseconds between status lines (0: events only). */
  statusMs: number;
}

interface BoardLine {
  port: string;
  link: SerialLink;
  tcp: net.Socket | null;
  sessions: number;
  up: number;
  down: number;
  state: string;
}

export function runBridge(args: BridgeArgs): Promise<number> {
  const url = parseBrokerUrl(args.broker);
  if (!url || url.protocol !== 'mqtt') {
    console.error('sparrow bridge: --broker must be an mqtt://host:port URL');
    return Promise.resolve(2);
  }
  const say = (o: { [k: string]: unknown }) => {
    if (args.json) console.log(JSON.stringify({ time: new Date().toISOString(), ...o }));
    else console.log(Object.keys(o).map((k) => k + '=' + (typeof o[k] === 'object' ? JSON.stringify(o[k]) : o[k])).join(' '));
  };
  const lines: BoardLine[] = [];
  let stop: (code: number) => void = () => {};
  for (const path of args.ports) {
    const port = new SerialPort({ path, baudRate: args.baud, autoOpen: false });
    const b: BoardLine = { port: path, link: null as unknown as SerialLink, tcp: null, sessions: 0, up: 0, down: 0, state: 'idle' };
    const dropTcp = () => { const t = b.tcp; b.tcp = null; if (t) t.destroy(); };
    b.link = new SerialLink((s) => port.write(Buffer.from(s, 'latin1')), { setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) }, {
      open: (session) => {
        dropTcp();
        b.sessions++;
        b.state = 'connecting';
        const tcp = b.tcp = net.connect({ host: url.host, port: url.port });
        tcp.setNoDelay(true);
        tcp.on('connect', () => { if (b.tcp === tcp) { b.state = 'connected'; say({ event: 'broker-connected', port: path, session }); } });
        tcp.on('data', (d: Buffer) => {
          b.down += d.length;
          if (!b.link.write(d, d.length)) { say({ event: 'error', port: path, message: 'serial queue full' }); b.link.close(); dropTcp(); }
        });
        tcp.on('error', (e) => say({ event: 'broker-error', port: path, message: e.message }));
        tcp.on('close', () => { if (b.tcp === tcp) { b.tcp = null; b.state = 'idle'; b.link.close(); say({ event: 'broker-closed', port: path }); } });
        say({ event: 'session', port: path, session });
      },
      data: (bytes, start, end) => { b.up += end - start; if (b.tcp) b.tcp.write(Buffer.from(bytes.subarray(start, end))); },
      close: (reason) => { dropTcp(); b.state = 'idle'; say({ event: 'session-closed', port: path, reason }); },
    }, { queueBytes: 65536, retransmitMs: 200 });
    port.on('data', (d: Buffer) => b.link.input(d));
    port.on('error', (e) => say({ event: 'port-error', port: path, message: e.message }));
    port.open((e) => {
      if (!e) return say({ event: 'port-open', port: path });
      say({ event: 'port-error', port: path, message: e.message });
      // a bridge that cannot open one of its ports would run idle for that board: it ends instead
      console.error(`sparrow bridge: cannot open ${path}: ${e.message}`);
      stop(1);
    });
    lines.push(b);
  }
  const status = args.statusMs > 0 ? setInterval(() => {
    for (const b of lines) say({ event: 'status', port: b.port, state: b.state, sessions: b.sessions, up: b.up, down: b.down, ...b.link.stats });
  }, args.statusMs) : null;
  say({ event: 'bridge', broker: args.broker, ports: args.ports });
  return new Promise((resolve) => {
    const quit = (code: number) => {
      if (status) clearInterval(status);
      for (const b of lines) { b.link.close(); if (b.tcp) b.tcp.destroy(); }
      resolve(code);
      setTimeout(() => process.exit(code), 100).unref();
    };
    stop = quit;
    process.once('SIGINT', () => quit(0));
    process.once('SIGTERM', () => quit(0));
  });
}
