// Scripted-peer tests of the QoS engine (firmware/mqtt/session): the test plays the broker packet by
// packet, for every QoS flow in both directions, in MQTT 3.1.1 and 5; and a model test of the store.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { encodePacket } from '../firmware/mqtt';
import { createStore, RECORD_HEADER, DISCARDED, FREE, MessageStore, MOVES, nextRecord, QUEUED, recordId, recordPacket, recordQos, storeAdd, storeCount, storeFind, storeMove } from '../firmware/mqtt/store';
import { publishPacket, publishText } from '../firmware/mqtt/client-codec';
import { createSession } from '../firmware/mqtt/session';
import { brief, Peer } from './support/peer';

type Results = { [name: string]: any };

for (const v of [4, 5]) {
  const V = v === 5 ? 'MQTT 5' : 'MQTT 3.1.1';
  const peer = (o: object = {}) => new Peer({ protocolVersion: v, ...o });

  describe(`session ${V}: outgoing QoS flows`, () => {
    it('QoS 0: one PUBLISH without packet id, callback at once, nothing kept', () => {
      const p = peer(); p.connect(); const r: Results = {};
      p.publish(r, 'a', 0);
      assert.deepEqual(p.take().map(brief), ['publish q0 t/a']);
      assert.equal(r.a, null);
      assert.equal(p.session.queued(), 0);
    });

    it('MQTT-4.3.2-1: QoS 1 is kept until PUBACK, and only then completes', () => {
      const p = peer(); p.connect(); const r: Results = {};
      p.publish(r, 'a', 1);
      const [pub] = p.take();
      assert.equal(brief(pub), 'publish q1 #1 t/a');
      assert.equal(r.a, 'pending');
      assert.equal(p.session.inflightCount(), 1);
      p.feed({ cmd: 'puback', messageId: pub.messageId });
      assert.equal(r.a, null);
      assert.equal(p.session.queued(), 0);
      assert.equal(p.session.stats.acked, 1);
    });

    it('MQTT-4.3.3-1: QoS 2 PUBLISH, PUBREC -> PUBREL, PUBCOMP completes; a duplicate PUBREC gets PUBREL again', () => {
      const p = peer(); p.connect(); const r: Results = {};
      p.publish(r, 'a', 2);
      assert.deepEqual(p.take().map(brief), ['publish q2 #1 t/a']);
      p.feed({ cmd: 'pubrec', messageId: 1 });
      assert.deepEqual(p.take().map(brief), ['pubrel #1']);
      assert.equal(r.a, 'pending');
      p.feed({ cmd: 'pubrec', messageId: 1 });
      assert.deepEqual(p.take().map(brief), ['pubrel #1']);
      p.feed({ cmd: 'pubcomp', messageId: 1 });
      assert.equal(r.a, null);
      assert.equal(p.session.queued(), 0);
    });

    // 3.1.1 acks carry no reason code
    if (v === 5) it('an ack with a failure reason code completes the message with that error', () => {
      const p = peer(); p.connect(); const r: Results = {};
      p.publish(r, 'a', 1);
      p.publish(r, 'b', 2);
      p.take();
      p.feed({ cmd: 'puback', messageId: 1, reasonCode: 0x87 });
      p.feed({ cmd: 'pubrec', messageId: 2, reasonCode: 0x97 });
      assert.deepEqual([r.a.reasonCode, r.b.reasonCode], [0x87, 0x97]);
      assert.deepEqual(p.take(), [], 'no PUBREL after a failed PUBREC');
      assert.equal(p.session.queued(), 0);
    });

    it('an ack for an unknown packet id changes nothing; an unknown PUBREC is still released', () => {
      const p = peer(); p.connect(); const r: Results = {};
      p.publish(r, 'a', 1);
      p.take();
      p.feed({ cmd: 'puback', messageId: 9 });
      p.feed({ cmd: 'pubcomp', messageId: 9 });
      assert.equal(r.a, 'pending');
      p.feed({ cmd: 'pubrec', messageId: 9 });
      const [rel] = p.take();
      assert.equal(brief(rel), 'pubrel #9');
      if (v === 5) assert.equal(rel.reasonCode, 0x92);
    });
  });

  describe(`session ${V}: incoming QoS flows`, () => {
    it('QoS 0 is delivered and not acknowledged', () => {
      const p = peer(); p.connect();
      p.feed({ cmd: 'publish', topic: 'in/a', payload: 'x', qos: 0 });
      assert.deepEqual(p.messages(), ['in/a x']);
      assert.deepEqual(p.take(), []);
    });

    it('MQTT-4.3.2-2: QoS 1 is acknowledged, and a duplicate is acknowledged again even with DUP=0', () => {
      const p = peer(); p.connect();
      p.feed({ cmd: 'publish', topic: 'in/a', payload: 'x', qos: 1, messageId: 7 });
      p.feed({ cmd: 'publish', topic: 'in/a', payload: 'x', qos: 1, messageId: 7, dup: false });
      assert.deepEqual(p.take().map(brief), ['puback #7', 'puback #7']);
      assert.ok(p.messages().length >= 1);
    });

    it('MQTT-4.3.3-2: QoS 2 is delivered once; a duplicate PUBLISH gets PUBREC but no delivery; the id is held until PUBREL', () => {
      const p = peer(); p.connect();
      p.feed({ cmd: 'publish', topic: 'in/a', payload: 'x', qos: 2, messageId: 7 });
      p.feed({ cmd: 'publish', topic: 'in/a', payload: 'x', qos: 2, messageId: 7, dup: true });
      assert.deepEqual(p.take().map(brief), ['pubrec #7', 'pubrec #7']);
      assert.deepEqual(p.messages(), ['in/a x']);
      p.feed({ cmd: 'pubrel', messageId: 7 });
      const [comp] = p.take();
      assert.equal(brief(comp), 'pubcomp #7');
      if (v === 5) assert.equal(comp.reasonCode || 0, 0);
      // released: the same id is a new message now
      p.feed({ cmd: 'publish', topic: 'in/a', payload: 'y', qos: 2, messageId: 7 });
      assert.deepEqual(p.messages(), ['in/a x', 'in/a y']);
    });

    it('QoS 2 ids stay held across a reconnect with the session present, and are dropped with the session', () => {
      const p = peer({ clean: false }); p.connect();
      p.feed({ cmd: 'publish', topic: 'in/a', payload: 'x', qos: 2, messageId: 7 });
      p.cut();
      p.connect({ sessionPresent: true });
      p.feed({ cmd: 'publish', topic: 'in/a', payload: 'x', qos: 2, messageId: 7, dup: true });
      assert.deepEqual(p.messages(), ['in/a x'], 'not delivered twice');
      p.cut();
      p.connect({ sessionPresent: false });
      p.feed({ cmd: 'publish', topic: 'in/a', payload: 'z', qos: 2, messageId: 7 });
      assert.deepEqual(p.messages(), ['in/a x', 'in/a z'], 'a new session: a new message');
    });

    it('a PUBREL for an id not held is completed anyway', () => {
      const p = peer(); p.connect();
      p.feed({ cmd: 'pubrel', messageId: 3 });
      const [comp] = p.take();
      assert.equal(brief(comp), 'pubcomp #3');
      if (v === 5) assert.equal(comp.reasonCode, 0x92);
    });
  });

  describe(`session ${V}: packet ids and the in-flight window`, () => {
    it('MQTT-2.2.1-3: ids never collide with messages in flight or pending SUBSCRIBEs, across the wrap at 65535', function () {
      this.timeout(20000);
      const p = peer({ storeSlots: 8 }); p.connect(); const r: Results = {};
      p.publish(r, 'held', 1); // id 1, never acked
      p.session.subscribe([{ topic: 's/#', qos: 1 }], undefined, undefined, p.now); // id 2, never acked
      p.take();
      for (let n = 3; n <= 65535; n++) {
        p.session.publish('t/x', '', 1, false, undefined, undefined, p.now);
        p.feed({ cmd: 'puback', messageId: n });
        p.takeRaw();
      }
      p.publish(r, 'after', 1);
      p.session.unsubscribe(['s/#'], undefined, undefined, p.now);
      assert.deepEqual(p.take().map(brief), ['publish q1 #3 t/after', 'unsubscribe #4']);
    });

    it('at most inflightMax QoS>0 messages are in flight; the rest follow in order as acks come', () => {
      const p = peer({ inflightMax: 2 }); p.connect(); const r: Results = {};
      for (const n of ['a', 'b', 'c', 'd']) p.publish(r, n, 1);
      p.publish(r, 'e', 0); // behind a QoS 1 message that waits: waits too, to keep the order
      assert.deepEqual(p.take().map(brief), ['publish q1 #1 t/a', 'publish q1 #2 t/b']);
      p.feed({ cmd: 'puback', messageId: 2 });
      assert.deepEqual(p.take().map(brief), ['publish q1 #3 t/c']);
      p.feed({ cmd: 'puback', messageId: 1 });
      assert.deepEqual(p.take().map(brief), ['publish q1 #4 t/d', 'publish q0 t/e']);
      assert.equal(p.session.inflightCount(), 2);
    });

    if (v === 5) it('MQTT-4.9.0-2: the broker\'s Receive Maximum lowers the window', () => {
      const p = peer({ inflightMax: 10 }); p.connect({ properties: { receiveMaximum: 1 } }); const r: Results = {};
      p.publish(r, 'a', 2);
      p.publish(r, 'b', 1);
      assert.deepEqual(p.take().map(brief), ['publish q2 #1 t/a']);
      p.feed({ cmd: 'pubrec', messageId: 1 });
      assert.deepEqual(p.take().map(brief), ['pubrel #1'], 'a PUBREC\'d message still counts until PUBCOMP');
      p.feed({ cmd: 'pubcomp', messageId: 1 });
      assert.deepEqual(p.take().map(brief), ['publish q1 #2 t/b']);
    });
  });

  describe(`session ${V}: resend after a reconnect`, () => {
    /** a: QoS 1 sent; b: QoS 2 PUBREC'd; c: QoS 2 sent; d: QoS 1 sent; then the link drops and e is published offline. */
    function inFlight(): { p: Peer; r: Results } {
      const p = peer({ clean: false }); p.connect(); const r: Results = {};
      p.publish(r, 'a', 1); p.publish(r, 'b', 2); p.publish(r, 'c', 2); p.publish(r, 'd', 1);
      p.feed({ cmd: 'pubrec', messageId: 2 });
      p.cut();
      p.publish(r, 'e', 1);
      return { p, r };
    }

    it('MQTT-4.4.0-1: session present: PUBLISH again with DUP=1 and PUBREL again, in the original order, then the offline ones', () => {
      const { p, r } = inFlight();
      p.connect({ sessionPresent: true });
      assert.deepEqual(p.take().map(brief), ['publish q1 #1 t/a dup', 'pubrel #2', 'publish q2 #3 t/c dup', 'publish q1 #4 t/d dup', 'publish q1 #5 t/e']);
      p.feed({ cmd: 'pubcomp', messageId: 2 });
      assert.equal(r.b, null);
      for (const id of [1, 4, 5]) p.feed({ cmd: 'puback', messageId: id });
      p.feed({ cmd: 'pubrec', messageId: 3 });
      p.feed({ cmd: 'pubcomp', messageId: 3 });
      assert.deepEqual(Object.values(r), [null, null, null, null, null]);
    });

    it('session lost: unacknowledged messages go again as new ones (DUP=0); the PUBREC\'d one is complete', () => {
      const { p, r } = inFlight();
      p.connect({ sessionPresent: false });
      assert.deepEqual(p.take().map(brief), ['publish q1 #1 t/a', 'publish q2 #3 t/c', 'publish q1 #4 t/d', 'publish q1 #5 t/e']);
      assert.equal(r.b, null);
      assert.equal(r.a, 'pending');
    });

    it('a DUP set by one resumed session is cleared when the next session is lost', () => {
      const { p } = inFlight();
      p.connect({ sessionPresent: true });
      p.cut();
      p.connect({ sessionPresent: false });
      assert.ok(p.take().every((x) => !x.dup));
    });

    it('the resend respects the window and the order', () => {
      const p = peer({ clean: false, inflightMax: 2 }); p.connect(); const r: Results = {};
      for (const n of ['a', 'b', 'c']) p.publish(r, n, 1);
      p.cut();
      p.connect({ sessionPresent: true });
      assert.deepEqual(p.take().map(brief), ['publish q1 #1 t/a dup', 'publish q1 #2 t/b dup']);
      p.feed({ cmd: 'puback', messageId: 1 });
      assert.deepEqual(p.take().map(brief), ['publish q1 #3 t/c']);
    });

    it('pending SUBSCRIBE callbacks are told when the link drops', () => {
      const p = peer(); p.connect();
      let error: any = 'pending';
      p.session.subscribe([{ topic: 'a', qos: 0 }], undefined, (e) => { error = e; }, p.now);
      p.cut();
      assert.equal(error.reasonCode, 0x80);
    });
  });

  describe(`session ${V}: offline queue`, () => {
    it('publishes made offline go out in order after the CONNACK', () => {
      const p = peer(); const r: Results = {};
      p.publish(r, 'a', 0); p.publish(r, 'b', 1); p.publish(r, 'c', 0);
      assert.equal(p.session.queued(), 3);
      p.connect();
      assert.deepEqual(p.take().map(brief), ['publish q0 t/a', 'publish q1 #1 t/b', 'publish q0 t/c']);
      assert.equal(r.a, null);
    });

    it('when full, QoS 0 is dropped first (counted) and QoS 1 is refused to the caller (counted); accepted QoS 1 is never dropped', () => {
      const p = peer({ storeSlots: 3 }); const r: Results = {};
      assert.ok(p.publish(r, 'q1a', 1));
      assert.ok(p.publish(r, 'q0a', 0));
      assert.ok(p.publish(r, 'q0b', 0));
      assert.ok(p.publish(r, 'q1b', 1), 'room made by dropping the oldest QoS 0');
      assert.equal(r.q0a.reasonCode, 0x97);
      assert.ok(p.publish(r, 'q1c', 1));
      assert.equal(r.q0b.reasonCode, 0x97);
      assert.equal(p.publish(r, 'q1d', 1), false);
      assert.equal(r.q1d.reasonCode, 0x97);
      assert.equal(p.publish(r, 'q0c', 0), false);
      assert.deepEqual(p.session.stats, { sent: 0, acked: 0, received: 0, dropped: 3, refused: 1 });
      p.connect();
      assert.deepEqual(p.take().map(brief), ['publish q1 #1 t/q1a', 'publish q1 #2 t/q1b', 'publish q1 #3 t/q1c']);
    });

    it('a byte area too small for a message refuses it; invalid topics are refused', () => {
      const p = peer({ storeBytes: 64 }); const r: Results = {};
      assert.equal(p.publish(r, 'big', 1, 't/big', 'x'.repeat(100)), false);
      assert.equal(r.big.reasonCode, 0x97);
      assert.equal(p.publish(r, 'wild', 1, 't/#'), false);
      assert.equal(r.wild.reasonCode, 0x90);
    });

    it('the last valid topic is remembered, never a topic that was refused nor anything that is not a string', () => {
      const p = peer(); p.connect(); const r: Results = {};
      assert.ok(p.publish(r, 'ok1', 0, 't/a'));
      for (const topic of ['t/+', 't/#', '', 't/\0', 't/#']) assert.equal(p.publish(r, 'bad', 0, topic), false, JSON.stringify(topic));
      assert.ok(p.publish(r, 'ok2', 0, 't/a'));
      for (const topic of [undefined, null, 7, ['t/a'], { toString: () => 't/a' }]) {
        assert.equal(p.session.publish(topic as unknown as string, 'x', 0, false, undefined, undefined, 0), false, String(topic));
      }
      assert.deepEqual(p.take().map(brief), ['publish q0 t/a', 'publish q0 t/a']);
      assert.equal(p.session.stats.refused, 10);
    });

    it('a received topic is remembered as a sent one is, and one with a wildcard still ends the link', () => {
      const p = peer(); p.connect(); const r: Results = {};
      assert.ok(p.publish(r, 'ok', 0, 't/a'));
      p.feed({ cmd: 'publish', topic: 't/a', payload: 'x', qos: 0 });
      assert.deepEqual(p.messages(), ['t/a x']);
      const wild = encodePacket({ cmd: 'publish', topic: 't/x', payload: 'y', qos: 0 }, { protocolVersion: p.version });
      wild[wild.indexOf(0x78)] = 0x2b; // "t/+", which the encoder refuses to write
      p.session.data(wild, p.now);
      assert.deepEqual([p.messages(), p.errors().map((e) => e.message)], [['t/a x'], ['invalid topic']]);
    });

    it('while online, QoS 0 goes straight out even when QoS 1 messages fill the store', () => {
      const p = peer({ storeSlots: 2 }); p.connect(); const r: Results = {};
      p.publish(r, 'a', 1); p.publish(r, 'b', 1);
      assert.ok(p.publish(r, 'c', 0));
      assert.deepEqual(p.take().map(brief), ['publish q1 #1 t/a', 'publish q1 #2 t/b', 'publish q0 t/c']);
    });

    it('a callback that publishes again while a flush runs keeps every message and the order', () => {
      const p = peer({ storeSlots: 4, storeBytes: 4 * (17 + RECORD_HEADER) }); const r: Results = {}; // 4 QoS 0 records of 17 bytes
      const cb = (n: number) => () => { if (n < 6) p.session.publish('t/' + (n + 4), 'x'.repeat(10), 0, false, undefined, cb(n + 4), p.now); };
      for (let n = 0; n < 3; n++) p.session.publish('t/' + n, 'x'.repeat(10), 0, false, undefined, cb(n), p.now);
      p.publish(r, 'q1', 1);
      p.connect();
      assert.deepEqual(p.take().map((x) => x.topic), ['t/0', 't/1', 't/2', 't/q1', 't/4', 't/8', 't/5', 't/9', 't/6']);
    });
  });

  describe(`session ${V}: CONNECT and CONNACK`, () => {
    it('will, retain, username, password, keepalive and clean session are in CONNECT', () => {
      const will = { topic: 'st/c1', payload: 'offline', qos: 1 as const, retain: true, properties: v === 5 ? { willDelayInterval: 30 } : undefined };
      const p = peer({ clean: false, keepalive: 15, username: 'u', password: 'pw', will, properties: v === 5 ? { sessionExpiryInterval: 3600 } : undefined });
      p.session.start(0);
      const [c] = p.take();
      assert.equal(c.protocolVersion, v);
      assert.deepEqual([c.clientId, c.clean, c.keepalive, c.username, Buffer.from(c.password).toString()], ['c1', false, 15, 'u', 'pw']);
      assert.deepEqual([c.will.topic, Buffer.from(c.will.payload).toString(), c.will.qos, c.will.retain], ['st/c1', 'offline', 1, true]);
      if (v === 5) {
        assert.equal(c.will.properties.willDelayInterval, 30);
        assert.equal(c.properties.sessionExpiryInterval, 3600, 'session expiry passed through');
        assert.equal(c.properties.receiveMaximum, 64, 'our QoS 2 limit, so the broker keeps within it');
        assert.equal(c.properties.maximumPacketSize, 4096, 'our reader limit, so the broker holds back larger packets');
      }
    });

    const refusals = v === 5 ? [[0x86, 'Bad User Name or Password'], [0x87, 'Not authorized'], [0x8a, 'Banned']] : [[1, 'unacceptable protocol version'], [4, 'bad user name or password'], [5, 'not authorized']];
    for (const [code, text] of refusals) {
      it(`MQTT-3.2.2-5: CONNACK refusal 0x${(code as number).toString(16)} is reported as "${text}" and the link closed`, () => {
        const p = peer(); const r: Results = {};
        p.connect(v === 5 ? { reasonCode: code as number } : { returnCode: code as number });
        assert.deepEqual(p.errors(), [{ reasonCode: code, message: 'connection refused: ' + text }]);
        assert.equal(p.events[p.events.length - 1][0], 'close');
        assert.equal(p.session.state, 0);
        p.publish(r, 'a', 1);
        assert.deepEqual(p.take(), [], 'nothing is sent on a refused link');
      });
    }

    it('anything but CONNACK first is a protocol error', () => {
      const p = peer();
      p.session.start(0);
      p.take();
      p.feed({ cmd: 'puback', messageId: 1 });
      assert.equal(p.errors()[0].reasonCode, 0x82);
      assert.equal(p.session.state, 0);
    });

    it('MQTT-2.2.1-3: an incoming QoS 1 PUBLISH with packet identifier 0 is a protocol error, not acknowledged', () => {
      // found by test/session.fuzz.test.ts: the session answered it with a PUBACK for id 0
      const p = peer(); p.connect();
      const props = v === 5 ? [0] : [];
      p.session.data(Uint8Array.from([0x32, 8 + props.length, 0, 3, 0x73, 0x2f, 0x74, 0, 0, ...props, 0x78]), p.now);
      assert.deepEqual(p.messages(), []);
      assert.deepEqual(p.errors(), [{ reasonCode: 0x82, message: 'Protocol Error' }]); // on a board: 'reason 0x82'
      assert.deepEqual(p.take().map((x) => x.cmd + (x.reasonCode ? ' ' + x.reasonCode : '')), v === 5 ? ['disconnect 130'] : []);
    });

    it('a hostile remaining length is refused (0x95) before any buffer is taken for it', () => {
      const p = peer({ maxPacketSize: 1024 }); p.connect();
      // every Uint8Array made while the bytes go in is seen: the board must not allocate what it will refuse
      const sizes: number[] = [], Original = Uint8Array;
      (globalThis as any).Uint8Array = class extends Original {
        constructor(...args: any[]) { super(...(args as [number])); if (typeof args[0] === 'number') sizes.push(args[0]); }
      };
      try {
        p.session.data(new Original([0x30, 0xff, 0xff, 0xff, 0x7f]), p.now); // announces ~256 MB
      } finally {
        (globalThis as any).Uint8Array = Original;
      }
      assert.deepEqual(sizes.filter((n) => n > 1024), []);
      assert.equal(p.errors()[0].reasonCode, 0x95);
    });

    it('packets after the one that ended the link, in the same chunk, are ignored', () => {
      const p = peer(); p.session.start(0); p.take();
        const connack = encodePacket({ cmd: 'connack', returnCode: 5, reasonCode: 0x87 }, { protocolVersion: v });
      const pub = encodePacket({ cmd: 'publish', topic: 'x', payload: 'y', qos: 1, messageId: 1 }, { protocolVersion: v });
      p.session.data(Buffer.concat([connack, pub]), 0);
      assert.deepEqual(p.messages(), []);
      assert.deepEqual(p.take(), []);
    });

    it('SUBACK reports each topic\'s result; UNSUBACK completes its request', () => {
      const p = peer(); p.connect();
      let granted: any = null, unsubscribed: any = 'pending';
      p.session.subscribe([{ topic: 'a', qos: 1 }, { topic: 'b', qos: 2 }], undefined, (e, g) => { granted = [e, g]; }, 0);
      p.session.unsubscribe(['a'], undefined, (e) => { unsubscribed = e; }, 0);
      const [sub, unsub] = p.take();
      assert.deepEqual(sub.subscriptions.map((s: any) => s.topic + s.qos), ['a1', 'b2']);
      p.feed({ cmd: 'suback', messageId: sub.messageId, granted: [1, 0x80 | (v === 5 ? 7 : 0)] });
      assert.deepEqual(granted, [null, [1, v === 5 ? 0x87 : 0x80]]);
      p.feed({ cmd: 'unsuback', messageId: unsub.messageId, granted: v === 5 ? [0] : undefined });
      assert.equal(unsubscribed, null);
    });
  });

  describe(`session ${V}: keepalive and timeouts (virtual time)`, () => {
    it('MQTT-3.1.2-23: PINGREQ after keepalive seconds without sending; the link is dead when PINGRESP is late', () => {
      const p = peer({ keepalive: 10, pingTimeout: 3000 }); p.connect();
      assert.equal(p.session.tick(9999), 10000);
      assert.deepEqual(p.take(), []);
      assert.equal(p.session.tick(10000), 13000);
      assert.deepEqual(p.take().map(brief), ['pingreq']);
      p.now = 12000; p.feed({ cmd: 'pingresp' });
      assert.equal(p.session.deadline(), 20000);
      p.session.tick(20000); p.take();
      p.session.tick(23000);
      assert.equal(p.events[p.events.length - 1][1], 'keepalive timeout: no PINGRESP');
      assert.equal(p.session.state, 0);
    });

    it('traffic both ways postpones the PINGREQ', () => {
      const p = peer({ keepalive: 10 }); p.connect(); const r: Results = {};
      p.now = 8000; p.publish(r, 'a', 1); p.feed({ cmd: 'puback', messageId: 1 });
      assert.equal(p.session.tick(10000), 18000);
      assert.deepEqual(p.take().map(brief).map((x) => x.split(' ')[0]), ['publish']);
    });

    it('a tick at exactly deadline() pings, even when float rounding makes now - idle fall short of keepalive', () => {
      // seen in a virtual fleet: 150021.12868998694 - 90021.12868998696 < 60000, so the old check never
      // fired while deadline() kept answering "now": the client re-armed a 0 ms timer forever
      const p = peer({ keepalive: 60 }); p.now = 90021.12868998696; p.connect();
      const due = p.session.deadline();
      assert.equal(due, 90021.12868998696 + 60000);
      assert.notEqual(p.session.tick(due), due);
      assert.deepEqual(p.take().map(brief), ['pingreq']);
    });

    it('sending alone does not postpone it: a board writing QoS 0 into a half-open link still pings and notices', () => {
      const p = peer({ keepalive: 10, pingTimeout: 3000 }); p.connect(); const r: Results = {};
      p.now = 8000; p.publish(r, 'a', 0);
      assert.equal(p.session.tick(10000), 13000);
      assert.deepEqual(p.take().map(brief), ['publish q0 t/a', 'pingreq']);
      p.session.tick(13000);
      assert.equal(p.events[p.events.length - 1][1], 'keepalive timeout: no PINGRESP');
    });

    it('no CONNACK within connectTimeout closes the link', () => {
      const p = peer({ connectTimeout: 5000 });
      p.session.start(1000);
      assert.equal(p.session.tick(5999), 6000);
      p.session.tick(6000);
      assert.deepEqual(p.events.map((e) => e[0] + ' ' + e[1]), ['close CONNACK timeout']);
    });
  });
}

