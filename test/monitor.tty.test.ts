// `sparrow monitor` in its two human views, as a process on the built CLI watching simulated boards on
// socat pseudo-terminals (as in monitor.pty.test.ts):
// - the live table on a terminal: the monitor runs inside a real pseudo-terminal (python3's pty module),
//   the test types into it (keys 1-9: one board's raw console, Ctrl-] back, q quits) and reads the screen
//   it draws; the terminal itself turns `\n` into `\r\r\n` (raw mode leaves output translation on);
// - plain lines, when stdout is a pipe and there is no --json.
import { strict as assert } from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { UsbBoard } from '../host-sim/console';
import { deskBoards } from './support/usb';
import { Cleanup, startBroker, type TestBroker } from './support/broker';
import { until } from './support/wait';
import { CLI } from './support/cli';


function stop(child: ChildProcess): Promise<void> {
  return new Promise<void>((r) => { if (child.exitCode !== null || child.signalCode !== null) return r(); child.once('exit', () => r()); child.kill('SIGTERM'); });
}

/**
 * A relay to a real pseudo-terminal (python3's pty module): the command runs on the pty's slave end as
 * its controlling terminal (40 rows by 200 columns), what the test writes to the relay's stdin is typed
 * into the terminal, and what the command writes to the terminal comes out on the relay's stdout.
 */
