// The --faults grammar: what can go wrong on a board's network, and how the links are shaped.
//
//   --faults SPEC[,SPEC...]
//     cut=N/PERIOD           random cuts, N per PERIOD per board on average (a Poisson process): both
//                            ends see the connection drop at once. e.g. cut=1/10min
//     halfopen=N/PERIOD      random half-open links: from that moment nothing gets through either way
//                            and neither end is told; only keepalive notices. e.g. halfopen=1/1h
//     outage=DUR@P%          random network outages of DUR each, covering about P% of each board's time:
//                            bytes wait in the network (TCP retransmits) and connects stall. e.g. outage=30s@5%
//     outage=DUR@TIME        one outage of DUR for the whole fleet, starting TIME into the run. e.g. outage=2min@10min
//     latency=DUR[~JITTER]   one-way latency plus a random extra of up to JITTER (in-memory links only)
//     bandwidth=N[k|M]B/s    bandwidth cap of each direction of each link (in-memory links only)
//     split=P%               share of deliveries cut into random pieces (in-memory links only)
//     merge=P%               share of deliveries held back to leave with the next write (in-memory links only)
//   DUR, PERIOD and TIME are a number and a unit: ms, s, min, h or d (250ms, 30s, 10min, 1h, 1d).
//   Each board draws its own fault times from the seed (--seed), so a run replays exactly.
import type { LinkShape } from './links';

export interface FaultPlan {
  /** Mean ms between random cuts of one board's link; 0 for none. */
  cutEvery: number;
  halfOpenEvery: number;
  /** Random outages: each lasts `duration` ms and they cover `share` (0..1) of the time. */
  randomOutage: { duration: number; share: number } | null;
  /** Fleet-wide outages at fixed times (ms from the start). */
  scheduledOutages: { at: number; duration: number }[];
  shape: LinkShape;
}

export const FAULTS_HELP = [
  '  --faults SPEC[,SPEC...]  what goes wrong on the boards\' networks (none by default):',
  '      cut=N/PERIOD           random cuts per board, e.g. cut=1/10min',
  '      halfopen=N/PERIOD      random half-open links (peer goes silent), e.g. halfopen=1/1h',
  '      outage=DUR@P%          random outages of DUR covering P% of each board\'s time, e.g. outage=30s@5%',
  '      outage=DUR@TIME        one fleet-wide outage starting TIME into the run, e.g. outage=2min@10min',
  '      latency=DUR[~JITTER]   one-way latency and jitter, e.g. latency=20ms~10ms (--virtual)',
  '      bandwidth=N[k|M]B/s    cap per link direction, e.g. bandwidth=2kB/s (--virtual)',
  '      split=P%, merge=P%     share of deliveries split into pieces / merged with the next (--virtual)',
  '    DUR, PERIOD, TIME: number + ms|s|min|h|d. Fault times are drawn from --seed.',
];

const UNITS: { [unit: string]: number } = { ms: 1, s: 1000, min: 60000, h: 3600000, d: 86400000 };

/** "30s" → 30000. Throws on anything else. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|min|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration (a number and ms, s, min, h or d)`);
  return parseFloat(m[1]) * UNITS[m[2]];
}

function parsePercent(text: string): number {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (!m || parseFloat(m[1]) > 100) throw new Error(`"${text}" is not a percentage`);
  return parseFloat(m[1]) / 100;
}

/** "1/10min" → mean ms between events. */
function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\/(.+)$/.exec(text);
  if (!m || !(parseFloat(m[1]) > 0)) throw new Error(`"${text}" is not a rate like 1/10min`);
  return parseDuration(m[2]) / parseFloat(m[1]);
}

function parseBandwidth(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(|k|M)B\/s$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a bandwidth like 2kB/s`);
  return parseFloat(m[1]) * (m[2] === 'k' ? 1000 : m[2] === 'M' ? 1e6 : 1);
}

export function noFaults(): FaultPlan {
  return { cutEvery: 0, halfOpenEvery: 0, randomOutage: null, scheduledOutages: [], shape: { latency: 1, jitter: 0, bandwidth: 0, split: 0, merge: 0 } };
}

export function parseFaults(spec: string | undefined): FaultPlan {
  const plan = noFaults();
  if (!spec) return plan;
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`fault "${part}" has no value (see --help)`);
    const name = part.slice(0, eq), value = part.slice(eq + 1);
    try {
      switch (name) {
        case 'cut': plan.cutEvery = parseRate(value); break;
        case 'halfopen': plan.halfOpenEvery = parseRate(value); break;
        case 'outage': {
          const at = value.indexOf('@');
          if (at < 0) throw new Error('outage wants DUR@P% or DUR@TIME');
          const duration = parseDuration(value.slice(0, at)), when = value.slice(at + 1);
          if (when.endsWith('%')) {
            const share = parsePercent(when);
            if (share >= 1) throw new Error('an outage cannot cover 100% of the time');
            plan.randomOutage = { duration, share };
          } else {
            plan.scheduledOutages.push({ at: parseDuration(when), duration });
          }
          break;
        }
        case 'latency': {
          const [lat, jit] = value.split('~');
          plan.shape.latency = parseDuration(lat);
          plan.shape.jitter = jit ? parseDuration(jit) : 0;
          break;
        }
        case 'bandwidth': plan.shape.bandwidth = parseBandwidth(value); break;
        case 'split': plan.shape.split = parsePercent(value); break;
        case 'merge': plan.shape.merge = parsePercent(value); break;
        default: throw new Error('unknown fault');
      }
    } catch (e) {
      throw new Error(`--faults ${part}: ${(e as Error).message}`);
    }
  }
  return plan;
}

/** True when the plan does something to links beyond shaping them. */
export function hasFaults(p: FaultPlan): boolean {
  return !!(p.cutEvery || p.halfOpenEvery || p.randomOutage || p.scheduledOutages.length);
}
