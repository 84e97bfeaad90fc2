// A Platform in virtual time for client tests: timers sit in a priority queue and run only when the
// test advances the clock, and sockets are in-memory pipes whose far end the test plays (accepts,
// answers with packets from the firmware codec, or cuts). No real sleeps, so hours of backoff take
// microseconds and every deadline is exact.
import { copyPacket, encodePacket, PacketReader } from '../../firmware/mqtt';
import type { DecodedPacket, Packet } from '../../firmware/mqtt';
import type { ConnectTarget, Platform, PlatformSocket, SocketHandlers } from '../../firmware/platform';
import { VirtualClock } from '../../host-sim/platform/clock';

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
  /** The simulator's discrete-event clock: timers fire only when the test advances it. */
  private readonly clock = new VirtualClock();
  /** Every connection the client opened, in order. */
  readonly ends: FarEnd[] = [];
  /** What connect() does: by default the test's far end waits for accept(); 'throw' fails at once, as Linux Espruino does. */
  onConnect: (end: FarEnd) => void | 'throw' = () => undefined;
  randoms: number[] = [];
  lines: string[] = [];

  constructor(readonly version = 4) {}

  now(): number { return this.clock.now(); }

  setTimeout(fn: () => void, ms: number): unknown { return this.clock.setTimeout(fn, ms); }

  clearTimeout(handle: unknown): void { this.clock.clearTimeout(handle); }

  /** Scripted values first, then a fixed 0.5, so that delays are exact. */
  random(): number { return this.randoms.length ? (this.randoms.shift() as number) : 0.5; }

  log(line: string): void { this.lines.push(line); }

  connect(target: ConnectTarget, handlers: SocketHandlers): PlatformSocket {
    const end = new FarEnd(target, handlers, this.clock.now(), this.version);
    this.ends.push(end);
    if (this.onConnect(end) === 'throw') throw new Error('ECONNREFUSED');
    return {
      write: (bytes, n) => { if (!end.closed) end.received(bytes.slice(0, n)); },
      end: () => { end.ended = true; end.closed = true; },
    };
  }

  /** Runs every timer due up to now + ms, in order, moving the clock to each. */
  advance(ms: number): void {
    this.clock.runUntil(this.clock.now() + ms);
  }

  /** Advances to the next timer, if any, and runs it; returns false when none is pending. */
  step(): boolean {
    const at = this.clock.nextAt();
    if (at === Infinity) return false;
    this.clock.runUntil(at);
    return true;
  }

  /** The last connection opened. */
  get end(): FarEnd { return this.ends[this.ends.length - 1]; }

  pending(): number { return this.clock.pending; }
}