const PTY_RELAY = `
import fcntl, os, pty, select, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 200, 0, 0))
ins = [fd, 0]
while True:
    r, _, _ = select.select(ins, [], [])
    if 0 in r:
        d = os.read(0, 1024)
        if d: os.write(fd, d)
        else: ins.remove(0)
    if fd in r:
        try: d = os.read(fd, 65536)
        except OSError: d = b''
        if not d: break
        os.write(1, d)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

/** `sparrow monitor ARGS` on a pseudo-terminal, with its screen output and a way to type keys. */
function monitorOnTty(args: string[], cleanup: Cleanup) {
  const child = spawn('python3', ['-c', PTY_RELAY, process.execPath, CLI, 'monitor', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const t = { out: '', err: '', child, exit: null as number | null };
  child.stdout!.on('data', (d: Buffer) => { t.out += d.toString('latin1'); });
  child.stderr!.on('data', (d: Buffer) => { t.err += d.toString(); });
  child.on('exit', (code) => { t.exit = code; });
  cleanup.add(() => stop(child));
  return {
    t,
    /** What is on the screen since the last clear (the table redraws with ESC[H ESC[2J). */
    screen: () => t.out.substring(t.out.lastIndexOf('\x1b[2J') + 4),
    key: (k: string) => { child.stdin!.write(k); },
  };
}

describe('sparrow monitor views: the live table on a terminal, and plain lines', function () {
  this.timeout(40000);
  const cleanup = new Cleanup();
  let dir: string;
  let broker: TestBroker;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-tty-'));
    broker = await startBroker();
    cleanup.add(() => broker.broker.close());
  });
  afterEach(async () => { await cleanup.run(); fs.rmSync(dir, { recursive: true, force: true }); });

  const boards = (n: number): Promise<UsbBoard[]> => deskBoards(dir, broker.url, n, cleanup);

  /** The table row of a board: its columns split on runs of blanks. */
  function row(screen: string, id: string): string[] | undefined {
    const line = screen.split(/\r?\n/).find((l) => l.split(/\s+/)[1] === id);
    return line ? line.trim().split(/\s+/) : undefined;
  }

  it('on a terminal: a live table of the boards, key 2 shows that board\'s raw console and types into it, Ctrl-] back, q quits', async () => {
    const [, b2] = await boards(2);
    const ports = [1, 2].map((i) => path.join(dir, 'host-' + i));
    const m = monitorOnTty(ports, cleanup);
    const both = () => ['desk-1', 'desk-2'].every((id) => (row(m.screen(), id) || []).includes('connected'));
    await until(both, 'the table showing desk-1 and desk-2 with MQTT connected', 15000).catch((e: Error) => { throw new Error(e.message + '; screen:\n' + m.screen() + '\nstderr: ' + m.t.err); });
    const screen = m.screen();
    assert.match(screen, /^sparrow monitor/);
    assert.match(screen, /#\s+ID\s+PORT\s+FW\s+WIFI\s+MQTT\s+BROKER\s+SENT\/ACK\/RECV\s+INFL\/Q\s+RECON\s+FREE\s+UP\s+LAST ERROR/);
    const r2 = row(screen, 'desk-2')!;
    assert.deepEqual(r2.slice(0, 2), ['2', 'desk-2']);
    assert.match(r2[2], /host-2$/, 'the PORT column keeps the end of a long path');
    assert.ok(r2.includes(broker.url.replace(/^mqtt:\/\//, '')), 'the broker column: ' + r2.join(' '));
    assert.match(screen, /keys: 1-9 raw console/);
    assert.ok(!screen.includes('\x1b[?25h'), 'the cursor is hidden while the table shows');

    // key 2: desk-2's raw console, its own bytes, and what is typed goes to the board
    let mark = m.t.out.length;
    m.key('2');
    await until(() => m.t.out.substring(mark).includes('-- raw console of desk-2 on ' + ports[1]), 'the raw console header');
    await until(() => /@sparrow\/1 \{"ev":"\w+","id":"desk-2"/.test(m.t.out.substring(mark)), 'desk-2\'s raw telemetry lines', 5000);
    m.key('print("typed-" + "into-desk-2")\r');
    await until(() => /\r\ntyped-into-desk-2\r+\n/.test(m.t.out.substring(mark)), 'the board running what was typed, in its raw console').catch((e: Error) => { throw new Error(e.message + '; got:\n' + JSON.stringify(m.t.out.substring(mark).slice(-1500))); });
    const raw = m.t.out.substring(mark);
    assert.ok(!raw.includes('"id":"desk-1"'), 'only desk-2\'s console shows');
    assert.ok(!/SENT\/ACK\/RECV/.test(raw), 'the table is not redrawn over the raw console');

    // Ctrl-]: back to the table, which is live again
    mark = m.t.out.length;
    m.key('\x1d');
    await until(() => { const s = m.t.out.substring(mark); return s.includes('\x1b[2J') && (row(m.screen(), 'desk-1') || []).includes('connected') && !!row(m.screen(), 'desk-2'); }, 'the table again');
    b2.console.print('plain words from desk-2\r\n');
    await until(() => m.screen().includes('[desk-2] plain words from desk-2'), 'console output that is not telemetry, under the table');

    // q quits: the process ends with 0 and shows the cursor again
    m.key('q');
    await until(() => m.t.exit !== null, 'the monitor to quit on q; stderr: ' + m.t.err, 5000);
    assert.equal(m.t.exit, 0);
    assert.ok(m.t.out.endsWith('\x1b[?25h\r\n'), 'the cursor is shown again at the end');
  });

  it('on a pipe without --json: plain lines, one per event, telemetry summarised, console passed through', async () => {
    const [b1] = await boards(1);
    const port = path.join(dir, 'host-1');
    const child = spawn(process.execPath, [CLI, 'monitor', port], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.add(() => stop(child));
    let out = '', err = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const lines = () => out.split('\n');
    const status = /^\[desk-1\] tick mqtt=connected sent=\d+ acked=\d+ free=\d+$/;
    await until(() => lines().some((l) => status.test(l)), 'a plain status line of desk-1', 15000).catch((e: Error) => { throw new Error(e.message + '; out:\n' + out + '\nerr: ' + err); });
    b1.console.print('hello, plain\r\n\x01garbage\xff\r\n');
    await until(() => lines().includes('[desk-1] \\x01garbage\\xff'), 'garbage shown raw');
    const l = lines();
    assert.equal(l[0], 'sparrow monitor: watching ' + port + ' at 115200 baud');
    assert.equal(l[1], '-- opened ' + port);
    assert.ok(l.includes('-- board desk-1 new on ' + port), out);
    assert.ok(l.includes('[desk-1] hello, plain'), out);
    assert.ok(l.indexOf('-- board desk-1 new on ' + port) < l.findIndex((x) => status.test(x)));
    assert.ok(!out.includes('\x1b'), 'no terminal codes on a pipe');
    // every line is one of the plain forms
    for (const x of l.slice(1, -1)) assert.match(x, /^(-- (opened|closed|board|note) |\[desk-1\] |\[host-1\] )/, x);

    await b1.unplug();
    await until(() => lines().includes('-- board desk-1 gone on ' + port), 'desk-1 gone');
    assert.ok(lines().some((x) => x.startsWith('-- closed ' + port + ': ')), out);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (c) => r(c))));
    assert.equal(code, 0, 'SIGTERM ends the monitor cleanly: ' + err);
  });
});
