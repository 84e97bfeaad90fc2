// The simulator against the host's open-files limit, lowered with `ulimit -n` in a child shell: a fleet
// too big for one process splits itself over workers; one that no split can hold, or that runs out of
// files during the run, ends with a clear message and exit 1 (it used to print EMFILE and hang).
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI } from './support/cli';
import { startMosquitto, type Mosquitto } from './support/mosquitto';

/** `sparrow args...` under `ulimit -n limit`, holding `heldFiles` more open files from birth; bounded by `ms`. */
function sparrowLimited(limit: number, args: string[], heldFiles = 0, ms = 60000): Promise<{ code: number | null; out: string }> {
  const devNull = fs.openSync('/dev/null', 'r');
  const quoted = [process.execPath, CLI, ...args].map((a) => "'" + a + "'").join(' ');
  const child = spawn('sh', ['-c', `ulimit -n ${limit} && exec ${quoted}`], { stdio: ['ignore', 'pipe', 'pipe', ...new Array(heldFiles).fill(devNull)] });
  fs.closeSync(devNull);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`sparrow ${args.join(' ')} under ulimit -n ${limit} did not exit within ${ms} ms:\n${out}`)); }, ms);
    child.on('exit', (code) => { clearTimeout(t); resolve({ code, out }); });
  });
}

describe('sim: the open-files limit', function () {
  this.timeout(120000);
  let mosquitto: Mosquitto | null = null;
  afterEach(async () => { if (mosquitto) await mosquitto.stop(); mosquitto = null; });

  it('an embedded broker that no process here can hold ends the run before it starts, exit 1, naming the limit', async () => {
    const r = await sparrowLimited(300, ['sim', '-n', '400', '-d', '5s', '--port', '0', '--ws-port', 'off']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /400 boards need 400 connections to the embedded broker, one process, and this process may hold 300 open files \(ulimit -n\)/);
    assert.doesNotMatch(r.out, /embedded broker: mqtt/); // nothing was started
  });

  it('running out of files during a run (other files held) stops it with EMFILE and exit 1, not a hang', async () => {
    mosquitto = await startMosquitto();
    // 150 boards fit under 300 files by the count, but 150 files are already taken
    const r = await sparrowLimited(300, ['sim', '-n', '150', '-b', mosquitto.url, '-d', '20s', '--ramp', '1000/s', '--drain', '5s'], 150);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /sparrow sim: EMFILE: this process reached its open-files limit \(ulimit -n\) \(board \d+, \d+ boards started\); the run stops here/);
  });

  it('a fleet larger than one process can hold splits over worker processes on its own: one report, every reading delivered', async () => {
    mosquitto = await startMosquitto();
    const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-split-')), 'fleet.json');
    // 250 files hold 150 boards a process: 320 boards take 3 workers
    const r = await sparrowLimited(250, ['sim', '-n', '320', '-b', mosquitto.url, '-d', '3s', '--rate', '2/s', '--drain', '30s', '--json', json]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /the boards run in 3 worker processes/);
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.equal(report.boards, 320);
    assert.equal(report.shard, '0/1');
    assert.deepEqual(report.shards.present, [0, 1, 2]);
    assert.deepEqual(report.shards.missing, []);
    const q1 = report.qos[0];
    assert.ok(q1.published >= 320 * 4, 'published ' + q1.published);
    assert.equal(q1.lost, 0);
    assert.equal(q1.pending, 0);
    assert.equal(q1.delivered, q1.accepted);
    assert.equal(report.latencyHistogram.count, q1.delivered);
    assert.equal(report.verdict, 'OK');
    fs.rmSync(path.dirname(json), { recursive: true, force: true });
  });
});
