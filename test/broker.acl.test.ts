// The ACL as an attacker probes it (issue 13, items 1 to 3): client ids and user names that try to turn
// a %c/%u pattern into wildcards, `topic deny`, lines the broker does not understand, and a user who
// connects with another user's client id to take over her persistent session.
// Whether something was NOT delivered is decided by a marker message sent after it on an allowed topic:
// messages from one publisher reach one subscriber in order, so the marker's arrival proves the absence.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NOT_AUTHORIZED } from '../firmware/mqtt';
import { aclAllows, parseAcl } from '../broker/acl';
import { Broker } from '../broker/broker';
import { createLogger } from '../broker/log';
import { Cleanup, client, inbox, RawClient, startBroker, subscribe, type TestBroker } from './support/broker';
import { runSparrow } from './support/cli';

const acl = (...lines: string[]) => parseAcl(lines.join('\n'), 'test.acl');

describe('ACL rules (broker/acl.ts)', () => {
  it('issue 13.1: a client id or user name with + # or / never widens a %c/%u pattern (CVE-2017-7650)', () => {
    const a = acl('pattern readwrite clients/%c/#', 'pattern readwrite users/%u/#');
    for (const id of ['+', '#', 'a/+', 'x/#', 'v1/sub']) {
      assert.equal(aclAllows(a, 'read', 'clients/+/#', undefined, id), false, `id ${id} reads clients/+/#`);
      assert.equal(aclAllows(a, 'read', 'clients/#', undefined, id), false, `id ${id} reads clients/#`);
      assert.equal(aclAllows(a, 'write', 'clients/v1/cmd', undefined, id), false, `id ${id} writes clients/v1/cmd`);
    }
    // a slash in an id would reach into the levels of another client: `v1/sub` inside `clients/v1/#`
    assert.equal(aclAllows(a, 'write', 'clients/v1/sub/x', undefined, 'v1/sub'), false);
    for (const user of ['+', '#', 'bob/x']) {
      assert.equal(aclAllows(a, 'read', 'users/#', user, 'c'), false, `user ${user} reads users/#`);
      assert.equal(aclAllows(a, 'write', 'users/alice/x', user, 'c'), false, `user ${user} writes users/alice/x`);
    }
    // the substituted text is text: `$&` is not a replacement pattern
    assert.equal(aclAllows(a, 'write', 'users/%u/x', '$&', 'c'), false);
    assert.equal(aclAllows(a, 'write', 'users/$&/x', '$&', 'c'), true);
    // ordinary ids keep their own space, and only theirs
    assert.equal(aclAllows(a, 'write', 'clients/v1/cmd', undefined, 'v1'), true);
    assert.equal(aclAllows(a, 'read', 'clients/v1/#', undefined, 'v1'), true);
    assert.equal(aclAllows(a, 'read', 'clients/v2/x', undefined, 'v1'), false);
    assert.equal(aclAllows(a, 'read', 'users/alice/x', undefined, 'c'), false, '%u does not apply to anonymous clients');
  });

  it('issue 13.2: deny wins over every grant, for topics and for the subscriptions inside it', () => {
    const a = acl('topic readwrite #', 'topic deny secret/#', 'user bob', 'topic readwrite secret/bob', 'pattern deny private/%c/#');
    assert.equal(aclAllows(a, 'write', 'secret/x', undefined, 'c'), false);
    assert.equal(aclAllows(a, 'read', 'secret/x', undefined, 'c'), false);
    assert.equal(aclAllows(a, 'read', 'secret/#', undefined, 'c'), false);
    assert.equal(aclAllows(a, 'read', 'secret', undefined, 'c'), false, 'secret/# covers secret itself');
    assert.equal(aclAllows(a, 'write', 'secret/bob', 'bob', 'c'), false, "a user's own grant does not beat a deny");
    assert.equal(aclAllows(a, 'write', 'private/c/x', undefined, 'c'), false);
    assert.equal(aclAllows(a, 'write', 'private/d/x', undefined, 'c'), true);
    // a subscription a deny only overlaps is allowed; its denied messages are held back at delivery
    assert.equal(aclAllows(a, 'read', '#', undefined, 'c'), true);
    assert.equal(aclAllows(a, 'read', '+/x', undefined, 'c'), true);
    assert.equal(aclAllows(a, 'write', 'public/x', undefined, 'c'), true);
  });

  it('a rule without $ never grants a $ topic (as in mosquitto)', () => {
    const a = acl('topic readwrite #', 'topic read $SYS/broker/#');
    assert.equal(aclAllows(a, 'read', '$SYS/#', undefined, 'c'), false);
    assert.equal(aclAllows(a, 'read', '$SYS/broker/uptime', undefined, 'c'), true);
    assert.equal(aclAllows(a, 'write', '$SYS/x', undefined, 'c'), false);
  });

  it('issue 13.2: a line the broker does not understand is an error naming the file and the line', () => {
    const bad: [string, RegExp][] = [
      ['topic readwrite a\ntopik read b', /^test\.acl:2: not a topic, pattern or user line: topik read b$/],
      ['topic reed a/b', /^test\.acl:1: access "reed" is not read, write, readwrite or deny/],
      ['pattern read a/#/b', /^test\.acl:1: "a\/#\/b" is not a valid topic filter/],
      ['topic read public/#   # a comment here is not a comment', /^test\.acl:1: .* is not a valid topic filter/],
      ['user', /^test\.acl:1: user without a name/],
      ['topic', /^test\.acl:1: topic without a filter/],
    ];
    for (const [text, why] of bad) assert.throws(() => parseAcl(text, 'test.acl'), (e: Error) => why.test(e.message), text);
    // comments, blank lines, leading blanks and a lone filter (readwrite) are fine
    const ok = parseAcl('# c\n\n  topic a/b\nuser x y\n  topic deny  a/c\n', 'test.acl');
    assert.deepEqual(ok.global, [{ access: 'readwrite', filter: 'a/b' }]);
    assert.deepEqual(ok.perUser.get('x y'), [{ access: 'deny', filter: 'a/c' }]);
  });
});

