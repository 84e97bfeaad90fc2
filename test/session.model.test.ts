// Model-based test of the QoS engine: the Session against an honest scripted broker (it follows the
// spec and keeps its own session state while the session is present), over a link that can be cut at
// any step of the QoS 1 and QoS 2 handshakes in either direction. The broker may keep the session
// across a reconnect or lose it. Asserted: at-least-once for QoS 1, exactly-once for QoS 2 (while the
// session survives), and no accepted QoS>=1 message ever lost.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { copyPacket, encodePacket, PacketReader } from '../firmware/mqtt';
import type { Packet } from '../firmware/mqtt';
import { createSession, Session, ONLINE } from '../firmware/mqtt/session';

type Out = { id: number; qos: number; payload: string; state: 'publish' | 'pubrel'; sent: boolean };

/** The broker, as the spec has it: QoS 2 ids held from PUBREC to PUBREL (method B of 4.3.3), in-flight resent in order. */
class Broker {
  delivered: string[] = [];
  held = new Set<number>();
  out: Out[] = [];
  nextId = 0;
  connected = false;
  hasSession = false;

  constructor(readonly send: (p: Packet) => void) {}

  receive(p: any): void {
    switch (p.cmd) {
      case 'connect': {
        const present = this.hasSession && !p.clean;
        if (!present) { this.held.clear(); this.out = []; }
        this.hasSession = true;
        this.connected = true;
        this.send({ cmd: 'connack', sessionPresent: present, returnCode: 0, reasonCode: 0 });
        for (const m of this.out) m.sent = false;
        this.flush(true);
        return;
      }
      case 'publish': {
        const payload = Buffer.from(p.payload).toString();
        if (p.qos === 0) { this.delivered.push(payload); return; }
        if (p.qos === 1) { this.delivered.push(payload); this.send({ cmd: 'puback', messageId: p.messageId }); return; }
        if (!this.held.has(p.messageId)) { this.held.add(p.messageId); this.delivered.push(payload); }
        this.send({ cmd: 'pubrec', messageId: p.messageId });
        return;
      }
      case 'pubrel': this.held.delete(p.messageId); this.send({ cmd: 'pubcomp', messageId: p.messageId }); return;
      case 'puback': case 'pubcomp': {
        const k = this.out.findIndex((m) => m.id === p.messageId && (p.cmd === 'puback' ? m.qos === 1 : m.state === 'pubrel'));
        if (k >= 0) this.out.splice(k, 1);
        return;
      }
      case 'pubrec': {
        const m = this.out.find((x) => x.id === p.messageId && x.qos === 2);
        if (m) m.state = 'pubrel';
        this.send({ cmd: 'pubrel', messageId: p.messageId });
        return;
      }
    }
    throw new Error('broker model got ' + p.cmd);
  }

  publish(qos: number, payload: string): void {
    let id = this.nextId;
    do id = id % 65535 + 1; while (this.out.some((m) => m.id === id));
    this.nextId = id;
    this.out.push({ id, qos, payload, state: 'publish', sent: false });
    this.flush(false);
  }

  /** Sends what this link has not carried yet; after a CONNACK with the session present, as DUP [MQTT-4.4.0-1]. */
  private flush(resumed: boolean): void {
    if (!this.connected) return;
    for (const m of this.out) {
      if (m.sent) continue;
      m.sent = true;
      if (m.state === 'pubrel') this.send({ cmd: 'pubrel', messageId: m.id });
      else this.send({ cmd: 'publish', topic: 'in', payload: m.payload, qos: m.qos as 1, messageId: m.id, dup: resumed });
    }
  }

  cut(keepSession: boolean): void {
    this.connected = false;
    if (!keepSession) { this.hasSession = false; this.held.clear(); this.out = []; }
  }
}

type Cmd =
  | { k: 'pub'; qos: 0 | 1 | 2; chain?: boolean } | { k: 'bpub'; qos: 1 | 2 }
  | { k: 'toBroker' } | { k: 'toClient' }
  | { k: 'cut'; keep: boolean } | { k: 'reconnect' };

/** One client, one broker, one link; records what each side delivered and which messages lived through a lost session. */
class World {
  readonly session: Session;
  readonly broker: Broker;
  toBroker: Uint8Array[] = [];
  toClient: Uint8Array[] = [];
  received: string[] = [];
  /** Client messages: qos, accepted, completed, and whether a session loss happened while it was open. */
  sent = new Map<string, { qos: number; done: boolean; lossDuring: boolean }>();
  /** Broker messages, likewise (open until the broker's session lets go of it). */
  brokerSent = new Map<string, { qos: number; lossDuring: boolean }>();
  up = false;
  n = 0;

  constructor(readonly version: number) {
    const reader = new PacketReader({ protocolVersion: version });
    this.broker = new Broker((p) => this.toClient.push(encodePacket(p, { protocolVersion: version })));
    this.session = createSession({ clientId: 'm1', clean: false, protocolVersion: version, keepalive: 0, storeSlots: 8, storeBytes: 160, inflightMax: 3 }, {
      write: (bytes, n) => { this.toBroker.push(bytes.slice(0, n)); },
      event: (name, a, b) => {
        if (name === 'message') this.received.push(Buffer.from(b as Uint8Array).toString());
        if (name === 'close') this.up = false;
        if (name === 'error') throw new Error('unexpected error event: ' + JSON.stringify(a));
      },
    });
    this.brokerReader = (bytes) => {
      const r = bytes[0] >> 4 === 1 ? new PacketReader({ protocolVersion: 4 }) : reader;
      const e = r.push(bytes, (p) => this.broker.receive(copyPacket(p)));
      if (e) throw new Error('broker model could not decode: ' + e.message);
    };
  }

