// The message store: outgoing messages that are queued (not yet sent) or in flight (sent, not yet
// acknowledged), kept as their encoded PUBLISH packets in ONE preallocated byte area, in the order
// they were published. A record is [state, length in 3 bytes, packet bytes]: nothing is
// allocated per message but its callback's place in a sparse array. Acks come mostly in order, so
// records leave from the front and the area fills towards its end; a record freed out of order stays
// as a gap until the records in front of it leave, or until space runs short and the live records are
// slid to the front.
//
// A record's state changes only through storeMove, by the table MOVES (coreMQTT's validateTransition):
// a move the table does not list is refused. storeMove keeps a count per state and an index of the
// records by packet id, so neither an ack nor a publish walks the store.
//
// Plain functions over a record of fields, not a class: on the board every `this.` is text the
// interpreter keeps in RAM.

/**
 * Named states of an outgoing message (coreMQTT style). AWAIT_ACK waits for PUBACK (QoS 1) or PUBREC
 * (QoS 2); PUBREL_QUEUED is a QoS 2 message the broker PUBREC'd on an earlier link, whose PUBREL must
 * be sent again on the next one before it can complete.
 */
export const FREE = 0, QUEUED = 1, AWAIT_ACK = 2, AWAIT_PUBCOMP = 3, PUBREL_QUEUED = 4;

/**
 * Events that move a record. SENT: its PUBLISH went out with QoS>0. DONE: it leaves without an ack
 * (a QoS 0 message written, dropped or refused). ACKED: PUBACK, or a PUBREC or PUBACK with a failure
 * reason. PUBREC: the broker has it (QoS 2). RELEASED: a PUBREL sent again. PUBCOMP: QoS 2 complete.
 * RESUMED: a new link found the session present; LOST: a new link found it gone. DISCARDED: the
 * client ended with force, giving up what it held.
 */
export const SENT = 0, DONE = 1, ACKED = 2, PUBREC_IN = 3, RELEASED = 4, PUBCOMP_IN = 5, RESUMED = 6, LOST = 7, DISCARDED = 8;

/**
 * The legal moves: MOVES[event] has one character per state (FREE, QUEUED, AWAIT_ACK, AWAIT_PUBCOMP,
 * PUBREL_QUEUED), the state it moves to, or '-' where the event is refused in that state.
 */
export const MOVES = [
  '-2---', // SENT: a queued message is now in flight
  '-0---', // DONE: a queued QoS 0 message leaves
  '--0--', // ACKED: PUBACK, or a failure code, completes a message in flight
  '--33-', // PUBREC: in flight -> await PUBCOMP; a duplicate PUBREC is answered again
  '----3', // RELEASED: the PUBREL of an earlier link is sent again
  '---0-', // PUBCOMP: QoS 2 complete
  '-1144', // RESUMED: PUBLISH again with DUP [MQTT-4.4.0-1], PUBREL again
  '-1100', // LOST: a new session: PUBLISH again as new; what the broker PUBREC'd is complete
  '-0000', // DISCARDED: end(true) gives up every message it holds
];

export interface MessageStore {
  readonly _bytes: Uint8Array;
  /** Offset of the oldest record, and the end of the newest: records run from `first` while below `end`. */
  _first: number;
  _end: number;
  /** Live records (not FREE). */
  _live: number;
  /** Live records in each state, by state. */
  _count: number[];
  /** Offset of the live record of each packet id (QoS>0), by id. */
  _byId: number[];
  /** Callbacks, by record offset. */
  _callbacks: unknown[];
  /** Callbacks of records freed and the error they complete with, [callback, error, ...], for the session to run. */
  _done: unknown[];
  readonly _maxRecords: number;
}

/**
 * Bytes in front of each record's packet: its state, then its length in 3 bytes. Two would do on a
 * board, but on Node the same store holds any message MQTT.js would send, up to MAX_RECORD.
 */
export const RECORD_HEADER = 4;
const MAX_RECORD = 0xffffff;

export function createStore(areaBytes: number, maxRecords: number): MessageStore {
  return {
    _bytes: new Uint8Array(areaBytes), _first: 0, _end: 0, _live: 0, _count: [0, 0, 0, 0, 0], _byId: [],
    _callbacks: [], _done: [], _maxRecords: maxRecords,
  };
}