describe('broker: the ACL against hostile clients', () => {
  const cleanup = new Cleanup();
  let dir: string;
  let tb: TestBroker | null = null;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-acl-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => { await cleanup.run(); if (tb) await tb.broker.close(); tb = null; });

  function files(aclLines: string[]): { passwd: string; acl: string } {
    const passwd = path.join(dir, 'passwd'), aclFile = path.join(dir, 'acl');
    fs.writeFileSync(passwd, 'alice:a\nbob:b\nadmin:x\n');
    fs.writeFileSync(aclFile, aclLines.join('\n') + '\n');
    return { passwd, acl: aclFile };
  }

  /**
   * Alice (client id `dev`, 3.1.1, clean=0) subscribes to alice/# and leaves with a DISCONNECT or a cut
   * link; returns a connected admin client that may publish anywhere.
   */
  async function aliceLeavesAPersistentSession(port: number, how: 'disconnect' | 'cut') {
    const alice = await RawClient.open(port, { clientId: 'dev', clean: false, username: 'alice', password: Buffer.from('a') }, 4, cleanup);
    alice.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'alice/#', qos: 1 }] });
    await alice.next('suback');
    if (how === 'disconnect') alice.send({ cmd: 'disconnect' });
    else alice.destroy();
    await alice.waitClosed();
    return client(tb!.url, { username: 'admin', password: 'x', clientId: 'admin' }, cleanup);
  }

  it('issue 13.1: client ids + and # get nothing of clients/<id>/# (0x87), the owner keeps its own', async () => {
    tb = await startBroker(files(['pattern readwrite clients/%c/#']));
    const victim = await client(tb.url, { clientId: 'v1', username: 'alice', password: 'a' }, cleanup);
    const box = inbox(victim);
    await subscribe(victim, 'clients/v1/#', { qos: 1 });
    for (const id of ['+', '#']) {
      const evil = await RawClient.open(tb.port, { clientId: id, username: 'bob', password: Buffer.from('b') }, 5, cleanup);
      evil.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'clients/+/#', qos: 1 }, { topic: 'clients/#', qos: 1 }] });
      assert.deepEqual((await evil.next('suback') as any).granted, [NOT_AUTHORIZED, NOT_AUTHORIZED], `id ${id}`);
      evil.send({ cmd: 'publish', topic: 'clients/v1/cmd', payload: 'evil', qos: 1, messageId: 2 });
      assert.equal((await evil.next('puback') as any).reasonCode, NOT_AUTHORIZED, `id ${id} publishes to clients/v1/cmd`);
    }
    await victim.publishAsync('clients/v1/self', 'own', { qos: 1 });
    const [m] = await box.next();
    assert.equal(m.payload.toString(), 'own');
    assert.equal(box.list.length, 1, 'nothing of the attackers arrived');
  });

  it('issue 13.2: `topic deny secret/#` refuses publish (0x87), subscribe (0x87) and delivery through `#`', async () => {
    tb = await startBroker(files(['topic readwrite #', 'topic deny secret/#', 'user admin', 'topic readwrite secret/#']));
    const admin = await client(tb.url, { username: 'admin', password: 'x', clientId: 'admin' }, cleanup);
    const r = await RawClient.open(tb.port, { clientId: 'r', username: 'alice', password: Buffer.from('a') }, 5, cleanup);
    r.send({ cmd: 'publish', topic: 'secret/x', payload: 'p', qos: 1, messageId: 1 });
    assert.equal((await r.next('puback') as any).reasonCode, NOT_AUTHORIZED);
    r.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'secret/#', qos: 1 }, { topic: '#', qos: 1 }] });
    assert.deepEqual((await r.next('suback') as any).granted, [NOT_AUTHORIZED, 1]);
    await admin.publishAsync('secret/x', 'hidden', { qos: 1 });
    await admin.publishAsync('public/x', 'marker', { qos: 1 });
    const p: any = await r.next('publish');
    assert.equal(p.topic, 'public/x', 'the denied message did not come before the marker');
  });

  it('issue 13.2: an ACL line the broker does not understand stops it from starting (sparrow broker: one line, exit 2)', async () => {
    const { acl: file } = files(['topic readwrite #', 'topic denied secret/#']);
    await assert.rejects(Broker.start({ port: 0, sysInterval: 0, acl: file, logger: createLogger('silent') }),
      (e: Error) => e.message.startsWith(`${file}:2: access "denied"`));
    const r = await runSparrow(['broker', '--port', '0', '--ws-port', 'off', '--acl', file]);
    assert.equal(r.code, 2);
    assert.equal(r.out, `sparrow broker: ${file}:2: access "denied" is not read, write, readwrite or deny: topic denied secret/#\n`);
  });

  it('issue 13.3: another user taking over a persistent session gets a fresh one: no subscriptions, queue or live data', async () => {
    tb = await startBroker(files(['user alice', 'topic readwrite alice/#', 'user bob', 'topic readwrite bob/#', 'user admin', 'topic readwrite #']));
    const admin = await aliceLeavesAPersistentSession(tb.port, 'disconnect');
    await admin.publishAsync('alice/queued', 'for alice', { qos: 1 }); // queued for her offline session
    const bob = await RawClient.connectSocket(tb.port, 4, cleanup);
    bob.send({ cmd: 'connect', clientId: 'dev', clean: false, keepalive: 0, username: 'bob', password: Buffer.from('b') });
    const ack: any = await bob.next('connack');
    assert.equal(ack.returnCode, 0);
    assert.equal(ack.sessionPresent, false, 'bob does not get sessionPresent=1 for alice\'s session');
    bob.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'bob/#', qos: 1 }] });
    await bob.next('suback');
    await admin.publishAsync('alice/live', 'live for alice', { qos: 1 });
    await admin.publishAsync('bob/marker', 'marker', { qos: 1 });
    const p: any = await bob.next('publish');
    assert.equal(p.topic, 'bob/marker', 'neither alice\'s queued nor her live message came first');
    assert.deepEqual([...tb.broker.sessions.get('dev')!.subs.keys()], ['bob/#']);
  });

  it('issue 13.3: the same user resuming keeps the session (sessionPresent=1 and the queued message)', async () => {
    tb = await startBroker(files(['user alice', 'topic readwrite alice/#', 'user admin', 'topic readwrite #']));
    const admin = await aliceLeavesAPersistentSession(tb.port, 'cut');
    await admin.publishAsync('alice/queued', 'for alice', { qos: 1 });
    const again = await RawClient.connectSocket(tb.port, 4, cleanup);
    again.send({ cmd: 'connect', clientId: 'dev', clean: false, keepalive: 0, username: 'alice', password: Buffer.from('a') });
    assert.equal((await again.next('connack') as any).sessionPresent, true);
    assert.equal((await again.next('publish') as any).topic, 'alice/queued');
  });

  it('issue 13.3: read access is checked again at resume: a message the new ACL denies is dropped from the queue', async () => {
    const dataDir = fs.mkdtempSync(path.join(dir, 'data-'));
    const opts = (lines: string[]) => ({ ...files(lines), dataDir });
    tb = await startBroker(opts(['user alice', 'topic readwrite alice/#', 'user admin', 'topic readwrite #']));
    const admin = await aliceLeavesAPersistentSession(tb.port, 'disconnect');
    await admin.publishAsync('alice/secret/x', 'no longer hers', { qos: 1 });
    await admin.publishAsync('alice/ok', 'still hers', { qos: 1 });
    await cleanup.run();
    await tb.broker.close();
    tb = await startBroker(opts(['user alice', 'topic readwrite alice/#', 'topic deny alice/secret/#']));
    const again = await RawClient.connectSocket(tb.port, 4, cleanup);
    again.send({ cmd: 'connect', clientId: 'dev', clean: false, keepalive: 0, username: 'alice', password: Buffer.from('a') });
    assert.equal((await again.next('connack') as any).sessionPresent, true);
    assert.equal((await again.next('publish') as any).topic, 'alice/ok');
  });
});