describe('session MQTT 5 features', () => {
  const peer = (o: object = {}) => new Peer({ protocolVersion: 5, ...o });

  it('MQTT-3.3.2-12: topic aliases for repeated topics, up to the broker\'s Topic Alias Maximum, reset on reconnect', () => {
    const p = peer({ clean: false }); p.connect({ properties: { topicAliasMaximum: 2 } }); const r: Results = {};
    for (const [n, t] of [['1', 't/1'], ['2', 't/1'], ['3', 't/2'], ['4', 't/3'], ['5', 't/2']]) p.publish(r, n, 0, t);
    const sent = p.take().map((x) => [x.topic, x.properties && x.properties.topicAlias]);
    assert.deepEqual(sent, [['t/1', 1], ['', 1], ['t/2', 2], ['t/3', undefined], ['', 2]]);
    p.cut();
    p.connect({ sessionPresent: true, properties: { topicAliasMaximum: 2 } });
    p.publish(r, '6', 0, 't/2');
    assert.deepEqual(p.take().map((x) => [x.topic, x.properties.topicAlias]), [['t/2', 1]], 'aliases start again on a new link');
  });

  it('no topic aliases when the broker allows none', () => {
    const p = peer(); p.connect(); const r: Results = {};
    p.publish(r, '1', 0, 't/1'); p.publish(r, '2', 0, 't/1');
    assert.deepEqual(p.take().map((x) => x.topic), ['t/1', 't/1']);
  });

  it('a resent QoS 1 message carries its full topic, not an alias of the old link', () => {
    const p = peer({ clean: false }); p.connect({ properties: { topicAliasMaximum: 5 } }); const r: Results = {};
    p.publish(r, '1', 1, 't/1'); p.publish(r, '2', 1, 't/1');
    assert.deepEqual(p.take().map((x) => x.topic), ['t/1', '']);
    p.cut();
    p.connect({ sessionPresent: true });
    assert.deepEqual(p.take().map((x) => x.topic + ' ' + !!x.properties?.topicAlias), ['t/1 false', 't/1 false']);
  });

  it('the broker\'s topic aliases are honoured; an alias over our maximum is DISCONNECT 0x94 [MQTT-3.3.2-9]', () => {
    const p = peer({ properties: { topicAliasMaximum: 2 } }); p.connect();
    p.feed({ cmd: 'publish', topic: 'in/a', payload: '1', qos: 0, properties: { topicAlias: 2 } });
    p.feed({ cmd: 'publish', topic: '', payload: '2', qos: 0, properties: { topicAlias: 2 } });
    assert.deepEqual(p.messages(), ['in/a 1', 'in/a 2']);
    p.feed({ cmd: 'publish', topic: 'in/b', payload: '3', qos: 0, properties: { topicAlias: 3 } });
    const [d] = p.take();
    assert.deepEqual([d.cmd, d.reasonCode], ['disconnect', 0x94]);
    assert.equal(p.errors()[0].reasonCode, 0x94);
    assert.equal(p.session.state, 0);
  });

  it('an unknown broker alias is a protocol error', () => {
    const p = peer({ properties: { topicAliasMaximum: 2 } }); p.connect();
    p.feed({ cmd: 'publish', topic: '', payload: '2', qos: 0, properties: { topicAlias: 1 } });
    assert.equal(p.take()[0].reasonCode, 0x82);
  });

  it('server keep alive replaces ours for this link only; the next CONNECT asks for ours again', () => {
    const p = peer({ keepalive: 60 }); p.connect({ properties: { serverKeepAlive: 5 } });
    assert.equal(p.session.deadline(), 5000);
    p.cut();
    assert.equal(p.connect().keepalive, 60);
  });

  it('an assigned client identifier is kept for the next CONNECT', () => {
    const p = peer({ clientId: '' }); p.connect({ properties: { assignedClientIdentifier: 'auto-7' } });
    p.cut();
    assert.equal(p.connect().clientId, 'auto-7');
  });

  it('MQTT-3.1.2-24: nothing larger than the broker\'s Maximum Packet Size is sent; the caller is told', () => {
    const p = peer(); const r: Results = {};
    p.publish(r, 'queued', 1, 't/q', 'x'.repeat(80)); // queued before the limit was known
    p.connect({ properties: { maximumPacketSize: 50 } });
    assert.deepEqual(p.take(), []);
    assert.equal(r.queued.reasonCode, 0x95);
    assert.equal(p.publish(r, 'big', 0, 't/b', 'x'.repeat(80)), false);
    assert.equal(r.big.reasonCode, 0x95);
    p.publish(r, 'small', 1, 't/s', 'x');
    assert.deepEqual(p.take().map(brief), ['publish q1 #2 t/s']);
    assert.equal(p.session.stats.refused, 2);
  });

  it('more incoming QoS 2 messages than our Receive Maximum is DISCONNECT 0x93', () => {
    const p = peer({ properties: { receiveMaximum: 2 } }); p.connect();
    for (let id = 1; id <= 3; id++) p.feed({ cmd: 'publish', topic: 'a', payload: '', qos: 2, messageId: id });
    assert.deepEqual(p.take().map((x) => x.cmd + (x.reasonCode ? ' ' + x.reasonCode : '')), ['pubrec', 'pubrec', 'disconnect 147']);
  });
});

