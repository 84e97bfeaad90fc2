// The sensor application on the built firmware image against the in-process broker: birth and will,
// readings at QoS 1 at the interval, every command, and telemetry lines with the right counters.
import { strict as assert } from 'assert';
import type { MqttClient } from 'mqtt';
import { MQTT_STATES, parseLine, STATUS_EVENTS, STATUS_FIELDS, TELEMETRY_PREFIX, type StatusLine } from '../firmware/app/telemetry';
import { firmware, TestBoard, type TestBoardOptions } from './support/app';
import { Cleanup, client, inbox, startBroker, subscribe, type TestBroker } from './support/broker';
import { until } from './support/wait';

describe('app: on MQTT', function () {
  this.timeout(20000);
  const cleanup = new Cleanup();
  let t: TestBroker;
  beforeEach(async () => {
    t = await startBroker();
    cleanup.add(() => t.broker.close());
  });
  afterEach(() => cleanup.run());

  async function board(config: object, options: TestBoardOptions = {}): Promise<TestBoard> {
    const b = new TestBoard({ ...options, config: { broker: t.url, telemetry: 0, ...config } });
    cleanup.add(() => b.stop());
    b.app.start();
    await b.status((s) => s.ev === 'connected', 'the board connected');
    return b;
  }

  async function watcher(topics: string | string[]): Promise<MqttClient> {
    const c = await client(t.url, {}, cleanup);
    await subscribe(c, topics, { qos: 1 });
    return c;
  }

  /** Sends a command as a fleet operator would: QoS 1 on the board's cmd topic. */
  async function command(id: string, text: string): Promise<void> {
    const c = await client(t.url, {}, cleanup);
    await c.publishAsync('sparrow/' + id + '/cmd', text, { qos: 1 });
  }

  it('publishes the retained birth "online"; a cut link makes the broker publish the retained will "offline"', async () => {
    const b = await board({ id: 'b1', interval: 60 });
    const w = await watcher('sparrow/b1/status');
    const [birth] = await inbox(w).next(1);
    assert.equal(birth.payload.toString(), 'online');
    assert.equal(birth.packet.retain, true, 'the birth is retained');
    b.sockets[0].destroy(); // a cut, not a DISCONNECT: the broker must publish the will
    const [, will] = await inbox(w).next(2);
    assert.equal(will.payload.toString(), 'offline');
    assert.equal(will.packet.qos, 1);
    const offline = await b.status((s) => s.ev === 'offline', 'the offline line');
    assert.equal(offline.mqtt, 'offline');
    assert.ok(offline.error, 'the offline line says why');
    // the will was retained: a newcomer reads "offline" until the board is back and says "online" again
    await b.status((s) => s.ev === 'connected' && s.reconnects === 1, 'reconnected');
    const [, , again] = await inbox(w).next(3);
    assert.equal(again.payload.toString(), 'online');
  });

  it('publishes a reading per sensor at QoS 1 every interval, as a number with 2 decimals', async () => {
    const w = await watcher('sparrow/r1/temperature');
    const arrived: number[] = [];
    w.on('message', () => arrived.push(Date.now()));
    await board({ id: 'r1', interval: 0.1 });
    const readings = await inbox(w).next(5);
    for (const r of readings) {
      assert.equal(r.packet.qos, 1);
      assert.match(r.payload.toString(), /^-?\d+\.\d\d$/);
      assert.ok(Math.abs(Number(r.payload) - 21) < 2, 'the fake sensor starts near 21 °C: ' + r.payload);
    }
    // five readings span four intervals: not faster than the interval (timers never fire early)
    assert.ok(arrived[4] - arrived[0] >= 4 * 100 - 20, `readings came ${arrived[4] - arrived[0]} ms apart`);
  });

  it('ping answers on pong with its argument', async () => {
    const b = await board({ id: 'c1', interval: 60 });
    const w = await watcher('sparrow/c1/pong');
    await command('c1', 'ping 42');
    const [pong] = await inbox(w).next(1);
    assert.equal(pong.payload.toString(), '42');
    const line = await b.status((s) => s.ev === 'cmd', 'the cmd line');
    assert.equal(line.cmd, 'ping 42');
  });

  it('interval changes the sampling period at once and keeps it in Storage', async () => {
    const b = await board({ id: 'c2', interval: 3600 });
    const w = await watcher('sparrow/c2/temperature');
    await command('c2', 'interval 0.1');
    await inbox(w).next(3); // at an hour per reading, three in a few seconds means the new period took
    assert.equal(JSON.parse(b.files['sparrow.json']).interval, 0.1);
    assert.equal(b.now().interval, 0.1);
  });

  it('interval out of range is refused with an error line, and the period stays', async () => {
    const b = await board({ id: 'c3', interval: 60 });
    await command('c3', 'interval 0');
    const line = await b.status((s) => s.ev === 'error', 'the error line');
    assert.equal(line.error, 'cmd: interval: seconds from 0.1 to 86400');
    assert.equal(line.interval, 60);
  });

  it('stats publishes the status as JSON on stats', async () => {
    const b = await board({ id: 'c4', interval: 60 });
    const w = await watcher('sparrow/c4/stats');
    await command('c4', 'stats');
    const [stats] = await inbox(w).next(1);
    const s = JSON.parse(stats.payload.toString()) as StatusLine;
    assert.equal(s.ev, 'stats');
    assert.equal(s.id, 'c4');
    assert.equal(s.mqtt, 'connected');
    assert.equal(s.received, 1);
    assert.deepEqual(Object.keys(s).sort(), Object.keys(STATUS_FIELDS).filter((f) => f !== 'cmd').sort());
    assert.equal(b.now().received, 1);
  });

  it('reboot says "offline" (retained), ends the session and resets the board', async () => {
    const b = await board({ id: 'c5', interval: 60 }, { reboot: true });
    const w = await watcher('sparrow/c5/status');
    await inbox(w).next(1); // the retained "online"
    await command('c5', 'reboot');
    const [, offline] = await inbox(w).next(2);
    assert.equal(offline.payload.toString(), 'offline');
    await until(() => b.reboots === 1, 'the reboot hook');
    const [retained] = await inbox(await watcher('sparrow/c5/status')).next(1);
    assert.equal(retained.payload.toString(), 'offline');
    assert.equal(retained.packet.retain, true, 'the "offline" is retained while the board is down');
    // on the board the saved code runs again and calls onInit
    const from = b.lines.length;
    b.app.start();
    await b.status((s) => s.ev === 'connected', 'back after the reboot', from);
    const [, , online] = await inbox(w).next(3);
    assert.equal(online.payload.toString(), 'online');
  });

  it('reboot without a board to reset restarts the app', async () => {
    const b = await board({ id: 'c6', interval: 60 });
    const from = b.lines.length;
    await command('c6', 'reboot');
    await b.status((s) => s.ev === 'boot', 'the boot line', from);
    await b.status((s) => s.ev === 'connected', 'connected again', from);
  });

  it('an unknown command gives an error line', async () => {
    const b = await board({ id: 'c7', interval: 60 });
    await command('c7', 'dance wildly');
    const line = await b.status((s) => s.ev === 'error', 'the error line');
    assert.equal(line.error, 'cmd: unknown command: dance wildly');
  });

  it('telemetry lines parse and carry the counters, every `telemetry` seconds', async () => {
    const w = await watcher('sparrow/t1/temperature');
    const b = await board({ id: 't1', interval: 0.1, telemetry: 0.2 });
    await inbox(w).next(4);
    await command('t1', 'ping');
    await b.status((s) => s.ev === 'cmd', 'the cmd line');
    const from = b.lines.length;
    const tick = await b.status((s) => s.ev === 'tick' && s.inflight === 0, 'a tick with nothing in flight', from);
    assert.ok(b.lines[from].startsWith(TELEMETRY_PREFIX));
    assert.deepEqual(Object.keys(tick).sort(), Object.keys(STATUS_FIELDS).filter((f) => f !== 'cmd').sort());
    assert.equal(tick.id, 't1');
    assert.equal(tick.fw, firmware().VERSION);
    assert.equal(tick.profile, 'full');
    assert.equal(tick.wifi, 'none');
    assert.equal(tick.mqtt, 'connected');
    assert.equal(tick.broker, t.url);
    // every QoS 1 publish (birth, readings, pong) is acknowledged; the one message received is the ping
    assert.ok(tick.acked >= 1 + 4 + 1, 'acked ' + tick.acked);
    assert.equal(tick.sent, tick.acked);
    assert.equal(tick.received, 1);
    assert.equal(tick.queued, 0);
    assert.equal(tick.reconnects, 0);
    assert.equal(tick.dropped + tick.refused, 0);
    assert.equal(tick.free, 12000);
    assert.equal(tick.error, null);
    assert.ok(tick.uptime >= 0);
    await until(() => b.telemetry(from).filter((l) => l.ev === 'tick').length >= 3, 'three ticks');
    // every line is telemetry, and names only the documented events and states
    const all = b.telemetry() as StatusLine[];
    assert.equal(all.length, b.lines.length);
    for (const l of all) assert.ok(STATUS_EVENTS.includes(l.ev) && MQTT_STATES.includes(l.mqtt), JSON.stringify(l));
  });

  it('while the broker is gone, readings wait in the queue and the telemetry shows it', async () => {
    const b = await board({ id: 'q1', interval: 0.1, telemetry: 0.1 });
    const port = t.port;
    await t.broker.close();
    const from = b.lines.length;
    const queued = await b.status((s) => s.ev === 'tick' && s.queued >= 3, 'readings queued', from);
    assert.equal(queued.mqtt, 'offline');
    assert.ok(queued.error, 'the last error says why the link went');
    // the broker comes back on the same port: the queue drains (the backoff may take a few seconds)
    t = await startBroker({ port });
    cleanup.add(() => t.broker.close());
    const drained = await b.status((s) => s.ev === 'tick' && s.mqtt === 'connected' && s.queued === 0 && s.inflight === 0, 'the queue drained', b.lines.length, 15000);
    // (a long backoff can fill the store, 32 messages by default: what does not fit is counted in `refused`)
    assert.ok(drained.acked >= queued.acked + 3, 'the queued readings were acknowledged');
  });

  it('the small profile image (ESP8266 class) runs the same app', async () => {
    const w = await watcher(['sparrow/s1/status', 'sparrow/s1/temperature']);
    const b = await board({ id: 's1', interval: 0.1 }, { profile: 'small' });
    const got = await inbox(w).next(3);
    assert.equal(got[0].topic, 'sparrow/s1/status', 'the birth comes before the readings');
    assert.ok(got.slice(1).every((m) => m.topic === 'sparrow/s1/temperature' && m.packet.qos === 1));
    assert.equal(b.now().profile, 'small');
  });

  it('a console line with REPL noise before the prefix still parses; other lines do not', () => {
    const line = '>' + TELEMETRY_PREFIX + JSON.stringify({ ev: 'tick', id: 'x' });
    assert.equal(parseLine(line)!.id, 'x');
    for (const other of ['=undefined', 'Uncaught Error: x', TELEMETRY_PREFIX + '{"ev":"tick"', TELEMETRY_PREFIX + '[1]', 'sparrow 0.1.0']) {
      assert.equal(parseLine(other), null, other);
    }
  });
});
