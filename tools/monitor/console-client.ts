// Talking to an Espruino console over a serial port as an uploader does (docs/console-protocol.md):
// Ctrl-C to clear the line, DLE-prefixed lines so nothing is echoed, and for each command a marker line
// printed by the board itself (`SPRW<n> <json>`), so the host knows the command ran and what it
// returned without depending on prompts or echo. Used by provision, flash-upload and the tests.
import { SerialPort } from 'serialport';
import { parseLine, type TelemetryLine } from '../../firmware/app/telemetry';

export class ConsoleError extends Error {}

/** A raw console on a serial device, with bounded waits for what the board prints. */
export class ConsoleClient {
  /** Everything received since open (latin1), for expect(). */
  text = '';
  private seq = 0;
  private waiters: Array<() => void> = [];
  private closed = false;

  private constructor(readonly port: SerialPort, readonly path: string) {
    port.on('data', (d: Buffer) => { this.text += d.toString('latin1'); this.wake(); });
    port.on('close', () => { this.closed = true; this.wake(); });
    port.on('error', () => { this.closed = true; this.wake(); });
  }

  static async open(path: string, baudRate = 115200): Promise<ConsoleClient> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(new ConsoleError('cannot open ' + path + ': ' + e.message)) : resolve())));
    return new ConsoleClient(port, path);
  }

  write(data: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(data, 'latin1'), (e) => (e ? reject(new ConsoleError('write to ' + this.path + ' failed: ' + e.message)) : this.port.drain(() => resolve())));
    });
  }

  /** Waits until `re` matches text received after `from` (default: the start); returns the match. */
  expect(re: RegExp, ms: number, what: string, from = 0): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(this.text.substring(from));
        if (m) { done(); resolve(m); return; }
        if (this.closed) { done(); reject(new ConsoleError(this.path + ' closed while waiting for ' + what)); }
      };
      const t = setTimeout(() => { done(); reject(new ConsoleError('timed out after ' + ms + ' ms waiting for ' + what)); }, ms);
      const done = () => { clearTimeout(t); this.waiters = this.waiters.filter((w) => w !== check); };
      this.waiters.push(check);
      check();
    });
  }

  /** Waits for a telemetry line after `from` for which `accept` returns true; `fail` may end the wait early with a reason. */
  telemetry(accept: (t: TelemetryLine) => boolean, ms: number, what: string, from: number, fail?: (t: TelemetryLine) => string | null): Promise<TelemetryLine> {
    let last: TelemetryLine | null = null;
    return new Promise((resolve, reject) => {
      const check = () => {
        const lines = this.text.substring(from).split('\n');
        lines.pop(); // not complete yet
        for (const l of lines) {
          const t = parseLine(l.replace(/\r+$/, ''));
          if (!t) continue;
          last = t;
          if (accept(t)) { done(); resolve(t); return; }
          const why = fail && fail(t);
          if (why) { done(); reject(new ConsoleError(why)); return; }
        }
        if (this.closed) { done(); reject(new ConsoleError(this.path + ' closed while waiting for ' + what)); }
      };
      const t = setTimeout(() => {
        done();
        const l = last as (TelemetryLine & { mqtt?: string; error?: string | null }) | null;
        reject(new ConsoleError('timed out after ' + ms + ' ms waiting for ' + what + (l ? ' (last telemetry: ' + (l.mqtt ? 'mqtt ' + l.mqtt : l.ev) + (l.error ? ', error: ' + l.error : '') + ')' : ' (no telemetry seen)')));
      }, ms);
      const done = () => { clearTimeout(t); this.waiters = this.waiters.filter((w) => w !== check); };
      this.waiters.push(check);
      check();
    });
  }

  /**
   * Runs `expression` on the board and resolves with its value (JSON round trip). The line starts with
   * DLE, so the board echoes neither it nor its result: a secret in it is not sent back to the host.
   * An exception on the board rejects with its message.
   */
  async eval<T = unknown>(expression: string, ms = 5000): Promise<T> {
    const n = ++this.seq;
    const from = this.text.length;
    await this.write('\x10try{print("SPRW' + n + ' "+JSON.stringify((function(){return ' + expression +
      '})()))}catch(e){print("SPRW' + n + '! "+(e&&e.message||e))}\n');
    const m = await this.expect(new RegExp('SPRW' + n + '(!?) ([^\\r\\n]*)\\r?\\n'), ms, 'the board to answer command ' + n, from);
    if (m[1]) throw new ConsoleError('the board raised: ' + m[2]);
    return (m[2] === 'undefined' || m[2] === '' ? undefined : JSON.parse(m[2])) as T;
  }

  /** Gets the board's attention: Ctrl-C clears a half-typed line; then a command must answer. */
  async hello(ms = 3000): Promise<void> {
    await this.write('\x03');
    try {
      await this.eval('1', ms);
    } catch (e) {
      throw new ConsoleError('the board on ' + this.path + ' does not answer at its console (' + (e as Error).message + ')');
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => { if (this.port.isOpen) this.port.close(() => resolve()); else resolve(); });
  }

  private wake(): void {
    for (const w of this.waiters.slice()) w();
  }
}
