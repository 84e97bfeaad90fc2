// One client's session: its subscriptions, the messages queued and in flight towards it (the QoS
// engine's server half), and the QoS 2 packet ids it has sent and not yet released. A session outlives
// its connections until it expires.
import type { QoS } from '../firmware/mqtt';
import type { Timer } from './clock';
import type { Message } from './message';
import type { SubEntry } from './topic-tree';

/** One message on its way to one session. */
export interface Delivery {
  msg: Message;
  qos: QoS;
  retain: boolean;
  subIds?: number[];
  /** Packet id once in flight, else 0. */
  id: number;
  /** QoS 2: PUBREC received and PUBREL sent; only PUBCOMP is awaited. */
  released: boolean;
  /** Persistence key, 0 when not stored. */
  seq: number;
}

/**
 * A FIFO with O(1) shift: an array with a head and a tail index. Once it is empty (for an online
 * subscriber, after almost every message) both go back to 0 and the array is reused: appending for
 * ever would grow it by a slot per message and copy it now and then, old-generation garbage in a fleet
 * of 100,000 sessions. A long backlog that leaves most of the array behind the head is compacted.
 */
export class Queue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private tail = 0;
  get length(): number { return this.tail - this.head; }
  push(x: T): void { this.items[this.tail++] = x; }
  peek(): T | undefined { return this.items[this.head]; }
  shift(): T | undefined {
    if (this.head === this.tail) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.tail) this.head = this.tail = 0;
    else if (this.head > 1024 && this.head * 2 > this.tail) { this.items = this.items.slice(this.head, this.tail); this.tail -= this.head; this.head = 0; }
    return x;
  }
  toArray(): T[] { return this.items.slice(this.head, this.tail) as T[]; }
  clear(): void { this.items = []; this.head = this.tail = 0; }
}

/** What a session needs from the connection that currently carries it. */
export interface SessionLink {
  /** Moves queued messages out while the client's window and the socket allow. */
  pump(): void;
}

export const NEVER_EXPIRES = 0xffffffff;

/** What a delivery counts against the byte bounds: its payload and topic (the Message is shared by all its deliveries). */
export function deliverySize(d: Delivery): number {
  return d.msg.payload.length + d.msg.topic.length;
}

export class Session {
  readonly subs = new Map<string, SubEntry<Session>>();
  readonly queue = new Queue<Delivery>();
  readonly inflight = new Map<number, Delivery>();
  /** QoS 2 packet ids received from the client, awaiting PUBREL. */
  readonly incoming = new Set<number>();
  /** Publishers paused because this session's queue is over the high-water mark. */
  readonly blocked = new Set<{ unblock(): void }>();
  conn: SessionLink | null = null;
  /** Bytes of the messages queued and in flight (see deliverySize), for the byte bounds. */
  bytes = 0;
  /**
   * Routing scratch, valid only while one publish is being matched (Broker.publish): the publish's
   * number when this session was last hit, and its merged subscription options. Kept on the session so
   * that routing a message allocates no Map or target object per publish.
   */
  hitEpoch = 0;
  hitQos: QoS = 0;
  hitIds: number[] | undefined = undefined;
  hitRap = false;
  /** Session Expiry Interval in seconds; NEVER_EXPIRES for 3.1.1 persistent sessions. */
  expiry = 0;
  expiryTimer: Timer | null = null;
  private nextId = 1;

  constructor(readonly clientId: string, public username?: string) {}

  /** A packet id not in flight [MQTT-2.2.1-3]. */
  packetId(): number {
    for (let i = 0; i < 65535; i++) {
      const id = this.nextId;
      this.nextId = id === 65535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
    throw new Error('no free packet id'); // cannot happen: the in-flight window is far below 65535
  }

  /** Stored when its queued messages must outlive this process. */
  get persistent(): boolean { return this.expiry > 0; }
}
