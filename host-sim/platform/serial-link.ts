// A virtual serial line between two UART ends, with a baud-rate limit (10 bits per byte on the wire)
// and injectable byte corruption and loss from a seeded generator, so a run can be repeated.
// Each direction is a queue drained at the line's rate; bytes arrive as latin1 strings, as on a board.
import { seededRandom } from './rng';

export interface LineOptions {
  baud?: number;
  /** Probability that a byte has one bit flipped. */
  corrupt?: number;
  /** Probability that a byte is lost. */
  loss?: number;
  seed?: number;
}

/** One direction of the line. */
class Direction {
  private queue: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  corrupted = 0;
  lost = 0;
  constructor(private readonly bytesPerMs: number, private readonly options: LineOptions, private readonly rand: () => number,
    private readonly deliver: (data: string) => void) {}

  send(data: string | Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.queue.push(typeof data === 'string' ? data.charCodeAt(i) & 255 : data[i]);
    if (!this.timer) { this.last = performance.now(); this.timer = setTimeout(() => this.drain(), 1); }
  }

  private drain(): void {
    const now = performance.now();
    const n = Math.max(1, Math.floor((now - this.last) * this.bytesPerMs));
    this.last = now;
    const bytes = this.queue.splice(0, n);
    let s = '';
    for (let b of bytes) {
      if (this.options.loss && this.rand() < this.options.loss) { this.lost++; continue; }
      if (this.options.corrupt && this.rand() < this.options.corrupt) { b ^= 1 << Math.floor(this.rand() * 8); this.corrupted++; }
      s += String.fromCharCode(b);
    }
    if (s) this.deliver(s);
    this.timer = this.queue.length ? setTimeout(() => this.drain(), 2) : null;
  }

  stop(): void { if (this.timer) clearTimeout(this.timer); this.timer = null; this.queue = []; }
}

/**
 * The line: `a.write()` reaches `b`'s data handlers and back. `toB`/`toA` counters tell what the
 * noise did. Ends look like Espruino UARTs: write(string) and on('data', fn).
 */
export function serialLine(options: LineOptions = {}) {
  const rand = seededRandom(options.seed || 1);
  const bytesPerMs = (options.baud || 115200) / 10 / 1000;
  const handlers: { a: Array<(d: string) => void>; b: Array<(d: string) => void> } = { a: [], b: [] };
  const toB = new Direction(bytesPerMs, options, rand, (d) => handlers.b.forEach((h) => h(d)));
  const toA = new Direction(bytesPerMs, options, rand, (d) => handlers.a.forEach((h) => h(d)));
  const end = (side: 'a' | 'b', dir: Direction) => ({
    write: (data: string | Uint8Array) => dir.send(data),
    on: (_event: 'data', fn: (d: string) => void) => { handlers[side].push(fn); },
  });
  return { a: end('a', toB), b: end('b', toA), toA, toB, stop: () => { toA.stop(); toB.stop(); } };
}
