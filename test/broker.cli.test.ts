// `sparrow broker` options: --help lists every option, flags and a JSON config file become options.
import { strict as assert } from 'assert';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BROKER_HELP, BROKER_OPTIONS, brokerCommand, brokerOptions } from '../tools/cli/broker';
import { client, Cleanup, inbox, subscribe } from './support/broker';
import { until } from './support/wait';

/** The built command (npm's pretest runs the build), as a user runs it. */
const SPARROW = path.join(__dirname, '..', 'dist', 'node', 'sparrow.js');

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
    const zero = await capture(() => brokerCommand(['--receive-maximum', '0']));
    assert.equal(zero.code, 2);
    assert.match(zero.err, /--receive-maximum: 0 is not from 1 to 65535/);
    assert.equal((await capture(() => brokerCommand(['--cert', 'x.pem']))).code, 2);
    const k = await capture(() => brokerCommand(['--max-keepalive', '65536']));
    assert.equal(k.code, 2);
    assert.match(k.err, /--max-keepalive: 65536 is over 65535/);
  });

  it('issue 13.16: -c FILE: an unknown key, a bad value or bad JSON stops it, naming the file and the key', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-cfg-'));
    try {
      const file = path.join(dir, 'broker.json');
      const cases: [string, string][] = [
        ['{"wsPort": "off"}', `${file}: unknown key "wsPort" (did you mean "ws-port"?)`],
        ['{"prot": 1884}', `${file}: unknown key "prot" (the keys are the long flag names`],
        ['{"config": "other.json"}', `${file}: unknown key "config"`],
        ['{"ws-port": "of"}', `${file}: "ws-port" wants a whole number, not "of"`],
        ['{"port": 70000}', `${file}: "port": 70000 is not a port`],
        ['{"max-packet-size": -1}', `${file}: "max-packet-size" wants a whole number, not "-1"`],
        ['{"receive-maximum": 0}', `${file}: "receive-maximum": 0 is not from 1 to 65535`],
        ['{"server-keep-alive": 65536}', `${file}: "server-keep-alive": 65536 is not from 0 to 65535`],
        ['{"fsync": "yes"}', `${file}: "fsync" wants true or false, not "yes"`],
        ['{"acl": ["a"]}', `${file}: "acl" wants a string or a number, not ["a"]`],
        ['{"log-level": "loud"}', `${file}: "log-level": "loud" is not one of`],
        ['{"port": 1884,}', `${file}: not valid JSON: `],
        ['[1883]', `${file}: not a JSON object of options`],
      ];
      for (const [json, message] of cases) {
        fs.writeFileSync(file, json);
        const r = await capture(() => brokerCommand(['-c', file]));
        assert.equal(r.code, 2, json);
        assert.ok(r.err.startsWith(`sparrow broker: ${message}`), `${json}: ${r.err}`);
        assert.equal(r.err.trim().split('\n').length, 1, 'one line');
      }
      const missing = await capture(() => brokerCommand(['-c', path.join(dir, 'none.json')]));
      assert.equal(missing.code, 2);
      assert.match(missing.err, /none\.json: ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
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
      const flow = brokerOptions({ 'max-queued-messages': '5', 'max-queued-bytes': '1000', 'memory-limit': '0', 'stall-timeout': '250', 'max-keepalive': '60' });
      assert.deepEqual([flow.maxQueuedMessages, flow.maxQueuedBytes, flow.memoryLimit, flow.stallTimeout, flow.maxKeepalive], [5, 1000, 0, 250, 60]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('broker: the built `sparrow broker` command', function () {
  this.timeout(20000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('`sparrow broker --help` lists every option the broker parses', () => {
    const out = execFileSync(process.execPath, [SPARROW, 'broker', '--help'], { encoding: 'utf8' });
    for (const name of Object.keys(BROKER_OPTIONS)) assert.ok(out.includes('--' + name), '--' + name + ' missing from sparrow broker --help');
    assert.match(out, /Usage: sparrow broker/);
  });

  it('`sparrow broker --port 0 --ws-port 0` serves MQTT over TCP and WebSocket, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [SPARROW, 'broker', '--port', '0', '--ws-port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let exited: number | null | undefined;
    child.on('exit', (code) => { exited = code; });
    cleanup.add(() => { if (exited === undefined) child.kill('SIGKILL'); });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    await until(() => /listening ws \d+/.test(out) || exited !== undefined, 'the listening lines');
    assert.equal(exited, undefined, 'the broker exited early: ' + err);
    const tcp = Number(/listening tcp (\d+)/.exec(out)![1]), ws = Number(/listening ws (\d+)/.exec(out)![1]);
    const sub = await client(`ws://127.0.0.1:${ws}/mqtt`, { protocolVersion: 5 }, cleanup);
    await subscribe(sub, 'cli/#', { qos: 1 });
    const pub = await client(`mqtt://127.0.0.1:${tcp}`, {}, cleanup);
    await pub.publishAsync('cli/hello', 'from tcp', { qos: 1 });
    const [m] = await inbox(sub).next(1);
    assert.equal(m.topic + ' ' + m.payload.toString(), 'cli/hello from tcp');
    child.kill('SIGTERM');
    await until(() => exited !== undefined, 'exit after SIGTERM');
    assert.equal(exited, 0);
    assert.doesNotMatch(err, /error/i);
  });
});
