// Broker settings: one definition with defaults, read by the CLI (flags and --config JSON) and by tests.
import { nodeClock, type Clock } from './clock';
import type { Logger } from './log';

export interface BrokerOptions {
  /** TCP listener; port 0 picks a free port. null disables it. */
  port: number | null;
  host: string;
  /** WebSocket listener (HTTP, path wsPath). null disables it. */
  wsPort: number | null;
  wsPath: string;
  /** Accept WebSocket upgrades that do not offer the `mqtt` subprotocol (the spec requires it; off by default). */
  wsSubprotocolOptional: boolean;
  /** TLS listener, needs cert and key (PEM file paths). null disables it. */
  tlsPort: number | null;
  cert?: string;
  key?: string;
  /** LMDB directory for retained messages and persistent sessions; none keeps everything in memory. */
  dataDir?: string;
  /** Acknowledge QoS >= 1 publishes only once they are flushed to disk (fsync), not only committed. */
  fsync: boolean;
  /** File of `user:password` lines; when given, anonymous clients are refused unless allowAnonymous. */
  passwd?: string;
  allowAnonymous?: boolean;
  /** File of per-user topic patterns (see docs/broker.md). */
  acl?: string;
  /** Largest packet accepted from clients, in bytes (also sent to MQTT 5 clients in CONNACK). */
  maxPacketSize: number;
  /** Keep alive imposed on MQTT 5 clients (Server Keep Alive); 0 leaves the client's own. */
  serverKeepAlive: number;
  /**
   * Longest keep alive allowed, seconds (mosquitto's max_keepalive); 0 allows any, and none (0). An MQTT 5
   * client asking more or 0 gets this as Server Keep Alive; a 3.1.1 one is refused (identifier rejected).
   */
  maxKeepalive: number;
  /** Receive Maximum: unacknowledged QoS 1/2 publishes a client may have towards the broker. */
  receiveMaximum: number;
  /** In-flight QoS 1/2 messages towards a client (further capped by the client's Receive Maximum). */
  maxInflight: number;
  /** Topic aliases a MQTT 5 client may use towards the broker. */
  topicAliasMaximum: number;
  /** A client's queue length at which its publishers are paused (back-pressure), and where they resume. */
  queueHigh: number;
  queueLow: number;
  /**
   * Levels a topic or filter may have (mosquitto's limit too). A PUBLISH or will over it is refused
   * (the connection closes, 0x90 in MQTT 5), a SUBSCRIBE filter over it gets 0x8F / 0x80.
   */
  maxTopicLevels: number;
  /**
   * Messages (mosquitto's max_queued_messages) and bytes of messages (max_queued_bytes) one session may
   * hold, queued and in flight. A QoS 1/2 message past either is dropped and counted; a connected
   * client it was for is disconnected (0x97), keeping its session and what it holds.
   */
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  /**
   * Bytes of messages all sessions together may hold (mosquitto's memory_limit, for queued messages):
   * past it, QoS 1/2 messages for offline sessions are dropped and counted. 0: no limit.
   */
  memoryLimit: number;
  /**
   * Milliseconds a subscriber may keep publishers paused on its full queue without progress (an
   * acknowledgement, or 4 KB taken from its socket); then it is disconnected (0x97). 0: never.
   */
  stallTimeout: number;
  /** Subscriptions one client may hold; more are refused (0x97 in MQTT 5, 0x80 in 3.1.1). */
  maxSubscriptions: number;
  /** Milliseconds a new connection has to send CONNECT. */
  connectTimeout: number;
  /** Seconds between $SYS updates; 0 disables them. */
  sysInterval: number;
  /** Largest Session Expiry Interval granted, seconds. */
  maxSessionExpiry: number;
  logLevel: string;
  /** Where log lines go (defaults to stderr); tests capture them here. */
  logger?: Logger;
  /** Every timer and time stamp of the broker (Node's by default; the virtual fleet passes virtual time). */
  clock: Clock;
}

export const DEFAULTS: BrokerOptions = {
  port: 1883,
  host: '127.0.0.1',
  wsPort: null,
  wsPath: '/mqtt',
  wsSubprotocolOptional: false,
  tlsPort: null,
  fsync: false,
  maxPacketSize: 1024 * 1024,
  serverKeepAlive: 0,
  maxKeepalive: 0,
  receiveMaximum: 1024,
  maxInflight: 256,
  topicAliasMaximum: 64,
  queueHigh: 1000,
  queueLow: 250,
  maxTopicLevels: 200,
  maxQueuedMessages: 100000,
  maxQueuedBytes: 64 * 1024 * 1024,
  memoryLimit: 1024 * 1024 * 1024,
  stallTimeout: 1000,
  maxSubscriptions: 10000,
  connectTimeout: 10000,
  sysInterval: 10,
  maxSessionExpiry: 0xffffffff,
  logLevel: 'info',
  clock: nodeClock,
};

export function withDefaults(options: Partial<BrokerOptions>): BrokerOptions {
  const o: BrokerOptions = { ...DEFAULTS };
  for (const k of Object.keys(options) as (keyof BrokerOptions)[]) {
    if (options[k] !== undefined) (o as any)[k] = options[k];
  }
  return o;
}
