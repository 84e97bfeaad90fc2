// The program the board bench runs on the interpreter, as ES5 text: it loads one MQTT library (from a
// string in RAM, as an upload does, or from Storage, as a flashed board does), connects to the bench's
// mosquitto, subscribes, and reports JsVars at each step and µs per operation, as `@bench {...}` lines.
// Both libraries are driven through one small adapter each, so they pay the same harness.

export interface HarnessOptions {
  /** 'sparrow' (MQTT.js's API) or 'espruino' (EspruinoDocs modules/MQTT.js: create/connect/'publish'). */
  api: 'sparrow' | 'espruino';
  /** The module's code, loaded from RAM; null: it is in Storage under `name` already. */
  code: string | null;
  name: string;
  port: number;
  /** false: JsVars only (connect, subscribe, quit). */
  speed: boolean;
  /** Timed batches per measure, and operations per batch. */
  batches: number;
  perBatch: number;
}

/** Topics and payload of every measure: a board's reading. */
export const BENCH_TOPIC = 'bench/b1/temp', BENCH_RX = 'bench/b1/rx', BENCH_PAYLOAD = '21.5';

export function harnessScript(o: HarnessOptions): string {
  return `var CODE = ${o.code === null ? 'null' : JSON.stringify(o.code)}, NAME = ${JSON.stringify(o.name)};
var API = ${JSON.stringify(o.api)}, PORT = ${o.port}, SPEED = ${o.speed}, BATCHES = ${o.batches}, N = ${o.perBatch};
var TOPIC = ${JSON.stringify(BENCH_TOPIC)}, RX = ${JSON.stringify(BENCH_RX)}, PAYLOAD = ${JSON.stringify(BENCH_PAYLOAD)};
function out(k, v) { console.log("@bench " + JSON.stringify({ k: k, v: v })); }
function used() { return process.memory().usage; }
function fail(e) { console.log("@error " + (e && e.message || e)); quit(); }
function load() {
  if (CODE !== null) Modules.addCached(NAME, CODE);
  else Modules.addCached(NAME, require("Storage").read(NAME));
  CODE = null;
  return require(NAME);
}
function sparrow(lib) {
  var c = lib.connect("mqtt://127.0.0.1:" + PORT, { clientId: "bench-" + NAME, keepalive: 60, reconnectPeriod: 0 });
  c.on("error", fail);
  return {
    onConnect: function (f) { c.on("connect", f); },
    onMessage: function (f) { c.on("message", f); },
    subscribe: function (t, f) { c.subscribe(t, { qos: 0 }, function (e) { if (e) fail(e); else f(); }); },
    pub0: function (t, p) { c.publish(t, p); },
    pub1: function (t, p, f) { c.publish(t, p, { qos: 1 }, function (e) { if (e) fail(e); else f(); }); }
  };
}
function espruino(lib) {
  var m = lib.create("127.0.0.1", { port: PORT, client_id: "bench-peer", keep_alive: 60 }), acks = [], subscribed = null;
  m.on("error", fail);
  m.on("puback", function () { var f = acks.shift(); if (f) f(); });
  m.on("subscribed", function () { var f = subscribed; subscribed = null; if (f) f(); });
  m.connect();
  return {
    onConnect: function (f) { m.on("connected", f); },
    onMessage: function (f) { m.on("message", f); },
    subscribe: function (t, f) { subscribed = f; m.subscribe(t, { qos: 0 }); },
    pub0: function (t, p) { m.publish(t, p); },
    pub1: function (t, p, f) { acks.push(f); m.publish(t, p, { qos: 1 }); }
  };
}
var client, batch = 0, results = [], received = 0, first = 0;
function measured(name, next) {
  out(name, results);
  results = [];
  batch = 0;
  next();
}
/* QoS 0: N publishes timed in a loop, then a QoS 1 publish as a fence (its ack follows them all) */
function pub0() {
  if (batch++ === BATCHES) return measured("pub0", pub1);
  var t = getTime();
  for (var i = 0; i < N; i++) client.pub0(TOPIC, PAYLOAD);
  results.push((getTime() - t) * 1e6 / N);
  client.pub1(TOPIC, PAYLOAD, pub0);
}
/* QoS 1, one at a time: each publish waits for the ack of the one before */
function pub1() {
  if (batch++ === BATCHES) return measured("pub1", rx);
  var k = 0, t = getTime();
  function one() {
    if (k++ === N) { results.push((getTime() - t) * 1e6 / N); return pub1(); }
    client.pub1(TOPIC, PAYLOAD, one);
  }
  one();
}
/* QoS 0 received: the host sends N messages at once; from the first to the last arrival */
function rx() {
  if (batch++ === BATCHES) return measured("rx", function () { out("done", 0); setTimeout(quit, 1); });
  received = 0;
  out("rx-ready", batch);
}
function message() {
  if (received++ === 0) first = getTime();
  if (received === N) { results.push((getTime() - first) * 1e6 / (N - 1)); rx(); }
}
setTimeout(function () {
  out("start", used());
  var lib = load();
  out("require", used());
  client = (API === "sparrow" ? sparrow : espruino)(lib);
  client.onConnect(function () {
    out("connected", used());
    client.onMessage(message);
    client.subscribe(RX, function () {
      out("subscribed", used());
      if (SPEED) pub0(); else { out("done", 0); setTimeout(quit, 1); }
    });
  });
}, 1);
`;
}
