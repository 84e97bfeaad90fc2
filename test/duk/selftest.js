// Self-test of a library bundle on duk, a strict ES5 engine with typed arrays that shares nothing with
// Node: what passes here does not lean on newer JavaScript. Plain ES5 on purpose (no let, no arrows).
// test/duk.test.ts runs it as one file: `var exports = {};` + bundle + harness.js + this; the bundle fills `exports`.
/* global exports, print */
var FULL = exports.PROFILE === 'full';
print('profile ' + exports.PROFILE + ', version ' + exports.VERSION);


function eq(actual, expected, what) {
  if (actual !== expected) throw new Error(what + ': got ' + actual + ', want ' + expected);
}

function hex(u8) {
  var s = '';
  for (var i = 0; i < u8.length; i++) s += (u8[i] < 16 ? '0' : '') + u8[i].toString(16);
  return s;
}

function fromHex(h) {
  var u8 = new Uint8Array(h.length / 2);
  for (var i = 0; i < u8.length; i++) u8[i] = parseInt(h.substr(i * 2, 2), 16);
  return u8;
}

function payload24() {
  var u8 = new Uint8Array(24);
  for (var i = 0; i < 24; i++) u8[i] = (i * 7) & 255;
  return u8;
}

var CONNECT = '101000044d5154540402003c000465737031';
var CONNACK = '20020000';
var PAYLOAD = hex(payload24());
var PUBLISH0 = '301d0003732f74' + PAYLOAD;
var PUBLISH1 = '321f0003732f74000a' + PAYLOAD;
var PUBACK = '4002000a';
var SUBSCRIBE = '820800010003732f2301';
var SUBACK = '9003000101';
var PINGREQ = 'c000';
var STREAM = PUBLISH1 + PUBLISH0 + 'd000';
var STREAM_MESSAGES = ['message s/t q1 #10 ' + PAYLOAD, 'message s/t q0 ' + PAYLOAD].join('|');

/**
 * A fake board for the bundle's client: connect() hands back a socket whose writes are recorded as hex,
 * timers wait in a list until the test runs them, and socket data goes in as Espruino's strings.
 */
function fakeBoard() {
  var board = { written: [], timers: [], handlers: null, connects: 0, time: 0 };
  board.platform = {
    connect: function (target, handlers) {
      board.connects++;
      board.handlers = handlers;
      return { write: function (bytes, n) { board.written.push(hex(bytes.subarray(0, n))); }, end: function () {} };
    },
    now: function () { return board.time; },
    setTimeout: function (fn, ms) { var t = { fn: fn, at: board.time + ms }; board.timers.push(t); return t; },
    clearTimeout: function (t) { var i = board.timers.indexOf(t); if (i >= 0) board.timers.splice(i, 1); },
    random: function () { return 0.5; },
    log: function () {}
  };
  /** Runs the earliest timer, moving the clock to it. */
  board.runTimer = function () {
    var k = 0;
    for (var i = 1; i < board.timers.length; i++) if (board.timers[i].at < board.timers[k].at) k = i;
    var t = board.timers.splice(k, 1)[0];
    board.time = t.at;
    t.fn();
  };
  /** Socket data as Espruino delivers it: a string of one char per byte. */
  board.receive = function (h) {
    var u8 = fromHex(h), s = '';
    for (var i = 0; i < u8.length; i++) s += String.fromCharCode(u8[i]);
    board.handlers.data(s);
  };
  board.take = function () { var w = board.written; board.written = []; return w.join('|'); };
  return board;
}

var CONNECT_D1 = '100e00044d5154540402000000026431';

