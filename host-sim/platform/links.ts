// In-memory links: one byte pipe each way between a board's socket and the broker, on the virtual
// clock. A pipe keeps TCP's promises (bytes arrive once, in order) and breaks all the others the way
// networks do: latency and jitter, a bandwidth cap, writes split into random pieces or merged with the
// next ones. Random choices come from the link's own seeded stream. Faults that end or silence a link
// (cuts, half-open, outages) are the board's (faults.ts); here are only the verbs they use.
import type { Link, LinkEvents } from '../../broker/link';
import type { VirtualClock, VirtualTimer } from './clock';
import type { PlatformSocket, SocketHandlers } from '../../firmware/platform';
import { deliverAsEspruino } from './node';
import type { Random } from './rng';

/** How a link carries bytes. Times in ms, bandwidth in bytes per second (0: unlimited). */
export interface LinkShape {
  latency: number;
  jitter: number;
  bandwidth: number;
  /** Probability that a delivery is cut into random pieces. */
  split: number;
  /** Probability that a delivery waits for the next write and goes out together with it. */
  merge: number;
}

export const PERFECT: LinkShape = { latency: 1, jitter: 0, bandwidth: 0, split: 0, merge: 0 };

/** A board socket that can also be dropped at once, as a pulled cable or a reset would. */
export interface AbortableSocket extends PlatformSocket {
  abort(reason: string): void;
}

/** Sees bytes about to be delivered; a test may cut the link right there, and then they are not. */
export type Tap = (direction: 'up' | 'down', bytes: Uint8Array) => void;

/** Bytes on their way and when they arrive (a class, not a literal: see VirtualTimer). */
class Segment {
  constructor(readonly bytes: Uint8Array, readonly at: number) {}
}

class Pipe {
  private segments: Segment[] = [];
  private timer: VirtualTimer | null = null;
  private lastAt = 0;
  private busyUntil = 0;
  pendingBytes = 0;
  paused = false;
  ending = false;

  /** `up`: board to broker; else broker to board. (The link, not two closures per pipe: a fleet has 200,000 pipes.) */
  constructor(
    private readonly clock: VirtualClock, private readonly shape: LinkShape, private readonly random: Random,
    private readonly link: MemoryLink, private readonly up: boolean,
  ) {}

  private deliver(bytes: Uint8Array): void {
    this.link.arrived(this.up, bytes);
  }

  private ended(): void {
    this.link.finished(this.up);
  }

  write(bytes: Uint8Array): void {
    const now = this.clock.now(), s = this.shape;
    let at = now + s.latency + (s.jitter ? this.random() * s.jitter : 0);
    if (s.bandwidth) {
      this.busyUntil = Math.max(now, this.busyUntil) + (bytes.length * 1000) / s.bandwidth;
      at = Math.max(at, this.busyUntil + s.latency);
    }
    at = Math.max(at, this.lastAt); // jitter never reorders a byte stream
    this.lastAt = at;
    this.segments.push(new Segment(bytes, at));
    this.pendingBytes += bytes.length;
    this.schedule();
  }

  /** Closes this direction after what was written has arrived (a FIN). */
  end(): void {
    this.ending = true;
    if (!this.segments.length) this.finish();
  }

  drop(): void {
    this.segments.length = 0;
    this.pendingBytes = 0;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  private finish(): void {
    this.ending = false;
    this.ended();
  }

  private schedule(): void {
    if (this.timer || this.paused || !this.segments.length) return;
    this.timer = this.clock.setTimeout(() => { this.timer = null; this.fire(); }, this.segments[0].at - this.clock.now());
  }

  private fire(): void {
    if (this.paused) return;
    const now = this.clock.now(), segs = this.segments;
    let n = 0, bytes = 0;
    while (n < segs.length && segs[n].at <= now) bytes += segs[n++].bytes.length;
    if (n < segs.length && this.shape.merge && this.random() < this.shape.merge) { this.schedule(); return; }
    const chunk = n === 1 ? segs[0].bytes : concat(segs, n, bytes);
    segs.splice(0, n);
    this.pendingBytes -= bytes;
    if (this.shape.split && chunk.length > 1 && this.random() < this.shape.split) {
      let from = 0;
      while (from < chunk.length) {
        const size = 1 + Math.floor(this.random() * (chunk.length - from));
        this.deliver(chunk.subarray(from, from + size));
        from += size;
      }
    } else {
      this.deliver(chunk);
    }
    if (!segs.length && this.ending) this.finish();
    this.schedule();
  }
}

/** The firmware's socket on a MemoryLink. */
class BoardEnd implements AbortableSocket {
  constructor(private readonly link: MemoryLink) {}
  write(bytes: Uint8Array, n: number): void { this.link.boardWrite(bytes, n); }
  end(): void { this.link.boardEnd(); }
  abort(reason: string): void { this.link.cut(reason); }
}

/** The broker's Link on a MemoryLink. */
class BrokerEnd implements Link {
  readonly transport = 'tcp' as const;
  constructor(private readonly link: MemoryLink, readonly remote: string) {}
  write(bytes: Uint8Array): void { this.link.brokerWrite(bytes); }
  buffered(): number { return this.link.brokerBuffered(); }
  pause(): void { this.link.pauseUp(true); }
  resume(): void { this.link.pauseUp(false); }
  end(): void { this.link.brokerEnd(); }
  destroy(): void { this.link.brokerDestroy(); }
  listen(events: LinkEvents): void { this.link.listen(events); }
}

function concat(segs: Segment[], n: number, total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < n; i++) { out.set(segs[i].bytes, at); at += segs[i].bytes.length; }
  return out;
}

