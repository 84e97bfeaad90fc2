// MQTT over a serial line (docs/serial.md): SLIP framing, CRC-16/CCITT per frame, and stop-and-wait
// retransmission with 8-bit sequence numbers, so that a corrupted or lost byte costs one frame (sent
// again), not the stream. The same code runs on the board (firmware/transports/serial.ts) and in the
// host's bridge (tools/bridge.ts). ES5-friendly and allocation-light: one receive buffer, one transmit
// queue and one frame buffer, all preallocated; bytes cross the UART as strings of one char per byte.

/** SLIP (RFC 1055): a frame ends with END; END and ESC inside a frame are escaped. */
const END = 0xc0, ESC = 0xdb, ESC_END = 0xdc, ESC_ESC = 0xdd;

/** Frame types: [type, session, seq, payload..., crc hi, crc lo]. */
export const OPEN = 1, OPENED = 2, DATA = 3, ACK = 4, CLOSE = 5;
const HEADER = 3, CRC = 2;
/** Payload bytes per DATA frame: one frame is about 12 ms on a 115200-baud line. */
export const MAX_PAYLOAD = 128;

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), bitwise: no 512-byte table in the board's RAM. */
export function crc16(b: Uint8Array, start: number, end: number): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc ^= b[i] << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export interface LinkTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LinkEvents {
  /** A session is up (board: the bridge answered OPEN; host: a board asked for one). */
  open(session: number): void;
  /** In-order, deduplicated bytes of the session's stream. */
  data(bytes: Uint8Array, start: number, end: number): void;
  /** The session ended: closed by the peer, or the line is dead. */
  close(reason: string): void;
}

export interface LinkOptions {
  /** Milliseconds before an unacknowledged frame is sent again (default 250). */
  retransmitMs?: number;
  /** Sends of one frame before the line counts as dead (default 40). */
  maxTries?: number;
  /** Transmit queue in bytes (default 2048); a write that does not fit fails. */
  queueBytes?: number;
}

/** Counters, for the bridge's status and the tests. */
export interface LinkStats { framesIn: number; framesOut: number; bad: number; resent: number; duplicates: number }

/**
 * One end of the framed line. The board calls open(); the host answers OPEN frames by itself. Either
 * end writes the stream with write() and ends it with close().
 */
export class SerialLink {
  session = 0;
  readonly stats: LinkStats = { framesIn: 0, framesOut: 0, bad: 0, resent: 0, duplicates: 0 };
  private readonly rx = new Uint8Array(HEADER + MAX_PAYLOAD + CRC);
  private rxLen = 0;
  private rxEscape = false;
  private rxOverflow = false;
  private readonly frame = new Uint8Array(HEADER + MAX_PAYLOAD + CRC);
  private readonly wire = new Uint8Array(2 * (HEADER + MAX_PAYLOAD + CRC) + 2);
  private readonly queue: Uint8Array;
  private qStart = 0;
  private qLen = 0;
  /** Bytes of the queue's head in the frame on the wire (0: none in flight). */
  private inFlight = 0;
  private txSeq = 0;
  private rxSeq = 0;
  private tries = 0;
  private timer: unknown = null;
  private opening = false;
  private readonly retransmitMs: number;
  private readonly maxTries: number;

  constructor(private readonly out: (data: string) => void, private readonly timers: LinkTimers,
    private readonly events: LinkEvents, options?: LinkOptions) {
    const o = options || {};
    this.retransmitMs = o.retransmitMs || 250;
    this.maxTries = o.maxTries || 40;
    this.queue = new Uint8Array(o.queueBytes || 2048);
  }

  /** Board side: asks the bridge for a new session (the old one, if any, is dropped). */
  open(random: number): void {
    this.reset();
    let s = 1 + Math.floor(random * 255);
    if (s > 255) s = 255;
    this.session = s;
    this.opening = true;
    this.sendOpen();
  }

  /** Queues stream bytes; false when the queue cannot take them (the caller closes the session). */
  write(bytes: Uint8Array, length: number): boolean {
    if (!this.session || this.opening) return false;
    const size = this.queue.length;
    if (this.qLen + length > size) return false;
    for (let i = 0; i < length; i++) this.queue[(this.qStart + this.qLen + i) % size] = bytes[i];
    this.qLen += length;
    if (!this.inFlight) this.sendData();
    return true;
  }

  /** Ends the session and tells the peer (best effort: a lost CLOSE is found by the peer's keepalive). */
  close(): void {
    if (this.session) this.send(CLOSE, this.session, 0, 0);
    this.reset();
  }

