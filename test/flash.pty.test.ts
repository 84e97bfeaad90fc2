// flash.sh (with --no-build: the suite's pretest built dist/) uploads the firmware image to a simulated
// board on a pseudo-terminal; the board boots it, reports the package's version, and still runs it
// after a power cycle. Each failure the script must name is provoked for real.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openPtyPair, SimStorage, UsbBoard } from '../host-sim/console';
import { Cleanup } from './support/broker';
import { flash } from './support/flash';
import { until } from './support/wait';

const ROOT = path.resolve(__dirname, '..');
const VERSION = require('../package.json').version as string;

/** Flash whose writes lose one byte in the middle of the image: what verification is for. */
class FlakyStorage extends SimStorage {
  write(name: string, data: string, offset?: number, size?: number): boolean {
    if (name === '.bootcde' && offset === 1024) data = data.substring(0, 100) + '#' + data.substring(101);
    return super.write(name, data, offset, size);
  }
}

describe('flash.sh to a simulated board over a pseudo-terminal', function () {
  this.timeout(90000);
  const cleanup = new Cleanup();
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-flash-')); });
  afterEach(async () => { await cleanup.run(); fs.rmSync(dir, { recursive: true, force: true }); });

  async function board(options: object = {}): Promise<UsbBoard> {
    const b = new UsbBoard({ dir, port: 'ttyUSB0', ...options });
    await b.plug();
    cleanup.add(() => b.unplug());
    return b;
  }

  for (const profile of ['small', 'full']) {
    it(`uploads the ${profile} image so that it survives a power cycle, and the board reports ${VERSION}`, async () => {
      const b = await board();
      let wire = '';
      b.console.on('output', (t: string) => { wire += t; });
      const run = await flash(['--port', b.hostPath, '--profile', profile]);
      assert.equal(run.code, 0, run.out);
      assert.match(run.out, new RegExp(`runs firmware ${VERSION.replace(/\./g, '\\.')} \\(${profile}\\)`));
      assert.equal(b.console.storage.read('.bootcde'), fs.readFileSync(path.join(ROOT, 'dist/espruino/firmware.' + profile + '.js'), 'latin1'));
      // the firmware came up on its own from Storage, and does again after the cable is pulled
      await b.unplug();
      wire = '';
      await b.plug();
      await until(() => new RegExp(`@sparrow/1 \\{"ev":"boot".*"fw":"${VERSION}","profile":"${profile}"`).test(wire), 'the boot line after a power cycle');
    });
  }

  it('refuses an image too large for the board\'s free memory, read from the board first', async () => {
    const b = await board({ jsVars: 1600 }); // an ESP8266
    const run = await flash(['--port', b.hostPath, '--profile', 'full']);
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /image too large for this board: about \d+ JsVars of code plus \d+ to run, but only \d+ of 1600 are free/);
    assert.equal(b.console.storage.read('.bootcde'), undefined, 'nothing was written');
  });

  it('fails verification when the flash does not hold what was sent', async () => {
    const b = await board({ storage: new FlakyStorage() });
    const run = await flash(['--port', b.hostPath, '--profile', 'small']);
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /verification failed: the board holds \d+ bytes with CRC32 \d+, expected/);
  });

  it('says so when there is no board, or a port where nothing answers', async () => {
    const none = await flash(['--port', path.join(dir, 'ttyUSB7')]);
    assert.equal(none.code, 1);
    assert.match(none.out, /no board found: cannot open/);
    const pair = await openPtyPair(path.join(dir, 'dead.board'), path.join(dir, 'ttyUSB1'));
    cleanup.add(() => pair.close());
    const dead = await flash(['--port', pair.host]);
    assert.equal(dead.code, 1);
    assert.match(dead.out, /board not answering/);
  });
});
