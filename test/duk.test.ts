// Runs the built library bundles on duk (Debian's duktape): an independent strict ES5 engine, so any
// newer JavaScript that slipped past the lowering and the bundle check fails here, as on a board.
import { strict as assert } from 'assert';
import { bundlePath } from '../host-sim/bundle';
import { runOnDuk } from './support/duk';

describe('library bundles on duk (strict ES5)', () => {
  for (const profile of ['small', 'full'] as const) {
    it(`sparrow-mqtt.${profile}.js passes the self-test`, () => {
      const run = runOnDuk(bundlePath(profile), 'selftest.js', 'duk selftest');
      assert.match(run.stdout, new RegExp(`^profile ${profile},`, 'm'), run.output);
    });
  }
});
