// What a Connection needs of the broker it runs in. Connection depends on this interface, not on the
// Broker class, so the two modules do not import each other and a test can run a Connection against a
// small fake host without sockets or routing. `C` is the connection type (Connection), left generic so
// that this module imports nothing from connection.ts either.
import type { Auth } from './auth';
import type { Clock } from './clock';
import type { Logger } from './log';
import type { Message } from './message';
import type { BrokerOptions } from './options';
import type { Persistence } from './persistence';
import type { Delivery, Session } from './sessions';
import type { Stats } from './stats';
import type { SubEntry } from './topic-tree';

export interface ConnectionHost<C> {
  readonly options: BrokerOptions;
  readonly log: Logger;
  readonly clock: Clock;
  readonly stats: Stats;
  readonly auth: Auth;
  /** The durable store, or null when the broker keeps everything in memory. */
  readonly store: Persistence | null;

  /** Writes `conn`'s output once the current event-loop turn has handled all its input. */
  flushLater(conn: C): void;
  /** A client id for a client that sent none. */
  assignClientId(): string;
  /** Attaches `conn` to its session (taking it over, resuming or starting anew). */
  openSession(conn: C, clientId: string, clean: boolean, expiry: number, username?: string): { session: Session; present: boolean };
  /** The connection ended; `connected` when it had a session. */
  connectionEnded(conn: C, connected: boolean): void;
  /** Routes a message to its subscribers; returns how many sessions it went to. */
  publish(msg: Message, from: C | null): number;
  /** Adds or replaces a subscription; true when one with this filter existed. */
  subscribe(s: Session, e: SubEntry<Session>, path: string): boolean;
  unsubscribe(s: Session, filter: string): boolean;
  /** Queues the retained messages matching a new subscription. */
  sendRetained(s: Session, e: SubEntry<Session>): void;
  /** `d` has left `s` (sent at QoS 0, acknowledged, expired or discarded): its bytes leave the bounds. */
  release(s: Session, d: Delivery): void;
  /** The session's queue drained: its paused publishers may read again. */
  unblock(s: Session): void;
}
