// A real mosquitto bridge against the Sparrow broker (issue 13, item 13). mosquitto connects with
// protocol level 0x84 (try_private); Sparrow used to refuse it as an unsupported version. With
// `topic # both 1` messages cross both ways, once each: the bridge's own messages are not sent back to
// it (No Local and Retain As Published on its subscriptions, as mosquitto does for bridges), or the two
// brokers would pass every message back and forth for ever.
import { strict as assert } from 'assert';
import { Cleanup, client, inbox, startBroker, subscribe, type TestBroker } from './support/broker';
import { startMosquitto } from './support/mosquitto';
import { until } from './support/wait';

describe('broker: a mosquitto bridge connects to sparrow broker', () => {
  const cleanup = new Cleanup();
  let tb: TestBroker;
  afterEach(async () => { await cleanup.run(); await tb.broker.close(); });

  it('issue 13.13: `connection` + `address` + `topic # both 1`: messages cross both ways, once each, retained flags kept', async () => {
    tb = await startBroker();
    const m = await startMosquitto({ extra: ['connection sparrow', `address 127.0.0.1:${tb.port}`, 'topic # both 1', 'bridge_attempt_unsubscribe false'] });
    cleanup.add(() => m.stop());
    await until(() => tb.logs.some((l) => /connected \(MQTT 3\.1\.1 bridge/.test(l)), 'the bridge connected with bridgeMode');
    await until(() => [...tb.broker.sessions.values()].some((s) => s.subs.has('#')), 'the bridge subscribed to #');

    const onSparrow = await client(tb.url, { clientId: 'on-sparrow' }, cleanup);
    const onMosquitto = await client(m.url, { clientId: 'on-mosquitto' }, cleanup);
    const sparrowBox = inbox(onSparrow), mosquittoBox = inbox(onMosquitto);
    await subscribe(onSparrow, 'from-mosquitto/#', { qos: 1 });
    await subscribe(onMosquitto, 'from-sparrow/#', { qos: 1 });

    await onMosquitto.publishAsync('from-mosquitto/a', 'm1', { qos: 1, retain: true });
    await onSparrow.publishAsync('from-sparrow/b', 's1', { qos: 1 });
    const [fromMosquitto] = await sparrowBox.next(1);
    assert.equal(fromMosquitto.topic, 'from-mosquitto/a');
    assert.equal(fromMosquitto.payload.toString(), 'm1');
    const [fromSparrow] = await mosquittoBox.next(1);
    assert.equal(fromSparrow.topic, 'from-sparrow/b');
    assert.equal(tb.broker.retained.get('from-mosquitto/a')?.payload.length, 2, 'the retained flag crossed the bridge');

    // once each: markers sent after the first messages arrive after them, and nothing came in between
    await onMosquitto.publishAsync('from-mosquitto/marker', 'm2', { qos: 1 });
    await onSparrow.publishAsync('from-sparrow/marker', 's2', { qos: 1 });
    assert.deepEqual((await sparrowBox.next(2)).map((r) => r.payload.toString()), ['m1', 'm2']);
    assert.deepEqual((await mosquittoBox.next(2)).map((r) => r.payload.toString()), ['s1', 's2']);
    assert.equal(sparrowBox.list.length, 2);
    assert.equal(mosquittoBox.list.length, 2);

    // the other way too: sparrow forwards a retained message to the bridge with its retain flag
    // (Retain As Published), so mosquitto keeps it for its own later subscribers
    await onSparrow.publishAsync('from-sparrow/retained', 's3', { qos: 1, retain: true });
    await mosquittoBox.next(3);
    const late = await client(m.url, { clientId: 'late-on-mosquitto' }, cleanup);
    await subscribe(late, 'from-sparrow/retained', { qos: 1 });
    const [kept] = await inbox(late).next(1);
    assert.equal(kept.payload.toString(), 's3');
    assert.equal(kept.packet.retain, true);
  });
});
