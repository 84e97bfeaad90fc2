// Board consoles as pseudo-terminals, like boards on USB serial: for each board a pair made by socat
// (`PTY,raw,echo=0,link=DIR/board-N` for the monitor or flash.sh, and a second end the simulator holds).
// What the board prints goes out as lines ending in \r\n as on Espruino; what is typed comes back as lines.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tty from 'tty';

export class PtyConsole {
  private out: tty.WriteStream | null = null;
  private input: tty.ReadStream | null = null;
  private buffered = '';

  private constructor(readonly path: string, private readonly child: ChildProcess) {}

  /** Makes the pair; resolves once both ends exist. `onLine` sees each line typed at the board. */
  static async open(dir: string, name: string, onLine: (line: string) => void): Promise<PtyConsole> {
    const user = path.join(dir, name), own = user + '.sim';
    const child = spawn('socat', [`PTY,raw,echo=0,link=${user}`, `PTY,raw,echo=0,link=${own}`], { stdio: 'ignore' });
    const c = new PtyConsole(user, child);
    const deadline = Date.now() + 5000;
    while (!fs.existsSync(own) || !fs.existsSync(user)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('socat did not make ' + user);
      await new Promise((r) => setTimeout(r, 10));
    }
    const fd = fs.openSync(own, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    c.out = new tty.WriteStream(fd);
    c.input = new tty.ReadStream(fd);
    c.input.on('data', (d: Buffer) => {
      c.buffered += d.toString('latin1');
      let i;
      while ((i = c.buffered.search(/[\r\n]/)) >= 0) {
        const line = c.buffered.slice(0, i);
        c.buffered = c.buffered.slice(i + 1);
        if (line) onLine(line);
      }
    });
    c.input.on('error', () => { /* the other end went away */ });
    return c;
  }

  write(line: string): void {
    if (this.out && !this.out.destroyed) this.out.write(line + '\r\n');
  }

  close(): void {
    if (this.input) this.input.destroy();
    this.child.kill('SIGTERM');
  }
}
