// `sparrow sim` as a user meets it: flags checked before the run (one line, exit 2), a broker that cannot
// be reached or refuses the fleet ends the run with the reason and exit 1 in a bounded time, readings
// still pending at the end are a verdict of their own (never OK), and a broker that wants a login gets it.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cleanup, startBroker } from './support/broker';
import { runSparrow, startSparrow } from './support/cli';
import { freePort } from './support/mosquitto';
import { until } from './support/wait';

describe('sparrow sim: inputs, an unreachable broker, the verdict, a login', function () {
  this.timeout(60000);
  const cleanup = new Cleanup();
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-simcli-')); });
  afterEach(async () => { await cleanup.run(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('bad inputs are one line and a hint, exit 2, before the run starts', async () => {
    const readOnly = path.join(dir, 'ro');
    fs.mkdirSync(readOnly, { mode: 0o555 });
    const cases: [string[], RegExp][] = [
      [['--json', path.join(dir, 'missing', 'r.json')], /--json: cannot write .*no such directory/],
      [['--json', dir], /--json: cannot write .*it is a directory/],
      [['--faults', 'latency=20ms'], /latency=.*use them with --virtual/],
      [['--virtual', '--broker', 'mqtt://127.0.0.1:1883'], /--virtual runs the in-process broker/],
      [['--rate', '0'], /--rate 0 without --down-rate/],
      [['--broker-port', '1884'], /--broker-port is now --port/],
      [['--password', 'x'], /--password needs --username/],
      [['--broker', 'mqtt://a:b@127.0.0.1', '-u', 'c'], /the broker URL has a user/],
      [['--broker', 'http://127.0.0.1'], /is not embedded nor an mqtt:\/\//],
      [['--console', '-n', '1', '--json', '-'], /both want stdout/],
    ];
    // as root, a read-only folder is still writable: the case only means something for other users
    if (process.getuid && process.getuid() !== 0) cases.push([['--json', path.join(readOnly, 'r.json')], /--json: cannot write .*EACCES/]);
    for (const [args, expected] of cases) {
      const r = await runSparrow(['sim', ...args], 10000);
      assert.equal(r.code, 2, args.join(' ') + ': ' + r.out);
      assert.match(r.out, expected);
      assert.match(r.out, /^sparrow sim: [^\n]+\nsee sparrow sim --help\n$/, args.join(' '));
    }
  });

  for (const app of [false, true]) {
    it(`a broker that is not there ends the run${app ? ' (--app)' : ''} with the reason and exit 1, within the bound`, async () => {
      const port = await freePort();
      const started = Date.now();
      const r = await runSparrow(['sim', ...(app ? ['--app'] : []), '-n', '2', '-d', '5s', '--broker', `mqtt://127.0.0.1:${port}`], 30000);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, new RegExp(`cannot reach the broker mqtt://127.0.0.1:${port} within 10 s: .*ECONNREFUSED`));
      assert.doesNotMatch(r.out, /OK/);
      assert.ok(Date.now() - started < 20000, 'ended in ' + (Date.now() - started) + ' ms');
    });
  }

  it('SIGTERM before the fleet could start is not OK: exit 1, nothing to report', async () => {
    const port = await freePort();
    const sim = startSparrow(['sim', '--app', '-n', '2', '--broker', `mqtt://127.0.0.1:${port}`], cleanup);
    await until(() => /^broker: mqtt:/m.test(sim.out()), 'the fleet to name its broker');
    sim.child.kill('SIGTERM');
    assert.equal(await sim.exit, 1);
    assert.match(sim.out(), /stopped before the fleet started/);
    assert.doesNotMatch(sim.out(), /OK/);
  });

  it('readings still queued at the end of a short drain: PENDING, exit 1, never OK', async () => {
    // a 200 B/s link cannot carry 10 readings a second of 64 B: a queue builds up that 1 s of drain cannot empty
    const r = await runSparrow(['sim', '--virtual', '-n', '3', '-d', '20s', '--rate', '10/s', '--faults', 'bandwidth=200B/s', '--drain', '1s', '--json', '-'], 30000);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /PENDING: \d+ accepted QoS 1\/2 readings still queued or in flight/);
    assert.doesNotMatch(r.out, /OK:/);
  });

  it('--json - writes the report to stdout, the progress to stderr; a drained run is OK', async () => {
    const sim = startSparrow(['sim', '--virtual', '-n', '3', '-d', '5s', '--json', '-'], cleanup);
    let stdout = '';
    sim.child.stdout!.on('data', (d) => { stdout += d; });
    assert.equal(await sim.exit, 0, sim.out());
    const report = JSON.parse(stdout);
    assert.equal(report.verdict, 'OK');
    assert.equal(report.boards, 3);
    assert.ok(!fs.existsSync('-'), 'no file named "-"');
  });

  it('a broker that wants a login: mqtt://user:password@host and -u/-P both work, a wrong password is refused at once', async () => {
    fs.writeFileSync(path.join(dir, 'passwd'), 'fleet:s3cret\n');
    const b = await startBroker({ passwd: path.join(dir, 'passwd') });
    cleanup.add(() => b.broker.close());
    const inUrl = await runSparrow(['sim', '-n', '2', '-d', '2s', '--drain', '10s', '--no-local-addresses', '--broker', `mqtt://fleet:s3cret@127.0.0.1:${b.port}`], 30000);
    assert.equal(inUrl.code, 0, inUrl.out);
    assert.match(inUrl.out, /OK: no accepted QoS 1\/2 reading lost/);
    assert.doesNotMatch(inUrl.out, /s3cret/);
    const app = await runSparrow(['sim', '--app', '-n', '1', '-d', '3s', '--drain', '10s', '--no-local-addresses', '--broker', b.url, '-u', 'fleet', '-P', 's3cret'], 30000);
    assert.equal(app.code, 0, app.out);
    assert.match(app.out, /OK: every board's acknowledged publishes reached the checker/);
    const started = Date.now();
    const wrong = await runSparrow(['sim', '-n', '1', '-d', '2s', '--broker', b.url, '-u', 'fleet', '-P', 'nope'], 30000);
    assert.equal(wrong.code, 1, wrong.out);
    assert.match(wrong.out, /refused the checker: connection refused/);
    assert.ok(Date.now() - started < 5000, 'a refusal is final: no 10 s wait');
  });
});
