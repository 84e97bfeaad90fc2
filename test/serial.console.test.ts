// The simulated board's console: the parts of Espruino's REPL an uploader uses (docs/console-protocol.md),
// first on an in-memory stream, then on a real pseudo-terminal pair opened with the real serialport.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SimConsole, UsbBoard } from '../host-sim/console';
import { ConsoleClient } from '../tools/monitor/console-client';
import { until } from './support/wait';

/** A console on an in-memory stream, with what it printed. */
function board(options = {}) {
  const con = new SimConsole(options);
  const io = { out: '', con };
  con.on('output', (t: string) => { io.out += t; });
  con.powerOn();
  return io;
}

describe('simulated Espruino console', () => {
  it('prompts with >, echoes the line and prints =result', () => {
    const b = board();
    assert.match(b.out, /espruino\.com[\s\S]*\r\n>$/);
    b.out = '';
    b.con.feed('1+2\r\n');
    assert.equal(b.out, '1+2\r\n=3\r\n>');
  });

  it('Ctrl-C clears a half-typed line', () => {
    const b = board();
    b.con.feed('this is not code\x03');
    b.out = '';
    b.con.feed('6*7\n');
    assert.equal(b.out, '6*7\r\n=42\r\n>');
  });

  it('DLE at line start suppresses the echo and the result of that line only', () => {
    const b = board();
    b.out = '';
    b.con.feed('\x10var secret = "hunter2"; secret\n');
    assert.doesNotMatch(b.out, /hunter2/);
    b.con.feed('\x10print(secret.length)\n');
    assert.match(b.out, /7\r\n/);
    b.out = '';
    b.con.feed('1\n');
    assert.equal(b.out, '1\r\n=1\r\n>');
  });

  it('echo(0) turns echo, results and prompts off until echo(1)', () => {
    const b = board();
    b.con.feed('echo(0)\n');
    b.out = '';
    b.con.feed('40+2\nprint("visible")\n');
    assert.equal(b.out, 'visible\r\n');
    b.con.feed('echo(1)\n');
    b.out = '';
    b.con.feed('2\n');
    assert.equal(b.out, '2\r\n=2\r\n>');
  });

  it('continues a line while brackets are open, with the : prompt', () => {
    const b = board();
    b.out = '';
    b.con.feed('function twice(a) {\n  return a * 2;\n}\ntwice(21)\n');
    assert.match(b.out, /\r\n: {2}return a \* 2;\r\n:}\r\n=undefined\r\n>twice\(21\)\r\n=42\r\n>$/);
  });

  it('reports exceptions as Uncaught and keeps going', () => {
    const b = board();
    b.out = '';
    b.con.feed('nope()\n1\n');
    assert.match(b.out, /Uncaught ReferenceError: nope is not defined\r\n>1\r\n=1/);
  });

  it('Storage survives reset(); .bootcde runs at load() and power-on, not after reset()', async () => {
    const b = board();
    b.con.feed('require("Storage").write(".bootcde", "var booted = (global.booted||0) + 1; print(\'BOOT CODE RAN\')")\n');
    b.out = '';
    b.con.feed('reset()\n');
    await until(() => b.con.boots === 2, 'reset');
    assert.doesNotMatch(b.out, /BOOT CODE RAN/);
    b.out = '';
    b.con.feed('require("Storage").list()\n');
    assert.match(b.out, /\.bootcde/);
    b.con.feed('load()\n');
    await until(() => b.con.boots === 3, 'load');
    assert.match(b.out, /BOOT CODE RAN/);
    b.con.powerOff();
    b.out = '';
    b.con.powerOn();
    assert.match(b.out, /BOOT CODE RAN/);
  });

  it('E.setBootCode(code, true) runs even after reset()', async () => {
    const b = board();
    b.con.feed('E.setBootCode("print(\'ALWAYS\')", true)\n');
    b.out = '';
    b.con.feed('reset()\n');
    await until(() => b.con.boots === 2, 'reset');
    assert.match(b.out, /ALWAYS/);
  });

  it('save() keeps the typed code and runs onInit at every boot', async () => {
    const b = board();
    b.con.feed('var n = 5;\nfunction onInit() { print("INIT " + n); }\nsave()\n');
    await until(() => /INIT 5/.test(b.out), 'onInit after save');
    b.con.powerOff();
    b.out = '';
    b.con.powerOn();
    assert.match(b.out, /Running onInit\(\)\.\.\.\r\nINIT 5/);
    b.con.feed('reset()\n');
    await until(() => b.con.boots === 3, 'reset');
    b.out = '';
    b.con.feed('typeof onInit\n');
    assert.match(b.out, /="undefined"/, 'reset() clears RAM');
  });

  it('process.memory() charges uploaded code against free JsVars; reset() gives them back', async () => {
    const b = board({ jsVars: 1600 });
    const free = () => { b.out = ''; b.con.feed('process.memory().free\n'); return Number(/=(\d+)/.exec(b.out)![1]); };
    const before = free();
    assert.ok(before > 1000 && before < 1600, String(before));
    b.con.feed('\x10var big = "' + 'x'.repeat(6000) + '";\n');
    const after = free();
    assert.ok(before - after >= 500, `${before} -> ${after}`);
    b.con.feed('reset()\n');
    await until(() => b.con.boots === 2, 'reset');
    assert.equal(free(), before);
  });

  it('timers print later; reset() stops them', async () => {
    const b = board();
    b.con.feed('setInterval(function(){ print("TICK") }, 5)\n');
    await until(() => /TICK/.test(b.out), 'a tick');
    b.con.feed('reset()\n');
    await until(() => b.con.boots === 2, 'reset');
    b.out = '';
    b.con.feed('\x10setTimeout(function(){ print("AFTER") }, 30)\n');
    await until(() => /AFTER/.test(b.out), 'a new timer');
    assert.doesNotMatch(b.out, /TICK/);
  });
});

describe('simulated board on a pseudo-terminal (socat + serialport)', function () {
  let dir: string;
  let usb: UsbBoard;
  let host: ConsoleClient | null = null;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-pty-')); });
  afterEach(async () => {
    if (host) await host.close();
    host = null;
    if (usb) await usb.unplug();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers at the host end of the pty like a USB board', async () => {
    usb = new UsbBoard({ dir, port: 'host-1' });
    await usb.plug();
    host = await ConsoleClient.open(usb.hostPath);
    await host.write('1+2\r');
    await host.expect(/=3\r\n>/, 3000, '=3');
    assert.equal(await host.eval('process.memory().total'), 16383);
    assert.deepEqual(await host.eval('[1,"a",{b:2}]'), [1, 'a', { b: 2 }]);
    await assert.rejects(host.eval('nope.x'), /nope is not defined/);
  });

  it('unplugging removes the host path; plugging in again boots from Storage', async () => {
    usb = new UsbBoard({ dir, port: 'host-1' });
    await usb.plug();
    host = await ConsoleClient.open(usb.hostPath);
    await host.eval('require("Storage").write(".bootcde","print(\'HELLO FROM FLASH\')")');
    await host.close();
    host = null;
    await usb.unplug();
    assert.equal(fs.existsSync(path.join(dir, 'host-1')), false);
    await usb.plug('host-2');
    host = await ConsoleClient.open(usb.hostPath);
    await host.write('load()\n');
    await host.expect(/HELLO FROM FLASH/, 3000, 'the boot code');
  });
});
