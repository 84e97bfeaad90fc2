// The Node build's entry (the package's `main`): the codec, and MQTT.js's `connect(url, options)` that
// runs the firmware's client on Node's sockets and clock, the same API as on a board.
import { connect as connectOn, ClientOptions, MqttClient } from '../firmware/client';
import { withWebSocket } from '../firmware/transports/websocket';
import { nodePlatform } from './platform/node';

export * from '../firmware/mqtt';
export type { ClientOptions, MqttClient };

export function connect(url: string, options?: ClientOptions): MqttClient {
  return connectOn(withWebSocket(nodePlatform()), url, options);
}
