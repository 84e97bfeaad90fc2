// Real peers against the broker: mosquitto_pub/mosquitto_sub (Debian), MQTT.js over WebSocket, and
// MQTT over TLS with a certificate made by openssl for the test.
import { strict as assert } from 'assert';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cleanup, client, inbox, RawClient, selfSignedCert, startBroker, subscribe, type TestBroker } from './support/broker';
import { until } from './support/wait';

const has = (cmd: string) => { try { execFileSync('which', [cmd], { stdio: 'ignore' }); return true; } catch { return false; } };

/** Runs a command to its end (bounded), with its output. */
function run(cmd: string, args: string[], ms = 10000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args);
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${cmd} did not finish within ${ms} ms: ${err}`)); }, ms);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, out, err }); });
  });
}

describe('broker: mosquitto_pub / mosquitto_sub interop', function () {
  let tb: TestBroker;
  const cleanup = new Cleanup();
  before(() => assert.ok(has('mosquitto_sub'), 'mosquitto_sub is missing: apt-get install mosquitto-clients'));
  beforeEach(async () => { tb = await startBroker(); });
  afterEach(async () => { await cleanup.run(); await tb.broker.close(); });

  for (const v of ['mqttv311', 'mqttv5']) {
    it(`${v}: mosquitto_sub receives QoS 0/1/2 from mosquitto_pub, each once`, async () => {
      const sub = spawn('mosquitto_sub', ['-p', String(tb.port), '-V', v, '-t', 'm/#', '-q', '2', '-v', '-C', '3', '-i', 'msub-' + v]);
      cleanup.add(() => { sub.kill(); });
      let out = '';
      sub.stdout.on('data', (d) => { out += d; });
      const exited = new Promise<void>((resolve) => sub.on('close', () => resolve()));
      await until(() => tb.broker.sessions.get('msub-' + v)?.subs.size === 1, 'mosquitto_sub subscribed');
      for (const q of ['0', '1', '2']) {
        const r = await run('mosquitto_pub', ['-p', String(tb.port), '-V', v, '-t', 'm/q' + q, '-m', 'hello' + q, '-q', q]);
        assert.equal(r.code, 0, r.err);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('mosquitto_sub did not finish: ' + out)), 5000); })]);
      clearTimeout(timer);
      assert.deepEqual(out.trim().split('\n').sort(), ['m/q0 hello0', 'm/q1 hello1', 'm/q2 hello2']);
    });
  }

  it('mosquitto_sub gets a retained message from MQTT.js', async () => {
    const pub = await client(tb.url, { clientId: 'jsret' }, cleanup);
    await pub.publishAsync('ret/x', 'kept', { retain: true, qos: 1 });
    const r = await run('mosquitto_sub', ['-p', String(tb.port), '-t', 'ret/#', '-C', '1', '-v', '-W', '5']);
    assert.equal(r.out.trim(), 'ret/x kept');
  });

  it('MQTT.js receives what mosquitto_pub sends (MQTT 5 user properties included)', async () => {
    const sub = await client(tb.url, { clientId: 'jsrecv', protocolVersion: 5 }, cleanup);
    const box = inbox(sub);
    await subscribe(sub, 'mp/#', { qos: 1 });
    const r = await run('mosquitto_pub', ['-p', String(tb.port), '-V', 'mqttv5', '-t', 'mp/a', '-m', 'from-mosquitto', '-q', '1',
      '-D', 'publish', 'user-property', 'k', 'v']);
    assert.equal(r.code, 0, r.err);
    const [m] = await box.next();
    assert.equal(m.payload.toString(), 'from-mosquitto');
    assert.deepEqual({ ...m.packet.properties!.userProperties }, { k: 'v' });
  });

  it('mosquitto_pub with a wrong password is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-mp-'));
    cleanup.add(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'passwd'), 'u:p\n');
    const tb2 = await startBroker({ passwd: path.join(dir, 'passwd') });
    cleanup.add(() => tb2.broker.close());
    const ok = await run('mosquitto_pub', ['-p', String(tb2.port), '-u', 'u', '-P', 'p', '-t', 'x', '-m', '1']);
    assert.equal(ok.code, 0, ok.err);
    const bad = await run('mosquitto_pub', ['-p', String(tb2.port), '-u', 'u', '-P', 'wrong', '-t', 'x', '-m', '1']);
    assert.notEqual(bad.code, 0);
  });
});

describe('broker: WebSocket and TLS transports', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  for (const v of [4, 5] as const) {
    it(`MQTT.js v${v} over ws:// (subprotocol mqtt, path /mqtt) talks to a TCP client`, async () => {
      const tb = await startBroker({ wsPort: 0 });
      cleanup.add(() => tb.broker.close());
      const ws = await client(`ws://127.0.0.1:${tb.broker.ports.ws}/mqtt`, { protocolVersion: v, clientId: 'ws' + v }, cleanup);
      const box = inbox(ws);
      await subscribe(ws, 'w/#', { qos: 2 });
      const tcp = await client(tb.url, { clientId: 'tcp' + v }, cleanup);
      for (let i = 0; i < 50; i++) await tcp.publishAsync('w/' + i, 'x'.repeat(i * 100), { qos: (i % 3) as 0 | 1 | 2 });
      const got = await box.next(50);
      assert.deepEqual(got.map((m) => m.payload.length), Array.from({ length: 50 }, (_, i) => i * 100));
      await ws.publishAsync('w/back', 'from-ws', { qos: 1 });
      assert.equal((await box.next(51))[50].payload.toString(), 'from-ws');
    });
  }

  it('a WebSocket on another path is refused; a plain HTTP request for anything but the dashboard gets 404', async () => {
    const tb = await startBroker({ wsPort: 0 });
    cleanup.add(() => tb.broker.close());
    await assert.rejects(client(`ws://127.0.0.1:${tb.broker.ports.ws}/other`, { clientId: 'wrong' }, cleanup, 2000));
    const res = await fetch(`http://127.0.0.1:${tb.broker.ports.ws}/etc/passwd`);
    assert.equal(res.status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${tb.broker.ports.ws}/../package.json`)).status, 404);
  });

  it('MQTT over TLS with a self-signed certificate (openssl)', async function () {
    assert.ok(has('openssl'), 'openssl is missing: apt-get install openssl');
    const { cert, key } = selfSignedCert(cleanup);
    const tb = await startBroker({ tlsPort: 0, cert, key });
    cleanup.add(() => tb.broker.close());
    const url = `mqtts://127.0.0.1:${tb.broker.ports.tls}`;
    const c = await client(url, { clientId: 'tls', protocolVersion: 5, ca: fs.readFileSync(cert), rejectUnauthorized: true }, cleanup);
    const box = inbox(c);
    await subscribe(c, 'secure', { qos: 1 });
    const plain = await client(tb.url, { clientId: 'plain' }, cleanup);
    await plain.publishAsync('secure', 'via tcp', { qos: 1 });
    assert.equal((await box.next())[0].payload.toString(), 'via tcp');
    const r = await run('mosquitto_pub', ['-p', String(tb.broker.ports.tls), '-h', '127.0.0.1', '--cafile', cert, '-t', 'secure', '-m', 'via mosquitto tls', '-q', '1']);
    assert.equal(r.code, 0, r.err);
    assert.equal((await box.next(2))[1].payload.toString(), 'via mosquitto tls');
  });

  it('the connect timeout covers the TLS handshake: connections that never send a ClientHello, or trickle one, are closed', async function () {
    const { cert, key } = selfSignedCert(cleanup);
    const tb = await startBroker({ tlsPort: 0, cert, key, connectTimeout: 300 });
    cleanup.add(() => tb.broker.close());
    const open = () => RawClient.connectSocket(tb.broker.ports.tls, 4, cleanup);
    const silent = await Promise.all(Array.from({ length: 5 }, open));
    const trickle = await open();
    const hello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01]; // a TLS record header and the start of a ClientHello
    let i = 0;
    const drip = setInterval(() => { if (i < hello.length) trickle.write(Buffer.from([hello[i++]])); }, 100);
    cleanup.add(() => clearInterval(drip));
    await Promise.all([...silent, trickle].map((r) => r.waitClosed(5000)));
    const c = await client(`mqtts://127.0.0.1:${tb.broker.ports.tls}`, { clientId: 'tls-ok', ca: fs.readFileSync(cert) }, cleanup);
    assert.ok(c.connected, 'a real TLS client still connects');
  });
});
