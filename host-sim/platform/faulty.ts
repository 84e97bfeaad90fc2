// Faults on a board's network, on any Platform (in-memory links on the virtual clock, or real TCP):
// a wrapper around connect() that can cut the current connection, make it half-open, or hold
// everything for the length of an outage. It sits between the firmware and the socket, so the
// firmware sees exactly what it would see on a board: data stops, a close arrives, a connect stalls.
import type { ConnectTarget, Platform, PlatformSocket, SocketHandlers } from '../../firmware/platform';
import type { FaultPlan } from './faults';
import { CONNECT_TIMEOUT_MS } from './memory-net';
import { exponential, Random } from './rng';

/** Counters of what was done to a board, for the report. */
export interface FaultCounts {
  cuts: number;
  halfOpens: number;
  outages: number;
}

type Held = ['data', Uint8Array | string] | ['close', string];

/**
 * One connection through the faulty network: the socket the firmware writes to, and the handlers the
 * real (or in-memory) socket reports to, as one object with shared methods (no closures per connection).
 */
class FaultyConnection implements PlatformSocket, SocketHandlers {
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  silent = false;
  inner: PlatformSocket | null = null;
  /** What the network holds during an outage: bytes and the end towards the broker, events towards the board. */
  heldOut: (Uint8Array | 'end')[] = [];
  heldIn: Held[] = [];
  connectTimer: unknown = null;

  constructor(readonly owner: FaultyPlatform, readonly handlers: SocketHandlers) {}

  // the firmware's side: what it sends

  write(bytes: Uint8Array, n: number): void {
    if (this.state === 'closed' || this.silent || !this.inner) return;
    if (this.owner.down) this.heldOut.push(bytes.slice(0, n));
    else this.inner.write(bytes, n);
  }

  end(): void {
    const was = this.state;
    this.state = 'closed';
    this.owner.forget(this);
    if (was === 'closed' || this.silent || !this.inner) return;
    if (this.owner.down) this.heldOut.push('end');
    else this.inner.end();
  }

  // the network's side: what reaches the board

  open(): void {
    if (this.state !== 'connecting' || this.silent) return;
    this.owner.platform.clearTimeout(this.connectTimer);
    this.state = 'open';
    this.handlers.open();
  }

  data(chunk: Uint8Array | string): void {
    if (this.state === 'closed' || this.silent) return;
    if (this.owner.down) this.heldIn.push(['data', chunk]);
    else this.handlers.data(chunk);
  }

  close(reason: string): void {
    if (this.state === 'closed' || this.silent) return;
    if (this.owner.down) { this.heldIn.push(['close', reason]); return; }
    this.closeNow(reason);
  }

  closeNow(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.owner.platform.clearTimeout(this.connectTimer);
    this.owner.forget(this);
    this.handlers.close(reason);
  }

  /** Drops the connection for both ends at once (a reset). */
  cut(): void {
    const inner = this.inner as (PlatformSocket & { abort?(reason: string): void }) | null;
    if (inner) { if (inner.abort) inner.abort('link cut'); else inner.end(); }
    this.closeNow('link cut');
  }

  /** The outage is over: what the network held goes on, in order. */
  release(): void {
    const out = this.heldOut, inn = this.heldIn;
    this.heldOut = [];
    this.heldIn = [];
    for (const b of out) if (this.inner) { if (b === 'end') this.inner.end(); else this.inner.write(b, b.length); }
    for (const e of inn) {
      if (this.state === 'closed') break;
      if (e[0] === 'data') this.handlers.data(e[1]);
      else this.closeNow(e[1]);
    }
  }
}

export class FaultyPlatform implements Platform {
  down = false;
  readonly counts: FaultCounts = { cuts: 0, halfOpens: 0, outages: 0 };
  private current: FaultyConnection | null = null;
  private timers: unknown[] = [];
  private stopped = false;

  constructor(readonly platform: Platform) {}

  connect(target: ConnectTarget, handlers: SocketHandlers): PlatformSocket {
    const c = new FaultyConnection(this, handlers);
    this.current = c;
    // no SYN-ACK within the time lwIP waits: the connect fails (a silent or held network does that)
    c.connectTimer = this.platform.setTimeout(() => { if (c.state === 'connecting') { if (c.inner) c.inner.end(); c.closeNow('connect timeout'); } }, CONNECT_TIMEOUT_MS);
    const open = () => {
      if (c.state !== 'connecting') return;
      if (this.down) { this.platform.setTimeout(open, 1000); return; } // the SYN is retransmitted
      c.inner = this.platform.connect(target, c);
    };
    open();
    return c;
  }

  now(): number { return this.platform.now(); }
  setTimeout(fn: () => void, ms: number): unknown { return this.platform.setTimeout(fn, ms); }
  clearTimeout(handle: unknown): void { this.platform.clearTimeout(handle); }
  random(): number { return this.platform.random(); }
  log(line: string): void { this.platform.log(line); }

  forget(c: FaultyConnection): void {
    if (this.current === c) this.current = null;
  }

  /** True while a connection is open (cuts and half-opens only hit those). */
  get connected(): boolean {
    return !!this.current && this.current.state === 'open' && !this.current.silent;
  }

  cut(): boolean {
    const c = this.current;
    if (!c || c.state === 'closed' || c.silent) return false;
    this.counts.cuts++;
    c.cut();
    return true;
  }

  halfOpen(): boolean {
    const c = this.current;
    if (!c || c.state !== 'open' || c.silent) return false;
    this.counts.halfOpens++;
    c.silent = true;
    const inner = c.inner as (PlatformSocket & { link?: { silence(): void } }) | null;
    if (inner && inner.link) inner.link.silence(); // in memory: the broker's side goes silent too
    this.current = null;
    return true;
  }

  setDown(down: boolean): void {
    if (down === this.down) return;
    this.down = down;
    if (down) this.counts.outages++;
    else if (this.current) this.current.release();
  }

  /** Starts the plan's random and scheduled faults, drawing times from `random`. */
  start(plan: FaultPlan, random: Random): void {
    const p = this.platform;
    const every = (mean: number, act: () => void) => {
      const next = () => { if (!this.stopped) { act(); this.timers.push(p.setTimeout(next, exponential(random, mean))); } };
      this.timers.push(p.setTimeout(next, exponential(random, mean)));
    };
    if (plan.cutEvery) every(plan.cutEvery, () => this.cut());
    if (plan.halfOpenEvery) every(plan.halfOpenEvery, () => this.halfOpen());
    const o = plan.randomOutage;
    if (o) {
      // alternating up and down periods: mean up time chosen so that down time is `share` of the total
      const upMean = (o.duration * (1 - o.share)) / o.share;
      const up = () => { if (!this.stopped) { this.setDown(true); this.timers.push(p.setTimeout(down, o.duration)); } };
      const down = () => { this.setDown(false); if (!this.stopped) this.timers.push(p.setTimeout(up, exponential(random, upMean))); };
      this.timers.push(p.setTimeout(up, exponential(random, upMean)));
    }
    for (const s of plan.scheduledOutages) {
      this.timers.push(p.setTimeout(() => { if (!this.stopped) this.setDown(true); }, s.at));
      this.timers.push(p.setTimeout(() => this.setDown(false), s.at + s.duration));
    }
  }

  /** No new faults; an outage in progress ends now (the drain at the end of a run needs a network). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) this.platform.clearTimeout(t);
    this.timers = [];
    this.setDown(false);
  }
}