/** A client of version `v` on a fake board, connected (CONNACK taken); its events are recorded in `b.events`. */
function connected(v, options) {
  var b = fakeBoard(), o = { clientId: 'esp1', keepalive: 60, protocolVersion: v, reconnectPeriod: 0 };
  for (var k in options) o[k] = options[k];
  b.events = [];
  b.client = exports.create(b.platform).connect('mqtt://broker', o);
  b.client.on('message', function (topic, payload, packet) {
    b.events.push('message ' + topic + ' q' + packet.qos + (packet.messageId ? ' #' + packet.messageId : '') + ' ' + (payload instanceof Uint8Array ? hex(payload) : 'not bytes'));
  });
  b.client.on('error', function (e) { b.events.push('error 0x' + e.reasonCode.toString(16)); });
  b.client.on('close', function () { b.events.push('close'); });
  b.runTimer(); b.handlers.open();
  b.connect = b.take();
  b.receive(v === 5 ? '2003000000' : CONNACK);
  return b;
}

test('CONNECT 3.1.1 is the bytes mosquitto accepts', function () {
  eq(connected(4).connect, CONNECT, 'bytes');
});

test('PUBLISH QoS 0 with a 24-byte payload', function () {
  var b = connected(4);
  b.client.publish('s/t', payload24());
  eq(b.take(), PUBLISH0, 'bytes');
});

test('SUBSCRIBE, and PINGREQ when idle', function () {
  var b = connected(4);
  b.client.subscribe('s/#', { qos: 1 });
  eq(b.take(), SUBSCRIBE, 'SUBSCRIBE');
  // the tick armed for the CONNACK deadline (30 s) stays armed and finds nothing to do: no timer churn per packet
  b.runTimer();
  eq(b.time + ' ' + b.take(), '30000 ', 'nothing at the old deadline');
  b.runTimer();
  eq(b.time + ' ' + b.take(), '60000 ' + PINGREQ, 'PINGREQ after 60 s idle');
});

test('a stream fed one byte at a time gives every packet, in order, payloads as Uint8Array', function () {
  var b = connected(4);
  for (var i = 0; i < STREAM.length; i += 2) b.receive(STREAM.substr(i, 2));
  eq(b.events.join('|'), STREAM_MESSAGES, 'messages');
  eq(b.take(), PUBACK, 'PUBACK for the QoS 1 one');
});

test('several packets in one chunk all come out', function () {
  var b = connected(4);
  b.receive(STREAM);
  eq(b.events.join('|'), STREAM_MESSAGES, 'messages');
});

test('malformed: PUBLISH with QoS 3 closes the link with 0x81', function () {
  var b = connected(4);
  b.receive('36070003732f74000a');
  eq(b.events.join(), 'error 0x81,close', 'events');
});

test('malformed: a remaining length over 4 bytes closes the link with 0x81', function () {
  var b = connected(4);
  b.receive('30ffffffff7f');
  eq(b.events.join(), 'error 0x81,close', 'events');
});

if (FULL) {
  test('full: MQTT 5 PUBLISH with properties, both ways', function () {
    var h = '321d0003732f74000113020000003c0300046a736f6e260001610001626869';
    var props = { messageExpiryInterval: 60, contentType: 'json', userProperties: { a: 'b' } }, got = null;
    var b = connected(5);
    b.client.on('message', function (topic, payload, packet) { got = packet.properties; });
    b.client.publish('s/t', fromHex('6869'), { qos: 1, properties: props });
    eq(b.take(), h, 'bytes');
    b.receive(h);
    eq([got.messageExpiryInterval, got.contentType, got.userProperties.a].join(' '), '60 json b', 'properties');
    eq(b.events.join(), 'message s/t q1 #1 6869', 'delivered');
  });
}

test('client: CONNECT on open, CONNACK, QoS 1 publish completes on PUBACK', function () {
  var b = fakeBoard(), events = [], acked = 'pending';
  var c = exports.create(b.platform).connect('mqtt://broker:1883', { clientId: 'd1', keepalive: 0 });
  c.on('connect', function () { events.push('connect'); });
  b.runTimer();
  eq(b.connects, 1, 'connects');
  b.handlers.open();
  eq(b.take(), CONNECT_D1, 'CONNECT');
  b.receive(CONNACK);
  eq(events.join(), 'connect', 'events');
  c.publish('s/t', payload24(), { qos: 1 }, function (e) { acked = e; });
  eq(b.take(), '321f0003732f740001' + PAYLOAD, 'PUBLISH');
  eq(acked, 'pending', 'before PUBACK');
  b.receive('40020001');
  eq(acked, null, 'after PUBACK');
});