describe('message store (model test)', () => {
  const RECORDS = 6, BYTES = 64;
  type Op = { kind: 'add'; n: number } | { kind: 'free'; pick: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), n: fc.integer({ min: 1, max: 30 }) }),
    fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }),
  );

  /** Live records, oldest first, as [offset, tag] where tag is the byte each of its bytes holds. */
  function records(s: MessageStore): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let at = s._first; at < s._end; at = nextRecord(s, at)) if (s._bytes[at] !== FREE) out.push([at, recordPacket(s, at)[0]]);
    return out;
  }

  it('fill, free out of order and compaction keep every record\'s bytes, callback and the publish order', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const s = createStore(BYTES, RECORDS);
      const model: Array<{ tag: number; n: number }> = [];
      let next = 1;
      for (const o of ops) {
        if (o.kind === 'add') {
          const used = model.reduce((a, m) => a + m.n + RECORD_HEADER, 0);
          const tag = next++ & 255;
          const added = storeAdd(s, new Uint8Array(o.n).fill(tag), 'cb' + tag);
          assert.equal(added, model.length < RECORDS && used + o.n + RECORD_HEADER <= BYTES, `add(${o.n}) with ${model.length} records of ${used} bytes`);
          if (added) model.push({ tag, n: o.n });
        } else if (model.length) {
          const m = model.splice(o.pick % model.length, 1)[0];
          const at = records(s).filter((r) => r[1] === m.tag)[0][0];
          assert.ok(storeMove(s, at, DISCARDED));
          assert.deepEqual(s._done.splice(0), ['cb' + m.tag, undefined], 'the freed record\'s callback comes back');
        }
        const live = records(s);
        assert.deepEqual(live.map((r) => r[1]), model.map((m) => m.tag));
        for (const [at, tag] of live) {
          assert.ok(nextRecord(s, at) <= BYTES);
          assert.ok(recordPacket(s, at).every((b) => b === tag), 'record ' + tag + ' bytes intact');
        }
        assert.equal(s._live, model.length);
      }
    }), { numRuns: 300 });
  });

  it('reads QoS and packet id from a stored PUBLISH, past a 2-byte remaining length', () => {
    const s = createStore(1024, 4);
    const publish = encodePacket({ cmd: 'publish', topic: 't/x', qos: 2, messageId: 0x1234, payload: new Uint8Array(200) }, { protocolVersion: 4 });
    assert.ok(storeAdd(s, encodePacket({ cmd: 'publish', topic: 'a', qos: 0, payload: 'x' }, { protocolVersion: 4 }), undefined));
    assert.ok(storeAdd(s, publish, undefined));
    const second = nextRecord(s, s._first);
    assert.deepEqual([recordQos(s, s._first), recordId(s, s._first), recordQos(s, second), recordId(s, second)], [0, 0, 2, 0x1234]);
    assert.equal(storeFind(s, 0x1234, 1 << QUEUED), second);
  });
});

