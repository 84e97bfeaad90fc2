// `sparrow sim --devices 1 --console` (the built CLI, as a process): one board's console on stdout, the
// way a board on USB shows it, with the progress on stderr.
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import { parseLine } from '../firmware/app/telemetry';
import { Cleanup, startBroker } from './support/broker';
import { CLI } from './support/cli';
import { until } from './support/wait';

describe('sparrow sim --console: one board\'s console on stdout', function () {
  this.timeout(30000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('--app: the firmware\'s telemetry lines come out on stdout and parse; progress stays on stderr', async () => {
    const b = await startBroker();
    cleanup.add(() => b.broker.close());
    const sim = spawn(process.execPath, [CLI, 'sim', '--app', '--devices', '1', '--console', '--broker', b.url, '--rate', '1/s', '--telemetry', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.add(() => new Promise<void>((r) => { if (sim.exitCode !== null) return r(); sim.once('exit', () => r()); sim.kill('SIGTERM'); }));
    let out = '', err = '';
    sim.stdout.on('data', (d) => { out += d; });
    sim.stderr.on('data', (d) => { err += d; });
    const telemetry = () => out.split('\n').filter((l) => l.indexOf('@sparrow/') >= 0).map((l) => parseLine(l));
    await until(() => telemetry().some((t) => !!t && (t as { mqtt?: string }).mqtt === 'connected'), 'a telemetry line saying MQTT connected', 20000);
    assert.ok(telemetry().every((t) => t !== null), 'every telemetry line on stdout parses:\n' + out);
    assert.ok(out.indexOf('connected=') < 0, 'the progress lines are not mixed into the console');
    await until(() => err.indexOf('connected=1') >= 0, 'a progress line on stderr', 10000);
  });
});
