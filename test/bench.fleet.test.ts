// The fleet bench's TCP part reads its figures from the run's report: a run in which no board
// published (none connected, say) must end with a line saying so, not a TypeError.
import { strict as assert } from 'assert';
import type { RunReport } from '../host-sim/fleet/report';
import { qos1Totals } from '../tools/bench/fleet';

describe('fleet bench: the figures of a TCP run', () => {
  const report = (qos: RunReport['qos']) => ({ qos, boards: 500, simulatedSeconds: 30 } as RunReport);

  it('a run that published nothing ends with a line saying so', () => {
    assert.throws(() => qos1Totals(report([]), 0), { message: 'the Sparrow fleet published nothing in 30 s (at most 0 of 500 boards connected): no figures to report' });
  });

  it('a run that published gives its QoS 1 totals', () => {
    const totals = { qos: 1, published: 10, accepted: 10, acknowledged: 10, delivered: 10 } as RunReport['qos'][number];
    assert.equal(qos1Totals(report([totals]), 500), totals);
  });
});
