// Runs the firmware images on duk (Debian's duktape), a strict ES5 engine: the app's code, as flashed,
// must not lean on newer JavaScript. The lines it prints must parse as telemetry on the host.
import { strict as assert } from 'assert';
import { parseLine } from '../firmware/app/telemetry';
import { bundlePath } from '../host-sim/bundle';
import { runOnDuk } from './support/duk';

describe('app: firmware images on duk (strict ES5)', () => {
  for (const profile of ['small', 'full'] as const) {
    it(`firmware.${profile}.js runs the app self-test`, () => {
      const run = runOnDuk(bundlePath(profile, 'firmware'), 'app-selftest.js', 'duk app selftest');
      const telemetry = run.stdout.split('\n').filter((l) => l.startsWith('@sparrow/'));
      assert.ok(telemetry.length >= 8, run.output);
      for (const line of telemetry) assert.ok(parseLine(line), 'does not parse: ' + line);
    });
  }
});
