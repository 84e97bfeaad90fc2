// `sparrow provision` (the built CLI, as a process) gives a simulated board on a pseudo-terminal its
// Wi-Fi and broker; the board reboots and connects to the in-process broker. Failed steps exit 1 with
// the reason, and the Wi-Fi password appears nowhere: not in the tool's output, not on the wire back.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { installFirmware, UsbBoard } from '../host-sim/console';
import { Cleanup, client, inbox, startBroker, type TestBroker } from './support/broker';
import { until } from './support/wait';
import { runSparrow as sparrow } from './support/cli';

const SECRET = 'corr3ct-h0rse-battery';

describe('sparrow provision over a pseudo-terminal', function () {
  this.timeout(60000);
  const cleanup = new Cleanup();
  let dir: string;
  let broker: TestBroker;
  let board: UsbBoard;
  let wire: string;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-prov-'));
    broker = await startBroker();
    cleanup.add(() => broker.broker.close());
    board = new UsbBoard({ dir, port: 'ttyUSB0', wifi: { 'lab-net': SECRET } });
    installFirmware(board.console.storage, 'full'); // flashed, never configured
    wire = '';
    board.console.on('output', (t: string) => { wire += t; });
    await board.plug();
    cleanup.add(() => board.unplug());
  });
  afterEach(async () => { await cleanup.run(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('configures, reads back, reboots, and the board connects to the broker', async () => {
    const bootsBefore = board.console.boots;
    const run = await sparrow(['provision', board.hostPath, '--wifi', 'lab-net', '--wifi-password', SECRET, '--broker', broker.url, '--id', 'bench-7', '--interval', '2', '--telemetry', '0.5']);
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /ok +config reads back the same/);
    assert.match(run.out, /ok +MQTT connected/);
    assert.ok(board.console.boots > bootsBefore, 'the board rebooted');
    const stored = JSON.parse(board.console.storage.read('sparrow.json')!);
    assert.equal(stored.id, 'bench-7');
    assert.equal(stored.interval, 2);
    // the broker has its retained birth message, and its readings arrive
    const sub = await client(broker.url, {}, cleanup);
    await sub.subscribeAsync('sparrow/bench-7/#', { qos: 1 });
    const box = inbox(sub);
    await until(() => box.list.some((m) => m.topic === 'sparrow/bench-7/status' && m.payload.toString() === 'online'), 'the retained birth message');
    assert.ok(!run.out.includes(SECRET), 'the password is not in the output');
    assert.ok(!wire.includes(SECRET), 'the board never sent the password back');
  });

  it('exits 1 with the reason when the Wi-Fi password is wrong', async () => {
    const run = await sparrow(['provision', board.hostPath, '--wifi', 'lab-net', '--wifi-password', 'wrong-one', '--broker', broker.url, '--id', 'bench-8', '--timeout', '20']);
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /MQTT connected failed: the board says: wifi: auth_fail/);
    assert.ok(!run.out.includes('wrong-one'));
  });

  it('exits 1 when the board refuses the config; a port that is not there is exit 2', async () => {
    const bad = await sparrow(['provision', board.hostPath, '--broker', 'http://nope', '--id', 'x']);
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, /config accepted failed: the board refused the config: broker: not an mqtt/);
    // a port that is not there is bad usage, said before anything is opened
    const none = await sparrow(['provision', path.join(dir, 'ttyUSB9'), '--broker', broker.url]);
    assert.equal(none.code, 2);
    assert.match(none.out, /ttyUSB9: no such port/);
  });
});
