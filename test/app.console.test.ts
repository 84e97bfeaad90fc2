// The firmware image as a board runs it: stored as boot code in the simulated board's Storage, run at
// top level by its Espruino-like console (so on Espruino's globals, through firmware/espruino.ts),
// started by onInit, provisioned by typing sparrow.configure() at the REPL, and reset by E.reboot().
import { strict as assert } from 'assert';
import * as fs from 'fs';
import { parseLine, type ConfigLine, type StatusLine, type TelemetryLine } from '../firmware/app/telemetry';
import { bundlePath } from '../host-sim/bundle';
import { SimConsole } from '../host-sim/console';
import { Cleanup, client, inbox, startBroker, subscribe } from './support/broker';
import { until } from './support/wait';

/** A powered board with the image as its boot code, and its console output split into lines. */
function board(wifi: { [ssid: string]: string } | null = null) {
  const con = new SimConsole({ serialNumber: 'a4cf12000001', wifi });
  con.storage.write('.bootcde', fs.readFileSync(bundlePath('full', 'firmware'), 'latin1'));
  let out = '';
  con.on('output', (text: string) => { out += text; });
  con.powerOn();
  const lines = () => out.split(/\r?\n/);
  const telemetry = () => lines().map(parseLine).filter((t): t is TelemetryLine => t !== null);
  async function find<T extends TelemetryLine>(match: (t: TelemetryLine) => boolean, what: string, from = 0, ms = 5000): Promise<T> {
    let found: TelemetryLine | undefined;
    await until(() => !!(found = telemetry().slice(from).find(match)), what, ms);
    return found as T;
  }
  return { con, output: () => out, telemetry, find, type: (line: string) => con.feed(line + '\r') };
}

describe('app: the image on a simulated Espruino console', function () {
  this.timeout(20000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('boots from Storage, waits for provisioning, is configured at the REPL without echoing secrets, and connects', async () => {
    const t = await startBroker();
    cleanup.add(() => t.broker.close());
    const b = board({ lab: 'wifi-secret' });
    cleanup.add(() => b.con.powerOff());
    const waiting = await b.find<StatusLine>((l) => l.ev === 'error', 'the unconfigured error line');
    assert.equal(waiting.id, 'sparrow-a4cf12000001', 'the default id comes from getSerial()');
    assert.equal(waiting.error, 'sparrow.json: broker: not set');
    assert.equal(waiting.mqtt, 'unconfigured');
    // a provisioning tool sends DLE first, so the console does not echo the line with the passwords
    const from = b.telemetry().length;
    b.type('\x10sparrow.configure({ id: "desk1", ssid: "lab", wifiPassword: "wifi-secret", broker: "' + t.url + '", username: "desk", password: "mqtt-secret", telemetry: 0.2 })');
    const answer = await b.find<ConfigLine>((l) => l.ev === 'config', 'the configure answer', from);
    assert.equal(answer.ok, true);
    const up = await b.find<StatusLine>((l) => l.ev === 'connected', 'connected', from);
    assert.equal(up.id, 'desk1');
    assert.equal(up.wifi, 'connected');
    assert.equal(typeof up.free, 'number');
    b.type('sparrow.config()');
    const shown = await b.find<ConfigLine>((l) => l.ev === 'config', 'the config line', b.telemetry().length - 1);
    assert.equal((shown.config as { password: string }).password, '***');
    assert.equal((shown.config as { wifiPassword: string }).wifiPassword, '***');
    assert.doesNotMatch(b.output(), /wifi-secret|mqtt-secret/);
    assert.match(b.con.storage.read('sparrow.json') as string, /mqtt-secret/);
  });

  it('the reboot command resets the board; the boot code and onInit bring the app back with its config', async () => {
    const t = await startBroker();
    cleanup.add(() => t.broker.close());
    const b = board();
    cleanup.add(() => b.con.powerOff());
    b.con.storage.write('sparrow.json', JSON.stringify({ id: 'desk2', broker: t.url, interval: 60, telemetry: 0 }));
    b.type('onInit()'); // the first boot found no config; a provisioned board would simply be reset
    await b.find((l) => l.ev === 'connected', 'connected');
    const w = await client(t.url, {}, cleanup);
    await subscribe(w, 'sparrow/desk2/status', { qos: 1 });
    await w.publishAsync('sparrow/desk2/cmd', 'reboot', { qos: 1 });
    await until(() => b.con.boots === 2, 'the second boot');
    const [, offline, online] = await inbox(w).next(3);
    assert.deepEqual([offline.payload.toString(), online.payload.toString()], ['offline', 'online']);
  });
});
