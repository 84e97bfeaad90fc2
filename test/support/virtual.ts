// A Platform in virtual time for client tests: timers sit in a priority queue and run only when the
// test advances the clock, and sockets are in-memory pipes whose far end the test plays (accepts,
// answers with packets from the firmware codec, or cuts). No real sleeps, so hours of backoff take
// microseconds and every deadline is exact.
import { copyPacket, encodePacket, PacketReader } from '../../firmware/mqtt';
import type { DecodedPacket, Packet } from '../../firmware/mqtt';
import type { ConnectTarget, Platform, PlatformSocket, SocketHandlers } from '../../firmware/platform';

interface Timer { at: number; seq: number; fn: () => void }

/** The test's end of one connection the client opened. */
export class FarEnd {
  /** Packets the client sent, decoded; `next()` takes them in order. */
  readonly packets: Array<DecodedPacket & { [f: string]: any }> = [];
  /** Raw bytes the client wrote, for transports that are not MQTT on the wire. */
  readonly bytes: Uint8Array[] = [];
  ended = false;
  closed = false;
  private reader: PacketReader;

  constructor(readonly target: ConnectTarget, readonly handlers: SocketHandlers, readonly openedAt: number, readonly version: number) {
    this.reader = new PacketReader({ protocolVersion: version });
  }

  /** The TCP handshake completes. */
  accept(): void { this.handlers.open(); }

  send(p: Packet): void { this.handlers.data(encodePacket(p, { protocolVersion: this.version })); }

  /** The network drops the connection. */
  cut(reason = 'socket closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.close(reason);
  }

  cmds(): string[] { return this.packets.map((p) => p.cmd); }

  /** Called by the pipe for each write of the client. */
  received(bytes: Uint8Array): void {
    this.bytes.push(bytes);
    const reader = bytes[0] >> 4 === 1 ? new PacketReader({ protocolVersion: 4 }) : this.reader;
    reader.push(bytes, (p) => { this.packets.push(copyPacket(p) as any); });
  }
}

export class VirtualPlatform implements Platform {
  private time = 0;
  private seq = 0;
  private timers: Timer[] = [];
  /** Every connection the client opened, in order. */
  readonly ends: FarEnd[] = [];
  /** What connect() does: by default the test's far end waits for accept(); 'throw' fails at once, as Linux Espruino does. */
  onConnect: (end: FarEnd) => void | 'throw' = () => undefined;
  randoms: number[] = [];
  lines: string[] = [];

  constructor(readonly version = 4) {}

  now(): number { return this.time; }

  setTimeout(fn: () => void, ms: number): unknown {
    const t = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    // sorted by time, then by order of scheduling, as real timers fire
    let i = this.timers.length;
    while (i > 0 && (this.timers[i - 1].at > t.at || (this.timers[i - 1].at === t.at && this.timers[i - 1].seq > t.seq))) i--;
    this.timers.splice(i, 0, t);
    return t;
  }

  clearTimeout(handle: unknown): void {
    const i = this.timers.indexOf(handle as Timer);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** Scripted values first, then a fixed 0.5, so that delays are exact. */
  random(): number { return this.randoms.length ? (this.randoms.shift() as number) : 0.5; }

  log(line: string): void { this.lines.push(line); }

  connect(target: ConnectTarget, handlers: SocketHandlers): PlatformSocket {
    const end = new FarEnd(target, handlers, this.time, this.version);
    this.ends.push(end);
    if (this.onConnect(end) === 'throw') throw new Error('ECONNREFUSED');
    return {
      write: (bytes, n) => { if (!end.closed) end.received(bytes.slice(0, n)); },
      end: () => { end.ended = true; end.closed = true; },
    };
  }

  /** Runs every timer due up to now + ms, in order, moving the clock to each. */
  advance(ms: number): void {
    const until = this.time + ms;
    while (this.timers.length && this.timers[0].at <= until) {
      const t = this.timers.shift() as Timer;
      this.time = t.at;
      t.fn();
    }
    this.time = until;
  }

  /** Advances to the next timer, if any, and runs it; returns false when none is pending. */
  step(): boolean {
    if (!this.timers.length) return false;
    this.advance(this.timers[0].at - this.time);
    return true;
  }

  /** The last connection opened. */
  get end(): FarEnd { return this.ends[this.ends.length - 1]; }

  pending(): number { return this.timers.length; }
}
