// Allocating helpers for tools and tests (not for the board's steady state): one packet to a fresh
// Uint8Array, or bytes to an array of packets that own their data.
import { encode } from './encode';
import { PacketReader } from './frames';
import type { DecodedPacket, Packet } from './packets';

export interface VersionOption {
  /** 4 for 3.1.1 (the default), 5 for MQTT 5. */
  protocolVersion?: number;
}

/** Encodes one packet into a new Uint8Array of exactly its size. */
export function encodePacket(packet: Packet, options?: VersionOption): Uint8Array {
  const version = (options && options.protocolVersion) || 4;
  let buf = new Uint8Array(64);
  let n = encode(packet, version, buf, 0);
  if (n < 0) {
    buf = new Uint8Array(-n);
    n = encode(packet, version, buf, 0);
  }
  return buf.subarray(0, n);
}

/** Decodes every packet in `bytes`; throws the DecodeError ({reasonCode, message}) on malformed input. */
export function decodePackets(bytes: Uint8Array, options?: VersionOption): DecodedPacket[] {
  const reader = new PacketReader({ protocolVersion: (options && options.protocolVersion) || 4 });
  const packets: DecodedPacket[] = [];
  const error = reader.push(bytes, (packet) => { packets.push(copyPacket(packet)); });
  if (error) throw error;
  return packets;
}

/** A deep copy that owns its bytes, without the fields left undefined on the reused object. */
export function copyPacket<T>(value: T): T {
  if (value instanceof Uint8Array) return new Uint8Array(value) as unknown as T;
  if (Array.isArray(value)) return value.map(copyPacket) as unknown as T;
  if (value === null || typeof value !== 'object') return value;
  const copy: { [k: string]: unknown } = {};
  for (const key in value) {
    const v = (value as { [k: string]: unknown })[key];
    // defineProperty, not assignment: a user property may be named `__proto__`
    if (v !== undefined) Object.defineProperty(copy, key, { value: copyPacket(v), enumerable: true, writable: true, configurable: true });
  }
  return copy as T;
}
