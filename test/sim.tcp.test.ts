// The simulator over real TCP: boards running the built bundle against the embedded broker and against
// mosquitto, and a broker restart in the middle of a run.
import { strict as assert } from 'assert';
import { Fleet, FleetOptions } from '../host-sim/fleet/fleet';
import type { QosTotals } from '../host-sim/fleet/ledger';
import { boardSourceAddress } from '../host-sim/platform/ports';
import * as net from 'net';
import { startMosquitto, type Mosquitto } from './support/mosquitto';
import { startBroker } from './support/broker';
import { bundlePath, loadBundle } from '../host-sim/bundle';
import { nodePlatform } from '../host-sim/platform/node';

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

  it('over ws:// the boards load the built WebSocket module (sparrow-ws) beside the library, and deliver every reading', async () => {
    const tb = await startBroker({ wsPort: 0 });
    try {
      const q = await run({ devices: 2, qos: 1, profile: 'small', broker: `ws://127.0.0.1:${tb.broker.ports.ws}/mqtt` });
      assertAllDelivered(q[1]);
    } finally {
      await tb.broker.close();
    }
  });

  it('the library bundles alone refuse a ws:// URL, naming the module that speaks it', () => {
    for (const profile of ['small', 'full'] as const) {
      const lib = loadBundle(bundlePath(profile));
      assert.throws(() => lib.create(nodePlatform({ log: () => undefined })).connect('ws://127.0.0.1:1/mqtt'), /ws:\/\/ needs sparrow-ws/);
    }
  });

  it('every board of a large fleet gets a valid, distinct loopback source address', () => {
    const seen = new Set<string>();
    for (let id = 0; id < 100000; id++) {
      const a = boardSourceAddress(id);
      assert.equal(net.isIPv4(a), true, 'board ' + id + ': ' + a);
      const bytes = a.split('.').map(Number);
      assert.ok(bytes[0] === 127 && bytes[3] >= 1 && bytes[3] <= 254, 'board ' + id + ': ' + a);
      seen.add(a);
    }
    assert.equal(seen.size, 100000);
  });

  it('board 255 (whose source address was once 127.1.0.256) connects and delivers every reading', async () => {
    // only board 255 of this shard runs: the 256th board of every fleet used to fail each connect at once
    const fleet = new Fleet({ brokerPort: 0, httpPort: null, rate: 10, duration: 2000, drain: 10000, qos: 1, devices: 256, shard: { index: 255, count: 256 } });
    await fleet.run();
    assert.deepEqual(fleet.boards.map((b) => b.o.id), [255]);
    assert.equal(fleet.boards[0].client!.reconnects, 0);
    assertAllDelivered(fleet.ledger.totals()[0]);
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
