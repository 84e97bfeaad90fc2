// The password file (issue 13, item 5): mosquitto_passwd's formats both ways, checked against the real
// mosquitto_passwd and mosquitto of Debian's package, the older forms still read, and a malformed line
// never echoed (it may hold a password).
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parsePasswd } from '../broker/passwd';
import { Cleanup, client, RawClient, startBroker, type TestBroker } from './support/broker';
import { runSparrow } from './support/cli';
import { startMosquitto } from './support/mosquitto';

describe('broker: password files', () => {
  const cleanup = new Cleanup();
  let dir: string;
  let tb: TestBroker | null = null;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-passwd-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => { await cleanup.run(); if (tb) await tb.broker.close(); tb = null; });

  /** CONNACK return code for `user`/`password` over MQTT 3.1.1 (0 accepted, 4 bad user name or password). */
  async function login(port: number, user: string, password: string): Promise<number> {
    const r = await RawClient.connectSocket(port, 4, cleanup);
    r.send({ cmd: 'connect', clientId: 'c-' + user, username: user, password: Buffer.from(password), keepalive: 0 });
    return ((await r.next('connack')) as any).returnCode;
  }

  it('issue 13.5: a file made by mosquitto_passwd works unchanged ($7$ PBKDF2-SHA512 and -H sha512 $6$)', async () => {
    const file = path.join(dir, 'mosq.passwd');
    execFileSync('mosquitto_passwd', ['-c', '-b', file, 'alice', 'wonder:land']);
    execFileSync('mosquitto_passwd', ['-H', 'sha512', '-b', file, 'carol', 'c4rol']);
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /^alice:\$7\$101\$/m);
    assert.match(text, /^carol:\$6\$/m);
    tb = await startBroker({ passwd: file });
    assert.equal(await login(tb.port, 'alice', 'wonder:land'), 0);
    assert.equal(await login(tb.port, 'carol', 'c4rol'), 0);
    assert.equal(await login(tb.port, 'alice', 'wonder'), 4);
    assert.equal(await login(tb.port, 'carol', 'c4rol '), 4);
  });

  it('issue 13.5: `sparrow passwd` writes $7$ lines that mosquitto itself accepts, and -D deletes', async () => {
    const file = path.join(dir, 'sparrow.passwd');
    assert.equal((await runSparrow(['passwd', '-c', '-b', file, 'dave', 'd@ve'])).code, 0);
    assert.equal((await runSparrow(['passwd', '-b', file, 'erin', 'er1n'])).code, 0);
    assert.equal((await runSparrow(['passwd', '-b', file, 'dave', 'new-dave'])).code, 0); // changes, does not add
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /^dave:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==\nerin:\$7\$/);
    assert.equal(text.includes('d@ve'), false);
    const m = await startMosquitto({ extra: [`password_file ${file}`] });
    cleanup.add(() => m.stop());
    await client(m.url, { username: 'dave', password: 'new-dave' }, cleanup);
    await assert.rejects(client(m.url, { username: 'erin', password: 'wrong' }, cleanup));
    await client(m.url, { username: 'erin', password: 'er1n' }, cleanup);
    assert.equal((await runSparrow(['passwd', '-D', file, 'erin'])).code, 0);
    assert.deepEqual(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(':')[0]), ['dave']);
    assert.equal((await runSparrow(['passwd', '-b', path.join(dir, 'nope'), 'x', 'y'])).code, 2, 'no file without -c');
    assert.equal((await runSparrow(['passwd', file, 'frank'])).code, 2, 'an empty stdin is no password');
    assert.equal((await runSparrow(['passwd', '-b', file, 'a:b', 'x'])).code, 2, 'a user name with a colon');
    assert.deepEqual(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(':')[0]), ['dave'], 'refusals wrote nothing');
  });

  it('the older forms are still read: plain and unsalted sha256', () => {
    const users = parsePasswd(`# old\nalice:wonder\nbob:sha256:${createHash('sha256').update('builder').digest('hex')}\n`, 'f');
    assert.equal(users.get('alice')!(Buffer.from('wonder')), true);
    assert.equal(users.get('alice')!(Buffer.from('wonde')), false);
    assert.equal(users.get('bob')!(Buffer.from('builder')), true);
    assert.equal(users.get('bob')!(Buffer.from('Builder')), false);
  });

  it('issue 13.5: a malformed line stops the broker, naming file, line and user, never the password', async () => {
    const cases: [string, RegExp][] = [
      ['ok:fine\nalice-hunter2-no-colon\n', /:2: not user:password \(the line is not shown/],
      ['alice:$7$101$hunter2$hunter2hunter2\n', /:1: the password hash of user "alice" is malformed/],
      ['alice:$7$0$AAAAAAAAAAAAAAAA$' + 'A'.repeat(86) + '==\n', /:1: the password hash of user "alice" is malformed/],
      ['alice:sha256:hunter2\n', /:1: the password hash of user "alice" is malformed/],
    ];
    for (const [text, why] of cases) {
      const file = path.join(dir, 'bad.passwd');
      fs.writeFileSync(file, text);
      const r = await runSparrow(['broker', '--port', '0', '--ws-port', 'off', '--passwd', file]);
      assert.equal(r.code, 2, text);
      assert.match(r.out, why);
      assert.ok(r.out.includes(file), 'names the file');
      assert.equal(/hunter2|AAAAAAAA/.test(r.out), false, 'the secret part is echoed: ' + r.out);
    }
  });
});
