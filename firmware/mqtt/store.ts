// The message store: outgoing messages that are queued (not yet sent) or in flight (sent, not yet
// acknowledged), kept as their encoded PUBLISH bytes in ONE preallocated byte area, in the order they
// were published. Nothing is allocated per message: a record is a slot in a few typed arrays plus a
// run of bytes in the area. Records leave mostly in order (acks come in order), so the area is a ring;
// a record freed out of order leaves a gap that is squeezed out only when space runs short.

/** Named states of an outgoing message (coreMQTT style); FREE marks a slot that holds nothing. */
export const FREE = 0, QUEUED = 1, AWAIT_PUBACK = 2, AWAIT_PUBREC = 3, AWAIT_PUBCOMP = 4;

export class MessageStore {
  /** The byte area; record i occupies bytes[start[i] .. start[i] + length[i]). */
  readonly bytes: Uint8Array;
  readonly start: Int32Array;
  readonly length: Int32Array;
  readonly ids: Uint16Array;
  readonly states: Uint8Array;
  readonly qos: Uint8Array;
  /** What to call when record i completes (acknowledged, refused or abandoned). */
  readonly callbacks: unknown[] = [];
  /** Oldest slot, and the number of slots from it to the newest (gaps included). */
  head = 0;
  count = 0;
  /** Live records (not FREE). */
  live = 0;

  constructor(areaBytes: number, slots: number) {
    this.bytes = new Uint8Array(areaBytes);
    this.start = new Int32Array(slots);
    this.length = new Int32Array(slots);
    this.ids = new Uint16Array(slots);
    this.states = new Uint8Array(slots);
    this.qos = new Uint8Array(slots);
  }

  /** Slot of the k-th record in publish order. */
  slot(k: number): number {
    return (this.head + k) % this.states.length;
  }

  /**
   * Reserves room for a record of `n` bytes at the end of the order; returns its slot, or -1 when
   * neither a slot nor `n` contiguous bytes are free (after squeezing out gaps).
   */
  reserve(n: number): number {
    const slots = this.states.length, cap = this.bytes.length;
    if (this.count === slots && this.live < slots) this.compact();
    if (this.count === slots || n > cap) return -1;
    let at = this.freeAt(n);
    if (at < 0 && this.live < this.count) {
      this.compact();
      at = this.freeAt(n);
    }
    if (at < 0) return -1;
    const i = this.slot(this.count++);
    this.start[i] = at;
    this.length[i] = n;
    this.states[i] = QUEUED;
    this.live++;
    return i;
  }

  /** Frees a record; the ring's head moves past freed records so their bytes can be reused. */
  free(i: number): void {
    if (this.states[i] === FREE) return;
    this.states[i] = FREE;
    this.live--;
    while (this.count > 0 && this.states[this.head] === FREE) {
      this.head = (this.head + 1) % this.states.length;
      this.count--;
    }
    if (this.count === 0) this.head = 0;
  }

  /** Slot of the live record with packet id `id` (and state in `mask` bits), or -1. */
  find(id: number, mask: number): number {
    for (let k = 0; k < this.count; k++) {
      const i = this.slot(k);
      if (this.ids[i] === id && this.qos[i] > 0 && (1 << this.states[i]) & mask) return i;
    }
    return -1;
  }

  /** Where n contiguous bytes are free after the newest record, wrapping once; -1 if nowhere. */
  private freeAt(n: number): number {
    if (this.count === 0) return n <= this.bytes.length ? 0 : -1;
    const first = this.start[this.head];
    const lastSlot = this.slot(this.count - 1);
    const end = this.start[lastSlot] + this.length[lastSlot];
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
  private compact(): void {
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
      const i = byAddress[j], from = this.start[i], n = this.length[i];
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
      meta.push([this.start[i], this.length[i], this.ids[i], this.states[i], this.qos[i]]);
      callbacks.push(this.callbacks[i]);
    }
    for (let j = 0; j < this.states.length; j++) {
      const m = meta[j];
      this.states[j] = m ? m[3] : FREE;
      this.callbacks[j] = callbacks[j];
      if (!m) continue;
      this.start[j] = m[0]; this.length[j] = m[1]; this.ids[j] = m[2]; this.qos[j] = m[4];
    }
    this.head = 0;
    this.count = this.live = order.length;
  }
}

function reverse(b: Uint8Array, from: number, to: number): void {
  for (to--; from < to; from++, to--) { const t = b[from]; b[from] = b[to]; b[to] = t; }
}
