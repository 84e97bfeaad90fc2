// The simulator over real TCP: boards running the built bundle against the embedded broker and against
// mosquitto, and a broker restart in the middle of a run.
import { strict as assert } from 'assert';
import { Fleet, FleetOptions } from '../host-sim/fleet';
import type { QosTotals } from '../host-sim/ledger';
import { startMosquitto, type Mosquitto } from './support/mosquitto';

async function run(options: Partial<FleetOptions>, during?: (f: Fleet) => void): Promise<{ [qos: number]: QosTotals }> {
  const fleet = new Fleet({ brokerPort: 0, httpPort: null, rate: 10, duration: 3000, drain: 15000, ...options });
  if (during) during(fleet);
  await fleet.run();
  const q: { [qos: number]: QosTotals } = {};
  for (const t of fleet.ledger.totals()) q[t.qos] = t;
  return q;
}

function assertAllDelivered(t: QosTotals): void {
  assert.ok(t.published >= 10, 'readings taken: ' + t.published);
  assert.equal(t.refused, 0);
  assert.equal(t.pending, 0);
  assert.equal(t.lost, 0, 'QoS ' + t.qos + ' lost');
  assert.equal(t.delivered, t.published);
  if (t.qos === 2) assert.equal(t.duplicates, 0);
}

describe('sim: boards over real TCP', function () {
  this.timeout(60000);
  let mosquitto: Mosquitto | null = null;
  afterEach(async () => { if (mosquitto) await mosquitto.stop(); mosquitto = null; });

  it('one board per QoS through the built bundle to the embedded broker delivers every reading', async () => {
    const q = await run({ devices: 3, qos: 'mixed' });
    for (const t of [q[0], q[1], q[2]]) assertAllDelivered(t);
  });

  it('one board per QoS through the built bundle to mosquitto delivers every reading', async () => {
    mosquitto = await startMosquitto();
    const q = await run({ devices: 3, qos: 'mixed', broker: mosquitto.url });
    for (const t of [q[0], q[1], q[2]]) assertAllDelivered(t);
  });

  it('a mosquitto restart in the middle of a run loses no accepted QoS 1/2 reading and duplicates no QoS 2', async () => {
    mosquitto = await startMosquitto();
    const m = mosquitto;
    let restarted = false;
    const q = await run({ devices: 6, qos: 'mixed', broker: m.url, duration: 5000 }, () => {
      setTimeout(() => { m.restart().then(() => { restarted = true; }); }, 1500);
    });
    assert.ok(restarted);
    for (const t of [q[1], q[2]]) {
      assert.equal(t.lost, 0, 'QoS ' + t.qos + ' lost');
      assert.equal(t.pending, 0);
      assert.equal(t.delivered, t.accepted);
    }
    assert.equal(q[2].duplicates, 0);
  });
});
