// The checker of an --app fleet: one subscriber on `<prefix>/+/+` (QoS 2, persistent session, on a link
// without faults) that counts, per device id, what the firmware app published: readings, births
// ("online"), answers to commands, and the "offline" statuses (wills, or a board about to reboot).
// A board provisioned with another prefix is followed there too: the checker subscribes to it as well.
// Readings carry no sequence number, so there is no per-reading ledger: the fleet compares these counts
// with each board's own counters (acked) instead. Messages delivered because they were retained when
// the checker subscribed are not counted (they were published before this run).
import type { MqttClient } from '../../firmware/client';
import type { Platform } from '../../firmware/platform';
import type { SparrowBundle } from '../bundle';
import { checkerClient, subscribeRefusal } from './checker';

export interface AppRecord {
  /** Readings (`temperature`, `analog`, any level but status, cmd, pong, stats). */
  readings: number;
  /** "online" on status: the app's birth after each CONNACK. */
  births: number;
  /** "offline" on status: the will (published by the broker) or the app's own before a reboot. */
  offlines: number;
  /** pong and stats (answers to commands). */
  answers: number;
  /** The latest status payload seen (retained included). */
  status: string | null;
  /** Time of the first and the latest reading, and the longest gap between two (the fleet's ms). */
  firstReading: number;
  lastReading: number;
  maxGap: number;
}

export class AppChecker {
  client: MqttClient | null = null;
  subscribed = false;
  /** Set when the subscription failed or was refused: the fleet cannot be checked. */
  refusal = '';
  readonly records = new Map<string, AppRecord>();
  /** Readings received in all (for the progress line). */
  readings = 0;
  /** Messages received in all. */
  received = 0;
  /** Each prefix followed: the callbacks waiting for its SUBACK, then why it was refused ('' once granted). */
  private readonly prefixes = new Map<string, string | Array<(refusal: string) => void>>();

  constructor(
    private readonly bundle: SparrowBundle, private readonly platform: Platform, private readonly url: string,
    private readonly prefix: string, private readonly now: () => number, private readonly clientId: string,
  ) {}

  record(id: string): AppRecord {
    let r = this.records.get(id);
    if (!r) {
      r = { readings: 0, births: 0, offlines: 0, answers: 0, status: null, firstReading: -1, lastReading: -1, maxGap: 0 };
      this.records.set(id, r);
    }
    return r;
  }

  start(): void {
    const client = checkerClient(this.bundle, this.platform, this.url, this.clientId);
    this.client = client;
    client.on('message', (topic: string, payload, packet) => {
      // `<prefix>/<id>/<level>`, whichever prefix: the filters are `<prefix>/+/+`, so the id is the level before the last
      const slash = topic.lastIndexOf('/'), idAt = topic.lastIndexOf('/', slash - 1) + 1;
      const level = topic.slice(slash + 1);
      if (level === 'cmd') return;
      const r = this.record(topic.slice(idAt, slash));
      const text = typeof payload === 'string' ? payload : Buffer.from(payload as Uint8Array).toString('utf8');
      if (level === 'status') r.status = text;
      if ((packet as { retain?: boolean }).retain) return; // published before this run
      this.received++;
      if (level === 'status') { if (text === 'online') r.births++; else r.offlines++; return; }
      if (level === 'pong' || level === 'stats') { r.answers++; return; }
      const now = this.now();
      if (r.lastReading >= 0) r.maxGap = Math.max(r.maxGap, now - r.lastReading);
      else r.firstReading = now;
      r.lastReading = now;
      r.readings++;
      this.readings++;
    });
    this.follow(this.prefix, (refusal) => {
      this.refusal = refusal;
      this.subscribed = !refusal;
    });
  }

  /**
   * Calls `then` once the checker receives what is published under `prefix` (at once when it already
   * does), with why the broker refused that ('' when it did not): a board provisioned with a new prefix
   * connects only then, so nothing it publishes there goes unseen. A refusal is logged.
   */
  follow(prefix: string, then: (refusal: string) => void): void {
    const known = this.prefixes.get(prefix);
    if (typeof known === 'string') return then(known);
    if (known) { known.push(then); return; }
    const waiting = [then], filter = prefix + '/+/+';
    this.prefixes.set(prefix, waiting);
    this.client!.subscribe(filter, { qos: 2 }, (err, granted) => {
      const refusal = subscribeRefusal(filter, err, granted);
      if (refusal) this.platform.log('checker: ' + refusal);
      this.prefixes.set(prefix, refusal);
      for (const f of waiting) f(refusal);
    });
  }

  stop(): void {
    if (this.client) this.client.end();
  }
}
