// Durable state in LMDB (the `lmdb` package): retained messages, persistent sessions (subscriptions,
// QoS 2 ids awaiting PUBREL) and the QoS >= 1 messages queued or in flight to them.
//
// Write strategy: every change is a `put`/`remove` that lmdb-js batches into one transaction per event
// loop turn and commits on its writer thread. The broker acknowledges a QoS >= 1 publish only after the
// transaction holding its writes has committed (or, with `fsync`, after it is flushed to disk), so a
// message the publisher saw acknowledged is in the database. A committed transaction lives in the
// operating system's page cache and survives the broker being killed (`kill -9`); only `fsync` makes it
// survive a power cut or kernel crash as well. See docs/broker.md.
import { createHash } from 'crypto';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { Clock } from './clock';
import type { Message } from './message';
import type { Delivery, Session } from './sessions';
import type { SubEntry } from './topic-tree';

export interface SessionRecord {
  clientId: string;
  username?: string;
  expiry: number;
  subs: Omit<SubEntry<unknown>, 'session'>[];
  incoming: number[];
  /** Clock time (epoch ms) when its client went away; 0 while it was connected. */
  disconnectedAt: number;
  deliveries: Delivery[];
}

interface StoredDelivery extends Omit<Delivery, 'msg'> { msg: Message; }

/**
 * LMDB refuses keys over 1,978 bytes, and MQTT allows topics and client ids up to 65,535. A name longer
 * than this (in UTF-8) is stored under U+0000 and its SHA-256: U+0000 cannot occur in an MQTT string
 * [MQTT-1.5.4-2], so a hashed key never equals a plain one. The full name is in the stored value.
 */
const MAX_PLAIN_KEY = 1900;

function storeKey(name: string): string {
  return Buffer.byteLength(name) <= MAX_PLAIN_KEY ? name : '\u0000' + createHash('sha256').update(name).digest('hex');
}

export class Persistence {
  private pending = 0;
  private last: Promise<unknown> = Promise.resolve();
  private seq = 0;

  private constructor(
    private root: RootDatabase,
    private retained: Database<Message, string>,
    private sessions: Database<Omit<SessionRecord, 'deliveries'>, string>,
    private queue: Database<StoredDelivery, [string, number]>,
    private fsync: boolean,
    private clock: Clock,
  ) {}

  static open(dir: string, fsync: boolean, clock: Clock): Persistence {
    const root = open({ path: dir, compression: false });
    return new Persistence(root, root.openDB({ name: 'retained' }), root.openDB({ name: 'sessions' }),
      root.openDB({ name: 'queue' }), fsync, clock);
  }

  /** True while some write is not yet committed. */
  get dirty(): boolean { return this.pending > 0; }

  /** Resolves once every write made so far is committed (flushed to disk with fsync). */
  written(): Promise<unknown> {
    return this.fsync ? this.last.then(() => this.root.flushed) : this.last;
  }

  private track(p: Promise<unknown>): void {
    this.pending++;
    this.last = p;
    p.then(() => { this.pending--; }, () => { this.pending--; });
  }

  saveRetained(m: Message): void {
    this.track(this.retained.put(storeKey(m.topic), m));
  }

  deleteRetained(topic: string): void {
    this.track(this.retained.remove(storeKey(topic)));
  }

  saveSession(s: Session): void {
    if (!s.persistent) return;
    const subs = [...s.subs.values()].map(({ session: _omit, ...rest }) => rest);
    this.track(this.sessions.put(storeKey(s.clientId), {
      clientId: s.clientId, username: s.username, expiry: s.expiry, subs, incoming: [...s.incoming],
      disconnectedAt: s.conn ? 0 : this.clock.now(),
    }));
  }

  deleteSession(s: Session): void {
    this.track(this.sessions.remove(storeKey(s.clientId)));
    for (const d of s.queue.toArray()) if (d.seq) this.deleteDelivery(s, d);
    for (const d of s.inflight.values()) if (d.seq) this.deleteDelivery(s, d);
    for (const key of this.queue.getKeys({ start: [storeKey(s.clientId)], end: [storeKey(s.clientId), Number.MAX_SAFE_INTEGER] })) {
      this.track(this.queue.remove(key as [string, number]));
    }
  }

  /** Stores (or updates: packet id, PUBREL state) one message queued for a session. */
  saveDelivery(s: Session, d: Delivery): void {
    if (!d.seq) d.seq = ++this.seq;
    this.track(this.queue.put([storeKey(s.clientId), d.seq], d));
  }

  deleteDelivery(s: Session, d: Delivery): void {
    this.track(this.queue.remove([storeKey(s.clientId), d.seq]));
  }

  /** Everything stored, for a broker starting up. */
  load(): { retained: Message[]; sessions: SessionRecord[] } {
    const now = this.clock.now();
    const retained: Message[] = [];
    for (const { value } of this.retained.getRange()) {
      if (!value.expiresAt || value.expiresAt > now) retained.push(value);
    }
    const sessions: SessionRecord[] = [];
    for (const { value } of this.sessions.getRange()) {
      const deliveries: Delivery[] = [];
      for (const { key, value: d } of this.queue.getRange({ start: [storeKey(value.clientId)], end: [storeKey(value.clientId), Number.MAX_SAFE_INTEGER] })) {
        d.seq = (key as [string, number])[1];
        if (d.seq > this.seq) this.seq = d.seq;
        deliveries.push(d);
      }
      sessions.push({ ...value, disconnectedAt: value.disconnectedAt || now, deliveries });
    }
    return { retained, sessions };
  }

  async close(): Promise<void> {
    await this.last.catch(() => undefined);
    await this.root.close();
  }
}
