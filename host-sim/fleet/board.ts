// One simulated board: the library bundle's client (the very code that is flashed) on a board's
// platform, driven by a minimal sensor loop that publishes a reading every interval. The loop stands in
// for the firmware application (firmware/app) until its image exposes a factory the simulator can run;
// see firmware.ts for where that switch happens.
//
// A reading is `<seq> <taken-at-ms> ` padded with '.' to the payload size, on `<prefix>/<board id>`,
// so the checker can tell which reading of which board it got and how long it took.
import type { MqttClient } from '../../firmware/client';
import type { SparrowBundle } from '../bundle';
import type { FaultyPlatform } from '../platform/faulty';
import { ACCEPTED, ACKED, DROPPED, FAILED, Ledger, REFUSED } from './ledger';

export type BoardState = 'connected' | 'connecting' | 'backoff' | 'stopped';

export interface BoardOptions {
  id: number;
  bundle: SparrowBundle;
  platform: FaultyPlatform;
  url: string;
  qos: 0 | 1 | 2;
  /** Ms between readings; 0 publishes nothing (a board that only listens). */
  interval: number;
  payloadBytes: number;
  prefix: string;
  ledger: Ledger;
  keepalive: number;
  /** Slots of the client's message store (its offline queue and in-flight window). */
  queue: number;
  /** Topic it subscribes to, for messages sent to the board (counted, not checked). */
  inbox?: string;
  /** Time stamps in readings: virtual ms, or epoch ms so that another machine's checker can read them. */
  stamp(): number;
}

export class SimBoard {
  state: BoardState = 'connecting';
  client: MqttClient | null = null;
  /** Messages the board received on its inbox topic. */
  received = 0;
  private timer: unknown = null;
  private publishing = false;
  readonly topic: string;

  constructor(readonly o: BoardOptions) {
    this.topic = o.prefix + '/' + o.id;
  }

  start(): void {
    const o = this.o, p = o.platform;
    const storeBytes = o.queue * (o.payloadBytes + this.topic.length + 8);
    const client = o.bundle.create(p).connect(o.url, {
      clientId: o.prefix.replace(/\//g, '-') + '-' + o.id, clean: false, keepalive: o.keepalive,
      storeSlots: o.queue, storeBytes: Math.max(256, storeBytes), inflightMax: Math.min(16, o.queue),
      reconnectPeriod: 1000, reconnectPeriodMax: 30000,
    });
    this.client = client;
    client.on('connect', () => { this.state = 'connected'; p.log('mqtt connected'); });
    client.on('close', (reason) => { if (this.state !== 'stopped') { this.state = 'backoff'; if (reason) p.log('mqtt closed: ' + reason); } });
    client.on('reconnect', () => { if (this.state !== 'stopped') this.state = 'connecting'; });
    client.on('error', (e) => p.log('mqtt error: ' + (e as { message: string }).message));
    if (o.inbox) {
      client.subscribe(o.inbox, { qos: 1 });
      client.on('message', () => { this.received++; });
    }
    p.log('sparrow ' + o.bundle.VERSION + ' ' + o.bundle.PROFILE + ' board ' + o.id);
    if (o.interval > 0) {
      this.publishing = true;
      // a random phase, so a fleet's readings do not all fall on the same instant
      this.timer = p.setTimeout(() => this.tick(), p.random() * o.interval);
    }
  }

  private tick(): void {
    if (!this.publishing) return;
    this.timer = this.o.platform.setTimeout(() => this.tick(), this.o.interval);
    this.publish();
  }

  /** Takes one reading and hands it to the client, recording what the client did with it. */
  publish(): void {
    const o = this.o, ledger = o.ledger, id = o.id;
    const seq = ledger.nextSeq(id);
    let head = seq + ' ' + Math.round(o.stamp() * 1000) / 1000 + ' ';
    if (head.length < o.payloadBytes) head += '.'.repeat(o.payloadBytes - head.length);
    let sync = true;
    ledger.set(id, seq, ACCEPTED);
    this.client!.publish(this.topic, head, { qos: o.qos }, (err) => {
      if (sync) { if (err) ledger.set(id, seq, REFUSED); else if (o.qos === 0) ledger.set(id, seq, ACKED); return; }
      // what the run's end gives up (end() tells each publisher) was still held: it stays pending
      if (this.state === 'stopped') return;
      if (!err) ledger.set(id, seq, ACKED);
      else ledger.set(id, seq, (err as { message: string }).message.indexOf('dropped') === 0 ? DROPPED : FAILED);
    });
    sync = false;
  }

  stopPublishing(): void {
    this.publishing = false;
    if (this.timer !== null) this.o.platform.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Messages still queued or in flight in the client. */
  get queued(): number {
    return this.client ? this.client.session.queued() : 0;
  }

  get inflight(): number {
    return this.client ? this.client.session.inflightCount() : 0;
  }

  stop(): void {
    this.stopPublishing();
    this.o.platform.stop();
    this.state = 'stopped';
    if (this.client) this.client.end();
  }
}