describe('message store: the table of legal moves', () => {
  // a path of legal moves from QUEUED to each state, by event number (SENT 0, PUBREC 3, RESUMED 6)
  const PATHS: { [state: number]: number[] } = { 1: [], 2: [0], 3: [0, 3], 4: [0, 3, 6] };
  const publish = encodePacket({ cmd: 'publish', topic: 't', qos: 2, messageId: 7, payload: 'x' }, { protocolVersion: 4 });

  it('every (state, event) pair: a listed move lands where MOVES says, any other is refused and changes nothing', () => {
    let walked = 0;
    for (const state of [1, 2, 3, 4]) {
      for (let event = 0; event < MOVES.length; event++) {
        const s = createStore(64, 4);
        assert.ok(storeAdd(s, publish, 'cb'));
        for (const e of PATHS[state]) assert.ok(storeMove(s, 0, e), `path to ${state}`);
        assert.equal(s._bytes[0], state);
        const to = MOVES[event].charAt(state), moved = storeMove(s, 0, event, 'why');
        walked++;
        if (to === '-') {
          assert.equal(moved, false, `event ${event} refused in state ${state}`);
          assert.equal(s._bytes[0], state);
          assert.equal(storeCount(s, 1 << state), 1);
        } else {
          assert.ok(moved, `event ${event} legal in state ${state}`);
          assert.equal(+to === FREE ? s._live : s._bytes[0], +to === FREE ? 0 : +to);
          if (+to === FREE) assert.deepEqual(s._done, ['cb', 'why'], 'a freed record hands back its callback');
          else assert.equal(storeCount(s, 1 << +to), 1, 'the counts follow the move');
          assert.equal(storeFind(s, 7, ~1), +to === FREE ? -1 : 0, 'the id index follows the move');
        }
      }
    }
    assert.equal(walked, 4 * MOVES.length);
    // FREE: no record, nothing to move
  });
});

