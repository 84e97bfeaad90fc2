// A small seeded PRNG (mulberry32) so a run with --seed replays exactly: every random choice of the
// simulator (fault times, jitter, chunk splits, the boards' own Math.random) is drawn from one of these.
// Each board gets its own stream, derived from the seed and its id, so adding a board does not shift
// the draws of the others.

export type Random = () => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent stream for one purpose of one board: seed, board id and a purpose tag, hashed. */
export function streamFor(seed: number, id: number, purpose: number): Random {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(id + 1, 0xc2b2ae35) ^ Math.imul(purpose + 7, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return seededRandom(h ^ (h >>> 16));
}

/** Exponentially distributed delay with the given mean (the gaps of a Poisson process). */
export function exponential(random: Random, mean: number): number {
  return -Math.log(1 - random()) * mean;
}
