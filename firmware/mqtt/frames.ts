// Streaming reader: chunks of any size in (Espruino hands sockets' data over in pieces of up to 536
// bytes, several packets or a fraction of one), whole packets out. A packet that lies whole inside a
// chunk is decoded where it lies; only a packet split across chunks is gathered in the reader's own
// buffer, which grows (up to maxPacketSize) only when a larger packet comes.
import { bodyStart, packetLength } from './client-codec';
import { CMD_NAMES, MALFORMED_PACKET, PACKET_TOO_LARGE } from './constants';
import { decodeInto } from './decode';
import { DecodeError, fail, isDecodeError } from './errors';
import { MAX_REMAINING_LENGTH } from './encode';
import type { DecodedPacket } from './packets';

export interface PacketReaderOptions {
  /** 4 for 3.1.1, 5 for MQTT 5. A server's reader switches to the version of the CONNECT it decodes. */
  protocolVersion?: number;
  /** Largest whole packet accepted (spec 3.1.2.11.4); larger ones fail with 0x95 as soon as their length is read. */
  maxPacketSize?: number;
  /** Initial size of the buffer that gathers split packets. */
  bufferSize?: number;
}

/** Called with each decoded packet. The object and its views are reused: copy what must outlive the call. */
export type PacketHandler = (packet: DecodedPacket) => void;

export class PacketReader {
  protocolVersion: number;
  maxPacketSize: number;
  /** The error that ended this stream; every later push returns it. */
  error: DecodeError | null = null;
  private _held: Uint8Array;
  private _heldLength = 0;
  private _scratch: Uint8Array | null = null;
  private _packets: { [type: number]: any } = {};

  constructor(options?: PacketReaderOptions) {
    const o = options || {};
    this.protocolVersion = o.protocolVersion || 4;
    this.maxPacketSize = o.maxPacketSize || MAX_REMAINING_LENGTH + 5;
    this._held = new Uint8Array(o.bufferSize || 256);
  }

  /**
   * Feeds bytes; calls `onPacket` for each whole packet, in order. Returns null, or the DecodeError that
   * makes this connection unusable (close it, in MQTT 5 with a DISCONNECT carrying error.reasonCode).
   * Exceptions thrown by `onPacket` pass through unchanged.
   */
  push(chunk: Uint8Array, onPacket: PacketHandler): DecodeError | null {
    return this._feed(chunk, chunk.length, onPacket);
  }

  /** Feeds a socket string (one char per byte, as Espruino delivers them), copied into a reused buffer. */
  pushString(chunk: string, onPacket: PacketHandler): DecodeError | null {
    const n = chunk.length;
    let s = this._scratch;
    if (!s || s.length < n) s = this._scratch = new Uint8Array(n < 536 ? 536 : n);
    for (let i = 0; i < n; i++) s[i] = chunk.charCodeAt(i);
    return this._feed(s, n, onPacket);
  }

  /** Drops any partial packet and the error, for a new connection. */
  reset(protocolVersion?: number): void {
    this._heldLength = 0;
    this.error = null;
    if (protocolVersion) this.protocolVersion = protocolVersion;
  }

  private _feed(bytes: Uint8Array, end: number, onPacket: PacketHandler): DecodeError | null {
    if (this.error) return this.error;
    try {
      let pos = this._heldLength ? this._complete(bytes, end, onPacket) : 0;
      while (pos < end) {
        const total = this._packetLength(bytes, pos, end);
        if (total < 0 || pos + total > end) {
          this._hold(bytes, pos, end);
          return null;
        }
        this._deliver(bytes, pos, pos + total, onPacket);
        pos += total;
      }
      return null;
    } catch (e) {
      if (!isDecodeError(e)) throw e;
      this._heldLength = 0;
      return (this.error = e);
    }
  }

  /** Adds bytes to the held partial packet; delivers it once whole. Returns how many bytes it used. */
  private _complete(bytes: Uint8Array, end: number, onPacket: PacketHandler): number {
    let used = 0;
    let total = this._packetLength(this._held, 0, this._heldLength);
    // the header itself may be split: take bytes one by one until its length can be read
    while (total < 0 && used < end) {
      this._hold(bytes, used, used + 1);
      used++;
      total = this._packetLength(this._held, 0, this._heldLength);
    }
    if (total < 0) return used;
    const take = Math.min(total - this._heldLength, end - used);
    this._hold(bytes, used, used + take);
    used += take;
    if (this._heldLength === total) {
      this._heldLength = 0;
      this._deliver(this._held, 0, total, onPacket);
    }
    return used;
  }

  /** Appends bytes[from..to) to the held bytes, growing the buffer when a larger packet needs it. */
  private _hold(bytes: Uint8Array, from: number, to: number): void {
    const need = this._heldLength + to - from;
    if (need > this._held.length) {
      let size = this._held.length * 2;
      while (size < need) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this._held.subarray(0, this._heldLength));
      this._held = grown;
    }
    const held = this._held;
    if (to - from > 64) held.set(bytes.subarray(from, to), this._heldLength);
    else for (let i = from, j = this._heldLength; i < to; i++, j++) held[j] = bytes[i]; // no view object per chunk
    this._heldLength = need;
  }

  /** Whole length of the packet starting at `pos`, or -1 while its fixed header is incomplete. */
  private _packetLength(bytes: Uint8Array, pos: number, end: number): number {
    const total = packetLength(bytes, pos, end);
    if (total === -2) fail(MALFORMED_PACKET, 'remaining length longer than 4 bytes'); // [MQTT-1.5.5-1]
    if (total > this.maxPacketSize) fail(PACKET_TOO_LARGE, 'packet of ' + total + ' bytes over the maximum of ' + this.maxPacketSize);
    return total;
  }

  private _deliver(bytes: Uint8Array, start: number, end: number, onPacket: PacketHandler): void {
    const type = bytes[start] >> 4;
    let o = this._packets[type];
    if (!o) o = this._packets[type] = { cmd: CMD_NAMES[type] };
    const level = decodeInto(o, bytes, start, bodyStart(bytes, start), end, this.protocolVersion);
    if (level) this.protocolVersion = level;
    onPacket(o);
  }
}
