// types/espruino.d.ts is written by hand (the board bundle's exports are plain assignments that the
// compiler cannot see as a module), so it is held to the firmware's own interfaces here: the options
// a board's connect() takes and the client's methods must be the same names on both sides.
import { strict as assert } from 'assert';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..');

/** Type-checks `body` beside the board declarations and the firmware's client; returns the errors. */
function check(body: string): string[] {
  const file = path.join(ROOT, 'test', '__types_check.ts');
  const text = `/// <reference path="../types/espruino.d.ts" />
import type * as Board from 'sparrow-mqtt';
import type { ClientOptions, MqttClient } from '../firmware/client';
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
${body}
`;
  const options: ts.CompilerOptions = { noEmit: true, strict: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2020, types: [], skipLibCheck: true };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host), exists = host.fileExists.bind(host);
  host.readFile = (f) => (f === file ? text : read(f));
  host.fileExists = (f) => f === file || exists(f);
  const program = ts.createProgram([file, path.join(ROOT, 'firmware/espruino-globals.d.ts'), path.join(ROOT, 'firmware/profile.d.ts')], options, host);
  return ts.getPreEmitDiagnostics(program).filter((d) => d.file && d.file.fileName === file).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('types/espruino.d.ts: the board declarations follow the firmware', function () {
  this.timeout(60000);

  it('connect() takes the same options on both sides', () => {
    assert.deepEqual(check('const same: Same<keyof Board.ClientOptions, keyof ClientOptions> = true;'), []);
  });

  it('the client has the same methods and fields on both sides (the session is the firmware\'s own)', () => {
    assert.deepEqual(check('const same: Same<keyof Board.MqttClient, Exclude<keyof MqttClient, \'session\'>> = true;'), []);
  });

  it('the check can fail: a name on one side only is an error', () => {
    assert.equal(check('const same: Same<keyof Board.ClientOptions | \'extra\', keyof ClientOptions> = true;').length, 1);
  });
});
