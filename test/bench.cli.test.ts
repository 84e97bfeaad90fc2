// `npm run bench`'s command line: a bad flag, value or setting gets a line saying why and exit 2, before any
// suite starts (none of these runs takes a measure, so each ends in well under a second of work).
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';

const BENCH = path.join(__dirname, '..', 'dist', 'node', 'bench.js');

function bench(args: string[], env: { [name: string]: string } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8', env: { ...process.env, ESPRUINO_BIN: '', ...env }, timeout: 30000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bench command line', () => {
  const bad: Array<[string, string[], { [name: string]: string }, RegExp]> = [
    ['an unknown suite', ['nosuch'], {}, /^unknown suite or option nosuch/],
    ['fewer than 3 runs', ['codec', '--runs', '2'], {}, /^--runs must be an integer >= 3/],
    ['a peer file that is not there', ['codec', '--peer', '/nonexistent/MQTT.js'], {}, /^--peer: \/nonexistent\/MQTT\.js: no such file/],
    ['the board suite without an interpreter', ['board'], {}, /^the board suite needs the interpreter/],
    ['an unknown flow part (a setting, not a flag)', ['flow'], { SPARROW_BENCH_FLOW_PARTS: 'stuck,nosuch' }, /^SPARROW_BENCH_FLOW_PARTS: unknown part nosuch \(parts: stuck, offline, kill9\)/],
    ['an unknown flow part, with every suite chosen by default', [], { SPARROW_BENCH_FLOW_PARTS: 'nosuch' }, /^SPARROW_BENCH_FLOW_PARTS: unknown part nosuch/],
  ];
  for (const [what, args, env, message] of bad) {
    it(`${what}: a line saying why, exit 2, nothing measured`, () => {
      const r = bench(args, env);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '', 'no report started');
    });
  }
});