  /** Bytes from the UART: a string of one char per byte (Espruino), or bytes (Node). */
  input(chunk: string | Uint8Array): void {
    const isString = typeof chunk === 'string';
    for (let i = 0; i < chunk.length; i++) {
      const c = isString ? (chunk as string).charCodeAt(i) & 255 : (chunk as Uint8Array)[i];
      if (c === END) {
        if (this.rxLen && !this.rxOverflow) this.frameIn();
        this.rxLen = 0; this.rxEscape = false; this.rxOverflow = false;
      } else if (c === ESC) {
        this.rxEscape = true;
      } else {
        let b = c;
        if (this.rxEscape) { b = c === ESC_END ? END : c === ESC_ESC ? ESC : -1; this.rxEscape = false; }
        if (b < 0 || this.rxLen >= this.rx.length) this.rxOverflow = true; // a broken escape or an overlong frame: dropped at END
        else this.rx[this.rxLen++] = b;
      }
    }
  }

  private frameIn(): void {
    const n = this.rxLen, f = this.rx;
    if (n < HEADER + CRC || crc16(f, 0, n - CRC) !== ((f[n - 2] << 8) | f[n - 1])) { this.stats.bad++; return; }
    this.stats.framesIn++;
    const type = f[0], session = f[1], seq = f[2];
    if (type === OPEN) return this.openIn(session);
    if (!this.session || session !== this.session) return; // another session's frame
    if (type === OPENED) {
      if (this.opening) { this.opening = false; this.disarm(); this.tries = 0; this.events.open(session); }
    } else if (type === DATA) {
      if (this.opening) return;
      if (seq === this.rxSeq) {
        this.rxSeq = (this.rxSeq + 1) & 255;
        this.send(ACK, session, seq, 0);
        this.events.data(f, HEADER, n - CRC);
      } else {
        this.stats.duplicates++;
        this.send(ACK, session, seq, 0); // our ACK was lost: acknowledge again, deliver nothing
      }
    } else if (type === ACK) {
      if (this.inFlight && seq === this.txSeq) {
        this.qStart = (this.qStart + this.inFlight) % this.queue.length;
        this.qLen -= this.inFlight;
        this.inFlight = 0;
        this.txSeq = (this.txSeq + 1) & 255;
        this.tries = 0;
        this.disarm();
        if (this.qLen) this.sendData();
      }
    } else if (type === CLOSE) {
      this.reset();
      this.events.close('closed by the peer');
    }
  }

  /** Host side: a board asks for a session. A repeat of the current one only lost our OPENED. */
  private openIn(session: number): void {
    if (session !== this.session) {
      const had = this.session;
      this.reset();
      if (had) this.events.close('the board opened a new session');
      this.session = session;
      this.events.open(session);
    }
    this.send(OPENED, session, 0, 0);
  }

  private sendOpen(): void {
    if (this.tries++ >= this.maxTries) return this.dead('the bridge does not answer');
    this.send(OPEN, this.session, 0, 0);
    this.arm(() => this.sendOpen());
  }

  private sendData(): void {
    if (this.tries >= this.maxTries) return this.dead('the serial line is dead (' + this.maxTries + ' sends unacknowledged)');
    if (this.tries > 0) this.stats.resent++;
    this.tries++;
    const n = this.inFlight || Math.min(this.qLen, MAX_PAYLOAD);
    this.inFlight = n;
    const size = this.queue.length;
    for (let i = 0; i < n; i++) this.frame[HEADER + i] = this.queue[(this.qStart + i) % size];
    this.send(DATA, this.session, this.txSeq, n);
    this.arm(() => this.sendData());
  }

  /** Frames type/session/seq and the payload already in this.frame[HEADER..], escapes it and writes it. */
  private send(type: number, session: number, seq: number, length: number): void {
    const f = this.frame;
    f[0] = type; f[1] = session; f[2] = seq;
    const end = HEADER + length, crc = crc16(f, 0, end);
    f[end] = crc >> 8; f[end + 1] = crc & 255;
    const w = this.wire;
    let k = 0;
    w[k++] = END; // flushes whatever noise came before
    for (let i = 0; i < end + CRC; i++) {
      const b = f[i];
      if (b === END) { w[k++] = ESC; w[k++] = ESC_END; } else if (b === ESC) { w[k++] = ESC; w[k++] = ESC_ESC; } else w[k++] = b;
    }
    w[k++] = END;
    let s = '';
    // one char at a time: String.fromCharCode.apply is what the bundle check refuses (it throws on Espruino
    // above 256 arguments), and a frame is at most a few hundred bytes
    for (let i = 0; i < k; i++) s += String.fromCharCode(w[i]);
    this.stats.framesOut++;
    this.out(s);
  }

  private arm(fn: () => void): void {
    this.disarm();
    this.timer = this.timers.setTimeout(() => { this.timer = null; fn(); }, this.retransmitMs);
  }

  private disarm(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private dead(reason: string): void {
    this.reset();
    this.events.close(reason);
  }

  private reset(): void {
    this.disarm();
    this.session = 0; this.opening = false;
    this.qStart = 0; this.qLen = 0; this.inFlight = 0;
    this.txSeq = 0; this.rxSeq = 0; this.tries = 0;
  }
}
