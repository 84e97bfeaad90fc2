// Will messages waiting for their Will Delay Interval (spec 3.1.3.2). A will is published when the
// delay passes or the session ends, whichever comes first, and dropped if the client comes back first.
import type { Clock, Timer } from './clock';
import type { Message } from './message';

export class Wills {
  private pending = new Map<string, { timer: Timer; will: Message }>();

  constructor(private clock: Clock, private publish: (will: Message) => void) {}

  /** Publishes `will` after `delaySeconds` (now for 0), unless cancelled. */
  schedule(clientId: string, will: Message, delaySeconds: number): void {
    this.cancel(clientId);
    if (delaySeconds <= 0) { this.publish(will); return; }
    const timer = this.clock.setTimeout(() => this.fire(clientId), delaySeconds * 1000);
    this.pending.set(clientId, { timer, will });
  }

  /** The client is back on its session: its will is not sent [MQTT-3.1.3-9]. */
  cancel(clientId: string): void {
    const p = this.pending.get(clientId);
    if (!p) return;
    this.clock.clearTimeout(p.timer);
    this.pending.delete(clientId);
  }

  /** The session ended before the delay did: the will goes now. */
  fire(clientId: string): void {
    const p = this.pending.get(clientId);
    if (!p) return;
    this.clock.clearTimeout(p.timer);
    this.pending.delete(clientId);
    this.publish(p.will);
  }

  get size(): number { return this.pending.size; }

  clear(): void {
    for (const p of this.pending.values()) this.clock.clearTimeout(p.timer);
    this.pending.clear();
  }
}
