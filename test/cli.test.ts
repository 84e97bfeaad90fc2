// The built `sparrow` command: help and version on stdout, bad usage on stderr with exit code 2.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import { VERSION } from '../firmware/version';
import { CLI } from './support/cli';

const sparrow = (...args: string[]) => spawnSync(CLI, args, { encoding: 'utf8' });

describe('sparrow command', () => {
  it('--version prints the firmware version', () => {
    const run = sparrow('--version');
    assert.equal(run.status, 0);
    assert.equal(run.stdout.trim(), VERSION);
  });

  it('--help lists the commands on stdout', () => {
    const run = sparrow('--help');
    assert.equal(run.status, 0);
    assert.match(run.stdout, /^Usage: sparrow <command>/);
    assert.match(run.stdout, /\n {2}bench /);
  });

  it('<command> --help shows that command\'s usage', () => {
    const run = sparrow('bench', '--help');
    assert.equal(run.status, 0);
    assert.match(run.stdout, /^Usage: sparrow bench/);
  });

  it('an unknown command, a missing command or an unknown option is usage on stderr, exit 2', () => {
    for (const args of [['frobnicate'], [], ['bench', '--nope']]) {
      const run = sparrow(...args);
      assert.equal(run.status, 2, args.join(' '));
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /Usage: sparrow/);
    }
  });

  it('bench board without an interpreter, or with a bad --espruino or --peer path: one line, exit 2, before any work', () => {
    const env = { ...process.env, ESPRUINO_BIN: '' };
    const cases: Array<[string[], RegExp]> = [
      [['bench', 'board'], /^the board suite needs the interpreter: --espruino PATH or ESPRUINO_BIN\n$/],
      [['bench', 'board', '--espruino', '/nonexistent/espruino'], /^--espruino \/ ESPRUINO_BIN: \/nonexistent\/espruino: not an executable file\n$/],
      [['bench', 'board', '--espruino', process.execPath, '--peer', '/nonexistent/MQTT.js'], /^--peer: \/nonexistent\/MQTT.js: no such file\n$/],
    ];
    for (const [args, message] of cases) {
      const run = spawnSync(CLI, args, { encoding: 'utf8', env });
      assert.equal(run.status, 2, args.join(' '));
      assert.equal(run.stdout, '');
      assert.match(run.stderr, message);
    }
  });
});
