// flash.sh against a board of a running fleet (`sparrow sim --app --pty`, the built CLI as a process, with
// its embedded broker): the board's own app stops cleanly, the uploaded image boots from the board's
// Storage and runs it, the other board goes on, and the fleet's report still accounts for both. The
// fleet runs the full profile and the small one is flashed, so what the board says shows which runs.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { AppReport } from '../host-sim/fleet/report';
import { ConsoleClient } from '../tools/monitor/console-client';
import { Cleanup, client, inbox, type Inbox } from './support/broker';
import { Running, startSparrow } from './support/cli';
import { flash } from './support/flash';
import { until } from './support/wait';

const VERSION = require('../package.json').version as string;

describe('flash.sh to a board of a `sparrow sim --app --pty` fleet', function () {
  this.timeout(30000);
  const cleanup = new Cleanup();
  let dir: string;
  let sim: Running;
  let brokerUrl: string;
  let box: Inbox;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-flashfleet-'));
    sim = startSparrow(['sim', '--app', '--devices', '2', '--pty', dir, '--port', '0', '--ws-port', 'off',
      '--prefix', 'flashfleet', '--telemetry', '0.5', '--drain', '1s', '--no-local-addresses', '--progress-interval', '5s',
      '--json', path.join(dir, 'report.json')], cleanup);
    await until(() => /embedded broker: mqtt:\/\/[\d.:]+\n/.test(sim.out()) && fs.existsSync(path.join(dir, 'board-1')), 'the fleet\'s broker and ptys', 15000);
    brokerUrl = /embedded broker: (mqtt:\/\/[\d.:]+)/.exec(sim.out())![1];
    const sub = await client(brokerUrl, {}, cleanup);
    box = inbox(sub);
    await sub.subscribeAsync('flashfleet/+/+', { qos: 1 });
    await until(() => ['sensor-00000', 'sensor-00001'].every((id) => readings(id) > 0), 'both boards\' readings', 15000);
  });
  afterEach(async () => { await cleanup.run(); fs.rmSync(dir, { recursive: true, force: true }); });

  const readings = (id: string) => box.list.filter((m) => m.topic === `flashfleet/${id}/temperature`).length;
  const live = (id: string, level: string) => box.list.filter((m) => m.topic === `flashfleet/${id}/${level}` && !m.packet.retain).map((m) => m.payload.toString());

  /** SIGTERM, as a user stops the fleet: the exit code and the JSON report. */
  async function stopFleet(): Promise<{ code: number | null; app: AppReport }> {
    const code = await sim.stop();
    return { code, app: JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')).app };
  }

  it('the board runs the uploaded image from its Storage; the other board runs on, and the report counts both', async () => {
    const run = await flash(['--port', path.join(dir, 'board-1'), '--profile', 'small']);
    assert.equal(run.code, 0, run.out + '\n--- sim:\n' + sim.out());
    assert.match(run.out, new RegExp(`board sensor-00001 runs firmware ${VERSION.replace(/\./g, '\\.')} \\(small\\)`));
    assert.match(sim.out(), /board 1 \(sensor-00001\) runs the image flashed to its Storage/);
    // over MQTT, at the fleet's broker: the board came back online, and what answers its commands is the small build
    await until(() => live('sensor-00001', 'status').includes('online'), 'the flashed board\'s birth');
    const sent = box.list.length;
    await (await client(brokerUrl, {}, cleanup)).publishAsync('flashfleet/sensor-00001/cmd', 'stats', { qos: 1 });
    await until(() => box.list.slice(sent).some((m) => m.topic === 'flashfleet/sensor-00001/stats'), 'the answer to stats');
    const stats = box.list.slice(sent).filter((m) => m.topic === 'flashfleet/sensor-00001/stats').map((m) => JSON.parse(m.payload.toString()));
    assert.deepEqual(stats.map((s) => [s.fw, s.profile]), [[VERSION, 'small']]);
    // the other board was not touched: its readings go on
    const before = readings('sensor-00000');
    await until(() => readings('sensor-00000') >= before + 2, 'two more readings of board 0');
    const readingsBefore = readings('sensor-00001');
    await until(() => readings('sensor-00001') > readingsBefore, 'a reading of the flashed image');
    // the board's own app ended with a DISCONNECT, so no will was published for either board
    assert.deepEqual([...live('sensor-00000', 'status'), ...live('sensor-00001', 'status')].filter((p) => p !== 'online'), []);
    const { code, app } = await stopFleet();
    assert.equal(code, 0, sim.out());
    assert.deepEqual(app.flashedBoards, ['sensor-00001']);
    assert.deepEqual(app.lossBoards, []);
    const row = (id: string) => app.boards.find((b) => b.id === id)!;
    assert.equal(row('sensor-00001').firmware, 'flashed');
    assert.equal(row('sensor-00000').firmware, 'fleet');
    // the flashed board's counters go on from its boots before: births of both apps and the stats answer
    assert.ok(row('sensor-00001').acked >= 3, JSON.stringify(row('sensor-00001')));
    assert.match(sim.out(), /re-flashed at their consoles \(counted over all their boots\): sensor-00001/);
    assert.match(sim.out(), /OK: every board's acknowledged publishes reached the checker/);
  });

  it('erasing the uploaded image and rebooting brings the fleet\'s own app back', async () => {
    const run = await flash(['--port', path.join(dir, 'board-0'), '--profile', 'small']);
    assert.equal(run.code, 0, run.out + '\n--- sim:\n' + sim.out());
    const con = await ConsoleClient.open(path.join(dir, 'board-0'), 115200);
    try {
      await con.hello();
      // `sparrow` at the REPL is the app of the image that runs
      let from = con.text.length;
      await con.eval('sparrow.status()');
      const status = await con.telemetry((t) => t.ev === 'status', 5000, 'a status line', from) as { profile?: string };
      assert.equal(status.profile, 'small');
      await con.eval('require("Storage").erase(".bootcde")');
      from = con.text.length;
      await con.write('\x10E.reboot()\n');
      const boot = await con.telemetry((t) => t.ev === 'boot', 10000, 'the fleet\'s app to boot', from) as { profile?: string; id: string };
      assert.deepEqual([boot.id, boot.profile], ['sensor-00000', 'full']);
    } finally {
      await con.close();
    }
    assert.match(sim.out(), /board 0 \(sensor-00000\) runs the fleet's app again/);
    const before = readings('sensor-00000');
    await until(() => readings('sensor-00000') > before, 'a reading of the fleet\'s app');
    const { code, app } = await stopFleet();
    assert.equal(code, 0, sim.out());
    assert.deepEqual(app.flashedBoards, ['sensor-00000']);
    assert.equal(app.boards.find((b) => b.id === 'sensor-00000')!.firmware, 'fleet');
    assert.deepEqual(app.lossBoards, []);
  });
});