/** Appends a QUEUED record holding a copy of `packet`; false when it does not fit even once the gaps are squeezed out, or when maxRecords are live. */
export function storeAdd(s: MessageStore, packet: Uint8Array, callback: unknown): boolean {
  const n = packet.length, b = s._bytes;
  if (s._end + n + RECORD_HEADER > b.length) compact(s);
  if (s._end + n + RECORD_HEADER > b.length || n > MAX_RECORD || s._live >= s._maxRecords) return false;
  const at = s._end;
  b[at] = QUEUED;
  b[at + 1] = n >> 16;
  b[at + 2] = n >> 8 & 255;
  b[at + 3] = n & 255;
  b.set(packet, at + RECORD_HEADER);
  if (callback) s._callbacks[at] = callback; // an element, even of undefined, costs the board JsVars
  s._end = at + RECORD_HEADER + n;
  s._live++;
  s._count[QUEUED]++;
  if (recordQos(s, at)) s._byId[recordId(s, at)] = at;
  return true;
}

/**
 * Applies `event` to the record at `at`, by MOVES; returns false, changing nothing, for a move the
 * table refuses. A record that moves to FREE leaves the store: its callback and `error` wait in _done.
 */
export function storeMove(s: MessageStore, at: number, event: number, error?: unknown): boolean {
  const b = s._bytes, from = b[at], to = +MOVES[event].charAt(from);
  if (!(to >= 0)) return false; // '-' reads as NaN
  s._count[from]--;
  s._count[to]++;
  b[at] = to;
  if (to === FREE) s._done.push(free(s, at), error);
  return true;
}

/** Offset of the record after the one at `at`. */
export function nextRecord(s: MessageStore, at: number): number {
  const b = s._bytes;
  return at + RECORD_HEADER + (b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3]);
}

/** The packet of the record at `at` (a view into the area). */
export function recordPacket(s: MessageStore, at: number): Uint8Array {
  return s._bytes.subarray(at + RECORD_HEADER, nextRecord(s, at));
}

/** QoS of the record's PUBLISH, from its first byte. */
export function recordQos(s: MessageStore, at: number): number {
  return s._bytes[at + RECORD_HEADER] >> 1 & 3;
}

/** Packet id of the record's PUBLISH (0 for QoS 0): past the fixed header and the topic. */
export function recordId(s: MessageStore, at: number): number {
  if (!recordQos(s, at)) return 0;
  const b = s._bytes;
  let i = at + RECORD_HEADER + 1;
  while (b[i++] & 128); // past the remaining length: client-codec's bodyStart, which this module does not import
  i += 2 + (b[i] << 8 | b[i + 1]);
  return b[i] << 8 | b[i + 1];
}

/** Frees the record at `at` and returns its callback. The front moves past freed records, so their bytes are reused. */
function free(s: MessageStore, at: number): unknown {
  const b = s._bytes, callback = s._callbacks[at], id = recordId(s, at);
  if (s._byId[id] === at) delete s._byId[id];
  delete s._callbacks[at];
  b[at] = FREE;
  s._live--;
  while (s._first < s._end && b[s._first] === FREE) s._first = nextRecord(s, s._first);
  if (s._first === s._end) s._first = s._end = 0;
  return callback;
}

/** Offset of the live record with packet id `id` and a state in `mask`'s bits; -1 if none. An index lookup, not a walk. */
export function storeFind(s: MessageStore, id: number, mask: number): number {
  const at = s._byId[id];
  return at !== undefined && (mask >> s._bytes[at]) & 1 ? at : -1;
}

/** Offset of the oldest live record with a state in `mask`'s bits and, when `qos0`, QoS 0; -1 if none. */
export function storeOldest(s: MessageStore, mask: number, qos0?: boolean): number {
  for (let at = s._first; at < s._end; at = nextRecord(s, at)) {
    if ((mask >> s._bytes[at]) & 1 && !(qos0 && recordQos(s, at))) return at;
  }
  return -1;
}

/**
 * Live records whose state is in `mask`'s bits, from the counts. Unrolled: it runs for every message,
 * and each turn of a loop costs the board a few microseconds.
 */
export function storeCount(s: MessageStore, mask: number): number {
  const c = s._count;
  return (mask >> QUEUED & 1) * c[QUEUED] + (mask >> AWAIT_ACK & 1) * c[AWAIT_ACK] +
    (mask >> AWAIT_PUBCOMP & 1) * c[AWAIT_PUBCOMP] + (mask >> PUBREL_QUEUED & 1) * c[PUBREL_QUEUED];
}

/** Slides the live records to the front of the area, in order. Runs only when space runs short, never during a walk. */
function compact(s: MessageStore): void {
  const b = s._bytes, callbacks: unknown[] = [];
  let to = 0;
  for (let at = s._first; at < s._end;) {
    const next = nextRecord(s, at);
    if (b[at] !== FREE) {
      if (s._callbacks[at]) callbacks[to] = s._callbacks[at];
      if (recordQos(s, at)) s._byId[recordId(s, at)] = to;
      // moving towards the front: a native copy that reads each byte before it is overwritten
      b.set(b.subarray(at, next), to);
      to += next - at;
    }
    at = next;
  }
  s._callbacks = callbacks;
  s._first = 0;
  s._end = to;
}