test('client: SUBSCRIBE/SUBACK, and an incoming QoS 1 PUBLISH is delivered and acknowledged', function () {
  var b = fakeBoard(), got = [], granted = null;
  var c = exports.create(b.platform).connect('mqtt://broker', { clientId: 'd1', keepalive: 0 });
  c.on('message', function (topic, payload) { got.push(topic + ' ' + hex(payload)); });
  b.runTimer(); b.handlers.open(); b.take(); b.receive(CONNACK);
  c.subscribe('s/#', { qos: 1 }, function (e, g) { granted = g; });
  eq(b.take(), SUBSCRIBE, 'SUBSCRIBE');
  b.receive(SUBACK);
  eq(granted[0].topic + ' ' + granted[0].qos, 's/# 1', 'granted');
  b.receive(PUBLISH1.substr(0, 10)); // a packet split across socket events
  b.receive(PUBLISH1.substr(10));
  eq(got.join(), 's/t ' + PAYLOAD, 'delivered');
  eq(b.take(), PUBACK, 'PUBACK');
});

test('client: a cut link is retried; the unacknowledged publish is sent again with DUP when the session is present', function () {
  var b = fakeBoard(), events = [];
  var c = exports.create(b.platform).connect('mqtt://broker', { clientId: 'd1', keepalive: 0, clean: false, reconnectPeriod: 1000 });
  c.on('offline', function () { events.push('offline'); });
  c.on('reconnect', function () { events.push('reconnect'); });
  b.runTimer(); b.handlers.open(); b.take(); b.receive(CONNACK);
  c.publish('s/t', payload24(), { qos: 1 });
  b.take();
  b.handlers.close('socket closed');
  c.publish('s/t', payload24(), { qos: 1 }); // offline: queued
  eq(b.take(), '', 'nothing written offline');
  b.runTimer();
  eq(b.time, 500, 'backoff: random 0.5 of the first 1000 ms ceiling');
  eq(events.join(), 'offline,reconnect', 'events');
  b.handlers.open();
  eq(b.take(), '100e00044d5154540400000000026431', 'CONNECT without clean session');
  b.receive('20020100'); // session present
  eq(b.take(), '3a1f0003732f740001' + PAYLOAD + '|321f0003732f740002' + PAYLOAD, 'DUP resend, then the queued one');
});

test('client: keepalive sends PINGREQ when idle and gives up on a late PINGRESP', function () {
  var b = fakeBoard(), closes = [];
  var c = exports.create(b.platform).connect('mqtt://broker', { clientId: 'd1', keepalive: 10, reconnectPeriod: 0 });
  c.on('close', function (reason) { closes.push(reason); });
  b.runTimer(); b.handlers.open(); b.take(); b.receive(CONNACK);
  b.runTimer();
  eq(b.time, 10000, 'PINGREQ time');
  eq(b.take(), PINGREQ, 'PINGREQ');
  b.runTimer();
  eq(b.time, 20000, 'dead at the ping timeout');
  eq(closes.join(), 'keepalive timeout: no PINGRESP', 'close reason');
});

if (FULL) {
  test('full client: QoS 2 publish, PUBREC -> PUBREL, PUBCOMP completes', function () {
    var b = fakeBoard(), done = 'pending';
    var c = exports.create(b.platform).connect('mqtt://broker', { clientId: 'd1', keepalive: 0 });
    b.runTimer(); b.handlers.open(); b.take(); b.receive(CONNACK);
    c.publish('s/t', 'hi', { qos: 2 }, function (e) { done = e; });
    eq(b.take(), '34090003732f7400016869', 'PUBLISH QoS 2');
    b.receive('50020001');
    eq(b.take(), '62020001', 'PUBREL');
    b.receive('70020001');
    eq(done, null, 'completed');
  });
}

report('duk selftest');
