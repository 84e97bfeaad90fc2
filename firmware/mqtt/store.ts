// The message store: outgoing messages that are queued (not yet sent) or in flight (sent, not yet
// acknowledged), kept as their encoded PUBLISH bytes in ONE preallocated byte area, in the order they
// were published. Nothing is allocated per message: a record is a slot in a few typed arrays plus a
// run of bytes in the area. Records leave mostly in order (acks come in order), so the area is a ring;
// a record freed out of order leaves a gap that is squeezed out only when space runs short.

/**
 * Named states of an outgoing message (coreMQTT style). FREE marks a slot that holds nothing;
 * PUBREL_QUEUED is a QoS 2 message the broker PUBREC'd on an earlier link, whose PUBREL must be sent
 * again on the next one before it can complete.
 */
export const FREE = 0, QUEUED = 1, AWAIT_PUBACK = 2, AWAIT_PUBREC = 3, AWAIT_PUBCOMP = 4, PUBREL_QUEUED = 5;

/**
 * The moves the protocol allows, as a bit set of target states per state. Back to QUEUED is the resend
 * after a reconnect; AWAIT_PUBCOMP to itself answers a duplicate PUBREC [MQTT-4.3.3].
 */
const MOVES = [
  1 << QUEUED,
  1 << FREE | 1 << AWAIT_PUBACK | 1 << AWAIT_PUBREC,
  1 << FREE | 1 << QUEUED,
  1 << FREE | 1 << QUEUED | 1 << AWAIT_PUBCOMP,
  1 << FREE | 1 << AWAIT_PUBCOMP | 1 << PUBREL_QUEUED,
  1 << FREE | 1 << AWAIT_PUBCOMP,
];

export class MessageStore {
  /** The byte area; record i occupies bytes[start[i] .. start[i] + lengths[i]). */
  readonly bytes: Uint8Array;
  readonly start: Int32Array;
  readonly lengths: Int32Array;
  readonly ids: Uint16Array;
  readonly states: Uint8Array;
  readonly qos: Uint8Array;
  /** What to call when record i completes (acknowledged, refused or abandoned). */
  readonly callbacks: unknown[] = [];
  /** Oldest slot, and the number of slots from it to the newest (gaps included). */
  head = 0;
  count = 0;
  /** Live records (not FREE), and the bytes they hold. */
  live = 0;
  used = 0;

  constructor(areaBytes: number, slots: number) {
    this.bytes = new Uint8Array(areaBytes);
    this.start = new Int32Array(slots);
    this.lengths = new Int32Array(slots);
    this.ids = new Uint16Array(slots);
    this.states = new Uint8Array(slots);
    this.qos = new Uint8Array(slots);
  }

  /** Slot of the k-th record in publish order. */
  slot(k: number): number {
    return (this.head + k) % this.states.length;
  }

  /**
   * Reserves room for a QUEUED record of `n` bytes at the end of the order; returns its slot, or -1
   * when no slot or fewer than `n` bytes are free. Free bytes split by gaps or around the ring's ends
   * are squeezed together first, so slot numbers of other records may change here, never elsewhere.
   */
  reserve(n: number): number {
    const slots = this.states.length;
    if (this.live === slots || this.used + n > this.bytes.length) return -1;
    if (this.count === slots) this._compact();
    let at = this._freeAt(n);
    if (at < 0) {
      this._compact();
      at = this._freeAt(n);
    }
    const i = this.slot(this.count++);
    this.start[i] = at;
    this.lengths[i] = n;
    this.advance(i, QUEUED);
    this.live++;
    this.used += n;
    return i;
  }

  /**
   * The one place a record's state moves. A move the protocol does not allow is a bug in the session,
   * reported loudly. Moving to FREE releases the record; the ring's head moves past freed records so
   * their bytes can be reused.
   */
  advance(i: number, to: number): void {
    const states = this.states;
    if (!((MOVES[states[i]] >> to) & 1)) throw new Error('illegal message state move ' + states[i] + '>' + to);
    states[i] = to;
    if (to) return;
    this.callbacks[i] = undefined;
    this.live--;
    this.used -= this.lengths[i];
    while (this.count > 0 && states[this.head] === FREE) {
      this.head = (this.head + 1) % states.length;
      this.count--;
    }
    if (this.count === 0) this.head = 0;
  }

  /** Slot of the first live record, in publish order, with packet id `id` (any when negative) and a state in `mask`'s bits; -1 if none. */
  find(id: number, mask: number): number {
    for (let k = 0; k < this.count; k++) {
      const i = this.slot(k);
      if ((id < 0 || this.ids[i] === id) && (mask >> this.states[i]) & 1) return i;
    }
    return -1;
  }

  /** Live records whose state is in `mask`'s bits. */
  countIn(mask: number): number {
    let n = 0;
    for (let k = 0; k < this.count; k++) n += (mask >> this.states[this.slot(k)]) & 1;
    return n;
  }

  /** Where n contiguous bytes are free after the newest record, wrapping once; -1 if nowhere. */
  private _freeAt(n: number): number {
    if (this.count === 0) return 0;
    const first = this.start[this.head];
    const lastSlot = this.slot(this.count - 1);
    const end = this.start[lastSlot] + this.lengths[lastSlot];
    if (end > first) {
      if (this.bytes.length - end >= n) return end;
      return first >= n ? 0 : -1;
    }
    return first - end >= n ? end : -1;
  }

  /**
   * Squeezes out the gaps left by records freed out of order, so that all free bytes and slots lie after
   * the newest record. Runs only when the store is full, in place: records slide down in address order,
   * then the part that had wrapped to the front is rotated behind the older part (three reversals).
   */
  private _compact(): void {
    const order: number[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = this.slot(k);
      if (this.states[i] !== FREE) order.push(i);
    }
    let split = 0; // where, in publish order, the records that wrapped to the front of the area begin
    for (let j = 1; j < order.length && !split; j++) if (this.start[order[j]] < this.start[order[j - 1]]) split = j;
    const byAddress = split ? order.slice(split).concat(order.slice(0, split)) : order;
    const b = this.bytes;
    let at = 0, wrapped = 0;
    for (let j = 0; j < byAddress.length; j++) {
      const i = byAddress[j], from = this.start[i], n = this.lengths[i];
      for (let x = 0; x < n; x++) b[at + x] = b[from + x];
      this.start[i] = at;
      at += n;
      if (split && j < order.length - split) wrapped = at;
    }
    if (split) {
      reverse(b, 0, wrapped);
      reverse(b, wrapped, at);
      reverse(b, 0, at);
      for (let j = 0; j < order.length; j++) this.start[order[j]] += j < split ? -wrapped : at - wrapped;
    }
    const meta: number[][] = [], callbacks: unknown[] = [];
    for (let j = 0; j < order.length; j++) {
      const i = order[j];
      meta.push([this.start[i], this.lengths[i], this.ids[i], this.states[i], this.qos[i]]);
      callbacks.push(this.callbacks[i]);
    }
    for (let j = 0; j < this.states.length; j++) {
      const m = meta[j];
      this.states[j] = m ? m[3] : FREE;
      this.callbacks[j] = callbacks[j];
      if (!m) continue;
      this.start[j] = m[0]; this.lengths[j] = m[1]; this.ids[j] = m[2]; this.qos[j] = m[4];
    }
    this.head = 0;
    this.count = this.live = order.length;
  }
}

function reverse(b: Uint8Array, from: number, to: number): void {
  for (to--; from < to; from++, to--) { const t = b[from]; b[from] = b[to]; b[to] = t; }
}
