// Deep topics (issue 13, item 4): one retained message on a 5,000-level topic used to overflow the stack
// of the retained store's recursive walk, so every later `#` subscriber got DISCONNECT 0x83 until a
// restart. Walks are loops now, whatever the depth, and topics deeper than --max-topic-levels are refused.
import { strict as assert } from 'assert';
import { TOPIC_FILTER_INVALID, TOPIC_NAME_INVALID } from '../firmware/mqtt';
import type { Message } from '../broker/message';
import { RetainedStore } from '../broker/retained';
import { TopicTree, type MatchVisitor, type SubEntry } from '../broker/topic-tree';
import { Cleanup, RawClient, startBroker, type TestBroker } from './support/broker';

/** `n` levels: `a/a/.../a`. */
const deep = (n: number) => new Array(n).fill('a').join('/');
const retained = (topic: string): Message => ({ topic, payload: new Uint8Array([1]), qos: 0, retain: true, expiresAt: 0, origin: 'x' });

describe('broker: deep topics', () => {
  it('the retained store and the topic tree walk 200,000 levels without recursion', () => {
    const store = new RetainedStore();
    const topic = deep(200_000);
    store.set(retained(topic));
    store.set(retained('b'));
    for (const f of ['#', 'a/#', '+/#']) assert.deepEqual(store.match(f, 0).map((m) => m.topic.length), f === 'a/#' ? [topic.length] : [topic.length, 1], f);
    assert.equal(store.all().length, 2);
    store.set({ ...retained(topic), payload: new Uint8Array(0) });
    assert.deepEqual(store.match('#', 0).map((m) => m.topic), ['b']);

    const tree = new TopicTree<string>();
    const entry = (filter: string): SubEntry<string> => ({ session: filter.slice(-3), filter, qos: 0, nl: false, rap: false, rh: 0 });
    tree.add(deep(200_000), entry(deep(200_000)));
    tree.add(deep(199_999) + '/+', entry(deep(199_999) + '/+'));
    tree.add('a/#', entry('a/#'));
    const hits: string[] = [];
    const visit: MatchVisitor<string> = { entry: (e) => hits.push(e.filter.length > 10 ? 'deep ' + e.filter.slice(-1) : e.filter), group: () => {} };
    tree.match(topic, visit);
    assert.deepEqual(hits.sort(), ['a/#', 'deep +', 'deep a']);
  });

  it('retained order stays the topic tree\'s: parents before children, siblings as they came', () => {
    const store = new RetainedStore();
    for (const t of ['x/2', 'x', 'x/1', 'x/1/z', 'y']) store.set(retained(t));
    assert.deepEqual(store.match('#', 0).map((m) => m.topic), ['x', 'x/2', 'x/1', 'x/1/z', 'y']);
    assert.deepEqual(store.match('x/+', 0).map((m) => m.topic), ['x/2', 'x/1']);
  });

  describe('over sockets', () => {
    const cleanup = new Cleanup();
    let tb: TestBroker | null = null;
    afterEach(async () => { await cleanup.run(); if (tb) await tb.broker.close(); tb = null; });

    it('issue 13.4: a retained message on a 5,000-level topic leaves #, a/# and +/# subscribers served', async () => {
      tb = await startBroker({ maxTopicLevels: 10_000 });
      const pub = await RawClient.open(tb.port, { clientId: 'deep-pub' }, 5, cleanup);
      pub.send({ cmd: 'publish', topic: deep(5000), payload: 'x', qos: 1, messageId: 1, retain: true });
      assert.equal((await pub.next('puback') as any).reasonCode, 0x10); // no subscribers yet
      for (const filter of ['#', 'a/#', '+/#']) {
        const sub = await RawClient.open(tb.port, { clientId: 'deep-sub' + filter }, 5, cleanup);
        sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 0 }] });
        assert.deepEqual((await sub.next('suback') as any).granted, [0]);
        const p: any = await sub.next('publish');
        assert.equal(p.topic, deep(5000), filter);
        assert.equal(p.retain, true);
      }
    });

    it('issue 13.4: over --max-topic-levels (200), a PUBLISH closes with 0x90, a filter gets 0x8F, a will is refused', async () => {
      tb = await startBroker();
      const ok = await RawClient.open(tb.port, { clientId: 'ok' }, 5, cleanup);
      ok.send({ cmd: 'publish', topic: deep(200), payload: 'x', qos: 1, messageId: 1 });
      await ok.next('puback');
      ok.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: deep(200), qos: 0 }, { topic: deep(200) + '/#', qos: 0 }] });
      assert.deepEqual((await ok.next('suback') as any).granted, [0, TOPIC_FILTER_INVALID]);
      ok.send({ cmd: 'publish', topic: deep(201), payload: 'x', qos: 1, messageId: 3 });
      const d: any = await ok.next('disconnect');
      assert.equal(d.reasonCode, TOPIC_NAME_INVALID);
      assert.match(d.properties.reasonString, /topic of 201 levels, over the limit of 200/);
      await ok.waitClosed();

      const v4 = await RawClient.open(tb.port, { clientId: 'v4' }, 4, cleanup);
      v4.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '+/' + deep(200), qos: 1 }] });
      assert.deepEqual((await v4.next('suback') as any).granted, [0x80]);

      const will = await RawClient.connectSocket(tb.port, 5, cleanup);
      will.send({ cmd: 'connect', protocolVersion: 5, clientId: 'w', keepalive: 0, will: { topic: deep(300), payload: 'x', qos: 0, retain: false } } as any);
      assert.equal((await will.next('connack') as any).reasonCode, TOPIC_NAME_INVALID);
      await will.waitClosed();
    });
  });
});
