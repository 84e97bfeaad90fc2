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

function encodeHex(packet, version) {
  var buf = new Uint8Array(512);
  var n = exports.encode(packet, version, buf, 0);
  if (n < 0) throw new Error('encode asked for ' + -n + ' bytes');
  return hex(buf.subarray(0, n));
}

/** Pushes `h` in chunks of `chunk` bytes; returns the packets, each snapshotted by `summary` (objects are reused). */
function decodeHex(h, version, chunk, summary) {
  var bytes = fromHex(h), out = [];
  var reader = new exports.PacketReader({ protocolVersion: version });
  for (var i = 0; i < bytes.length; i += chunk) {
    var err = reader.push(bytes.subarray(i, Math.min(i + chunk, bytes.length)), function (p) { out.push(summary(p)); });
    if (err !== null) throw new Error('decode error 0x' + err.reasonCode.toString(16) + ': ' + err.message);
  }
  return out;
}

/** The one packet `h` holds, with its fields copied (payload as hex). */
function decodeOne(h, version) {
  var list = decodeHex(h, version, h.length, function (p) {
    var copy = {};
    for (var k in p) copy[k] = p[k] instanceof Uint8Array ? hex(p[k]) : p[k];
    return copy;
  });
  eq(list.length, 1, 'packets decoded');
  return list[0];
}

function summary(p) {
  return p.cmd + (p.messageId ? ' #' + p.messageId : '') + (p.topic ? ' ' + p.topic : '') + (p.payload ? ' ' + hex(p.payload) : '');
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
var STREAM = CONNACK + PUBLISH1 + PUBACK + SUBACK + PUBLISH0;
var STREAM_PACKETS = ['connack', 'publish #10 s/t ' + PAYLOAD, 'puback #10', 'suback #1', 'publish s/t ' + PAYLOAD].join('|');

test('CONNECT 3.1.1 encodes to the bytes mosquitto accepts', function () {
  eq(encodeHex({ cmd: 'connect', clientId: 'esp1', keepalive: 60, clean: true, protocolId: 'MQTT', protocolVersion: 4 }, 4), CONNECT, 'bytes');
});

test('encode writes nothing and returns -needed when the buffer is too small', function () {
  var buf = new Uint8Array(4);
  eq(exports.encode({ cmd: 'connect', clientId: 'esp1', keepalive: 60 }, 4, buf, 0), -18, 'result');
  eq(hex(buf), '00000000', 'buffer');
});

test('CONNACK decodes', function () {
  var p = decodeOne(CONNACK, 4);
  eq(p.cmd, 'connack', 'cmd');
  eq(p.sessionPresent, false, 'sessionPresent');
  eq(p.returnCode, 0, 'returnCode');
});

test('PUBLISH QoS 0 with a 24-byte payload encodes at an offset and decodes', function () {
  var buf = new Uint8Array(64);
  var n = exports.encode({ cmd: 'publish', topic: 's/t', qos: 0, payload: payload24() }, 4, buf, 3);
  eq(n, PUBLISH0.length / 2, 'length');
  eq(hex(buf.subarray(3, 3 + n)), PUBLISH0, 'bytes');
  var p = decodeOne(PUBLISH0, 4);
  eq(p.topic + ' q' + p.qos + ' ' + p.payload, 's/t q0 ' + PAYLOAD, 'topic, qos, payload');
  eq(p.retain, false, 'retain');
  eq(p.dup, false, 'dup');
});

test('PUBLISH QoS 1 with a 24-byte payload round-trips', function () {
  eq(encodeHex({ cmd: 'publish', topic: 's/t', qos: 1, messageId: 10, payload: payload24() }, 4), PUBLISH1, 'bytes');
  var p = decodeOne(PUBLISH1, 4);
  eq(p.topic + ' q' + p.qos + ' #' + p.messageId + ' ' + p.payload, 's/t q1 #10 ' + PAYLOAD, 'fields');
});

test('decoded payload is a Uint8Array', function () {
  var kinds = decodeHex(PUBLISH0, 4, 64, function (p) { return p.payload instanceof Uint8Array; });
  eq(kinds[0], true, 'instanceof Uint8Array');
});

test('PUBACK round-trips', function () {
  eq(encodeHex({ cmd: 'puback', messageId: 10 }, 4), PUBACK, 'bytes');
  eq(decodeOne(PUBACK, 4).messageId, 10, 'messageId');
});

test('SUBSCRIBE encodes', function () {
  eq(encodeHex({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 's/#', qos: 1 }] }, 4), SUBSCRIBE, 'bytes');
});