  private brokerReader: (bytes: Uint8Array) => void;

  run(c: Cmd): void {
    switch (c.k) {
      case 'pub': {
        const name = 'c' + this.n++;
        const entry = { qos: c.qos, done: false, lossDuring: false };
        const ok = this.session.publish('out', name, c.qos, false, undefined, (e) => {
          // QoS 0 may be dropped for room; anything else an honest broker completes
          if (c.qos) assert.equal(e, null, name + ' failed');
          entry.done = true;
          // a publisher that publishes again from its callback (while the session walks its store)
          if (c.chain) this.run({ k: 'pub', qos: 1 });
        }, 0);
        if (ok && c.qos) this.sent.set(name, entry);
        return;
      }
      case 'bpub': {
        if (!this.broker.hasSession) return; // no session yet: no subscriber to publish to
        const name = 'b' + this.n++;
        this.brokerSent.set(name, { qos: c.qos, lossDuring: false });
        this.broker.publish(c.qos, name);
        return;
      }
      case 'toBroker': { const b = this.toBroker.shift(); if (b) this.brokerReader(b); return; }
      case 'toClient': { const b = this.toClient.shift(); if (b) this.session.data(b, 0); return; }
      case 'cut':
        if (!this.up) return;
        this.up = false;
        this.toBroker = [];
        this.toClient = [];
        this.session.stop();
        this.broker.cut(c.keep);
        if (!c.keep) {
          for (const m of this.sent.values()) if (!m.done) m.lossDuring = true;
          for (const m of this.brokerSent.values()) m.lossDuring = true;
        }
        return;
      case 'reconnect':
        if (this.up) return;
        this.up = true;
        this.session.start(0);
        return;
    }
  }

  /** Reconnects if needed and carries every packet until both sides are quiet. */
  settle(): void {
    for (let round = 0; round < 1000; round++) {
      if (!this.up) this.run({ k: 'reconnect' });
      if (!this.toBroker.length && !this.toClient.length) return;
      this.run({ k: 'toBroker' });
      this.run({ k: 'toClient' });
    }
    throw new Error('the link never went quiet');
  }

  check(): void {
    assert.equal(this.session.state, ONLINE);
    assert.equal(this.session.queued(), 0, 'every accepted message completed');
    for (const [name, m] of this.sent) {
      assert.ok(m.done, name + ' completed');
      const times = this.broker.delivered.filter((x) => x === name).length;
      assert.ok(times >= 1, `${name} (QoS ${m.qos}) lost`);
      if (m.qos === 2 && !m.lossDuring) assert.equal(times, 1, `${name} (QoS 2) delivered ${times} times`);
    }
    for (const [name, m] of this.brokerSent) {
      const times = this.received.filter((x) => x === name).length;
      if (!m.lossDuring) assert.ok(times >= 1, `${name} (QoS ${m.qos}) never received`);
      if (m.qos === 2) assert.ok(times <= 1, `${name} (QoS 2) received ${times} times`);
    }
  }
}

function scenario(version: number, cmds: Cmd[]): World {
  const w = new World(version);
  w.run({ k: 'reconnect' });
  for (const c of cmds) w.run(c);
  w.settle();
  w.check();
  return w;
}

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<Cmd>({ k: 'pub', qos: 1 }, { k: 'pub', qos: 2 }, { k: 'bpub', qos: 1 }, { k: 'bpub', qos: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom<Cmd>({ k: 'pub', qos: 0 }, { k: 'pub', qos: 0, chain: true }, { k: 'pub', qos: 1, chain: true }) },
  { weight: 8, arbitrary: fc.constantFrom<Cmd>({ k: 'toBroker' }, { k: 'toClient' }) },
  { weight: 2, arbitrary: fc.constantFrom<Cmd>({ k: 'cut', keep: true }, { k: 'cut', keep: false }, { k: 'reconnect' }) },
);

for (const version of [4, 5]) {
  const V = version === 5 ? 'MQTT 5' : 'MQTT 3.1.1';
  describe(`session model ${V}: cuts at every step of the handshakes`, () => {
    for (const dir of ['pub', 'bpub'] as const) {
      for (const qos of [1, 2] as const) {
        for (const keep of [true, false]) {
          const what = `${dir === 'pub' ? 'client -> broker' : 'broker -> client'} QoS ${qos}, ${keep ? 'session present' : 'session lost'}`;
          it(`${what}: ${qos === 1 ? 'at least once' : 'exactly once'}, nothing lost, for a cut after each packet [MQTT-4.3.${qos + 1}, MQTT-4.4.0-1]`, () => {
            // the handshake has 2 (QoS 1) or 4 (QoS 2) packets after CONNECT/CONNACK; cut before each, and after the last
            for (let step = 0; step <= 2 + 2 * qos; step++) {
              const cmds: Cmd[] = [{ k: 'toBroker' }, { k: 'toClient' }, { k: dir, qos }];
              for (let s = 0; s < step; s++) cmds.push(s % 2 === (dir === 'pub' ? 0 : 1) ? { k: 'toBroker' } : { k: 'toClient' });
              cmds.push({ k: 'cut', keep }, { k: 'reconnect' }, { k: 'toBroker' }, { k: 'cut', keep }); // and a second cut in the resend
              scenario(version, cmds);
            }
          });
        }
      }
    }

    it('random interleavings of publishes both ways, deliveries, cuts and reconnects keep the guarantees', () => {
      fc.assert(fc.property(fc.array(cmd, { maxLength: 60 }), (cmds) => { scenario(version, cmds); }), { numRuns: 400 });
    });
  });
}
