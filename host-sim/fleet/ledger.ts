// Delivery accounting: what each board tried to publish and what became of it (accepted by its
// client, refused, dropped from its queue, acknowledged), against what the checker subscriber received
// and how often. Kept per board as one byte per reading, so a day of readings costs kilobytes.
import { LatencyHistogram } from './latency';

/** What the board's client did with reading `seq`. */
export const NONE = 0, ACCEPTED = 1, REFUSED = 2, DROPPED = 3, ACKED = 4, FAILED = 5;

/** A row's arrays before its first reading (a board that only listens never gets any). */
const NOTHING_YET = new Uint8Array(0);

class Row {
  states = NOTHING_YET;
  received = NOTHING_YET;
  published = 0;
  constructor(readonly qos: number) {}

  grow(seq: number): void {
    if (seq < this.states.length) return;
    let n = Math.max(64, this.states.length);
    while (n <= seq) n *= 2;
    const s = new Uint8Array(n), r = new Uint8Array(n);
    s.set(this.states);
    r.set(this.received);
    this.states = s;
    this.received = r;
  }
}

/** Totals for one QoS level. */
export interface QosTotals {
  qos: number;
  /** Readings the sensor loop handed to publish(). */
  published: number;
  /** Taken by the client (queued or sent). */
  accepted: number;
  /** Refused at once: the client's store was full (QoS >= 1), or the topic was bad. */
  refused: number;
  /** Accepted QoS 0 readings later dropped from a full offline queue to make room. */
  dropped: number;
  /** QoS >= 1: acknowledged by the broker (PUBACK, PUBCOMP). */
  acknowledged: number;
  /** The broker answered with an error code. */
  failed: number;
  /** Accepted readings the checker received at least once. */
  delivered: number;
  /** Extra copies the checker received (QoS 1 may legally repeat; QoS 2 must not). */
  duplicates: number;
  /** Still queued or in flight on a board when the run ended (neither lost nor delivered yet). */
  pending: number;
  /** Accepted, not pending, not delivered, and not dropped: gone. For QoS >= 1 this must be 0. */
  lost: number;
  /** Received though never accepted by a client (must be 0: it would mean a corrupt ledger or payload). */
  unexpected: number;
}

export class Ledger {
  private rows = new Map<number, Row>();
  readonly latency = new LatencyHistogram();
  /** Messages on the checker's filter from boards not in this ledger (other shards, other runs). */
  foreign = 0;
  received = 0;
  /** Readings handed to publish() by all boards. */
  published = 0;

  addDevice(id: number, qos: number): void {
    this.rows.set(id, new Row(qos));
  }

  has(id: number): boolean {
    return this.rows.has(id);
  }

  /** The next reading's sequence number for a board. */
  nextSeq(id: number): number {
    const r = this.rows.get(id)!;
    r.grow(r.published);
    this.published++;
    return r.published++;
  }

  set(id: number, seq: number, state: number): void {
    this.rows.get(id)!.states[seq] = state;
  }

  get(id: number, seq: number): number {
    return this.rows.get(id)!.states[seq];
  }

  /** The checker got reading `seq` of board `id`, `latency` ms after it was taken. */
  receive(id: number, seq: number, latency: number): void {
    const r = this.rows.get(id);
    if (!r || !(seq >= 0)) { this.foreign++; return; }
    this.received++;
    r.grow(seq);
    if (r.received[seq] < 255) r.received[seq]++;
    if (r.received[seq] === 1) this.latency.record(latency);
  }

  /** Totals per QoS; `isPending(id, seq)` says whether a board still holds that reading. */
  totals(): QosTotals[] {
    const t: QosTotals[] = [0, 1, 2].map((qos) => ({
      qos, published: 0, accepted: 0, refused: 0, dropped: 0, acknowledged: 0, failed: 0,
      delivered: 0, duplicates: 0, pending: 0, lost: 0, unexpected: 0,
    }));
    for (const r of this.rows.values()) {
      const q = t[r.qos];
      q.published += r.published;
      for (let s = 0; s < r.published; s++) {
        const state = r.states[s], got = r.received[s];
        if (got > 1) q.duplicates += got - 1;
        if (state === REFUSED) { q.refused++; if (got) q.unexpected++; continue; }
        q.accepted++;
        if (state === DROPPED) q.dropped++;
        if (state === ACKED) q.acknowledged++;
        if (state === FAILED) q.failed++;
        if (got) q.delivered++;
        else if (state === ACCEPTED) q.pending++;
        else if (state !== DROPPED) q.lost++;
      }
      for (let s = r.published; s < r.received.length; s++) if (r.received[s]) q.unexpected++;
    }
    return t.filter((q) => q.published > 0);
  }
}