/**
 * A connected pair: `board` is the firmware's socket (data reaches it as strings of at most 536 chars),
 * `broker` is a Link the in-process broker attaches to. `cut()` drops it for both ends at once;
 * `silence()` makes it half-open: every byte after that is lost and neither end hears of a close.
 */
export class MemoryLink {
  readonly board: AbortableSocket;
  readonly broker: Link;
  tap: Tap | null = null;
  private up: Pipe;
  private down: Pipe;
  private events: LinkEvents | null = null;
  private boardOpen = true;
  private brokerOpen = true;
  private silent = false;

  constructor(clock: VirtualClock, shape: LinkShape, random: Random, private readonly handlers: SocketHandlers, remote: string) {
    this.up = new Pipe(clock, shape, random, this, true);
    this.down = new Pipe(clock, shape, random, this, false);
    this.board = new BoardEnd(this);
    this.broker = new BrokerEnd(this, remote);
  }

  /** A pipe delivered bytes: to the broker (up) or to the board. */
  arrived(up: boolean, bytes: Uint8Array): void {
    if (up) this.toBroker(bytes);
    else this.toBoard(bytes);
  }

  /** A pipe's FIN arrived. The broker's: the board hears the close, and the broker's side is done too. */
  finished(up: boolean): void {
    if (!up) this.closeBoard('socket closed');
    this.closeBroker();
  }

  // the board's end (BoardEnd calls these)

  boardWrite(bytes: Uint8Array, n: number): void {
    // the session reuses its output buffer: keep a copy, as the kernel would
    if (this.boardOpen && !this.silent) this.up.write(bytes.slice(0, n));
  }

  boardEnd(): void {
    this.boardOpen = false;
    if (!this.silent) this.up.end();
  }

  // the broker's end (BrokerEnd calls these)

  brokerWrite(bytes: Uint8Array): void {
    if (this.brokerOpen && !this.silent) this.down.write(bytes);
  }

  brokerBuffered(): number {
    return this.down.pendingBytes;
  }

  pauseUp(paused: boolean): void {
    if (paused) this.up.paused = true;
    else this.up.resume();
  }

  brokerEnd(): void {
    if (this.brokerOpen && !this.silent) this.down.end();
  }

  brokerDestroy(): void {
    if (this.brokerOpen) this.cut('connection reset by broker');
  }

  listen(events: LinkEvents): void {
    this.events = events;
  }

  get isOpen(): boolean {
    return this.boardOpen || this.brokerOpen;
  }

  /** Both ends see the link go, now (a reset); what was on the way is lost. */
  cut(reason: string): void {
    this.up.drop();
    this.down.drop();
    this.closeBoard(reason);
    this.closeBroker();
  }

  /** Half-open: from now on nothing gets through and nobody is told. */
  silence(): void {
    this.silent = true;
    this.up.drop();
    this.down.drop();
  }

  private toBroker(bytes: Uint8Array): void {
    if (this.tap) this.tap('up', bytes);
    if (this.brokerOpen && !this.silent && this.events) this.events.data(bytes);
  }

  private toBoard(bytes: Uint8Array): void {
    if (this.tap) this.tap('down', bytes);
    if (this.boardOpen && !this.silent) deliverAsEspruino(bytes, this.handlers);
  }

  private closeBoard(reason: string): void {
    const was = this.boardOpen;
    this.boardOpen = false;
    if (was) this.handlers.close(reason);
  }

  private closeBroker(): void {
    if (!this.brokerOpen) return;
    this.brokerOpen = false;
    if (this.events) this.events.close();
  }
}
