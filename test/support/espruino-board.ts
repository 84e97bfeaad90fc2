// The board tests' side of the real Espruino interpreter (tools/bench/espruino.ts runs it): which build,
// the line that says plainly when the tests did not run, and programs that load a library bundle.
import * as fs from 'fs';
import * as path from 'path';
import { espruinoDir, espruinoError, siblingBuild, startEspruino, writeStorage, type Espruino } from '../../tools/bench/espruino';

export { espruinoDir, startEspruino, writeStorage, type Espruino };

/** ESPRUINO_BIN: a Linux build of the interpreter (`.ci/run` sets it to ../shared/espruino/espruino-16383 when that exists). */
export const ESPRUINO_BIN = process.env.ESPRUINO_BIN || '';

/** The 1,700-JsVar build (ESP8266 size): ESPRUINO_1700_BIN, or `espruino-1700` beside ESPRUINO_BIN. */
export function build1700(): string | null {
  return process.env.ESPRUINO_1700_BIN || (ESPRUINO_BIN ? siblingBuild(ESPRUINO_BIN, 1700) : null);
}

/** The 4,095-JsVar build (ESP32-C3 size): ESPRUINO_4095_BIN, or `espruino-4095` beside ESPRUINO_BIN. */
export function build4095(): string | null {
  return process.env.ESPRUINO_4095_BIN || (ESPRUINO_BIN ? siblingBuild(ESPRUINO_BIN, 4095) : null);
}

/**
 * True when the board tests can run. Otherwise it adds a pending test that says so, which mocha prints
 * as a visible line: the suite passes without the interpreter, and says that it did not run.
 */
export function boardTestsRun(): boolean {
  if (ESPRUINO_BIN && !espruinoError(ESPRUINO_BIN)) return true;
  it('NOT RUN: set ESPRUINO_BIN to an Espruino Linux build (e.g. ../shared/espruino/espruino-16383) to run the board tests'
    + (ESPRUINO_BIN ? ' (' + espruinoError(ESPRUINO_BIN) + ')' : ''));
  return false;
}

export const DIST = path.resolve(__dirname, '..', '..', 'dist', 'espruino');

/** A bundle of dist/espruino (built by `npm run build`, which `npm test` runs first). */
export function bundle(file: string): string {
  return fs.readFileSync(path.join(DIST, file), 'utf8');
}

/**
 * Starts a program on the interpreter with the library `sparrow-mqtt.<profile>.js` loaded into RAM as
 * `mqtt`, and `out(tag, value)` to report a `@tag <json>` line. The program's own text follows.
 */
export function runWithLibrary(bin: string, profile: 'small' | 'full', program: string): Espruino {
  const cwd = espruinoDir();
  fs.writeFileSync(path.join(cwd, 'test.js'), [
    'Modules.addCached("sparrow-mqtt", ' + JSON.stringify(bundle('sparrow-mqtt.' + profile + '.js')) + ');',
    'var mqtt = require("sparrow-mqtt");',
    'function out(tag, v) { console.log("@" + tag + " " + JSON.stringify(v === undefined ? null : v)); }',
    program,
  ].join('\n'));
  return startEspruino(bin, cwd, 'test.js');
}

/** Kills the interpreter and removes its folder. */
export async function finish(e: Espruino): Promise<void> {
  await e.kill();
  fs.rmSync(e.cwd, { recursive: true, force: true });
}
