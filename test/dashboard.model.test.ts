// The dashboard's fleet model (broker/dashboard/fleet.ts) without a browser: what is online, what is
// stale, and what "last seen" means when a status is retained.
import { strict as assert } from 'assert';
import { Fleet, STALE_MIN, STALE_UNKNOWN } from '../broker/dashboard/fleet';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('dashboard model: online, stale, last seen', () => {
  const t0 = 1_000_000;

  it('a retained `online` alone gives no "last seen", and goes stale after STALE_UNKNOWN s of silence', () => {
    const f = new Fleet('sparrow', t0);
    f.handle('sparrow/b1/status', bytes('online'), t0 + 0.1, true);
    const d = f.devices.get('b1')!;
    assert.equal(d.state, 'online');
    assert.ok(Number.isNaN(d.seen), 'a retained message is not a sighting');
    f.expire(t0 + STALE_UNKNOWN - 1);
    assert.equal(d.state, 'online');
    f.expire(t0 + STALE_UNKNOWN + 1);
    assert.equal(d.state, 'offline');
    assert.ok(d.stale);
    assert.equal(f.online.count, 0);
  });

  it('a board reading every second is stale after STALE_MIN s of silence; its next reading brings it back', () => {
    const f = new Fleet('sparrow', t0);
    f.handle('sparrow/b2/status', bytes('online'), t0, true);
    for (let i = 1; i <= 5; i++) f.handle('sparrow/b2/temperature', bytes('21.5'), t0 + i);
    const d = f.devices.get('b2')!;
    assert.equal(d.seen, t0 + 5);
    assert.equal(d.gap, 1);
    f.expire(t0 + 5 + STALE_MIN - 1);
    assert.equal(d.state, 'online');
    f.expire(t0 + 5 + STALE_MIN + 1);
    assert.equal(d.state, 'offline');
    f.handle('sparrow/b2/temperature', bytes('21.6'), t0 + 30);
    assert.equal(d.state, 'online');
    assert.equal(d.stale, false);
    assert.equal(f.online.count, 1);
  });

  it('a slow board\'s pace is its own: three of its gaps, and sensors sampled together do not shorten it', () => {
    const f = new Fleet('sparrow', t0);
    for (let i = 0; i < 3; i++) {
      f.handle('sparrow/b3/temperature', bytes('20'), t0 + 60 * i);
      f.handle('sparrow/b3/analog', bytes('0.5'), t0 + 60 * i + 0.01);
    }
    const d = f.devices.get('b3')!;
    assert.ok(Math.abs(d.gap - 60) < 0.1, 'gap ' + d.gap);
    f.expire(t0 + 120 + 170);
    assert.equal(d.state, 'online');
    f.expire(t0 + 120 + 190);
    assert.equal(d.state, 'offline');
  });

  it('a will (`offline`, live) is offline at once and is a sighting', () => {
    const f = new Fleet('sparrow', t0);
    f.handle('sparrow/b4/status', bytes('online'), t0 + 1);
    f.handle('sparrow/b4/status', bytes('offline'), t0 + 2);
    const d = f.devices.get('b4')!;
    assert.equal(d.state, 'offline');
    assert.equal(d.stale, false);
    assert.equal(d.seen, t0 + 2);
  });
});
