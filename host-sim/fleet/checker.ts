// The checker: one subscriber on every board's topic (QoS 2, persistent session, on a link without
// faults) that reads each reading's board, sequence number and time stamp, and books it in the ledger:
// delivered or duplicate, and the publish-to-delivery latency. Subscribing at QoS 2 means the checker
// itself adds no duplicates, so every duplicate it counts was made between a board and the broker.
import type { MqttClient } from '../../firmware/client';
import type { Platform } from '../../firmware/platform';
import type { SparrowBundle } from '../bundle';
import type { Ledger } from './ledger';

/** Why a checker's subscription failed or was refused (a SUBACK 0x80 or above), or '' when it was granted. */
export function subscribeRefusal(filter: string, err: { message: string } | null, granted: unknown): string {
  if (err) return 'subscribe failed: ' + err.message;
  const g = (granted as Array<{ qos: number }> | undefined) || [];
  return g.length && g[0].qos >= 128 ? 'the broker refused the subscription to ' + filter : '';
}

export class Checker {
  client: MqttClient | null = null;
  subscribed = false;
  /** Set when the subscription failed or was refused: the fleet cannot be checked. */
  refusal = '';
  private readyWaiters: (() => void)[] = [];

  constructor(
    private readonly bundle: SparrowBundle, private readonly platform: Platform, private readonly url: string,
    private readonly prefix: string, private readonly ledger: Ledger, private readonly stamp: () => number, private readonly clientId: string,
  ) {}

  start(): void {
    const client = checkerClient(this.bundle, this.platform, this.url, this.clientId);
    this.client = client;
    const prefixLength = this.prefix.length + 1;
    client.on('message', (topic, payload) => {
      const id = parseInt((topic as string).slice(prefixLength), 10);
      this.book(id, payload as Uint8Array | string);
    });
    client.subscribe(this.prefix + '/+', { qos: 2 }, (err, granted) => {
      this.refusal = subscribeRefusal(this.prefix + '/+', err, granted);
      if (this.refusal) { this.platform.log('checker: ' + this.refusal); return; }
      this.subscribed = true;
      const w = this.readyWaiters;
      this.readyWaiters = [];
      for (const f of w) f();
    });
  }

  /** Calls `fn` once the subscription is in place (at once if it is). */
  onReady(fn: () => void): void {
    if (this.subscribed) fn();
    else this.readyWaiters.push(fn);
  }

  /** Reads "<seq> <stamp> ..." without making strings of it (a soak books millions). */
  private book(id: number, payload: Uint8Array | string): void {
    const at = (i: number) => (typeof payload === 'string' ? payload.charCodeAt(i) : payload[i]);
    const n = payload.length;
    let i = 0, seq = 0, stamp = 0, scale = 0;
    for (; i < n && at(i) !== 32; i++) seq = seq * 10 + at(i) - 48;
    for (i++; i < n && at(i) !== 32; i++) {
      const c = at(i);
      if (c === 46) scale = 1;
      else if (scale) { scale /= 10; stamp += (c - 48) * scale; }
      else stamp = stamp * 10 + c - 48;
    }
    this.ledger.receive(id, seq, this.stamp() - stamp);
  }

  stop(): void {
    if (this.client) this.client.end();
  }
}

/**
 * The client of a checking subscriber: a persistent session that resumes quickly after a cut, and takes
 * what the broker may have in flight towards it (QoS 2 messages are held until PUBREL); it sends little,
 * so its store is small.
 */
export function checkerClient(bundle: SparrowBundle, platform: Platform, url: string, clientId: string): MqttClient {
  return bundle.create(platform).connect(url, {
    clientId, clean: false, keepalive: 60, reconnectPeriod: 500, reconnectPeriodMax: 5000,
    properties: { receiveMaximum: 65535 }, maxPacketSize: 1 << 20, storeSlots: 4, storeBytes: 256,
  });
}
