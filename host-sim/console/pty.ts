// A simulated board on a pseudo-terminal, as a USB board appears to the host: socat makes a pty pair,
// the console attaches to one end with the real `serialport` package, and the monitor, `sparrow
// provision` and flash.sh open the other end as they would /dev/ttyUSB0. Unplugging kills the pair (the
// host's path vanishes) and cuts the board's power; plugging in again boots it from its Storage.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { SerialPort } from 'serialport';
import { ConsoleOptions, SimConsole } from './console';

export interface PtyPair {
  /** The end the simulated board holds. */
  board: string;
  /** The end a host tool opens, like /dev/ttyUSB0. */
  host: string;
  close(): Promise<void>;
}

/** `socat PTY,raw,echo=0,link=<board> PTY,raw,echo=0,link=<host>`, resolved once both links exist. */
export function openPtyPair(board: string, host: string, ms = 5000): Promise<PtyPair> {
  for (const p of [board, host]) fs.rmSync(p, { force: true });
  const proc: ChildProcess = spawn('socat', ['-d', '-d', `PTY,raw,echo=0,link=${board}`, `PTY,raw,echo=0,link=${host}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let exited = false;
  const gone = new Promise<void>((resolve) => proc.once('exit', () => { exited = true; resolve(); }));
  const close = async () => { if (!exited) { proc.kill('SIGTERM'); await gone; } };
  return new Promise((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => { close(); reject(new Error('socat made no pty pair within ' + ms + ' ms: ' + err)); }, ms);
    proc.on('error', (e) => { clearTimeout(t); reject(new Error('cannot run socat (apt-get install socat): ' + e.message)); });
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/starting data transfer loop/.test(err)) { clearTimeout(t); resolve({ board, host, close }); }
    });
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error('socat exited (' + code + '): ' + err)); });
  });
}

/** Attaches a console to a serial device path (the board's end of a pty, or a real UART). */
export async function attachConsole(con: SimConsole, device: string, baudRate = 115200): Promise<() => Promise<void>> {
  const port = new SerialPort({ path: device, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  const onOutput = (text: string) => { if (port.isOpen) port.write(Buffer.from(text, 'latin1'), () => undefined); };
  con.on('output', onOutput);
  port.on('data', (d: Buffer) => con.feed(d));
  port.on('error', () => undefined); // the pair is gone: an unplugged board
  return async () => {
    con.off('output', onOutput);
    if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  };
}

export interface UsbBoardOptions extends ConsoleOptions {
  /** Folder for the pty links. */
  dir: string;
  /** Name of the host-side link (e.g. "host-1"), the board's "USB port". */
  port: string;
}

/** A simulated board plugged into the host over USB: a console on a pty pair. */
export class UsbBoard {
  readonly console: SimConsole;
  /** The path a host tool opens; changes when plugged into another port. */
  hostPath: string;
  private pair: PtyPair | null = null;
  private detach: (() => Promise<void>) | null = null;
  private readonly dir: string;

  constructor(options: UsbBoardOptions) {
    this.console = new SimConsole(options);
    this.dir = options.dir;
    this.hostPath = path.join(options.dir, options.port);
  }

  get plugged(): boolean { return this.pair !== null; }

  /** Plugs in (optionally on another port): the pty appears, the board powers on and boots. */
  async plug(port?: string): Promise<void> {
    if (this.pair) return;
    if (port) this.hostPath = path.join(this.dir, port);
    const boardEnd = this.hostPath + '.board';
    this.pair = await openPtyPair(boardEnd, this.hostPath);
    this.detach = await attachConsole(this.console, boardEnd);
    this.console.powerOn();
  }

  /** Pulls the cable: the host's device path vanishes and the board loses power. */
  async unplug(): Promise<void> {
    this.console.powerOff();
    if (this.detach) await this.detach();
    if (this.pair) await this.pair.close();
    this.pair = null;
    this.detach = null;
  }
}
