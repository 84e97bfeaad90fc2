// The simulator's stand-in for a board's sensors: an on-chip temperature that wanders like a real one,
// drawn from a seeded stream, so a run (and each board of a fleet) repeats reading for reading.
import type { Random } from './rng';

/** A temperature in °C as a bounded random walk: 21 °C at first, steps of at most 0.1 °C, within 15..30. */
export function fakeTemperature(random: Random): () => number {
  let t = 21;
  return () => (t = Math.min(30, Math.max(15, t + (random() - 0.5) * 0.2)));
}
