// The firmware's Platform on the virtual clock and the in-memory network: what a board sees in a
// --virtual run. Timers and now() are the clock's; sockets are MemoryLinks shaped as the run says.
import type { Platform } from '../../firmware/platform';
import type { VirtualClock } from './clock';
import type { LinkShape } from './links';
import type { MemoryNetwork } from './memory-net';
import type { Random } from './rng';

export interface VirtualPlatformOptions {
  clock: VirtualClock;
  net: MemoryNetwork;
  shape: LinkShape;
  /** The board's own Math.random (backoff jitter, WebSocket keys). */
  random: Random;
  /** Draws of its links (jitter, splits). */
  linkRandom: Random;
  /** Its address, in the broker's logs. */
  address: string;
  log(line: string): void;
}

export function virtualPlatform(o: VirtualPlatformOptions): Platform {
  const clock = o.clock;
  return {
    connect: (target, handlers) => o.net.connect(target, handlers, o.shape, o.linkRandom, () => true, o.address),
    now: () => clock.now(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (handle) => clock.clearTimeout(handle),
    random: o.random,
    log: o.log,
  };
}
