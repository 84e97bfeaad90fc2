// `sparrow ports` and `sparrow monitor` on a host without udev, for real: @serialport/bindings-cpp's
// Linux list() runs `spawn('udevadm', ['info', '-e'])`, found through PATH, so the built CLI runs as a
// child whose PATH is a folder holding only a `node` link. Its SerialPort.list() then rejects with
// `spawn udevadm ENOENT`, as in containers and CI. (Dropping only udevadm's folder from PATH is not
// enough where /bin is a link to /usr/bin and also on PATH.)
import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openPtyPair, type PtyPair } from '../host-sim/console';
import { until } from './support/wait';
import { CLI } from './support/cli';


describe('serial ports without udev (udevadm cannot be spawned)', function () {
  this.timeout(20000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let pair: PtyPair;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-noudev-'));
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.symlinkSync(process.execPath, path.join(dir, 'bin', 'node'));
    env = { ...process.env, PATH: path.join(dir, 'bin') };
    pair = await openPtyPair(path.join(dir, 'board'), path.join(dir, 'ttyBOARD'));
  });
  after(async () => { await pair.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  /** The USB serial device nodes this host has (the fallback lists them all). */
  const devNodes = () => fs.readdirSync('/dev').filter((n) => /^tty(USB|ACM)\d+$/.test(n)).map((n) => '/dev/' + n);

  it('the child really cannot list ports: serialport\'s list() rejects with spawn udevadm ENOENT', () => {
    const r = spawnSync('node', ['-e', 'require("serialport").SerialPort.list().then(() => console.log("listed"), (e) => console.log(e.message))'],
      { env, cwd: path.resolve(__dirname, '..'), encoding: 'utf8', timeout: 10000 });
    assert.equal(r.stdout.trim(), 'spawn udevadm ENOENT', r.stderr);
  });

  it('`sparrow ports PTY` says why the list is short, and lists /dev/ttyUSB*, /dev/ttyACM* and the port given; exit 0', () => {
    const r = spawnSync('node', [CLI, 'ports', pair.host], { env, encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 0, 'exit 0: the fallback list is a list (stderr: ' + r.stderr + ')');
    const lines = r.stdout.split('\n');
    assert.match(lines[0], /^note: udevadm is not installed \(no udev here, as in containers\): USB ids are unknown; listing \/dev\/ttyUSB\*, \/dev\/ttyACM\* and the ports given\. Install Debian's `udev` package/);
    const listed = lines.slice(2).filter((l) => l.trim()).map((l) => l.split(/\s+/));
    for (const p of devNodes()) assert.ok(listed.some((c) => c[0] === p), p + ' listed');
    assert.deepEqual(listed.find((c) => c[0] === pair.host), [pair.host, '-', 'unknown'], 'the pty given, without USB ids');
    assert.equal(listed.length, devNodes().length + 1, r.stdout);
  });

  it('`sparrow ports` with a port that does not exist says so and exits 2, rather than leaving it out', () => {
    const r = spawnSync('node', [CLI, 'ports', pair.host, path.join(dir, 'no-such-port')], { env, encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 2, r.stdout);
    assert.match(r.stderr, /^sparrow ports: .*no-such-port: no such port/);
  });

  it('`sparrow ports --json` carries the reason as `warning`', () => {
    const r = spawnSync('node', [CLI, 'ports', '--json', pair.host], { env, encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { ports: Array<{ path: string }>; warning: string };
    assert.match(list.warning, /^udevadm is not installed/);
    assert.deepEqual(list.ports.map((p) => p.path).sort(), [...devNodes(), pair.host].sort());
  });

  it('`sparrow monitor` without a port says why boards cannot be told by USB id, keeps watching, and ends with 0 on SIGTERM', async () => {
    const child = spawn('node', [CLI, 'monitor'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      await until(() => /^-- note: udevadm is not installed/m.test(out), 'the note about udev').catch((e: Error) => { throw new Error(e.message + '; out: ' + out + ' err: ' + err); });
      const lines = out.split('\n');
      assert.equal(lines[0], 'sparrow monitor: watching USB boards at 115200 baud');
      assert.match(lines[1], /^-- note: udevadm is not installed .*listing \/dev\/ttyUSB\*, \/dev\/ttyACM\*/);
      assert.equal(child.exitCode, null, 'still running, looking for boards: ' + err);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.equal((out.match(/-- note: /g) || []).length, 1, 'the note is said once, not at every poll');
  });
});
