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

  it('-V and help [command] as well', () => {
    assert.equal(sparrow('-V').stdout.trim(), VERSION);
    const all = sparrow('help');
    assert.equal(all.status, 0);
    assert.match(all.stdout, /\n {2}pub /);
    const one = sparrow('help', 'sim');
    assert.equal(one.status, 0);
    assert.match(one.stdout, /^Usage: sparrow sim/);
  });

  it('bridge ends with exit 1 and the reason when a port cannot be opened, instead of running idle', () => {
    // a file, not a serial port: it exists, but no baud rate can be set on it
    const run = spawnSync(CLI, ['bridge', '/etc/hostname', '--broker', 'mqtt://127.0.0.1:1', '--status', '0'], { encoding: 'utf8', timeout: 10000 });
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stderr, /^sparrow bridge: cannot open \/etc\/hostname: /m);
  });

  it('a missing command shows the usage on stderr, exit 2', () => {
    const run = sparrow();
    assert.equal(run.status, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^Usage: sparrow/);
  });

  it('an unknown command or option, a missing value or a stray argument is one line and a hint on stderr, exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /^sparrow: unknown command "frobnicate"\nsee sparrow help\n$/],
      [['help', 'frobnicate'], /^sparrow: unknown command "frobnicate"\nsee sparrow help\n$/],
      [['bench', '--nope'], /^sparrow bench: unknown option '--nope'\nsee sparrow bench --help\n$/],
      [['sim', '--rate'], /^sparrow sim: option '--rate <value>' argument missing\nsee sparrow sim --help\n$/],
      [['sim', '--virtual=yes'], /^sparrow sim: option '--virtual' does not take an argument\nsee sparrow sim --help\n$/],
      [['broker', 'extra'], /^sparrow broker: unexpected argument "extra"\nsee sparrow broker --help\n$/],
      // a port that is not there is said at once, not waited for, dropped or bridged idle
      [['monitor', '/dev/nonexist'], /^sparrow monitor: \/dev\/nonexist: no such port [^\n]*\nsee sparrow monitor --help\n$/],
      [['ports', '/dev/nonexist'], /^sparrow ports: \/dev\/nonexist: no such port [^\n]*\nsee sparrow ports --help\n$/],
      [['bridge', '/dev/nonexist', '--broker', 'mqtt://127.0.0.1'], /^sparrow bridge: \/dev\/nonexist: no such port [^\n]*\nsee sparrow bridge --help\n$/],
      // provision's Wi-Fi password has its own name; the old --password is refused, and not echoed
      [['provision', '/dev/null', '--wifi', 'lab', '--password', 'hunter2', '--broker', 'mqtt://10.0.0.2'],
        /^sparrow provision: --password is ambiguous: the Wi-Fi password is --wifi-password, the broker's --mqtt-password\nsee sparrow provision --help\n$/],
    ];
    for (const [args, expected] of cases) {
      const run = sparrow(...args);
      assert.equal(run.status, 2, args.join(' '));
      assert.equal(run.stdout, '');
      assert.match(run.stderr, expected);
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