describe('PUBLISH built as a string, for transports that write strings (the board\'s sockets)', () => {
  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));
  it('is byte for byte the PUBLISH the byte encoder makes, for printable ASCII but " and \\; null (bytes then) for anything else', () => {
    fc.assert(fc.property(fc.constantFrom(4, 5), text, text, fc.constantFrom(0, 1, 2), fc.boolean(), fc.integer({ min: 1, max: 65535 }),
      (v, topic, payload, qos, retain, id) => {
        const s = publishText(v, topic, payload, qos, retain, id);
        const bytes = Buffer.from(publishPacket(v, topic, payload, qos, retain, id, undefined));
        if (/^[\x20-\x7e]*$/.test(topic + payload) && !/["\\]/.test(topic + payload)) assert.equal(s, bytes.toString('latin1'));
        else assert.equal(s, null);
      }), { numRuns: 500 });
    assert.equal(publishText(4, 't', new Uint8Array([1]), 0, false, 0), null, 'bytes stay bytes');
  });

  /** A session on a transport that writes strings (as the board's platform has it), online. */
  function textSession(options: object = {}) {
    const texts: string[] = [], raw: Uint8Array[] = [];
    const session = createSession({ clientId: 'c1', keepalive: 0, ...options }, {
      write: (b, n) => { raw.push(b.slice(0, n)); },
      writeText: (t) => { texts.push(t); return true; },
      textBytes: (t) => new Uint8Array(Buffer.from(t, 'latin1')),
      event: () => undefined,
    });
    session.start(0);
    session.data(encodePacket({ cmd: 'connack', sessionPresent: false, returnCode: 0 }, { protocolVersion: 4 }), 0);
    raw.length = 0;
    return { session, texts, raw };
  }
  const wire = (p: object) => Buffer.from(encodePacket(p as never, { protocolVersion: 4 })).toString('latin1');

  it('QoS 0 and QoS 1 go out through writeText when the transport has it; non-ASCII goes as bytes', () => {
    const { session, texts, raw } = textSession();
    session.publish('a/b', '21.5', 0, false, undefined, undefined, 0);
    session.publish('a/b', 'caf\u00e9', 0, false, undefined, undefined, 0);
    session.publish('a/b', '21.5', 1, false, undefined, undefined, 0);
    assert.deepEqual(texts, [
      wire({ cmd: 'publish', topic: 'a/b', payload: '21.5', qos: 0 }),
      wire({ cmd: 'publish', topic: 'a/b', payload: '21.5', qos: 1, messageId: 1 }),
    ]);
    assert.equal(raw.length, 1);
    assert.equal(session.inflightCount(), 1);
  });

  it('a QoS 1 message sent as a string is kept as its bytes: after a cut it goes again, with DUP, and completes', () => {
    const { session, texts, raw } = textSession({ clean: false });
    let done: unknown = 'pending';
    session.publish('a/b', '21.5', 1, false, undefined, (e) => { done = e; }, 0);
    assert.equal(texts.length, 1);
    session.stop();
    session.start(0);
    session.data(encodePacket({ cmd: 'connack', sessionPresent: true, returnCode: 0 }, { protocolVersion: 4 }), 0);
    assert.equal(Buffer.from(raw[raw.length - 1]).toString('latin1'), wire({ cmd: 'publish', topic: 'a/b', payload: '21.5', qos: 1, messageId: 1, dup: true }));
    session.data(encodePacket({ cmd: 'puback', messageId: 1 }, { protocolVersion: 4 }), 0);
    assert.equal(done, null);
    assert.equal(session.queued(), 0);
  });
});
