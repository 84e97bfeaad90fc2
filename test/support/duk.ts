// Runs a bundle on duk (Debian's duktape), a strict ES5 engine that shares nothing with Node, with a
// self-test script after it: one file of `var exports = {};` + bundle + harness + self-test.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface DukRun {
  stdout: string;
  output: string;
  passed: number;
}

/** Runs it and asserts the self-test's summary line `<title>: N passed, 0 failed` and exit 0. */
export function runOnDuk(bundleFile: string, selftest: string, title: string): DukRun {
  const dir = path.join(__dirname, '..', 'duk');
  const parts = [fs.readFileSync(bundleFile, 'utf8'), fs.readFileSync(path.join(dir, 'harness.js'), 'utf8'), fs.readFileSync(path.join(dir, selftest), 'utf8')];
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-duk-')), path.basename(bundleFile));
  fs.writeFileSync(file, 'var exports = {};\n' + parts.join('\n'));
  const run = spawnSync('duk', [file], { encoding: 'utf8' });
  assert.ifError(run.error); // ENOENT: duk is not installed (apt-get install duktape)
  const output = run.stdout + run.stderr;
  const m = new RegExp(`^${title}: (\\d+) passed, (\\d+) failed$`, 'm').exec(run.stdout);
  assert.ok(m, `no summary line from duk:\n${output}`);
  assert.equal(Number(m[2]), 0, output);
  assert.ok(Number(m[1]) > 0, output);
  assert.equal(run.status, 0, output);
  return { stdout: run.stdout, output, passed: Number(m[1]) };
}
