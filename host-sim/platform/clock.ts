// Virtual time: a discrete-event clock. Timers sit in a binary heap ordered by (time, insertion order);
// running the clock pops them in order and sets `now` to each one's time, so hours of a fleet's life
// pass in seconds and two runs with the same inputs fire the same callbacks in the same order.
// The heap is indexed (each timer knows its slot) so clearTimeout removes at once: the client re-arms
// its keepalive on every packet, and lazily deleted timers would pile up by the million in a big fleet.
// Work deferred with defer() (the broker batching its writes) runs after the callback that deferred
// it, in order, before the next timer: the virtual counterpart of Node's setImmediate.
import type { Clock } from '../../broker/clock';

/** Date.now() of virtual time 0: a fixed instant, so a run's time stamps do not depend on the day. */
export const VIRTUAL_EPOCH = Date.UTC(2025, 0, 1);

/**
 * A class, not an object literal: V8 may tenure a literal's allocation site (allocate it straight in the
 * old generation) once most of its objects survive, as the timers of a fleet's start do; every later
 * short-lived timer would then be old-generation garbage.
 */
export class VirtualTimer {
  /** Its slot in the heap, -1 when not waiting. */
  index = -1;
  constructor(readonly at: number, readonly seq: number, public fn: (() => void) | null) {}
}

export class VirtualClock {
  private time: number;
  private seq = 0;
  private heap: VirtualTimer[] = [];
  private deferred: (() => void)[] = [];
  private draining = false;
  /** Callbacks fired so far (for the bench and for tests). */
  fired = 0;

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** Timers waiting. */
  get pending(): number {
    return this.heap.length;
  }

  /** Time of the next timer, or Infinity when none is waiting. */
  nextAt(): number {
    return this.heap.length ? this.heap[0].at : Infinity;
  }

  setTimeout(fn: () => void, ms: number): VirtualTimer {
    // like Node: a negative, NaN or missing delay means "as soon as possible", never in the past
    const delay = ms > 0 ? ms : 0;
    const t = new VirtualTimer(this.time + delay, this.seq++, fn);
    this.push(t);
    return t;
  }

  clearTimeout(t: unknown): void {
    const timer = t as VirtualTimer | null | undefined;
    if (!timer || timer.index < 0 || this.heap[timer.index] !== timer) return;
    this.removeAt(timer.index);
    timer.fn = null;
  }

  /** Fires the next timer if it is due at or before `until`; returns false when none is. */
  step(until: number): boolean {
    const h = this.heap;
    if (!h.length || h[0].at > until) return false;
    const t = h[0];
    this.removeAt(0);
    if (t.at > this.time) this.time = t.at;
    const fn = t.fn;
    t.fn = null;
    this.fired++;
    if (fn) fn();
    this.drain();
    return true;
  }

  /** Queues `fn` to run once the current callback (or run()) returns, at the same virtual instant. */
  defer(fn: () => void): void {
    this.deferred.push(fn);
  }

  /** Runs `fn` from outside the clock (starting boards, closing the broker), then the work it deferred. */
  run<T>(fn: () => T): T {
    const r = fn();
    this.drain();
    return r;
  }

  /** Fires every timer due up to `until` (new ones included), then sets the time to `until`. */
  runUntil(until: number): void {
    while (this.step(until)) { /* next */ }
    if (until > this.time && until !== Infinity) this.time = until;
  }

  /** Moves the time forward without firing anything (only when nothing is due before). */
  advanceTo(t: number): void {
    if (this.nextAt() < t) throw new Error('advanceTo would skip due timers');
    if (t > this.time) this.time = t;
  }

  private drain(): void {
    if (this.draining) return; // a run() inside deferred work: the loop below reaches what it adds
    this.draining = true;
    const q = this.deferred;
    try {
      for (let i = 0; i < q.length; i++) q[i]();
    } finally {
      q.length = 0;
      this.draining = false;
    }
  }

  private less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: VirtualTimer): void {
    t.index = this.heap.length;
    this.heap.push(t);
    this.up(t.index);
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const last = h.pop()!;
    h[i] && (h[i].index = -1);
    if (i < h.length) {
      h[i] = last;
      last.index = i;
      this.down(i);
      this.up(i);
    } else {
      last.index = -1;
    }
  }

  private up(i: number): void {
    const h = this.heap;
    const t = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(t, h[p])) break;
      h[i] = h[p];
      h[i].index = i;
      i = p;
    }
    h[i] = t;
    t.index = i;
  }

  private down(i: number): void {
    const h = this.heap, n = h.length;
    const t = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1], h[c])) c++;
      if (!this.less(h[c], t)) break;
      h[i] = h[c];
      h[i].index = i;
      i = c;
    }
    h[i] = t;
    t.index = i;
  }
}

/** The broker's Clock on virtual time: epoch ms counted from VIRTUAL_EPOCH, timers and deferred work on `clock`. */
export function brokerClock(clock: VirtualClock): Clock {
  return {
    now: () => VIRTUAL_EPOCH + Math.floor(clock.now()),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (timer) => clock.clearTimeout(timer),
    defer: (fn) => clock.defer(fn),
  };
}
