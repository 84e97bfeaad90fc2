// Counters for $SYS and for logs. The broker publishes them as retained messages under $SYS/broker/.
import type { Clock } from './clock';

export class Stats {
  private readonly started: number;
  messagesReceived = 0;
  messagesSent = 0;
  /** Every message dropped: the three reasons below, and messages over a client's Maximum Packet Size. */
  messagesDropped = 0;
  /** QoS 0 messages dropped for a connected client whose queue is full. */
  droppedQueueFull = 0;
  /** QoS 1/2 messages dropped past a session's max-queued-messages or max-queued-bytes. */
  droppedSessionLimit = 0;
  /** QoS 1/2 messages for offline sessions dropped past the broker-wide memory-limit. */
  droppedMemoryLimit = 0;
  /** Subscribers disconnected for holding publishers paused without progress (stall-timeout). */
  clientsStalled = 0;
  publishReceived = 0;
  publishSent = 0;
  bytesReceived = 0;
  bytesSent = 0;
  connectionsTotal = 0;
  protocolErrors = 0;
  /** Times a publisher was paused because a subscriber's queue was full. */
  backpressurePauses = 0;

  constructor(private readonly clock: Clock) {
    this.started = clock.now();
  }

  /** The $SYS topics and values, given the live gauges. */
  snapshot(g: { clients: number; sessions: number; subscriptions: number; retained: number; queuedBytes: number; version: string }): [string, string][] {
    const s = Math.floor((this.clock.now() - this.started) / 1000);
    return [
      ['$SYS/broker/version', 'sparrow ' + g.version],
      ['$SYS/broker/uptime', s + ' seconds'],
      ['$SYS/broker/clients/connected', String(g.clients)],
      ['$SYS/broker/clients/total', String(g.sessions)],
      ['$SYS/broker/subscriptions/count', String(g.subscriptions)],
      ['$SYS/broker/retained messages/count', String(g.retained)],
      ['$SYS/broker/messages/received', String(this.messagesReceived)],
      ['$SYS/broker/messages/sent', String(this.messagesSent)],
      ['$SYS/broker/messages/dropped', String(this.messagesDropped)],
      ['$SYS/broker/messages/dropped/queue-full', String(this.droppedQueueFull)],
      ['$SYS/broker/messages/dropped/session-limit', String(this.droppedSessionLimit)],
      ['$SYS/broker/messages/dropped/memory-limit', String(this.droppedMemoryLimit)],
      ['$SYS/broker/clients/stalled', String(this.clientsStalled)],
      ['$SYS/broker/queued/bytes', String(g.queuedBytes)],
      ['$SYS/broker/publish/messages/received', String(this.publishReceived)],
      ['$SYS/broker/publish/messages/sent', String(this.publishSent)],
      ['$SYS/broker/bytes/received', String(this.bytesReceived)],
      ['$SYS/broker/bytes/sent', String(this.bytesSent)],
      ['$SYS/broker/connections/total', String(this.connectionsTotal)],
      ['$SYS/broker/backpressure/pauses', String(this.backpressurePauses)],
    ];
  }
}
