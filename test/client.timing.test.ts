// The client's timing in virtual time (test/support/virtual.ts): keepalive, CONNACK and handshake
// timeouts, and reconnect backoff (exponential, full jitter, capped; reset after a CONNACK). Every
// deadline is checked to the millisecond, one before it and at it, with no real sleeps.
import { strict as assert } from 'assert';
import { connect, ClientOptions, MqttClient } from '../firmware/client';
import { VirtualPlatform } from './support/virtual';

function start(options: ClientOptions, platform = new VirtualPlatform()): { p: VirtualPlatform; c: MqttClient; events: string[] } {
  const c = connect(platform, 'mqtt://broker.test:1883', { clientId: 'v1', ...options });
  const events: string[] = [];
  for (const e of ['connect', 'reconnect', 'close', 'offline', 'error']) c.on(e, (a) => events.push(e + (typeof a === 'string' ? ' ' + a : '')));
  return { p: platform, c, events };
}

/** Lets the client open its socket, accepts it and answers CONNECT with a CONNACK. */
function online(p: VirtualPlatform): void {
  p.advance(0);
  p.end.accept();
  assert.deepEqual(p.end.cmds(), ['connect']);
  p.end.send({ cmd: 'connack', sessionPresent: false, returnCode: 0 });
}

/** Times (virtual ms) at which the client opened each connection. */
const opened = (p: VirtualPlatform) => p.ends.map((e) => e.openedAt);
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]);

describe('client timing (virtual time)', () => {
  it('MQTT-3.1.2-23: PINGREQ exactly when the link has been idle for the keepalive, not before', () => {
    const { p, c } = start({ keepalive: 10 });
    online(p);
    assert.ok(c.connected);
    p.advance(9999);
    assert.deepEqual(p.end.cmds(), ['connect']);
    p.advance(1);
    assert.deepEqual(p.end.cmds(), ['connect', 'pingreq']);
    p.end.send({ cmd: 'pingresp' });
    p.advance(10000);
    assert.deepEqual(p.end.cmds(), ['connect', 'pingreq', 'pingreq']);
    assert.ok(c.connected, 'answered pings keep the link');
  });

  it('traffic both ways resets the idle time, so no PINGREQ is needed while it flows', () => {
    const { p, c } = start({ keepalive: 10 });
    online(p);
    for (let i = 0; i < 5; i++) {
      p.advance(6000);
      c.publish('t', 'x', { qos: 1 });
      p.end.send({ cmd: 'puback', messageId: i + 1 });
    }
    assert.deepEqual(p.end.cmds(), ['connect', 'publish', 'publish', 'publish', 'publish', 'publish']);
  });

  it('the link is declared dead when PINGRESP is late, and a reconnect is scheduled', () => {
    const { p, c, events } = start({ keepalive: 10, pingTimeout: 2000, reconnectPeriod: 1000 });
    online(p);
    p.advance(10000);
    assert.equal(p.end.cmds().pop(), 'pingreq');
    p.advance(1999);
    assert.ok(c.connected);
    p.advance(1);
    assert.equal(c.connected, false);
    assert.ok(p.end.ended, 'the dead socket is closed');
    assert.deepEqual(events, ['connect', 'close keepalive timeout: no PINGRESP', 'offline keepalive timeout: no PINGRESP']);
    p.advance(500); // random() is 0.5: half the first ceiling
    assert.equal(p.ends.length, 2);
    assert.deepEqual(events.slice(3), ['reconnect']);
  });

  it('no CONNACK within connectTimeout of the CONNECT closes the link', () => {
    const { p, events } = start({ connectTimeout: 5000, reconnectPeriod: 0 });
    p.advance(0);
    p.advance(1000);
    p.end.accept();
    p.advance(4999);
    assert.deepEqual(events, []);
    p.advance(1);
    assert.deepEqual(events, ['close CONNACK timeout']);
    assert.ok(p.end.ended);
  });

  it('a TCP handshake that never completes times out too (an ESP32 may never report a lost SYN)', () => {
    const { p, events } = start({ connectTimeout: 5000, reconnectPeriod: 0 });
    p.advance(4999);
    assert.deepEqual(events, []);
    p.advance(1);
    assert.deepEqual(events, ['close connect timeout']);
    assert.ok(p.end.ended);
    assert.equal(p.pending(), 0, 'reconnectPeriod 0: no retry');
  });

  it('reconnect delays grow exponentially up to the cap (random() = 0.5 gives half of each ceiling)', () => {
    const p = new VirtualPlatform();
    p.onConnect = () => 'throw'; // Linux Espruino throws at once for a refused port
    const { events } = start({ reconnectPeriod: 1000, reconnectPeriodMax: 8000 }, p);
    for (let i = 0; i < 7; i++) p.step();
    assert.deepEqual(gaps(opened(p)), [500, 1000, 2000, 4000, 4000, 4000]);
    assert.equal(events.filter((e) => e === 'reconnect').length, 6);
    assert.match(events[0], /^close connect failed: ECONNREFUSED/);
  });

  it('full jitter: each delay is random() times the ceiling, anywhere from 0 to it', () => {
    const p = new VirtualPlatform();
    p.onConnect = (end) => { end.cut('ECONNREFUSED'); }; // an ESP32 reports the failure by an event
    p.randoms = [0.1, 0.9, 0, 0.999];
    start({ reconnectPeriod: 1000, reconnectPeriodMax: 60000 }, p);
    for (let i = 0; i < 4; i++) p.step(); // the zero delay runs within the step before it
    assert.deepEqual(gaps(opened(p)), [100, 1800, 0, 7992]);
  });

  it('attempts reset after a CONNACK: the next outage starts again from the first ceiling', () => {
    const p = new VirtualPlatform();
    let refuse = 3;
    p.onConnect = (end) => { if (refuse-- > 0) end.cut('ECONNREFUSED'); };
    const { c } = start({ reconnectPeriod: 1000, keepalive: 0 }, p);
    for (let i = 0; i < 4; i++) p.step();
    assert.deepEqual(gaps(opened(p)), [500, 1000, 2000]);
    assert.equal(c.attempts, 3);
    p.end.accept();
    p.end.send({ cmd: 'connack', sessionPresent: false, returnCode: 0 });
    assert.equal(c.attempts, 0);
    const before = p.now();
    p.end.cut();
    p.step();
    assert.equal(p.now() - before, 500);
  });

  it('end() stops reconnecting and cancels every timer', () => {
    const p = new VirtualPlatform();
    p.onConnect = () => 'throw';
    const { c } = start({ reconnectPeriod: 1000 }, p);
    p.step();
    c.end();
    assert.equal(p.pending(), 0);
  });

  it('a refused CONNACK is reported as an error with its code, then retried with backoff', () => {
    const { p, events } = start({ reconnectPeriod: 1000 });
    p.advance(0);
    p.end.accept();
    p.end.send({ cmd: 'connack', sessionPresent: false, returnCode: 3 });
    assert.deepEqual(events, ['error', 'close connection refused: server unavailable']);
    p.advance(1000);
    assert.equal(p.ends.length, 2);
  });

  for (const returnCode of [4, 5]) {
    it(`a CONNACK refusing the credentials or the authorization (${returnCode}) stops reconnecting, as MQTT.js does, until reconnect()`, () => {
      const { p, c, events } = start({ reconnectPeriod: 1000 });
      p.advance(0);
      p.end.accept();
      p.end.send({ cmd: 'connack', sessionPresent: false, returnCode });
      assert.deepEqual(events.slice(0, 1), ['error']);
      p.advance(600000);
      assert.equal(p.ends.length, 1, 'no second attempt');
      c.reconnect();
      p.advance(0);
      assert.equal(p.ends.length, 2, 'reconnect() tries again');
    });
  }
});

