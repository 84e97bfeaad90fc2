// The dashboard's model of a fleet, fed by MQTT messages and read by the renderer once per frame.
// Topic convention: `<prefix>/<id>/status` is `online` or `offline` (retained; the will says offline),
// `<prefix>/<id>/<sensor>` is a reading, a decimal number. Handling a message only updates numbers and
// sets dirty flags; nothing touches the DOM here, so a burst of messages costs no layout.
//
// A retained message says what a device last published, not when: "last seen" counts from live
// messages only. A board that stops without its will (a clean disconnect, a fleet stopped) leaves a
// retained `online` behind, so a device silent for longer than its readings' pace allows is offline.

/** Points kept per sensor per device: 4 minutes at one reading a second. */
export const HISTORY = 240;
/** A device is stale (shown offline) after this many of its gaps between readings without a live message... */
export const STALE_GAPS = 3;
/** ...and never sooner than this many seconds; while its pace is not known yet (fewer than two readings), after STALE_UNKNOWN. */
export const STALE_MIN = 15;
export const STALE_UNKNOWN = 120;

export class Series {
  readonly t = new Float64Array(HISTORY);
  readonly v = new Float64Array(HISTORY);
  private next = 0;
  count = 0;
  last = NaN;
  lastTime = NaN;

  push(t: number, v: number): void {
    this.lastTime = t;
    this.t[this.next] = t;
    this.v[this.next] = v;
    this.next = (this.next + 1) % HISTORY;
    if (this.count < HISTORY) this.count++;
    this.last = v;
  }

  /** Oldest first, as uPlot wants its columns. */
  columns(): [number[], number[]] {
    const xs: number[] = [], ys: number[] = [];
    const start = (this.next - this.count + HISTORY) % HISTORY;
    for (let i = 0; i < this.count; i++) {
      const k = (start + i) % HISTORY;
      xs.push(this.t[k]);
      ys.push(this.v[k]);
    }
    return [xs, ys];
  }
}

export type State = 'online' | 'offline' | 'unknown';

export interface Device {
  id: string;
  state: State;
  /** Seconds (epoch) of the last live (not retained) message from or about it; NaN before the first. */
  seen: number;
  /** Seconds between its last two live readings of a sensor: its pace; 0 while unknown. */
  gap: number;
  /** Shown offline because it went silent, not because it said so. */
  stale: boolean;
  sensors: Map<string, Series>;
  /** Changed since the renderer last drew it. */
  dirty: boolean;
}

/** Messages per second into the page, for the last few minutes. */
export class RateMeter {
  readonly t: number[] = [];
  readonly v: number[] = [];
  private second = 0;
  private count = 0;

  hit(nowSec: number): void {
    const s = Math.floor(nowSec);
    if (s !== this.second) this.roll(s);
    this.count++;
  }

  /** Closes finished seconds (also when no message came), so the chart moves on in a quiet fleet. */
  roll(s: number): void {
    if (this.second && s > this.second) {
      this.t.push(this.second);
      this.v.push(this.count);
      for (let q = this.second + 1; q < s && q < this.second + 300; q++) { this.t.push(q); this.v.push(0); }
      while (this.t.length > 180) { this.t.shift(); this.v.shift(); }
      this.count = 0;
    }
    if (s > this.second) this.second = s;
  }

  get latest(): number { return this.v.length ? this.v[this.v.length - 1] : 0; }
}

export class Fleet {
  readonly devices = new Map<string, Device>();
  /** Sensor names seen anywhere in the fleet, in first-seen order: the table's columns. */
  readonly sensorNames: string[] = [];
  readonly rate = new RateMeter();
  /** Membership or state changed: the filtered, sorted list must be rebuilt. */
  listDirty = true;
  /** Anything changed at all since the last frame. */
  dirty = true;
  /** Devices whose `dirty` went up since the renderer last cleared them. */
  touched: Device[] = [];
  /** $SYS/broker/... values by the rest of their topic. */
  readonly sys = new Map<string, string>();
  sysDirty = false;
  readonly online = { count: 0 };
  messages = 0;

