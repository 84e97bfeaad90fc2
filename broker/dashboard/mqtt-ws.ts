// A tiny MQTT 3.1.1 client over the browser's WebSocket: just what a read-only dashboard needs (CONNECT,
// SUBSCRIBE, receive PUBLISH at QoS 0/1, keepalive, reconnect). Every byte goes through the browser
// build of the general codec (the global `SparrowMQTT` from dist/browser/sparrow-mqtt.js), the one the
// broker runs; the boards carry its compact client half (client-codec.ts), held to the same vectors by
// test/codec.client.test.ts. Types come from the sources, code from the global.
import type * as Codec from '../../firmware/mqtt';

declare const SparrowMQTT: typeof Codec;

export interface MqttHandlers {
  /** CONNACK accepted: subscriptions are on their way. */
  connected(): void;
  message(topic: string, payload: Uint8Array, retain: boolean): void;
  /** The link went down; the client retries by itself after `retryMs`. */
  disconnected(reason: string, retryMs: number): void;
}

const KEEPALIVE = 30;

export class WsMqtt {
  private ws: WebSocket | null = null;
  private reader: Codec.PacketReader | null = null;
  private ping: number | undefined;
  private backoff = 500;
  private stopped = false;

  constructor(private url: string, private clientId: string, private filters: string[], private on: MqttHandlers) {}

  start(): void {
    this.stopped = false;
    const ws = new WebSocket(this.url, ['mqtt']);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.reader = new SparrowMQTT.PacketReader({ protocolVersion: 4 });
    ws.onopen = () => this.send({ cmd: 'connect', protocolVersion: 4, clientId: this.clientId, clean: true, keepalive: KEEPALIVE });
    ws.onmessage = (ev) => {
      const error = this.reader!.push(new Uint8Array(ev.data as ArrayBuffer), this.onPacket);
      if (error) this.drop('bad data from the broker: ' + error.message);
    };
    ws.onclose = () => this.drop('connection closed');
    ws.onerror = () => { /* onclose follows */ };
  }

  stop(): void {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }

  private onPacket = (p: Codec.DecodedPacket): void => {
    switch (p.cmd) {
      case 'connack': {
        const code = (p as Codec.ConnackPacket).returnCode || 0;
        if (code) { this.drop('refused by the broker (code ' + code + ')'); return; }
        this.backoff = 500;
        this.send({ cmd: 'subscribe', messageId: 1, subscriptions: this.filters.map((topic) => ({ topic, qos: 0 as const })) });
        window.clearInterval(this.ping);
        this.ping = window.setInterval(() => this.send({ cmd: 'pingreq' }), (KEEPALIVE * 1000) / 2);
        this.on.connected();
        return;
      }
      case 'publish': {
        const m = p as Codec.PublishPacket;
        // the reader reuses its views: the handler reads the payload now and keeps nothing
        this.on.message(m.topic, m.payload as Uint8Array, !!m.retain);
        if (m.qos === 1) this.send({ cmd: 'puback', messageId: m.messageId! });
        return;
      }
      default: // suback, pingresp: nothing to do
    }
  };

  private send(p: Codec.Packet): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(SparrowMQTT.encodePacket(p, { protocolVersion: 4 }));
  }

  private drop(reason: string): void {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.onclose = ws.onmessage = ws.onopen = null;
    if (ws.readyState <= WebSocket.OPEN) ws.close();
    window.clearInterval(this.ping);
    if (this.stopped) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, 8000);
    this.on.disconnected(reason, wait);
    window.setTimeout(() => { if (!this.stopped) this.start(); }, wait);
  }
}