describe('client behaviour across reconnects (virtual time)', () => {
  it('subscriptions are made again when the broker lost the session, and not when it kept it', () => {
    const { p, c } = start({ keepalive: 0, clean: false });
    c.subscribe('a/#', { qos: 1 });
    online(p);
    assert.deepEqual(p.end.cmds(), ['connect', 'subscribe']);
    p.end.cut();
    p.step();
    p.end.accept();
    p.end.send({ cmd: 'connack', sessionPresent: true, returnCode: 0 });
    assert.deepEqual(p.end.cmds(), ['connect']);
    p.end.cut();
    p.step();
    p.end.accept();
    p.end.send({ cmd: 'connack', sessionPresent: false, returnCode: 0 });
    assert.deepEqual(p.end.packets.map((x) => x.cmd + (x.subscriptions ? ' ' + x.subscriptions[0].topic : '')), ['connect', 'subscribe a/#']);
  });

  it('an unsubscribe made offline reaches a persistent session after the reconnect', () => {
    const { p, c } = start({ keepalive: 0, clean: false });
    online(p);
    c.subscribe('a/#');
    p.end.cut();
    let done: unknown = 'pending';
    c.unsubscribe('a/#', (e) => { done = e; });
    p.step();
    p.end.accept();
    p.end.send({ cmd: 'connack', sessionPresent: true, returnCode: 0 });
    const unsub = p.end.packets[1];
    assert.deepEqual([unsub.cmd, unsub.unsubscriptions], ['unsubscribe', ['a/#']]);
    assert.equal(done, 'pending', 'told only when the broker answers');
    p.end.send({ cmd: 'unsuback', messageId: unsub.messageId });
    assert.equal(done, null);
  });

  it('SUBACK failures are reported per topic as MQTT.js does (qos 128)', () => {
    const { p, c } = start({ keepalive: 0 });
    online(p);
    let granted: unknown = null;
    c.subscribe(['ok', 'no'], { qos: 1 }, (_e, g) => { granted = g; });
    const sub = p.end.packets[1];
    p.end.send({ cmd: 'suback', messageId: sub.messageId, granted: [1, 0x80] });
    assert.deepEqual(granted, [{ topic: 'ok', qos: 1 }, { topic: 'no', qos: 128 }]);
  });
});

