// `sparrow sim --app`: boards running the firmware image (dist/espruino/firmware.full.js, what flash.sh
// uploads) through its createApp factory, with the checker comparing each board's own counters with
// what reached it. Virtual: a fleet of 20 for 10 virtual minutes, with one board cut off for a while.
// Real TCP: one board against the embedded broker, commands included.
import { strict as assert } from 'assert';
import { deviceId } from '../host-sim/fleet/app-board';
import { Fleet } from '../host-sim/fleet/fleet';
import { buildReport } from '../host-sim/fleet/report';

/** The retained status of each board as the (closed or running) in-process broker holds it. */
function retainedStatus(fleet: Fleet, id: string): string | null {
  const m = fleet.broker!.retained.match(fleet.o.prefix + '/' + id + '/status', Date.now());
  return m.length ? Buffer.from(m[0].payload).toString() : null;
}

describe('sim --app: boards running the firmware image', function () {
  this.timeout(120000);

  it('a virtual fleet of 20: births, readings at the interval, acked == received per board, and a cut board\'s will', async () => {
    const fleet = new Fleet({ app: true, virtual: true, devices: 20, rate: 0.1, duration: 10 * 60000, drain: 120000, seed: 3 });
    const cutId = deviceId(7);
    let duringOutage: string | null = null, lines = 0;
    fleet.o.console = (id) => { if (id === 0) lines++; };
    // at 3 min board 7 loses its link and stays off the network for 2 min: the broker publishes its will
    const clockTimers = () => {
      const clock = fleet.clock!;
      clock.setTimeout(() => {
        const b = fleet.appBoards[7];
        b.o.platform.setDown(true);
        b.o.platform.cut();
      }, 3 * 60000);
      clock.setTimeout(() => { duringOutage = retainedStatus(fleet, cutId); }, 4 * 60000);
      clock.setTimeout(() => fleet.appBoards[7].o.platform.setDown(false), 5 * 60000);
    };
    clockTimers();
    await fleet.run();
    const report = buildReport(fleet, '', false);
    const app = report.app!;
    assert.equal(app.boards.length, 20);
    assert.deepEqual(app.lossBoards, []);
    assert.equal(duringOutage, 'offline', 'the will of the cut board is the retained status while it is away');
    for (const b of app.boards) {
      assert.equal(retainedStatus(fleet, b.id), 'online', b.id + ' retained status');
      assert.equal(b.pending, 0, b.id + ' drained');
      assert.equal(b.refused + b.dropped, 0);
      assert.equal(b.received, b.acked, b.id + ': every acknowledged publish received once');
      const r = fleet.appChecker!.record(b.id);
      // a reading every 10 s from the first CONNACK to the end of the run: 60 give or take the phase
      assert.ok(b.readings >= 58 && b.readings <= 61, b.id + ' readings: ' + b.readings);
      if (b.id === cutId) {
        assert.equal(b.births, 2, 'online again after the outage');
        assert.equal(b.offlines, 1, 'one will');
        assert.ok(r.maxGap >= 2 * 60000, 'no reading reached the checker during the outage');
      } else {
        assert.equal(b.births, 1);
        assert.equal(b.offlines, 0);
        assert.ok(r.maxGap >= 9999 && r.maxGap <= 10100, b.id + ' readings 10 s apart: longest gap ' + r.maxGap);
      }
    }
    assert.ok(lines >= 60, 'telemetry lines on the console of board 0: ' + lines);
  });

  it('one board over real TCP to the embedded broker: birth, readings, a ping answered, a clean end', async () => {
    const fleet = new Fleet({ app: true, devices: 1, rate: 5, duration: 1500, drain: 10000, brokerPort: 0, httpPort: null, telemetry: 0.5 });
    const console: string[] = [];
    fleet.o.console = (_id, line) => console.push(line);
    const running = fleet.run();
    // once the board has subscribed to its commands (its SUBACK comes after the 'connected' line), send
    // it one through the broker (bounded wait, no fixed sleep)
    const cmd = fleet.o.prefix + '/' + deviceId(0) + '/cmd';
    const subscribed = () => !!fleet.broker && !!fleet.broker.sessions.get(deviceId(0))?.subs.has(cmd);
    const deadline = Date.now() + 10000;
    while (!(fleet.appBoards.length && fleet.appBoards[0].state === 'connected' && subscribed())) {
      if (Date.now() > deadline) throw new Error('the board did not connect');
      await new Promise((r) => setTimeout(r, 10));
    }
    fleet.broker!.publish({ topic: cmd, payload: Buffer.from('ping hello'), qos: 1, retain: false, expiresAt: 0, origin: 'test' }, null);
    await running;
    const app = buildReport(fleet, '', false).app!;
    const b = app.boards[0];
    assert.deepEqual(app.lossBoards, []);
    assert.equal(b.received, b.acked);
    assert.ok(b.readings >= 3, 'readings: ' + b.readings);
    assert.equal(b.births, 1);
    assert.equal(b.answers, 1, 'the pong');
    assert.equal(b.commands, 1);
    assert.equal(retainedStatus(fleet, deviceId(0)), 'online');
    assert.ok(console.some((l) => l.startsWith('@sparrow/1 ') && l.indexOf('"ev":"connected"') > 0), 'telemetry lines');
    assert.ok(console.some((l) => l.indexOf('"ev":"cmd"') > 0 && l.indexOf('ping hello') > 0));
  });
});
