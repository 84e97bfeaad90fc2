// `sparrow broker` options: --help lists every option, flags and a JSON config file become options.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BROKER_HELP, brokerCommand, brokerOptions } from '../host-sim/broker/cli';

async function capture(f: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const log = console.log, error = console.error;
  let out = '', err = '';
  console.log = (...a: unknown[]) => { out += a.join(' ') + '\n'; };
  console.error = (...a: unknown[]) => { err += a.join(' ') + '\n'; };
  try { return { code: await f(), out, err }; } finally { console.log = log; console.error = error; }
}

describe('broker: command line', () => {
  it('--help lists every option', async () => {
    const { code, out } = await capture(() => brokerCommand(['--help']));
    assert.equal(code, 0);
    for (const o of ['--port', '--host', '--ws-port', '--tls-port', '--cert', '--key', '--data-dir', '--passwd', '--acl',
      '--max-packet-size', '--server-keep-alive', '--log-level', '--config']) {
      assert.ok(out.includes(o), o + ' missing from --help');
    }
    assert.equal(out.trim(), BROKER_HELP.trim());
  });

  it('an unknown option or a bad value is a usage error (exit 2)', async () => {
    assert.equal((await capture(() => brokerCommand(['--nope']))).code, 2);
    const r = await capture(() => brokerCommand(['--port', 'abc']));
    assert.equal(r.code, 2);
    assert.match(r.err, /--port wants a whole number/);
    assert.equal((await capture(() => brokerCommand(['--log-level', 'loud']))).code, 2);
    assert.equal((await capture(() => brokerCommand(['--cert', 'x.pem']))).code, 2);
  });

  it('flags become options; a JSON config file fills in, flags win', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-cfg-'));
    try {
      const file = path.join(dir, 'broker.json');
      fs.writeFileSync(file, JSON.stringify({ port: 1999, 'ws-port': 8081, 'max-packet-size': 4096, 'log-level': 'debug', fsync: true }));
      const o = brokerOptions({ config: file, port: '2000', 'server-keep-alive': '30', 'tls-port': 'off' });
      assert.equal(o.port, 2000);
      assert.equal(o.wsPort, 8081);
      assert.equal(o.maxPacketSize, 4096);
      assert.equal(o.serverKeepAlive, 30);
      assert.equal(o.logLevel, 'debug');
      assert.equal(o.fsync, true);
      assert.equal(o.tlsPort, null);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
