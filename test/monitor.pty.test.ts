// `sparrow monitor --json`, spawned as a process on the built CLI, watching three simulated boards on
// real pseudo-terminals (socat) through the real serialport package. The boards run the flashed
// firmware image and connect to the in-process broker; one is unplugged and comes back on another port.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { UsbBoard } from '../host-sim/console';
import { startSparrow } from './support/cli';
import { deskBoards } from './support/usb';
import { Cleanup, startBroker, type TestBroker } from './support/broker';
import { until } from './support/wait';

interface Event { type: string; port: string; id?: string | null; state?: string; text?: string; data?: { [k: string]: unknown }; previousPort?: string }

/** A running monitor process and every JSON event it printed. */
function monitor(args: string[], cleanup: Cleanup) {
  const run = startSparrow(['monitor', '--json', ...args], cleanup);
  const m = { events: [] as Event[], stderr: '', bad: [] as string[], child: run.child };
  let buf = '';
  run.child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) { try { m.events.push(JSON.parse(l)); } catch { m.bad.push(l); } }
  });
  run.child.stderr!.on('data', (d: Buffer) => { m.stderr += d.toString(); });
  return m;
}

describe('sparrow monitor over pseudo-terminals', function () {
  this.timeout(60000);
  const cleanup = new Cleanup();
  let dir: string;
  let broker: TestBroker;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-mon-'));
    broker = await startBroker();
    cleanup.add(() => broker.broker.close());
  });
  afterEach(async () => { await cleanup.run(); fs.rmSync(dir, { recursive: true, force: true }); });

  const boards = (n: number): Promise<UsbBoard[]> => deskBoards(dir, broker.url, n, cleanup);

  it('sees telemetry from three boards at once, and one board unplugged and back on another port', async () => {
    const [, b2] = await boards(3);
    const logDir = path.join(dir, 'logs');
    const ports = [1, 2, 3, 4].map((i) => path.join(dir, 'host-' + i));
    const m = monitor([...ports, '--log', logDir], cleanup);
    const connected = (id: string, port?: string) => m.events.some((e) => e.type === 'telemetry' && e.id === id && e.data!.mqtt === 'connected' && (!port || e.port === port));
    await until(() => ['desk-1', 'desk-2', 'desk-3'].every((id) => connected(id)), 'three boards connected in telemetry: ' + m.stderr, 20000);
    const t = m.events.find((e) => e.type === 'telemetry' && e.id === 'desk-1')!;
    assert.equal(t.port, ports[0]);
    for (const k of ['fw', 'profile', 'wifi', 'mqtt', 'broker', 'sent', 'acked', 'received', 'inflight', 'queued', 'reconnects', 'free', 'error', 'uptime']) assert.ok(k in t.data!, k);
    assert.equal(t.data!.broker, broker.url);

    // plain console output is passed through, and garbage on the wire is shown raw
    b2.console.print('hello from the app\r\n\xff\xfe\x00@sparrow/1 {"ev":"tick","id":\r\n');
    await until(() => m.events.some((e) => e.type === 'console' && e.text === 'hello from the app'), 'the plain line');
    await until(() => m.events.some((e) => e.type === 'console' && /^\\xff\\xfe\\x00@sparrow\/1 \{"ev"/.test(e.text || '')), 'the garbled line, raw');

    await b2.unplug();
    await until(() => m.events.some((e) => e.type === 'board' && e.id === 'desk-2' && e.state === 'gone'), 'desk-2 gone');
    const mark = m.events.length;
    await b2.plug('host-4');
    await until(() => m.events.slice(mark).some((e) => e.type === 'board' && e.id === 'desk-2' && e.state === 'back' && e.port === ports[3]), 'desk-2 back on host-4', 20000);
    await until(() => m.events.slice(mark).some((e) => e.type === 'telemetry' && e.id === 'desk-2' && e.port === ports[3] && e.data!.mqtt === 'connected'), 'desk-2 connected again');
    // the others kept reporting all along (desk-1's next tick may come after desk-2 is back: wait for it)
    await until(() => m.events.slice(mark).some((e) => e.type === 'telemetry' && e.id === 'desk-1'), 'desk-1 telemetry after the unplug');
    assert.deepEqual(m.bad, [], 'every stdout line is JSON');
    assert.equal(m.child.exitCode, null, 'the monitor is still running: ' + m.stderr);
    // --log: each board's raw console, telemetry included
    assert.match(fs.readFileSync(path.join(logDir, 'desk-2.log'), 'latin1'), /hello from the app[\s\S]*@sparrow\/1 \{"ev"/);
  });
});
