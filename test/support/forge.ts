// Bytes the encoder refuses to write (it never writes what the spec does not allow), for tests of how a
// peer answers them: a valid packet is encoded, then patched.
import { encodePacket } from '../../firmware/mqtt';
import type { Packet } from '../../firmware/mqtt';

/** `packet` encoded, then for each `from` of `patches` its first occurrence replaced by `to` (same length, ASCII). */
export function forge(packet: Packet, protocolVersion: number, patches: { [from: string]: string }): Uint8Array {
  const bytes = encodePacket(packet, { protocolVersion });
  for (const [from, to] of Object.entries(patches)) {
    if (from.length !== to.length) throw new Error('forge: from and to must have the same length');
    const at = Buffer.from(bytes).indexOf(from, 0, 'latin1');
    if (at < 0) throw new Error(`forge: "${from}" is not in the packet`);
    for (let i = 0; i < to.length; i++) bytes[at + i] = to.charCodeAt(i);
  }
  return bytes;
}

/** A 3.1.1 CONNECT with an empty client id and Clean Session 0 [MQTT-3.1.3-7 forbids it to a client]. */
export function persistentConnectWithoutId(): Uint8Array {
  const bytes = encodePacket({ cmd: 'connect', protocolVersion: 4, clientId: '', clean: true, keepalive: 0 }, { protocolVersion: 4 });
  bytes[9] &= ~2; // fixed header (2), "MQTT" (6), level (1), then the connect flags
  return bytes;
}
