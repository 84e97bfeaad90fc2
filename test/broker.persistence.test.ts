// Persistence across `kill -9`: the broker runs as a child process on an LMDB data dir, is killed
// without warning, and a new process on the same dir must still have the retained messages, the
// persistent sessions and every acknowledged QoS >= 1 message queued for them.
import { strict as assert } from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cleanup, client, inbox, RawClient, subscribe } from './support/broker';

const ROOT = path.join(__dirname, '..');

interface Child { proc: ChildProcess; port: number; url: string; output: () => string; exited: Promise<number | null>; }

/** Starts `tools/cli/broker-main.ts` and resolves once it prints its TCP port. */
export async function spawnBroker(args: string[], ms = 15000): Promise<Child> {
  const proc = spawn(process.execPath, ['-r', './tools/register.cjs', 'tools/cli/broker-main.ts', '--port', '0', '--sys-interval', '0', ...args], { cwd: ROOT });
  let out = '', err = '';
  proc.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('broker did not start: ' + err)), ms);
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /listening tcp (\d+)/.exec(out);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    exited.then((code) => { clearTimeout(t); reject(new Error(`broker exited with ${code}: ${err}`)); });
  });
  return { proc, port, url: `mqtt://127.0.0.1:${port}`, output: () => out + err, exited };
}

async function kill9(c: Child): Promise<void> {
  c.proc.kill('SIGKILL');
  await c.exited;
}

