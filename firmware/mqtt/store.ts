// The message store: outgoing messages that are queued (not yet sent) or in flight (sent, not yet
// acknowledged), kept as their encoded PUBLISH packets in ONE preallocated byte area, in the order
// they were published. A record is [state, length high, length low, packet bytes]: nothing is
// allocated per message but its callback's place in a sparse array. Acks come mostly in order, so
// records leave from the front and the area fills towards its end; a record freed out of order stays
// as a gap until the records in front of it leave, or until space runs short and the live records are
// slid to the front.
//
// Plain functions over a record of fields, not a class: on the board every `this.` and every
// `X.prototype.y = function` is text the interpreter keeps in RAM, and these run in a loop per ack.

/**
 * Named states of an outgoing message (coreMQTT style). AWAIT_ACK waits for PUBACK (QoS 1) or PUBREC
 * (QoS 2); PUBREL_QUEUED is a QoS 2 message the broker PUBREC'd on an earlier link, whose PUBREL must
 * be sent again on the next one before it can complete.
 */
export const FREE = 0, QUEUED = 1, AWAIT_ACK = 2, AWAIT_PUBCOMP = 3, PUBREL_QUEUED = 4;

export interface MessageStore {
  readonly _bytes: Uint8Array;
  /** Offset of the oldest record, and the end of the newest: records run from `first` while below `end`. */
  _first: number;
  _end: number;
  /** Live records (not FREE). */
  _live: number;
  /** Callbacks, by record offset. */
  _callbacks: unknown[];
  readonly _maxRecords: number;
}

export function createStore(areaBytes: number, maxRecords: number): MessageStore {
  return { _bytes: new Uint8Array(areaBytes), _first: 0, _end: 0, _live: 0, _callbacks: [], _maxRecords: maxRecords };
}

/** Appends a QUEUED record holding a copy of `packet`; false when it does not fit even once the gaps are squeezed out, or when maxRecords are live. */
export function storeAdd(s: MessageStore, packet: Uint8Array, callback: unknown): boolean {
  const n = packet.length, b = s._bytes;
  if (s._end + n + 3 > b.length) compact(s);
  if (s._end + n + 3 > b.length || n > 65535 || s._live >= s._maxRecords) return false;
  const at = s._end;
  b[at] = QUEUED;
  b[at + 1] = n >> 8;
  b[at + 2] = n & 255;
  b.set(packet, at + 3);
  s._callbacks[at] = callback;
  s._end = at + 3 + n;
  s._live++;
  return true;
}

/** Offset of the record after the one at `at`. */
export function nextRecord(s: MessageStore, at: number): number {
  return at + 3 + (s._bytes[at + 1] << 8 | s._bytes[at + 2]);
}

/** The packet of the record at `at` (a view into the area). */
export function recordPacket(s: MessageStore, at: number): Uint8Array {
  return s._bytes.subarray(at + 3, nextRecord(s, at));
}

/** QoS of the record's PUBLISH, from its first byte. */
export function recordQos(s: MessageStore, at: number): number {
  return s._bytes[at + 3] >> 1 & 3;
}

/** Packet id of the record's PUBLISH (0 for QoS 0): past the fixed header and the topic. */
export function recordId(s: MessageStore, at: number): number {
  if (!recordQos(s, at)) return 0;
  const b = s._bytes;
  let i = at + 4;
  while (b[i++] & 128);
  i += 2 + (b[i] << 8 | b[i + 1]);
  return b[i] << 8 | b[i + 1];
}

/** Frees the record at `at` and returns its callback. The front moves past freed records, so their bytes are reused. */
export function storeFree(s: MessageStore, at: number): unknown {
  const b = s._bytes, callback = s._callbacks[at];
  delete s._callbacks[at];
  b[at] = FREE;
  s._live--;
  while (s._first < s._end && b[s._first] === FREE) s._first = nextRecord(s, s._first);
  if (s._first === s._end) s._first = s._end = 0;
  return callback;
}

/** Offset of the first live record with packet id `id` (any when negative) and a state in `mask`'s bits; -1 if none. */
export function storeFind(s: MessageStore, id: number, mask: number): number {
  for (let at = s._first; at < s._end; at = nextRecord(s, at)) {
    if ((mask >> s._bytes[at]) & 1 && (id < 0 || recordId(s, at) === id)) return at;
  }
  return -1;
}

/** Live records whose state is in `mask`'s bits. */
export function storeCount(s: MessageStore, mask: number): number {
  let n = 0;
  for (let at = s._first; at < s._end; at = nextRecord(s, at)) n += (mask >> s._bytes[at]) & 1;
  return n;
}

/** Slides the live records to the front of the area, in order. Runs only when space runs short, never during a walk. */
function compact(s: MessageStore): void {
  const b = s._bytes, callbacks: unknown[] = [];
  let to = 0;
  for (let at = s._first; at < s._end;) {
    const next = nextRecord(s, at);
    if (b[at] !== FREE) {
      callbacks[to] = s._callbacks[at];
      for (let i = at; i < next; i++) b[to++] = b[i];
    }
    at = next;
  }
  s._callbacks = callbacks;
  s._first = 0;
  s._end = to;
}
