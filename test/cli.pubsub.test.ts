// `sparrow pub` and `sparrow sub` beside mosquitto_pub and mosquitto_sub, with the same flags, against a
// real mosquitto and against the reference broker: what each subscriber prints must be the same bytes.
import { strict as assert } from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cleanup, selfSignedCert, startBroker } from './support/broker';
import { CLI, runSparrow, startSparrow } from './support/cli';
import { freePort, startMosquitto, type Mosquitto } from './support/mosquitto';
import { until } from './support/wait';

interface Proc { out(): string; bytes(): Buffer; err(): string; exit: Promise<number | null>; kill(): void }

/** A command with stdin fed `input` (or closed), its stdout and stderr collected apart. */
function run(cmd: string, args: string[], cleanup: Cleanup, input?: string): Proc {
  const child: ChildProcess = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (d: Buffer) => { out.push(d); });
  child.stderr!.on('data', (d) => { err += d; });
  child.stdin!.end(input);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanup.add(() => { if (child.exitCode === null) child.kill(); });
  return { out: () => Buffer.concat(out).toString('latin1'), bytes: () => Buffer.concat(out), err: () => err, exit, kill: () => child.kill('SIGINT') };
}

const sparrow = (args: string[], cleanup: Cleanup, input?: string) => run(process.execPath, [CLI, ...args], cleanup, input);

/** Resolves with the exit code, or rejects if the process runs past `ms`. */
async function exited(p: Proc, ms = 10000): Promise<number | null> {
  let t: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Error('still running after ' + ms + ' ms: ' + p.err())), ms); });
  try { return await Promise.race([p.exit, late]); } finally { clearTimeout(t); }
}

