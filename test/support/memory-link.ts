// The client's end of an in-memory link to a broker Connection: the test sends packets and reads the
// answers, with no socket in between.
import { copyPacket, encodePacket, PacketReader } from '../../firmware/mqtt';
import type { DecodedPacket, Packet } from '../../firmware/mqtt';
import type { Link, LinkEvents } from '../../broker/link';

export type Received = DecodedPacket & { [f: string]: any };

export class ClientEnd implements Link {
  readonly remote = 'memory';
  readonly transport = 'tcp' as const;
  readonly received: Received[] = [];
  ended = false;
  /** Called when the broker ends the link. */
  onEnd = () => {};
  private events: LinkEvents | null = null;
  private reader: PacketReader;

  /**
   * `run` enters the broker's world: on virtual time, the clock's run(), which also flushes its output.
   * `protocolVersion` is the MQTT version both ends speak (5 or 4).
   */
  constructor(private run: (fn: () => void) => void = (fn) => fn(), private protocolVersion = 5) {
    this.reader = new PacketReader({ protocolVersion });
  }

  write(bytes: Uint8Array): void { this.reader.push(bytes, (p) => { this.received.push(copyPacket(p) as any); }); }
  buffered(): number { return 0; }
  pause(): void {}
  resume(): void {}
  end(): void { this.ended = true; this.onEnd(); }
  destroy(): void { this.ended = true; }
  listen(events: LinkEvents): void { this.events = events; }

  send(p: Packet): void { this.sendBytes(encodePacket(p, { protocolVersion: this.protocolVersion })); }
  sendBytes(bytes: Uint8Array): void { this.run(() => this.events!.data(bytes)); }
  cmds(): string[] { return this.received.map((p) => p.cmd); }
  publishes(): Received[] { return this.received.filter((p) => p.cmd === 'publish'); }
}
