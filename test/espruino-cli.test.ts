// The Espruino user's path with Espruino's own `espruino` CLI (npm `espruino`, a devDependency): the
// library written to a simulated board's Storage with --storage, a sketch sent with SAVE_ON_SEND=1
// (Storage boot code), and the sketch, booted, requiring the library from Storage and publishing
// through a real broker. The CLI reaches the board's pty through a TCP bridge (socat), as it reaches a
// board with a telnet console. As with a real board, it reads process.env on connect, then the board's
// description (ESP32.json); local folders for that (BOARD_JSON_URL) and for modules (MODULE_URL) keep it
// from looking anything up on espruino.com. --no-ble keeps it off Bluetooth: to open any port, even
// tcp://, it first lists every transport's ports, and its node-ble transport then dials the system
// D-Bus, which a container lacks (the CLI dies, exit 7, on "connect ENOENT /var/run/dbus/system_bus_socket").
import { strict as assert } from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UsbBoard } from '../host-sim/console';
import { Cleanup, client, inbox, startBroker, subscribe } from './support/broker';
import { runNode } from './support/cli';
import { freePort, waitForPort } from './support/mosquitto';

const ROOT = path.join(__dirname, '..');

describe('the espruino CLI puts the library and a sketch on a simulated board', function () {
  this.timeout(120000);
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  it('--storage writes sparrow-mqtt, SAVE_ON_SEND=1 boots the sketch, and the sketch publishes with it', async function () {
    const t = await startBroker();
    cleanup.add(() => t.broker.close());
    const watcher = await client(t.url, {}, cleanup);
    await subscribe(watcher, 'sketch/#', { qos: 1 });

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-espruino-cli-'));
    cleanup.add(() => fs.rmSync(dir, { recursive: true, force: true }));
    const board = new UsbBoard({ dir, port: 'host-1' });
    await board.plug();
    cleanup.add(() => board.unplug());
    const port = await freePort();
    const bridge: ChildProcess = spawn('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `FILE:${board.hostPath},raw,echo=0`], { stdio: 'ignore' });
    cleanup.add(() => { bridge.kill(); });
    await waitForPort(port);

    fs.mkdirSync(path.join(dir, 'json'));
    fs.writeFileSync(path.join(dir, 'json', 'ESP32.json'), JSON.stringify({ info: { builtin_modules: ['Wifi', 'net', 'tls', 'Storage', 'ESP32'] } }));
    fs.mkdirSync(path.join(dir, 'modules'));
    fs.writeFileSync(path.join(dir, 'sketch.js'), [
      'function onInit() {',
      `  var client = require("sparrow-mqtt").connect("${t.url}", { clientId: "sketch" });`,
      '  client.on("connect", function () { client.publish("sketch/hello", "from " + require("sparrow-mqtt").PROFILE, { qos: 1 }); });',
      '}',
    ].join('\n'));
    const library = path.join(ROOT, 'dist/espruino/sparrow-mqtt.full.js');
    const cli = require.resolve('espruino/bin/espruino-cli.js');
    const run = await runNode('espruino', cli, ['--verbose', '--no-ble', '-p', `tcp://127.0.0.1:${port}`,
      '--config', `BOARD_JSON_URL=${path.join(dir, 'json')}`, '--config', `MODULE_URL=${path.join(dir, 'modules')}`, '--storage', `sparrow-mqtt:${library}`, '--config', 'SAVE_ON_SEND=1',
      path.join(dir, 'sketch.js')], 90000, dir);
    assert.equal(run.code, 0, 'the espruino CLI failed:\n' + run.out.slice(-3000));
    assert.match(run.out, /Found ESP32, 2v29/, 'the CLI read the board\'s process.env');
    assert.ok(run.out.includes('Loading ' + path.join(dir, 'json', 'ESP32.json')) && run.out.includes('Board JSON loaded'), 'the board description from the local folder');
    assert.match(run.out, /Upload Complete/);

    const [hello] = await inbox(watcher).next(1, 10000);
    assert.equal(hello.topic, 'sketch/hello');
    assert.equal(hello.payload.toString(), 'from full');
    assert.equal(board.console.storage.read('sparrow-mqtt'), fs.readFileSync(library, 'latin1'), 'the library in Storage, byte for byte');
    assert.match(board.console.storage.read('.bootcde') || '', /require\("sparrow-mqtt"\)/);
  });
});