describe('sparrow pub / sub beside mosquitto_pub / mosquitto_sub', function () {
  this.timeout(30000);
  const cleanup = new Cleanup();
  let mosquitto: Mosquitto;
  before(async () => { mosquitto = await startMosquitto(); });
  after(async () => { await mosquitto.stop(); });
  afterEach(() => cleanup.run());

  it('both subscribers print the same lines for what both publishers send, MQTT 3.1.1 and 5, QoS 0-2', async () => {
    const p = String(mosquitto.port);
    // a retained marker tells when each subscriber is subscribed: it is delivered right after the SUBACK
    assert.equal(await exited(run('mosquitto_pub', ['-p', p, '-t', 'cmp/0', '-m', 'ready', '-r'], cleanup)), 0);
    const subArgs = ['-p', p, '-t', 'cmp/#', '-v', '-C', '8', '-q', '2'];
    const ours = sparrow(['sub', ...subArgs, '-V', '5'], cleanup);
    const theirs = run('mosquitto_sub', [...subArgs, '-V', 'mqttv5'], cleanup);
    await until(() => ours.out().startsWith('cmp/0 ready\n') && theirs.out().startsWith('cmp/0 ready\n'), 'both subscribed');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-pub-')), 'payload.bin');
    cleanup.add(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }));
    fs.writeFileSync(file, Buffer.from([0x00, 0xff, 0x41, 0xc3, 0xa9]));
    const sends: [string[], string?][] = [
      [['-t', 'cmp/1', '-m', 'qos0 311']],
      [['-t', 'cmp/2', '-m', 'qos1 5', '-q', '1', '-V', '5']],
      [['-t', 'cmp/3', '-m', 'qos2 311', '-q', '2', '-V', 'mqttv311']],
      [['-t', 'cmp/4', '-f', file, '-q', '1']],
      [['-t', 'cmp/5', '-l', '-q', '2'], 'line one\nline two\n'],
      [['-t', 'cmp/6', '-n', '-q', '1']],
    ];
    for (const [args, input] of sends) {
      assert.equal(await exited(sparrow(['pub', '-p', p, ...args], cleanup, input)), 0, 'sparrow pub ' + args.join(' '));
    }
    assert.equal(await exited(ours), 0, ours.err());
    assert.equal(await exited(theirs), 0);
    assert.deepEqual(ours.bytes(), theirs.bytes());
    assert.deepEqual(ours.bytes(), Buffer.concat([Buffer.from('cmp/0 ready\ncmp/1 qos0 311\ncmp/2 qos1 5\ncmp/3 qos2 311\ncmp/4 '),
      fs.readFileSync(file), Buffer.from('\ncmp/5 line one\ncmp/5 line two\ncmp/6 (null)\n')]));
  });

  it('what mosquitto_pub sends, sparrow sub prints as mosquitto_sub does; -L URL; -R skips retained', async () => {
    const p = String(mosquitto.port);
    assert.equal(await exited(sparrow(['pub', '-L', `mqtt://127.0.0.1:${p}/url/kept`, '-m', 'old', '-r', '-q', '1'], cleanup)), 0);
    const ours = sparrow(['sub', '-L', `mqtt://127.0.0.1:${p}/url/#`, '-C', '2'], cleanup);
    const fresh = sparrow(['sub', '-p', p, '-t', 'url/#', '-R', '-C', '1'], cleanup);
    await until(() => ours.out() === 'old\n', 'the retained message');
    // the -R subscriber prints nothing for the retained message, and its SUBACK cannot be seen from
    // outside: mosquitto_pub sends until it prints (each a fresh message, not retained)
    for (let i = 0; !fresh.out(); i++) {
      assert.ok(i < 50, 'the -R subscriber never printed');
      assert.equal(await exited(run('mosquitto_pub', ['-p', p, '-t', 'url/new', '-m', 'from mosquitto_pub', '-q', '1'], cleanup)), 0);
    }
    assert.equal(await exited(ours), 0);
    assert.equal(ours.out(), 'old\nfrom mosquitto_pub\n');
    assert.equal(await exited(fresh), 0);
    assert.equal(fresh.out(), 'from mosquitto_pub\n');
  });

  it('-C 1 prints one message even when more arrive in the same read, as mosquitto_sub does', async () => {
    const p = String(mosquitto.port);
    for (const t of ['many/a', 'many/b', 'many/c']) {
      assert.equal(await exited(run('mosquitto_pub', ['-p', p, '-t', t, '-m', t, '-r', '-q', '1'], cleanup)), 0);
    }
    // the three retained messages follow the SUBACK at once, in one read on loopback
    const ours = sparrow(['sub', '-p', p, '-t', 'many/#', '-C', '1'], cleanup);
    assert.equal(await exited(ours), 0);
    assert.equal(ours.out().split('\n').filter(Boolean).length, 1, ours.out());
  });

  it('a closed port fails at once with the reason and exit 1, as mosquitto_pub does; -W ends sub with 27', async () => {
    const closed = String(await freePort());
    const ours = await runSparrow(['pub', '-p', closed, '-t', 't', '-m', 'x'], 10000);
    assert.equal(ours.code, 1);
    assert.match(ours.out, /^sparrow pub: .*ECONNREFUSED/);
    assert.equal(await exited(run('mosquitto_pub', ['-p', closed, '-t', 't', '-m', 'x'], cleanup)), 1);
    const waited = await runSparrow(['sub', '-p', String(mosquitto.port), '-t', 'nothing/here', '-W', '1'], 10000);
    assert.equal(waited.code, 27);
    assert.match(waited.out, /timed out/);
  });

  it('SIGINT ends sub cleanly with exit 0, as mosquitto_sub', async () => {
    const p = String(mosquitto.port);
    assert.equal(await exited(run('mosquitto_pub', ['-p', p, '-t', 'int/t', '-m', 'here', '-r'], cleanup)), 0);
    const sub = sparrow(['sub', '-p', p, '-t', 'int/t'], cleanup);
    await until(() => sub.out() === 'here\n', 'the retained message');
    sub.kill();
    assert.equal(await exited(sub), 0, sub.err());
  });

  it('bad flags are one line, a hint and exit 2, before any connection', async () => {
    const bad: string[][] = [
      ['pub', '-t', 'a/#', '-m', 'x'], ['pub', '-m', 'x'], ['pub', '-t', 'a'], ['pub', '-t', 'a', '-m', 'x', '-n'],
      ['pub', '-t', 'a', '-m', 'x', '-q', '3'], ['pub', '-t', 'a', '-m', 'x', '-V', '31'], ['pub', '-t', 'a', '-f', '/nonexistent/file'],
      ['sub'], ['sub', '-t', 'a/#/b'], ['sub', '-t', 'a', '-C', '0'], ['sub', '-t', 'a', '-L', 'http://x/y'], ['sub', '-t', 'a', '--frob'],
      ['sub', '-t', 'a', '-P', 'secret'], ['sub', '-t', 'a', '-p', '70000'],
    ];
    for (const args of bad) {
      // port 1 would refuse at once: an exit 2 shows the flags were refused before connecting
      const r = await runSparrow([...args, ...(args.includes('-p') || args.includes('-L') ? [] : ['-p', '1'])], 10000);
      assert.equal(r.code, 2, args.join(' ') + ': ' + r.out);
      assert.match(r.out, new RegExp(`^sparrow ${args[0]}: [^\n]+\nsee sparrow ${args[0]} --help\n$`), args.join(' '));
    }
  });
});

