// The simulator on virtual time: the flashed bundle (dist/espruino) per board, in-memory links, the
// in-process broker. Each fault scenario checks the delivery accounting exactly.
import { strict as assert } from 'assert';
import { parseFaults } from '../host-sim/platform/faults';
import { Fleet, FleetOptions } from '../host-sim/fleet/fleet';
import type { QosTotals } from '../host-sim/fleet/ledger';
import { Progress } from '../host-sim/fleet/progress';
import { buildReport } from '../host-sim/fleet/report';

async function runFleet(options: Partial<FleetOptions>, before?: (f: Fleet) => void): Promise<{ fleet: Fleet; q: { [qos: number]: QosTotals } }> {
  const fleet = new Fleet({ virtual: true, drain: 600000, ...options });
  if (before) before(fleet);
  await fleet.run();
  const q: { [qos: number]: QosTotals } = {};
  for (const t of fleet.ledger.totals()) q[t.qos] = t;
  return { fleet, q };
}

/** Every accepted reading of QoS >= 1 arrived, QoS 2 exactly once, nothing left pending or unexplained. */
function assertNothingAcceptedLost(t: QosTotals): void {
  assert.equal(t.accepted + t.refused, t.published, 'every reading accepted or refused');
  assert.equal(t.pending, 0, 'queues drained');
  assert.equal(t.lost, 0, 'no accepted reading lost');
  assert.equal(t.delivered, t.accepted - t.dropped, 'delivered = accepted');
  assert.equal(t.unexpected, 0);
  if (t.qos === 2) assert.equal(t.duplicates, 0, 'QoS 2 exactly once');
}

