// Runs the in-process broker on the virtual clock. The broker (host-sim/broker/) reads Node's globals:
// setTimeout/clearTimeout for keepalive and expiry, Date.now() for idle time, and process.nextTick and
// setImmediate to batch its output. In a virtual run those must follow the virtual clock, or a half-open link would
// never be noticed by the broker (its keepalive timer would wait in real time), and real timers firing
// in the middle of a run would make it irreproducible. So while virtual callbacks run (and only then:
// the globals are restored before control goes back to the event loop, where mocha, the progress
// display and SIGINT live), those five globals are the clock's, and deferred ticks are drained after
// every callback, in order. Stopgap until the broker takes a clock in its options (asked of the lead).
import type { VirtualClock } from './clock';

type Tick = [(...args: unknown[]) => void, unknown[]];

/** Date.now() of virtual time 0: a fixed instant, so a run's timestamps do not depend on the day. */
export const VIRTUAL_EPOCH = Date.UTC(2025, 0, 1);

export class VirtualScope {
  private ticks: Tick[] = [];
  private depth = 0;
  private saved: { setTimeout: unknown; clearTimeout: unknown; now: unknown; nextTick: unknown; setImmediate: unknown } | null = null;

  constructor(readonly clock: VirtualClock) {}

  /** Runs `fn` with the globals on virtual time, then every deferred tick it left. */
  run<T>(fn: () => T): T {
    this.enter();
    try {
      const r = fn();
      this.drain();
      return r;
    } finally {
      this.exit();
    }
  }

  /** Fires virtual timers up to `until`, for at most `wallMs` of real time; true when it got there. */
  advance(until: number, wallMs: number): boolean {
    const clock = this.clock;
    const stopAt = performance.now() + wallMs;
    this.enter();
    try {
      let n = 0;
      while (clock.step(until)) {
        this.drain();
        // reading the real clock costs; look at it every few hundred events
        if ((++n & 255) === 0 && performance.now() > stopAt) return false;
      }
      clock.runUntil(until);
      return true;
    } finally {
      this.exit();
    }
  }

  private drain(): void {
    const q = this.ticks;
    for (let i = 0; i < q.length; i++) q[i][0](...q[i][1]);
    q.length = 0;
  }

  private enter(): void {
    if (this.depth++ > 0) return;
    const g = globalThis as any;
    const clock = this.clock;
    this.saved = { setTimeout: g.setTimeout, clearTimeout: g.clearTimeout, now: Date.now, nextTick: process.nextTick, setImmediate: g.setImmediate };
    g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => clock.setTimeout(() => fn(...args), ms || 0);
    g.clearTimeout = (t: unknown) => clock.clearTimeout(t);
    Date.now = () => VIRTUAL_EPOCH + Math.floor(clock.now());
    (process as any).nextTick = (fn: (...a: unknown[]) => void, ...args: unknown[]) => { this.ticks.push([fn, args]); };
    g.setImmediate = (fn: (...a: unknown[]) => void, ...args: unknown[]) => { this.ticks.push([fn, args]); };
  }

  private exit(): void {
    if (--this.depth > 0) return;
    const g = globalThis as any, s = this.saved!;
    g.setTimeout = s.setTimeout;
    g.clearTimeout = s.clearTimeout;
    Date.now = s.now as () => number;
    (process as any).nextTick = s.nextTick;
    g.setImmediate = s.setImmediate;
    this.saved = null;
  }
}