test('SUBACK decodes', function () {
  var p = decodeOne(SUBACK, 4);
  eq(p.messageId, 1, 'messageId');
  eq(p.granted.length + ':' + p.granted[0], '1:1', 'granted');
});

test('PINGREQ round-trips', function () {
  eq(encodeHex({ cmd: 'pingreq' }, 4), PINGREQ, 'bytes');
  eq(decodeOne(PINGREQ, 4).cmd, 'pingreq', 'cmd');
});

test('a stream fed one byte at a time gives every packet, in order', function () {
  eq(decodeHex(STREAM, 4, 1, summary).join('|'), STREAM_PACKETS, 'packets');
});

test('several packets in one chunk all come out', function () {
  eq(decodeHex(STREAM, 4, STREAM.length, summary).join('|'), STREAM_PACKETS, 'packets');
});

test('malformed: PUBLISH with QoS 3 fails with 0x81', function () {
  var reader = new exports.PacketReader({ protocolVersion: 4 });
  var err = reader.push(fromHex('36070003732f74000a'), function () { throw new Error('no packet expected'); });
  eq(err !== null && err.reasonCode, 0x81, 'reasonCode');
  eq(typeof err.message, 'string', 'message');
});

test('malformed: a remaining length over 4 bytes fails with 0x81', function () {
  var reader = new exports.PacketReader({ protocolVersion: 4 });
  var err = reader.push(fromHex('30ffffffff7f'), function () { throw new Error('no packet expected'); });
  eq(err !== null && err.reasonCode, 0x81, 'reasonCode');
});

if (FULL) {
  test('full: CONNECT decodes (server side)', function () {
    var p = decodeOne(CONNECT, 4);
    eq([p.cmd, p.clientId, p.keepalive, p.clean, p.protocolId, p.protocolVersion].join(' '), 'connect esp1 60 true MQTT 4', 'fields');
  });

  test('full: CONNACK, SUBACK encode (server side)', function () {
    eq(encodeHex({ cmd: 'connack', sessionPresent: false, returnCode: 0 }, 4), CONNACK, 'connack');
    eq(encodeHex({ cmd: 'suback', messageId: 1, granted: [1] }, 4), SUBACK, 'suback');
  });

  test('full: SUBSCRIBE decodes (server side)', function () {
    var s = decodeOne(SUBSCRIBE, 4).subscriptions;
    eq(s.length + ' ' + s[0].topic + ' q' + s[0].qos, '1 s/# q1', 'subscriptions');
  });

  test('full: MQTT 5 PUBLISH with properties round-trips', function () {
    var h = '321d0003732f74000713020000003c0300046a736f6e260001610001626869';
    var props = { messageExpiryInterval: 60, contentType: 'json', userProperties: { a: 'b' } };
    eq(encodeHex({ cmd: 'publish', topic: 's/t', qos: 1, messageId: 7, payload: fromHex('6869'), properties: props }, 5), h, 'bytes');
    var p = decodeOne(h, 5);
    var q = p.properties;
    eq([p.topic, p.messageId, p.payload, q.messageExpiryInterval, q.contentType, q.userProperties.a].join(' '), 's/t 7 6869 60 json b', 'fields');
  });
}


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
