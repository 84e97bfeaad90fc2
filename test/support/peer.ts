// A scripted peer for the sans-IO Session: the test plays the broker packet by packet, in virtual time.
// What the session writes is copied (its buffer is reused) and decoded by the firmware codec's server
// side; what the "broker" says is encoded by the same codec and fed back in.
import { copyPacket, encodePacket, PacketReader } from '../../firmware/mqtt';
import type { DecodedPacket, Packet } from '../../firmware/mqtt';
import { createSession, Session, SessionError, SessionOptions } from '../../firmware/mqtt/session';

export type Sent = DecodedPacket & { [field: string]: any };

export class Peer {
  readonly session: Session;
  readonly version: number;
  /** Everything the session wrote, as raw bytes, in order; `take()` decodes and empties it. */
  private raw: Uint8Array[] = [];
  /** Events the session reported: [name, a, b]. Message payloads are copied. */
  events: Array<[string, any?, any?]> = [];
  now = 0;

  constructor(options: Partial<SessionOptions> = {}) {
    this.session = createSession({ clientId: 'c1', ...options } as SessionOptions, {
      write: (bytes, n) => { this.raw.push(bytes.slice(0, n)); },
      event: (name, a, b) => {
        this.events.push(name === 'message' ? [name, a, Buffer.from(b as Uint8Array).toString()] : [name, a, b]);
      },
    });
    this.version = this.session.version;
  }

  /** Packets written since the last take, decoded. */
  take(): Sent[] {
    const reader = new PacketReader({ protocolVersion: this.version });
    const out: Sent[] = [];
    for (const b of this.raw) {
      // a reader per packet: CONNECT switches a server reader's version, and each write is one whole packet
      const r = b[0] >> 4 === 1 ? new PacketReader({ protocolVersion: 4 }) : reader;
      const error = r.push(b, (p) => { out.push(copyPacket(p) as Sent); });
      if (error) throw new Error('session wrote a malformed packet: ' + error.message);
    }
    this.raw = [];
    return out;
  }

  /** Raw bytes written since the last take (for DUP bits and sizes), emptied. */
  takeRaw(): Uint8Array[] {
    const r = this.raw;
    this.raw = [];
    return r;
  }

  /** Feeds one packet from the "broker". */
  feed(p: Packet): void {
    this.session.data(encodePacket(p, { protocolVersion: this.version }), this.now);
  }

  /** The transport comes up, CONNECT goes out and the broker answers with this CONNACK. Returns the CONNECT. */
  connect(connack: { sessionPresent?: boolean; returnCode?: number; reasonCode?: number; properties?: object } = {}): Sent {
    this.session.start(this.now);
    const connect = this.take()[0];
    this.feed({ cmd: 'connack', sessionPresent: false, returnCode: 0, reasonCode: 0, ...connack } as Packet);
    return connect;
  }

  /** The link drops (the driver saw the socket close). */
  cut(): void {
    this.session.stop();
    this.raw = [];
  }

  /** Publishes and records the callback's result in `results` under `name`. */
  publish(results: { [name: string]: SessionError | null | 'pending' }, name: string, qos: number, topic = 't/' + name, payload: string | Uint8Array = name, properties?: object): boolean {
    results[name] = 'pending';
    return this.session.publish(topic, payload, qos, false, properties, (e) => { results[name] = e; }, this.now);
  }

  messages(): string[] {
    return this.events.filter((e) => e[0] === 'message').map((e) => e[1] + ' ' + e[2]);
  }

  errors(): SessionError[] {
    return this.events.filter((e) => e[0] === 'error').map((e) => e[1]);
  }
}

/** A short summary of a packet the session sent: "publish q1 #3 t/a dup", "pubrel #3", "puback #7". */
export function brief(p: Sent): string {
  if (p.cmd === 'publish') {
    return ['publish', 'q' + p.qos, p.messageId ? '#' + p.messageId : '', p.topic, p.dup ? 'dup' : ''].filter(Boolean).join(' ');
  }
  return p.cmd + (p.messageId ? ' #' + p.messageId : '');
}