  /** When the page started listening: a device known only from retained messages is timed from here. */
  constructor(readonly prefix: string, readonly since: number) {}

  /** One MQTT message; returns quickly and allocates little (a topic split, one string for the payload). */
  handle(topic: string, payload: Uint8Array, now: number, retained = false): void {
    if (topic.charCodeAt(0) === 36 /* $ */) {
      if (topic.startsWith('$SYS/broker/')) { this.sys.set(topic.slice(12), text(payload)); this.sysDirty = this.dirty = true; }
      return;
    }
    if (!topic.startsWith(this.prefix) || topic.charCodeAt(this.prefix.length) !== 47 /* / */) return;
    const rest = topic.slice(this.prefix.length + 1);
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1) return;
    const id = rest.slice(0, slash), sensor = rest.slice(slash + 1);
    this.messages++;
    this.rate.hit(now);
    this.dirty = true;
    if (sensor === 'status') { this.setState(id, payload, now, retained); return; }
    const value = parseFloat(text(payload));
    if (!isFinite(value)) return;
    const d = this.device(id);
    let s = d.sensors.get(sensor);
    if (!s) {
      d.sensors.set(sensor, (s = new Series()));
      if (this.sensorNames.indexOf(sensor) < 0) { this.sensorNames.push(sensor); this.listDirty = true; } // a new column
    }
    if (!retained) {
      // its pace: the time between two readings of one sensor (sensors sampled together would say 0)
      if (s.count) d.gap = now - s.lastTime;
      d.seen = now;
      // a live reading is the device talking: it is online, whatever a retained status said
      if (d.state !== 'online') this.changeState(d, 'online');
    }
    s.push(now, value);
    this.touch(d);
  }

  /**
   * Marks offline every online device silent for longer than its pace allows (STALE_GAPS of its gaps,
   * at least STALE_MIN s; STALE_UNKNOWN s while its pace is unknown). Called about once a second.
   */
  expire(now: number): void {
    for (const d of this.devices.values()) {
      if (d.state !== 'online') continue;
      const last = isFinite(d.seen) ? d.seen : this.since;
      const allowed = d.gap > 0 ? Math.max(STALE_MIN, STALE_GAPS * d.gap) : STALE_UNKNOWN;
      if (now - last > allowed) { this.changeState(d, 'offline'); d.stale = true; this.touch(d); }
    }
  }

  private setState(id: string, payload: Uint8Array, now: number, retained: boolean): void {
    if (payload.length === 0) { // the retained status was deleted: the device left the fleet
      const d = this.devices.get(id);
      if (d) { if (d.state === 'online') this.online.count--; this.devices.delete(id); this.listDirty = true; }
      return;
    }
    const d = this.device(id);
    this.changeState(d, text(payload) === 'online' ? 'online' : 'offline');
    d.stale = false;
    if (!retained) d.seen = now;
    this.touch(d);
  }

  private changeState(d: Device, state: State): void {
    if (state === d.state) return;
    if (d.state === 'online') this.online.count--;
    if (state === 'online') this.online.count++;
    d.state = state;
    d.stale = false;
    this.listDirty = true;
  }


  private touch(d: Device): void {
    if (!d.dirty) { d.dirty = true; this.touched.push(d); }
  }

  private device(id: string): Device {
    let d = this.devices.get(id);
    if (!d) {
      d = { id, state: 'unknown', seen: NaN, gap: 0, stale: false, sensors: new Map(), dirty: true };
      this.touched.push(d);
      this.devices.set(id, d);
      this.listDirty = true;
    }
    return d;
  }
}

const decoder = new TextDecoder();
function text(b: Uint8Array): string {
  return decoder.decode(b);
}
