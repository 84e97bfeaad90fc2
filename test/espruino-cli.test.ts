// The Espruino user's path with Espruino's own `espruino` CLI (npm `espruino`, not a dependency of this
// package: set ESPRUINO_CLI to its bin/espruino-cli.js, or install it beside): the library written to a
// simulated board's Storage with --storage, a sketch sent with SAVE_ON_SEND=1 (Storage boot code), and
// the sketch, booted, requiring the library from Storage and publishing through a real broker. The CLI
// reaches the board's pty through a TCP bridge (socat), as it reaches a board with a telnet console;
// a local board file and module folder keep it from looking anything up on espruino.com.
import { strict as assert } from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UsbBoard } from '../host-sim/console';
import { Cleanup, client, inbox, startBroker, subscribe } from './support/broker';
import { freePort, waitForPort } from './support/mosquitto';

const ROOT = path.join(__dirname, '..');

function espruinoCli(): string | null {
  if (process.env.ESPRUINO_CLI) return process.env.ESPRUINO_CLI;
  try {
    return require.resolve('espruino/bin/espruino-cli.js');
  } catch {
    return null;
  }
}

describe('the espruino CLI puts the library and a sketch on a simulated board', function () {
  this.timeout(120000);
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  it('--storage writes sparrow-mqtt, SAVE_ON_SEND=1 boots the sketch, and the sketch publishes with it', async function () {
    const cli = espruinoCli();
    if (!cli) this.skip(); // no `espruino` package here: see docs/espruino.md for the same steps by hand
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

    fs.writeFileSync(path.join(dir, 'board.json'), JSON.stringify({ info: { builtin_modules: ['Wifi', 'net', 'tls', 'Storage', 'ESP32'] } }));
    fs.mkdirSync(path.join(dir, 'modules'));
    fs.writeFileSync(path.join(dir, 'sketch.js'), [
      'function onInit() {',
      `  var client = require("sparrow-mqtt").connect("${t.url}", { clientId: "sketch" });`,
      '  client.on("connect", function () { client.publish("sketch/hello", "from " + require("sparrow-mqtt").PROFILE, { qos: 1 }); });',
      '}',
    ].join('\n'));
    const library = path.join(ROOT, 'dist/espruino/sparrow-mqtt.full.js');
    const run = spawn(process.execPath, [cli!, '--board', path.join(dir, 'board.json'), '-p', `tcp://127.0.0.1:${port}`,
      '--config', `MODULE_URL=${path.join(dir, 'modules')}`, '--storage', `sparrow-mqtt:${library}`, '--config', 'SAVE_ON_SEND=1',
      path.join(dir, 'sketch.js')], { cwd: dir, stdio: 'ignore' });
    cleanup.add(() => { run.kill(); });

    const [hello] = await inbox(watcher).next(1, 90000);
    assert.equal(hello.topic, 'sketch/hello');
    assert.equal(hello.payload.toString(), 'from full');
    assert.equal(board.console.storage.read('sparrow-mqtt'), fs.readFileSync(library, 'latin1'), 'the library in Storage, byte for byte');
    assert.match(board.console.storage.read('.bootcde') || '', /require\("sparrow-mqtt"\)/);
  });
});