describe('sparrow pub / sub against the reference broker', function () {
  this.timeout(30000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('`sparrow broker` as a process: sparrow sub and mosquitto_sub print the same for sparrow pub and mosquitto_pub', async () => {
    const broker = startSparrow(['broker', '-p', '0', '--ws-port', 'off', '--log-level', 'warn'], cleanup);
    await until(() => /listening tcp \d+/.test(broker.out()), 'the broker listening');
    const p = /listening tcp (\d+)/.exec(broker.out())![1];
    assert.equal(await exited(run('mosquitto_pub', ['-p', p, '-t', 'sb/0', '-m', 'ready', '-r', '-q', '1'], cleanup)), 0);
    const ours = sparrow(['sub', '-p', p, '-t', 'sb/#', '-v', '-C', '3', '-q', '1'], cleanup);
    const theirs = run('mosquitto_sub', ['-p', p, '-t', 'sb/#', '-v', '-C', '3', '-q', '1'], cleanup);
    await until(() => ours.out() === 'sb/0 ready\n' && theirs.out() === 'sb/0 ready\n', 'both subscribed');
    assert.equal(await exited(sparrow(['pub', '-p', p, '-t', 'sb/1', '-m', 'from sparrow', '-q', '2', '-V', '5'], cleanup)), 0);
    assert.equal(await exited(run('mosquitto_pub', ['-p', p, '-t', 'sb/2', '-m', 'from mosquitto', '-q', '1'], cleanup)), 0);
    assert.equal(await exited(ours), 0);
    assert.equal(await exited(theirs), 0);
    assert.equal(ours.out(), 'sb/0 ready\nsb/1 from sparrow\nsb/2 from mosquitto\n');
    assert.equal(theirs.out(), ours.out());
  });

  it('-u/-P log in; a wrong password is refused with the broker\'s reason and exit 1, as mosquitto_pub', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-passwd-'));
    cleanup.add(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'passwd'), 'ann:s3cret\n');
    const b = await startBroker({ passwd: path.join(dir, 'passwd') });
    cleanup.add(() => b.broker.close());
    const p = String(b.port);
    const sub = sparrow(['sub', '-p', p, '-u', 'ann', '-P', 's3cret', '-t', 'auth/+', '-q', '1', '-E'], cleanup);
    assert.equal(await exited(sub), 0, sub.err());
    assert.equal(await exited(sparrow(['pub', '-p', p, '-u', 'ann', '-P', 's3cret', '-t', 'auth/in', '-m', 'hi', '-q', '1', '-r'], cleanup)), 0);
    const got = sparrow(['sub', '-L', `mqtt://ann:s3cret@127.0.0.1:${p}/auth/+`, '-C', '1', '-v'], cleanup);
    assert.equal(await exited(got), 0, got.err());
    assert.equal(got.out(), 'auth/in hi\n');
    const wrong = sparrow(['pub', '-p', p, '-u', 'ann', '-P', 'nope', '-t', 'auth/in', '-m', 'x'], cleanup);
    assert.equal(await exited(wrong), 1);
    assert.match(wrong.err(), /^sparrow pub: connection refused: [^\n]+\n$/);
    assert.notEqual(await exited(run('mosquitto_pub', ['-p', p, '-u', 'ann', '-P', 'nope', '-t', 'auth/in', '-m', 'x'], cleanup)), 0);
  });

  it('--cafile connects with TLS, checking the certificate; without the CA the connection fails', async () => {
    const { cert, key } = selfSignedCert(cleanup);
    const tlsPort = await freePort();
    const b = await startBroker({ tlsPort, cert, key });
    cleanup.add(() => b.broker.close());
    const ok = sparrow(['pub', '-h', 'localhost', '-p', String(tlsPort), '--cafile', cert, '-t', 'tls/t', '-m', 'x', '-q', '1'], cleanup);
    assert.equal(await exited(ok), 0, ok.err());
    const untrusted = sparrow(['pub', '-L', `mqtts://localhost:${tlsPort}/tls/t`, '-m', 'x'], cleanup);
    assert.equal(await exited(untrusted), 1);
    assert.match(untrusted.err(), /certificate/);
  });
});
