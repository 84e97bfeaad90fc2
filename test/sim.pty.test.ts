// `sparrow sim --app --pty DIR` (the built CLI, as a process): each board's console is an Espruino-like REPL
// on a pseudo-terminal, wired to the board's app, so `sparrow provision DIR/board-<id>` (also a process)
// gives a fleet board a new id; the board reboots and comes online under it at the test broker.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConsoleClient } from '../tools/monitor/console-client';
import { Cleanup, client, inbox, startBroker, type TestBroker } from './support/broker';
import { until } from './support/wait';
import { runSparrow as run, Running, startSparrow } from './support/cli';

describe('sparrow sim --app --pty: fleet boards on pseudo-terminals', function () {
  this.timeout(60000);
  const cleanup = new Cleanup();
  let dir: string;
  let broker: TestBroker;
  let sim: Running;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-simpty-'));
    broker = await startBroker();
    cleanup.add(() => broker.broker.close());
    sim = startSparrow(['sim', '--app', '--devices', '2', '--pty', dir, '--broker', broker.url, '--prefix', 'ptyfleet',
      '--telemetry', '0.5', '--drain', '1s', '--no-local-addresses', '--progress-interval', '5s'], cleanup);
    await until(() => /consoles at/.test(sim.out()) && fs.existsSync(path.join(dir, 'board-0')) && fs.existsSync(path.join(dir, 'board-1')),
      'the boards\' pseudo-terminals (sim output: ' + sim.out() + ')', 20000);
  });
  afterEach(async () => { await cleanup.run(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('sparrow provision gives a fleet board a new id: it reboots, comes online under it, and the fleet\'s final check follows it', async () => {
    const sub = await client(broker.url, {}, cleanup);
    const box = inbox(sub);
    await sub.subscribeAsync('ptyfleet/+/+', { qos: 1 });
    // the fleet's own boards come up first
    await until(() => box.list.some((m) => m.topic === 'ptyfleet/sensor-00001/status' && m.payload.toString() === 'online'), 'board 1 online', 20000);
    const p = await run(['provision', path.join(dir, 'board-1'), '--broker', broker.url, '--id', 'new-id', '--interval', '2', '--telemetry', '0.5', '--timeout', '20']);
    assert.equal(p.code, 0, p.out + '\n--- sim:\n' + sim.out());
    assert.match(p.out, /ok +Sparrow firmware present/);
    assert.match(p.out, /ok +config reads back the same/);
    assert.match(p.out, /ok +reboot/);
    assert.match(p.out, /ok +MQTT connected/);
    await until(() => box.list.some((m) => m.topic === 'ptyfleet/new-id/status' && m.payload.toString() === 'online'), 'ptyfleet/new-id/status online', 10000);
    // the other board was not touched
    assert.ok(!box.list.some((m) => m.topic === 'ptyfleet/sensor-00000/status' && m.payload.toString() === 'offline'), 'board 0 stayed online');
    // the fleet's accounting follows the board to its new id: what it published under either id is counted
    await until(() => box.list.filter((m) => m.topic === 'ptyfleet/new-id/temperature').length >= 1, 'a reading under the new id', 10000);
    assert.equal(await sim.stop(), 0, sim.out());
    assert.match(sim.out(), /OK: every board's acknowledged publishes reached the checker/);
  });

  it('sparrow provision gives a fleet board a new prefix: it comes online under it, and the fleet\'s final check follows it', async () => {
    const sub = await client(broker.url, {}, cleanup);
    const box = inbox(sub);
    await sub.subscribeAsync(['ptyfleet/+/+', 'lab/moved/+/+'], { qos: 1 });
    await until(() => box.list.some((m) => m.topic === 'ptyfleet/sensor-00001/status' && m.payload.toString() === 'online'), 'board 1 online', 20000);
    const p = await run(['provision', path.join(dir, 'board-1'), '--broker', broker.url, '--prefix', 'lab/moved', '--interval', '2', '--telemetry', '0.5', '--timeout', '20']);
    assert.equal(p.code, 0, p.out + '\n--- sim:\n' + sim.out());
    assert.match(p.out, /ok +MQTT connected/);
    await until(() => box.list.some((m) => m.topic === 'lab/moved/sensor-00001/status' && m.payload.toString() === 'online'), 'lab/moved/sensor-00001/status online', 10000);
    // the fleet's accounting follows the board to its new prefix: what it published under either is counted
    await until(() => box.list.filter((m) => m.topic === 'lab/moved/sensor-00001/temperature').length >= 1, 'a reading under the new prefix', 10000);
    assert.equal(await sim.stop(), 0, sim.out());
    assert.match(sim.out(), /OK: every board's acknowledged publishes reached the checker/);
  });

  it('the console is the REPL: Storage is the board\'s, and SIGTERM removes the pseudo-terminals', async () => {
    const sub = await client(broker.url, {}, cleanup);
    const box = inbox(sub);
    await sub.subscribeAsync('ptyfleet/+/status', { qos: 1 });
    await until(() => box.list.some((m) => m.topic === 'ptyfleet/sensor-00000/status' && m.payload.toString() === 'online'), 'board 0 online', 20000);
    const con = await ConsoleClient.open(path.join(dir, 'board-0'), 115200);
    try {
      await con.hello();
      assert.equal(await con.eval<string>('require("Storage").readJSON("sparrow.json").id'), 'sensor-00000');
      assert.equal(await con.eval<string>('typeof sparrow.configure'), 'function');
    } finally {
      await con.close();
    }
    const p = await run(['provision', path.join(dir, 'board-0'), '--broker', 'http://nope', '--id', 'x']);
    assert.equal(p.code, 1, p.out);
    assert.match(p.out, /config accepted failed: the board refused the config: broker: not an mqtt/);
    await sim.stop();
    await until(() => !fs.existsSync(path.join(dir, 'board-0')) && !fs.existsSync(path.join(dir, 'board-1')), 'the pty links gone', 5000);
  });
});
