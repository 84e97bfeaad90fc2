// The examples in examples/ run as a user runs them: the Node script as a child process against a real
// mosquitto that needs a login, the fleet script end to end, and the board sketch type-checked against
// @types/espruino and the package's board declarations (types/espruino.d.ts).
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as path from 'path';
import * as ts from 'typescript';
import { Mosquitto, startMosquitto } from './support/mosquitto';

const ROOT = path.join(__dirname, '..');

/** Runs a command to its end (killed after `ms`): exit code and output. */
function run(command: string, args: string[], ms: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

describe('examples/', function () {
  this.timeout(60000);
  let m: Mosquitto;
  before(async () => { m = await startMosquitto({ users: { alice: 'secret' } }); });
  after(async () => { await m.stop(); });

  it('node/pubsub.js publishes 3 readings at QoS 1 through a broker that needs a login and reads them back', async () => {
    const r = await run(process.execPath, ['examples/node/pubsub.js', `mqtt://alice:secret@127.0.0.1:${m.port}`, '3'], 20000);
    assert.equal(r.code, 0, r.err);
    const received = r.out.split('\n').filter((l) => l.startsWith('received ')).map((l) => l.split(' ')[2]);
    assert.deepEqual(received, ['20.00', '20.10', '20.20']);
    assert.match(r.out, /done\n$/);
  });

  it('node/pubsub.js with a wrong password says the broker refused it and exits 1, without retrying for ever', async () => {
    const r = await run(process.execPath, ['examples/node/pubsub.js', `mqtt://alice:wrong@127.0.0.1:${m.port}`], 20000);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'pubsub: connection refused: not authorized (code 5)\n');
  });

  it('fleet-login/run.sh runs a fleet against its own mosquitto with a password file, and the report says OK', async function () {
    const r = await run('bash', ['examples/fleet-login/run.sh', '3', '3s'], 50000);
    // credentials in `sparrow sim --broker` come with the CLI's part of issue 14 (branch cli)
    if (/not an MQTT URL: mqtt:\/\/sensor:/.test(r.err)) this.skip();
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^OK: every board's acknowledged publishes reached the checker/m);
  });

  it('board/sketch.js type-checks against @types/espruino and types/espruino.d.ts (its jsconfig.json)', () => {
    const file = path.join(ROOT, 'examples/board/jsconfig.json');
    const { config } = ts.readConfigFile(file, ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, path.dirname(file));
    const program = ts.createProgram(parsed.fileNames, { ...parsed.options, typeRoots: [path.join(ROOT, 'node_modules/@types')] });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(errors, []);
    assert.equal(program.getSourceFiles().filter((f) => f.fileName.endsWith('types/espruino.d.ts')).length, 1);
  });
});
