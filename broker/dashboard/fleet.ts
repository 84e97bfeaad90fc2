// The dashboard's model of a fleet, fed by MQTT messages and read by the renderer once per frame.
// Topic convention: `<prefix>/<id>/status` is `online` or `offline` (retained; the will says offline),
// `<prefix>/<id>/<sensor>` is a reading, a decimal number. Handling a message only updates numbers and
// sets dirty flags; nothing touches the DOM here, so a burst of messages costs no layout.

/** Points kept per sensor per device: 4 minutes at one reading a second. */
export const HISTORY = 240;

export class Series {
  readonly t = new Float64Array(HISTORY);
  readonly v = new Float64Array(HISTORY);
  private next = 0;
  count = 0;
  last = NaN;

  push(t: number, v: number): void {
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
  /** Seconds (epoch) of the last message from or about it. */
  seen: number;
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

  constructor(readonly prefix: string) {}

  /** One MQTT message; returns quickly and allocates little (a topic split, one string for the payload). */
  handle(topic: string, payload: Uint8Array, now: number): void {
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
    if (sensor === 'status') { this.setState(id, payload, now); return; }
    const value = parseFloat(text(payload));
    if (!isFinite(value)) return;
    const d = this.device(id, now);
    let s = d.sensors.get(sensor);
    if (!s) {
      d.sensors.set(sensor, (s = new Series()));
      if (this.sensorNames.indexOf(sensor) < 0) { this.sensorNames.push(sensor); this.listDirty = true; } // a new column
    }
    s.push(now, value);
    d.seen = now;
    this.touch(d);
  }

  private setState(id: string, payload: Uint8Array, now: number): void {
    if (payload.length === 0) { // the retained status was deleted: the device left the fleet
      const d = this.devices.get(id);
      if (d) { if (d.state === 'online') this.online.count--; this.devices.delete(id); this.listDirty = true; }
      return;
    }
    const d = this.device(id, now);
    const state: State = text(payload) === 'online' ? 'online' : 'offline';
    if (state !== d.state) {
      if (d.state === 'online') this.online.count--;
      if (state === 'online') this.online.count++;
      d.state = state;
      this.listDirty = true;
    }
    d.seen = now;
    this.touch(d);
  }

  private touch(d: Device): void {
    if (!d.dirty) { d.dirty = true; this.touched.push(d); }
  }

  private device(id: string, now: number): Device {
    let d = this.devices.get(id);
    if (!d) {
      d = { id, state: 'unknown', seen: now, sensors: new Map(), dirty: true };
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
