// The library bundles on the real Espruino interpreter (ESPRUINO_BIN) against a real mosquitto, with a
// real MQTT.js client on the host as the other party: connect, QoS 0 and 1 both ways, and a broker
// restart in the middle of a stream of QoS 1 publishes with nothing lost. Without ESPRUINO_BIN the
// suite says plainly that it did not run.
import { strict as assert } from 'assert';
import mqttjs, { type MqttClient } from 'mqtt';
import { startMosquitto, type Mosquitto } from './support/mosquitto';
import { ESPRUINO_BIN, boardTestsRun, finish, runWithLibrary, type Espruino } from './support/espruino-board';
import { until } from './support/wait';

/** A host client that records every message it receives, by topic. */
async function hostClient(url: string, clientId: string, topics: string[]): Promise<{ c: MqttClient; got: Array<{ topic: string; payload: string; qos: number }> }> {
  const got: Array<{ topic: string; payload: string; qos: number }> = [];
  const c = mqttjs.connect(url, { clientId, clean: false, reconnectPeriod: 100 });
  c.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos }));
  await new Promise<void>((resolve, reject) => { c.once('connect', () => resolve()); c.once('error', reject); });
  await c.subscribeAsync(topics, { qos: 1 });
  return { c, got };
}

describe('board: the library bundles on the Espruino interpreter, against mosquitto', function () {
  this.timeout(90000);
  if (!boardTestsRun()) return;
  let broker: Mosquitto;
  let board: Espruino | null = null;
  let host: MqttClient | null = null;
  before(async () => { broker = await startMosquitto(); });
  after(async () => { await broker.stop(); });
  afterEach(async () => {
    if (board) await finish(board);
    if (host) await host.endAsync(true);
    board = host = null;
  });

  for (const profile of ['small', 'full'] as const) {
    it(`${profile}: connects, and carries QoS 0 and QoS 1 both ways with MQTT.js`, async () => {
      const h = await hostClient(broker.url, 'host-' + profile, [`t/${profile}/out0`, `t/${profile}/out1`]);
      host = h.c;
      board = runWithLibrary(ESPRUINO_BIN, profile, `
var c = mqtt.connect(${JSON.stringify(broker.url)}, { clientId: "board-${profile}", keepalive: 10 });
c.on("error", function (e) { out("error", e.message); });
c.on("message", function (topic, payload, packet) { out("message", { topic: topic, payload: E.toString(payload), qos: packet.qos }); });
c.on("connect", function () {
  out("connected");
  c.subscribe("t/${profile}/in", { qos: 1 }, function (e, granted) {
    out("subscribed", granted);
    c.publish("t/${profile}/out0", "zero");
    c.publish("t/${profile}/out1", "one", { qos: 1 }, function (e) { out("puback", e ? e.message : "ok"); });
  });
});`);
      await board.next('connected', 20000);
      assert.deepEqual(await board.next('subscribed', 10000), [{ topic: `t/${profile}/in`, qos: 1 }]);
      assert.equal(await board.next('puback', 10000), 'ok');
      await h.c.publishAsync(`t/${profile}/in`, 'x', { qos: 0 });
      await h.c.publishAsync(`t/${profile}/in`, 'y', { qos: 1 });
      assert.deepEqual(await board.next('message', 10000), { topic: `t/${profile}/in`, payload: 'x', qos: 0 });
      assert.deepEqual(await board.next('message', 10000), { topic: `t/${profile}/in`, payload: 'y', qos: 1 });
      await until(() => h.got.length >= 2, 'the board\'s two publishes at the host');
      assert.deepEqual(h.got.sort((a, b) => a.topic.localeCompare(b.topic)), [
        { topic: `t/${profile}/out0`, payload: 'zero', qos: 0 },
        { topic: `t/${profile}/out1`, payload: 'one', qos: 1 },
      ]);
    });

    it(`${profile}: strings past ASCII go as UTF-8 both ways, as MQTT.js sends and reads them`, async () => {
      // Espruino 2v29's encodeURIComponent garbles chars past ASCII: a check built on it alone let "°" go out as one raw byte
      const h = await hostClient(broker.url, 'utf8-host-' + profile, [`t/${profile}/u/#`]);
      host = h.c;
      const raw: Buffer[] = [];
      h.c.on('message', (_t, payload) => raw.push(Buffer.from(payload)));
      board = runWithLibrary(ESPRUINO_BIN, profile, `
var c = mqtt.connect(${JSON.stringify(broker.url)}, { clientId: "utf8-${profile}" });
c.on("message", function (topic, payload) { out("message", { topic: topic, bytes: [].slice.call(payload) }); });
c.on("connect", function () {
  c.subscribe("t/${profile}/in/#", { qos: 1 }, function () {
    c.publish("t/${profile}/u/\u00b0", "21.5\u00b0C");
    c.publish("t/${profile}/u/e", "\u20ac 5", { qos: 1 }, function (e) { out("puback", e ? e.message : "ok"); });
  });
});`);
      assert.equal(await board.next('puback', 20000), 'ok');
      await until(() => h.got.length >= 2, 'the board\'s two publishes at the host');
      assert.deepEqual(h.got.map((m) => m.topic).sort(), [`t/${profile}/u/e`, `t/${profile}/u/°`]);
      assert.deepEqual(raw.map((b) => b.toString('hex')).sort(), [Buffer.from('21.5°C').toString('hex'), Buffer.from('€ 5').toString('hex')].sort());
      await h.c.publishAsync(`t/${profile}/in/é`, Buffer.from([0xc3, 0xa9]), { qos: 1 });
      assert.deepEqual(await board.next('message', 10000), { topic: `t/${profile}/in/é`, bytes: [0xc3, 0xa9] });
    });

    it(`${profile}: a broker restart in the middle of QoS 1 publishes loses none of them`, async () => {
      const N = 30;
      const topic = `t/${profile}/cut`;
      const h = await hostClient(broker.url, 'cut-host-' + profile, [topic]);
      host = h.c;
      // the board publishes on its own timer, through the restart: offline ones wait in its store
      board = runWithLibrary(ESPRUINO_BIN, profile, `
var n = 0, c = mqtt.connect(${JSON.stringify(broker.url)}, { clientId: "cut-${profile}", clean: false, keepalive: 5, reconnectPeriod: 100 });
c.on("connect", function (ack) { out("connect", !!ack.sessionPresent); });
var timer = setInterval(function () {
  if (n === ${N}) return clearInterval(timer);
  var k = ++n;
  c.publish("${topic}", "" + k, { qos: 1 }, function (e) { if (e) out("lost", k + ": " + e.message); else out("acked", k); });
}, 50);`);
      assert.equal(await board.next('connect', 20000), false);
      let acked = 0;
      while (acked < 8) acked = await board.next('acked', 20000);
      await broker.restart();
      // every publish is acknowledged in the end, in order, and none is told it was lost
      while (acked < N) {
        const k = await board.next('acked', 30000);
        assert.equal(k, acked + 1, 'acks in order');
        acked = k;
      }
      assert.equal(await board.next('connect', 1000), true, 'the board came back to its session');
      assert.ok(!board.lines.some((l) => l.indexOf('@lost') >= 0), board.lines.filter((l) => l.indexOf('@lost') >= 0).join('\n'));
      const want = Array.from({ length: N }, (_, i) => String(i + 1));
      await until(() => want.every((k) => h.got.some((m) => m.payload === k)), 'all ' + N + ' at the host', 20000);
    });
  }
});
