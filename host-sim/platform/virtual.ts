// The firmware's Platform on the virtual clock and the in-memory network: what a board sees in a
// --virtual run. Timers and now() are the clock's; sockets are MemoryLinks shaped as the run says.
import type { ConnectTarget, Platform, PlatformSocket, SocketHandlers } from '../../firmware/platform';
import type { VirtualClock, VirtualTimer } from './clock';
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

/** One object per board with shared methods: a virtual fleet holds 100,000 of these. */
export class VirtualPlatform implements Platform {
  constructor(private readonly o: VirtualPlatformOptions) {}

  connect(target: ConnectTarget, handlers: SocketHandlers): PlatformSocket {
    const o = this.o;
    return o.net.connect(target, handlers, o.shape, o.linkRandom, alwaysReachable, o.address);
  }

  now(): number { return this.o.clock.now(); }
  setTimeout(fn: () => void, ms: number): unknown { return this.o.clock.setTimeout(fn, ms); }
  clearTimeout(handle: unknown): void { this.o.clock.clearTimeout(handle as VirtualTimer); }
  random(): number { return this.o.random(); }
  log(line: string): void { this.o.log(line); }
}

const alwaysReachable = () => true;

export function virtualPlatform(o: VirtualPlatformOptions): Platform {
  return new VirtualPlatform(o);
}
