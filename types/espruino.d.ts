// Type definitions for Sparrow's Espruino modules: require("sparrow-mqtt"), require("sparrow-ws") and
// require("sparrow-serial") on a board (dist/espruino/*.js, uploaded as modules or into Storage).
// Ambient module declarations in the style of @types/espruino, for editors and `tsc --checkJs` on
// board sketches: list "sparrow-mqtt/types/espruino" in tsconfig's "types" beside "espruino".
// The Node package's own types (require("sparrow-mqtt") on Node) are dist/types/, from the sources.

declare module "sparrow-mqtt" {
    /** A payload as given: bytes, or text sent as UTF-8. Received payloads are always Uint8Array. */
    type Payload = Uint8Array | string;
    type QoS = 0 | 1 | 2;

    /** MQTT 5 properties, by mqtt-packet's names (the full profile only). */
    interface Properties {
        [name: string]: any;
    }

    interface Will {
        topic: string;
        payload: Payload;
        qos?: QoS;
        retain?: boolean;
        properties?: Properties;
    }

    interface ClientOptions {
        /** Made up ("sparrow_" and 6 hex digits) when absent. */
        clientId?: string;
        /** 4 (MQTT 3.1.1, default) or 5 (full profile only). */
        protocolVersion?: 4 | 5;
        /** Clean session (default true). */
        clean?: boolean;
        /** Seconds (default 60); 0 turns keepalive off. */
        keepalive?: number;
        username?: string;
        password?: Payload;
        will?: Will;
        properties?: Properties;
        /** First reconnect delay ceiling in ms (default 1000); 0 turns reconnecting off. */
        reconnectPeriod?: number;
        /** Cap of the backoff ceiling in ms (default 60000). */
        reconnectPeriodMax?: number;
        /** Ms to wait for the connection and CONNACK (default 30000). */
        connectTimeout?: number;
        /** Ms to wait for PINGRESP (default: the keepalive). */
        pingTimeout?: number;
        /** QoS>0 messages in flight at once (default 16). */
        inflightMax?: number;
        /** Bytes (default 1024) and records (default 64) of the store of queued and in-flight messages. */
        storeBytes?: number;
        storeSlots?: number;
        /** Largest packet received, in bytes (default 4096). */
        maxPacketSize?: number;
    }

    interface PublishOptions {
        qos?: QoS;
        retain?: boolean;
        properties?: Properties;
    }

    /** Errors given to callbacks and to 'error': an MQTT reason code and a text. */
    interface SparrowError {
        reasonCode: number;
        message: string;
    }

    type Callback = (error: SparrowError | null, result?: any) => void;

    interface Granted {
        topic: string;
        /** 128: refused by the broker. */
        qos: number;
    }

    interface MqttClient {
        readonly connected: boolean;
        readonly reconnecting: boolean;
        /** Reconnect attempts since the last CONNACK. */
        readonly attempts: number;
        readonly reconnects: number;
        on(event: "connect", listener: (connack: { sessionPresent: boolean }) => void): MqttClient;
        /** `payload` is a view into the receive buffer, valid during the call: E.toString(payload) for text. */
        on(event: "message", listener: (topic: string, payload: Uint8Array, packet: any) => void): MqttClient;
        on(event: "error", listener: (error: SparrowError) => void): MqttClient;
        on(event: "close" | "offline", listener: (reason?: string) => void): MqttClient;
        on(event: "reconnect", listener: () => void): MqttClient;
        on(event: string, listener: (...args: any[]) => void): MqttClient;
        once(event: string, listener: (...args: any[]) => void): MqttClient;
        off(event: string, listener: (...args: any[]) => void): MqttClient;
        removeListener(event: string, listener: (...args: any[]) => void): MqttClient;
        /** `cb(error)` runs when the broker acknowledged (QoS>0) or the packet was written (QoS 0). */
        publish(topic: string, payload: Payload, options?: PublishOptions | Callback, cb?: Callback): MqttClient;
        /** A filter, several, or MQTT.js's object {filter: {qos}}; a malformed request is refused with an error. */
        subscribe(filters: string | string[] | { [filter: string]: { qos?: QoS } | QoS },
            options?: { qos?: QoS; properties?: Properties } | ((error: SparrowError | null, granted: Granted[]) => void),
            cb?: (error: SparrowError | null, granted: Granted[]) => void): MqttClient;
        unsubscribe(filters: string | string[], options?: { properties?: Properties } | Callback, cb?: Callback): MqttClient;
        /**
         * MQTT.js's end(force?, options?, cb?): disconnects cleanly (the broker drops the will) and stops
         * reconnecting. Without `force`, messages in flight are first given until they complete or the link
         * drops; with it, they are abandoned and their callbacks told so. `cb` runs once closed.
         */
        end(force?: boolean | (() => void), options?: object | (() => void), cb?: () => void): MqttClient;
        /** Connects again with the same options, also after end(). */
        reconnect(): MqttClient;
    }

    /** What the client needs of a board; espruinoPlatform() is the board's own. */
    interface Platform {
        [capability: string]: any;
    }

    /** This module's version, e.g. "0.1.0". */
    const VERSION: string;
    /** "small" (3.1.1, QoS 0/1) or "full" (MQTT 5, QoS 2). */
    const PROFILE: "small" | "full";
    /** MQTT.js's connect(url, options): mqtt://host[:port] or mqtts://; ws:// needs sparrow-ws and create(). */
    function connect(url: string, options?: ClientOptions): MqttClient;
    /** The same API on another platform (e.g. from sparrow-ws or sparrow-serial). */
    function create(platform: Platform): { connect(url: string, options?: ClientOptions): MqttClient };
    /** The board's sockets, timers and clock, for wrapping. */
    function espruinoPlatform(): Platform;
}

declare module "sparrow-ws" {
    import { Platform } from "sparrow-mqtt";
    /** `platform` that also opens ws:// and wss:// brokers: pass it to require("sparrow-mqtt").create(). */
    function withWebSocket(platform: Platform): Platform;
}

declare module "sparrow-serial" {
    import { Platform } from "sparrow-mqtt";
    interface UartPort {
        write(data: string): void;
        on(event: "data", fn: (data: string) => void): void;
    }
    interface LinkOptions {
        /** Ms before an unacknowledged frame is sent again (default 250). */
        retransmitMs?: number;
        /** Sends of one frame before the line counts as dead (default 40). */
        maxTries?: number;
        /** Transmit queue in bytes (default 2048). */
        queueBytes?: number;
    }
    /** `platform` whose connections go over `port` (Serial1, ...) to `sparrow bridge` on a host. */
    function serialPlatform(platform: Platform, port: UartPort, options?: LinkOptions): Platform;
}