describe('client API as MQTT.js has it (virtual time)', () => {
  it('unsubscribe([]) and malformed subscriptions are refused with an error, and nothing goes on the wire', () => {
    const { p, c } = start({ keepalive: 0 });
    online(p);
    const errors: string[] = [];
    c.unsubscribe([], (e) => errors.push('unsubscribe ' + (e && e.message)));
    c.subscribe('a/#', { qos: 3 as 0 }, (e) => errors.push('qos ' + (e && e.message)));
    c.subscribe([5 as unknown as string], (e) => errors.push('topic ' + (e && e.message)));
    c.subscribe('a/#+', (e) => errors.push('filter ' + (e && e.message)));
    assert.equal(errors.length, 4, errors.join('; '));
    assert.ok(errors.every((e) => / (no topic filter|invalid )/.test(e)), errors.join('; '));
    assert.deepEqual(p.end.cmds(), ['connect']);
  });

  it('a bad payload type is refused with an error (callback, or else the error event), not sent', () => {
    const { p, c, events } = start({ keepalive: 0 });
    online(p);
    let told: any = null;
    c.publish('t', 42 as unknown as string, (e) => { told = e; });
    c.publish('t', { a: 1 } as unknown as string);
    assert.match(told.message, /payload/);
    assert.equal(events.filter((e) => e === 'error').length, 1);
    assert.deepEqual(p.end.cmds(), ['connect']);
  });

  it('end(true) closes at once and tells the publishers of messages in flight; end(true, cb) calls back', () => {
    const { p, c } = start({ keepalive: 0 });
    online(p);
    let told: any = 'pending', ended = false;
    c.publish('t', 'x', { qos: 1 }, (e) => { told = e; });
    c.end(true, () => { ended = true; });
    assert.ok(ended);
    assert.match(told.message, /ended/);
    assert.deepEqual(p.end.cmds(), ['connect', 'publish', 'disconnect']);
  });

  it('end(false, cb) waits for the messages in flight, then disconnects and calls back', () => {
    const { p, c } = start({ keepalive: 0 });
    online(p);
    let told: any = 'pending', ended = false;
    c.publish('t', 'x', { qos: 1 }, (e) => { told = e; });
    c.end(false, () => { ended = true; });
    assert.equal(ended, false);
    assert.deepEqual(p.end.cmds(), ['connect', 'publish']);
    p.end.send({ cmd: 'puback', messageId: 1 });
    assert.equal(told, null);
    assert.ok(ended);
    assert.deepEqual(p.end.cmds(), ['connect', 'publish', 'disconnect']);
  });

  it('subscribe takes MQTT.js\'s object {filter: {qos}} and answers [{topic, qos}]', () => {
    const { p, c } = start({ keepalive: 0 });
    online(p);
    let granted: any = null;
    c.subscribe({ 'a/#': { qos: 1 }, 'b': { qos: 0 } }, (_e, g) => { granted = g; });
    const sub = p.end.packets.filter((x: any) => x.cmd === 'subscribe')[0] as any;
    assert.deepEqual(sub.subscriptions.map((x: any) => [x.topic, x.qos]), [['a/#', 1], ['b', 0]]);
    p.end.send({ cmd: 'suback', messageId: sub.messageId, granted: [1, 0] });
    assert.deepEqual(granted, [{ topic: 'a/#', qos: 1 }, { topic: 'b', qos: 0 }]);
  });

  it('end(false, cb) that waits for a message in flight still ends, and calls back, when the link drops', () => {
    const { p, c } = start({ keepalive: 0, reconnectPeriod: 1000 });
    online(p);
    let told: any = 'pending', ended = false;
    c.publish('t', 'x', { qos: 1 }, (e) => { told = e; });
    c.end(false, () => { ended = true; });
    p.end.cut();
    assert.ok(ended);
    assert.match(told.message, /ended/);
    p.advance(60000);
    assert.equal(p.ends.length, 1, 'no reconnect after end');
  });

  it('once() runs a listener one time; off() and removeListener() remove one', () => {
    const { p, c } = start({ keepalive: 0 });
    const seen: string[] = [];
    const a = () => seen.push('a'), b = () => seen.push('b');
    c.once('message', () => seen.push('once'));
    c.on('message', a).on('message', b);
    online(p);
    p.end.send({ cmd: 'publish', topic: 't', payload: 'x', qos: 0 });
    c.off('message', a);
    p.end.send({ cmd: 'publish', topic: 't', payload: 'x', qos: 0 });
    c.removeListener('message', b);
    p.end.send({ cmd: 'publish', topic: 't', payload: 'x', qos: 0 });
    assert.deepEqual(seen, ['once', 'a', 'b', 'b']);
  });
});
