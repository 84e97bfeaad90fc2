// The Node build's entry (the package's `main`): the codec, and an MQTT.js-compatible client that runs
// the firmware's engine on Node's sockets and clock (host-sim/node-client).
import { MqttClient } from './node-client/client';
import type { NodeClientOptions } from './node-client/options';

export * from '../firmware/mqtt';
export { MqttClient };
export type { MqttError, PacketCallback, Granted, SubscribeRequest } from './node-client/client';
export type { NodeClientOptions };

/** MQTT.js's `connect(url, options)` and `connect(options)`. */
export function connect(urlOrOptions?: string | NodeClientOptions, options?: NodeClientOptions): MqttClient {
  return new MqttClient(urlOrOptions, options);
}

/**
 * MQTT.js's `connectAsync`: resolves with the client at its first CONNACK; rejects with the first
 * error (and ends the client). With `allowRetries` false, the first close without a CONNACK rejects too.
 */
export function connectAsync(urlOrOptions?: string | NodeClientOptions, options?: NodeClientOptions, allowRetries = true): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connect(urlOrOptions, options);
    const settle = (how: () => void) => () => {
      client.off('connect', onConnect).off('error', onError).off('close', onClose);
      how();
    };
    const onConnect = settle(() => resolve(client));
    const onError = (e: Error) => settle(() => { client.end(true); reject(e); })();
    const onClose = settle(() => { client.end(true); reject(new Error("Couldn't connect to server")); });
    client.on('connect', onConnect).on('error', onError);
    if (!allowRetries) client.on('close', onClose);
  });
}