describe('sim: virtual fleet (built bundle, in-memory links, in-process broker)', function () {
  this.timeout(120000);

  it('a link cut right after the broker\'s PUBREC (QoS 2 mid-exchange) loses nothing and delivers once', async () => {
    let cuts = 0;
    const { q } = await runFleet({ devices: 1, qos: 2, rate: 1, duration: 60000 }, (f) => {
      f.net!.onLink = (link) => {
        link.tap = (dir, bytes) => {
          // the first PUBREC towards the board: the broker has the message, the board has not heard
          if (cuts < 3 && dir === 'down' && bytes[0] === 0x50) { cuts++; link.cut('test cut'); }
        };
      };
    });
    assert.equal(cuts, 3);
    assertNothingAcceptedLost(q[2]);
    assert.equal(q[2].published, q[2].delivered);
  });

  it('a link cut right after the board\'s PUBREL loses nothing and delivers once', async () => {
    let cuts = 0;
    const { q } = await runFleet({ devices: 1, qos: 2, rate: 2, duration: 60000 }, (f) => {
      f.net!.onLink = (link) => {
        link.tap = (dir, bytes) => { if (cuts < 3 && dir === 'up' && bytes[0] === 0x62) { cuts++; link.cut('test cut'); } };
      };
    });
    assert.equal(cuts, 3);
    assertNothingAcceptedLost(q[2]);
  });

  it('half-open links (the peer goes silent) are noticed by keepalive; QoS 1/2 lose nothing', async () => {
    const { fleet, q } = await runFleet({ devices: 6, qos: 'mixed', rate: 0.5, keepalive: 10, duration: 20 * 60000, faults: parseFaults('halfopen=1/3min'), seed: 11 });
    assert.ok(fleet.faultCounts.halfOpens > 10, 'half-open links happened: ' + fleet.faultCounts.halfOpens);
    assertNothingAcceptedLost(q[1]);
    assertNothingAcceptedLost(q[2]);
    assert.equal(q[1].refused + q[2].refused, 0, 'a 32-slot queue holds 10 s of silence');
  });

  it('an outage longer than the keepalive: boards reconnect afterwards and QoS 1/2 lose nothing', async () => {
    const { fleet, q } = await runFleet({ devices: 3, qos: 'mixed', rate: 0.2, keepalive: 15, duration: 10 * 60000, faults: parseFaults('outage=2min@3min') });
    assert.equal(fleet.faultCounts.outages, 3);
    assert.ok(fleet.snapshot().reconnects >= 3, 'every board reconnected');
    for (const t of [q[1], q[2]]) { assertNothingAcceptedLost(t); assert.equal(t.refused, 0); }
  });

  it('a full offline queue: QoS 0 dropped and counted, QoS 1/2 refused and counted, nothing accepted lost', async () => {
    // the outage starts with the Wi-Fi dropping (a cut the board hears of), so the board is offline, not
    // writing into a dead link: QoS 0 then waits in the queue too
    const { q } = await runFleet({ devices: 3, qos: 'mixed', rate: 1, queue: 4, keepalive: 10, duration: 5 * 60000, faults: parseFaults('outage=90s@1min') }, (f) => {
      f.clock!.setTimeout(() => { for (const b of f.boards) b.o.platform.cut(); }, 60001);
    });
    assert.ok(q[0].dropped > 0, 'QoS 0 dropped: ' + q[0].dropped);
    assert.equal(q[0].refused, 0, 'QoS 0 is never refused: the oldest QoS 0 makes room');
    assert.ok(q[1].refused > 0 && q[2].refused > 0, 'QoS 1/2 refused when full');
    assert.equal(q[0].accepted + q[0].refused, q[0].published);
    assert.equal(q[0].lost + q[0].delivered + q[0].dropped, q[0].accepted, 'every QoS 0 reading accounted for');
    assertNothingAcceptedLost(q[1]);
    assertNothingAcceptedLost(q[2]);
  });

  it('the same seed gives a byte-identical JSON report; another seed does not', async () => {
    const faults = 'cut=1/2min,outage=20s@5%,latency=30ms~20ms,split=30%,merge=30%';
    const once = async (seed: number) => JSON.stringify(buildReport((await runFleet({ devices: 8, qos: 'mixed', rate: 1, duration: 10 * 60000, faults: parseFaults(faults), seed })).fleet, faults, false));
    const a = await once(5), b = await once(5), c = await once(6);
    assert.equal(a, b);
    assert.notEqual(a, c);
    assert.ok(!/host|wall/.test(a), 'no host measurements in a virtual report');
  });

  it('progress on a non-TTY is one plain line per update with the fleet\'s numbers', async () => {
    const lines: string[] = [];
    const { fleet } = await runFleet({ devices: 4, qos: 1, rate: 1, duration: 30000 }, (f) => {
      const p = new Progress({ write: (t: string) => lines.push(t), isTTY: false }, f.ledger.latency);
      const run = f.run.bind(f);
      f.run = () => run((s) => p.update(s), 0);
    });
    assert.ok(lines.length > 3);
    for (const l of lines) {
      assert.doesNotMatch(l, /\x1b/, 'no escape codes');
      assert.match(l, /^t=\S+( draining)? connected=\d+ connecting=\d+ backoff=\d+ out\/s=\d+ in\/s=\d+ inflight=\d+ queued=\d+ reconnects=\d+ p50=[\d.]+ms p99=[\d.]+ms\n$/);
    }
    assert.match(lines[lines.length - 1], / connected=4 /);
    assert.ok(fleet.ledger.received > 100);
  });

  it('24 hours of 200 boards with random cuts: no accepted QoS 1/2 reading lost, no QoS 2 duplicate', async () => {
    const started = Date.now();
    const { fleet, q } = await runFleet({
      devices: 200, qos: 'mixed', rate: 1 / 300, keepalive: 300, duration: 24 * 3600000, faults: parseFaults('cut=1/2h,latency=20ms~20ms'), seed: 24,
    });
    assert.ok(fleet.faultCounts.cuts > 1500, 'cuts: ' + fleet.faultCounts.cuts);
    assertNothingAcceptedLost(q[1]);
    assertNothingAcceptedLost(q[2]);
    assert.ok(q[1].delivered > 19000 && q[2].delivered > 19000);
    assert.ok(Date.now() - started < 60000, 'under a minute: ' + (Date.now() - started) + ' ms');
  });
});
