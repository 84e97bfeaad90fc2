// A message as the broker keeps it: owned bytes (the codec's views die with its callback), the
// properties that travel end to end, and an absolute expiry time.
import type { Properties, QoS } from '../firmware/mqtt';

/**
 * Properties a forwarded message does not carry over: per hop (topic alias, subscription ids),
 * recomputed at each delivery (message expiry), or not a PUBLISH property at all (a will's delay).
 */
const NOT_FORWARDED: { [key: string]: true } = { topicAlias: true, subscriptionIdentifier: true, messageExpiryInterval: true, willDelayInterval: true };

export interface Message {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** MQTT 5 properties forwarded to subscribers (no topic alias or subscription ids: those are per hop). */
  properties?: Properties;
  /** Clock time (epoch ms) after which the message is not delivered (Message Expiry Interval), or 0. */
  expiresAt: number;
  /** Client id of the publisher, for No Local. */
  origin: string;
}

/** The properties a PUBLISH (or a will, which becomes one) forwards, copied out of the reader's reused object. */
export function forwardedProperties(p: Properties | undefined): Properties | undefined {
  if (!p) return undefined;
  let out: Properties | undefined;
  for (const key in p) {
    const v = (p as any)[key];
    if (v === undefined || NOT_FORWARDED[key]) continue;
    if (!out) out = {};
    (out as any)[key] = v instanceof Uint8Array ? new Uint8Array(v)
      : key === 'userProperties' ? JSON.parse(JSON.stringify(v)) : v;
  }
  return out;
}

/** Seconds left before `m` expires, for the Message Expiry Interval sent on (spec 3.3.2.3.3); undefined if none. */
export function remainingExpiry(m: Message, now: number): number | undefined {
  return m.expiresAt ? Math.max(0, Math.ceil((m.expiresAt - now) / 1000)) : undefined;
}

export function expired(m: Message, now: number): boolean {
  return m.expiresAt !== 0 && now >= m.expiresAt;
}
