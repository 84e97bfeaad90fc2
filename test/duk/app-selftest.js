// Self-test of a firmware image on duk (strict ES5, nothing shared with Node): the sensor application
// on a scripted platform with a virtual clock and a scripted broker, byte for byte. Plain ES5 on purpose.
// test/app.duk.test.ts runs it as one file: `var exports = {};` + image + harness.js + this; the image fills `exports`.
/* global exports, print */


function check(ok, what) {
  if (!ok) throw new Error(what);
}

var now = 0, timers = [], nextTimer = 1, lines = [], files = {}, wire = '', socket = null;

function chars(bytes, n) {
  var s = '';
  for (var i = 0; i < n; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

var platform = {
  connect: function (target, handlers) {
    socket = handlers;
    return { write: function (bytes, n) { wire += chars(bytes, n); }, end: function () { socket = null; } };
  },
  now: function () { return now; },
  setTimeout: function (fn, ms) { timers.push({ id: nextTimer, at: now + ms, fn: fn }); return nextTimer++; },
  clearTimeout: function (id) {
    for (var i = 0; i < timers.length; i++) if (timers[i].id === id) { timers.splice(i, 1); return; }
    throw new Error('Unknown Timeout'); // as Espruino does
  },
  random: function () { return 0.5; },
  log: function (line) { lines.push(line); print(line); },
  storage: { read: function (name) { return files[name]; }, write: function (name, text) { files[name] = text; } },
  sensors: { temperature: function () { return 21.456; } },
  memory: function () { return { free: 1000, total: 1600 }; }
};

/** Runs the timers due within `ms` of virtual time, in order. */
function advance(ms) {
  var end = now + ms;
  for (;;) {
    var next = null;
    for (var i = 0; i < timers.length; i++) if (timers[i].at <= end && (!next || timers[i].at < next.at)) next = timers[i];
    if (!next) break;
    timers.splice(timers.indexOf(next), 1);
    now = next.at;
    next.fn();
  }
  now = end;
}

function last(ev) {
  for (var i = lines.length - 1; i >= 0; i--) if (lines[i].indexOf('{"ev":"' + ev + '"') >= 0) return JSON.parse(lines[i].substring(lines[i].indexOf('{')));
  return null;
}

function taken() {
  var w = wire;
  wire = '';
  return w;
}

var app = exports.createApp(platform);
print('profile ' + exports.PROFILE + ', version ' + exports.VERSION);

test('without a config: a boot line, then an error line, and no connection', function () {
  app.start();
  check(last('boot') !== null, 'no boot line');
  check(last('error').error === 'sparrow.json: broker: not set', 'error: ' + last('error').error);
  advance(60000);
  check(socket === null, 'connected anyway');
});

test('configure: stores, answers with the password masked, connects', function () {
  app.configure({ id: 'd1', broker: 'mqtt://10.0.0.1', username: 'u', password: 'pw-secret', interval: 1, telemetry: 5 });
  var answer = last('config');
  check(answer.ok === true && answer.config.password === '***', 'answer: ' + JSON.stringify(answer));
  check(lines.join('\n').indexOf('pw-secret') < 0, 'the password was printed');
  check(JSON.parse(files['sparrow.json']).password === 'pw-secret', 'not stored');
  advance(0);
  check(socket !== null, 'no connection');
  socket.open();
  check(taken().charCodeAt(0) === 0x10, 'no CONNECT');
});

test('CONNACK: birth retained at QoS 1, cmd subscription, then a reading', function () {
  socket.data('\x20\x02\x00\x00');
  advance(0); // the app's connect work runs once the CONNACK's receive has unwound
  check(last('connected').mqtt === 'connected', 'no connected line');
  var w = taken();
  // PUBLISH with QoS 1 and RETAIN (0x33), the topic, a packet id, the payload
  check(/\x33.\x00\x11sparrow\/d1\/status..online/.test(w), 'no retained QoS 1 birth: ' + escape(w));
  check(w.indexOf('\x82') >= 0 && w.indexOf('sparrow/d1/cmd\x01') > 0, 'no QoS 1 subscription');
  check(w.indexOf('sparrow/d1/temperature') > 0 && w.indexOf('21.46') > 0, 'no reading');
});

test('ping: PUBACK and the pong', function () {
  var topic = 'sparrow/d1/cmd', body = '\x00' + String.fromCharCode(topic.length) + topic + '\x00\x09' + 'ping 7';
  socket.data('\x32' + String.fromCharCode(body.length) + body);
  var w = taken();
  check(w.indexOf('\x40\x02\x00\x09') >= 0, 'no PUBACK');
  check(/\x32.\x00\x0fsparrow\/d1\/pong..7/.test(w), 'no pong: ' + escape(w));
  check(last('cmd').cmd === 'ping 7', 'no cmd line');
});

test('a reading every interval; telemetry counts them', function () {
  advance(1000);
  check(taken().indexOf('sparrow/d1/temperature') > 0, 'no second reading');
  advance(4000);
  var tick = last('tick');
  check(tick !== null && tick.sent >= 5 && tick.received === 1 && tick.free === 1000, 'tick: ' + JSON.stringify(tick));
});

test('stop: DISCONNECT, and no timer left running', function () {
  app.stop();
  check(taken().slice(-2) === '\xe0\x00', 'no DISCONNECT');
  check(timers.length === 0, timers.length + ' timers left');
});

report('duk app selftest');