describe('broker: persistence across kill -9 (LMDB)', function () {
  this.timeout(40000);
  let dir: string;
  const cleanup = new Cleanup();
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-data-')); });
  afterEach(async () => { await cleanup.run(); fs.rmSync(dir, { recursive: true, force: true }); });

  function track(c: Child): Child {
    cleanup.add(() => { if (c.proc.exitCode === null) c.proc.kill('SIGKILL'); });
    return c;
  }

  it('retained messages, sessions, queued and in-flight QoS 1/2 messages survive kill -9', async () => {
    const a = track(await spawnBroker(['--data-dir', dir]));
    const session = { clientId: 'keeper', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } };
    const s1 = await client(a.url, session);
    await subscribe(s1, 'p/#', { qos: 2 });
    await s1.endAsync();
    // a second subscriber that receives but never acknowledges: its messages are in flight at the kill
    const raw = await RawClient.open(a.port, { clientId: 'unacked', clean: false, properties: { sessionExpiryInterval: 3600 } }, 5);
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'p/#', qos: 1 }] });
    await raw.next('suback');
    const pub = await client(a.url, { clientId: 'pub' });
    await pub.publishAsync('status/board', 'online', { qos: 1, retain: true });
    for (let i = 0; i < 100; i++) await pub.publishAsync('p/' + i, String(i), { qos: (1 + (i % 2)) as 1 | 2 });
    for (let i = 0; i < 5; i++) await raw.next('publish');
    await kill9(a);
    pub.end(true);
    raw.destroy();

    const b = track(await spawnBroker(['--data-dir', dir]));
    const s2 = await client(b.url, session, cleanup);
    assert.equal((s2 as any).connackPacket?.sessionPresent ?? true, true);
    const got = await inbox(s2).next(100, 10000);
    // MQTT.js hands QoS 2 messages over at PUBREL, so order is checked per QoS (as the spec orders them)
    for (const q of [1, 2]) {
      assert.deepEqual(got.filter((m) => m.packet.qos === q).map((m) => Number(m.payload)),
        Array.from({ length: 100 }, (_, i) => i).filter((i) => 1 + (i % 2) === q));
    }
    const again = await RawClient.connectSocket(b.port, 5, cleanup);
    again.send({ cmd: 'connect', protocolVersion: 5, clientId: 'unacked', clean: false, keepalive: 0, properties: { sessionExpiryInterval: 3600 } });
    assert.equal(((await again.next('connack')) as any).sessionPresent, true);
    const first: any = await again.next('publish');
    assert.equal(first.dup, true);
    assert.equal(Buffer.from(first.payload).toString(), '0');
    const watcher = await client(b.url, { clientId: 'watch' }, cleanup);
    const box = inbox(watcher);
    await subscribe(watcher, 'status/#');
    const [m] = await box.next();
    assert.equal(m.payload.toString(), 'online');
    assert.equal(m.packet.retain, true);
  });

  it('a deleted retained message and an ended session stay gone after kill -9', async () => {
    const a = track(await spawnBroker(['--data-dir', dir, '--fsync']));
    const pub = await client(a.url, { clientId: 'p' });
    await pub.publishAsync('r/1', 'x', { qos: 1, retain: true });
    await pub.publishAsync('r/2', 'y', { qos: 1, retain: true });
    await pub.publishAsync('r/1', '', { qos: 1, retain: true });
    const s = await client(a.url, { clientId: 'short', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    await subscribe(s, 'q', { qos: 1 });
    await s.endAsync();
    const c = await client(a.url, { clientId: 'short', clean: true, protocolVersion: 5 }); // ends the stored session
    await c.endAsync();
    await pub.publishAsync('sync', '', { qos: 1 }); // a last acknowledged write
    await kill9(a);
    pub.end(true);
    const b = track(await spawnBroker(['--data-dir', dir]));
    const w = await client(b.url, { clientId: 'w' }, cleanup);
    const box = inbox(w);
    await subscribe(w, 'r/#');
    const got = await box.next(1);
    assert.equal(got[0].topic, 'r/2');
    const again = await RawClient.connectSocket(b.port, 5, cleanup);
    again.send({ cmd: 'connect', protocolVersion: 5, clientId: 'short', clean: false, properties: { sessionExpiryInterval: 10 } });
    assert.equal(((await again.next('connack')) as any).sessionPresent, false);
  });

  it('a retained topic and a persistent client id past LMDB\'s 1,978-byte key limit persist and survive kill -9', async () => {
    const a = track(await spawnBroker(['--data-dir', dir]));
    const topic = 'long/' + 't'.repeat(5000), id = 'c'.repeat(5000), nearId = 'n'.repeat(1978);
    const session = (clientId: string) => ({ clientId, clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } });
    for (const clientId of [id, nearId]) {
      const s = await client(a.url, session(clientId));
      await subscribe(s, 'q', { qos: 1 });
      await s.endAsync();
    }
    const pub = await client(a.url, { clientId: 'p', protocolVersion: 5 });
    await pub.publishAsync(topic, 'kept', { qos: 1, retain: true });
    await pub.publishAsync('q', 'queued', { qos: 1 });
    await kill9(a);
    pub.end(true);
    const b = track(await spawnBroker(['--data-dir', dir]));
    for (const clientId of [id, nearId]) {
      const s = await client(b.url, session(clientId), cleanup);
      assert.equal((s as any).connackPacket?.sessionPresent, true, clientId.length + '-byte id: session present');
      assert.equal((await inbox(s).next(1))[0].payload.toString(), 'queued');
    }
    const w = await client(b.url, { clientId: 'w' }, cleanup);
    await subscribe(w, 'long/#');
    const [m] = await inbox(w).next(1);
    assert.equal(m.topic, topic);
    assert.equal(m.payload.toString(), 'kept');
    assert.doesNotMatch(b.output() + a.output(), /internal error|Key size/);
  });

  it('SIGTERM shuts down cleanly with exit code 0', async () => {
    const a = track(await spawnBroker(['--data-dir', dir, '--log-level', 'info']));
    await client(a.url, { clientId: 'x' }, cleanup);
    a.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([a.exited, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('no exit')), 5000); })]);
    clearTimeout(timer);
    assert.equal(code, 0);
    assert.match(a.output(), /SIGTERM: shutting down/);
    assert.match(a.output(), /broker stopped/);
  });
});
