// Runs the built library bundles on duk (Debian's duktape): an independent strict ES5 engine, so any
// newer JavaScript that slipped past the lowering and the bundle check fails here, as on a board.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

describe('library bundles on duk (strict ES5)', () => {
  for (const profile of ['small', 'full']) {
    it(`sparrow-mqtt.${profile}.js passes the self-test`, () => {
      const bundle = fs.readFileSync(path.join(ROOT, 'dist/espruino', `sparrow-mqtt.${profile}.js`), 'utf8');
      const selftest = fs.readFileSync(path.join(ROOT, 'test/duk/selftest.js'), 'utf8');
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-duk-')), `selftest.${profile}.js`);
      fs.writeFileSync(file, `var exports = {};\n${bundle}\n${selftest}`);
      const run = spawnSync('duk', [file], { encoding: 'utf8' });
      assert.ifError(run.error); // ENOENT: duk is not installed (apt-get install duktape)
      const output = run.stdout + run.stderr;
      const m = /^duk selftest: (\d+) passed, (\d+) failed$/m.exec(run.stdout);
      assert.ok(m, `no summary line from duk:\n${output}`);
      assert.match(run.stdout, new RegExp(`^profile ${profile},`, 'm'), output);
      assert.equal(Number(m[2]), 0, output);
      assert.ok(Number(m[1]) > 0, output);
      assert.equal(run.status, 0, output);
    });
  }
});
