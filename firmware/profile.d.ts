// Compile-time profile flags, the way embedded C stacks use config macros. esbuild's `define` replaces
// them with literals and tree shaking removes the dead branches. The values per profile live in
// tools/build/profiles.json, the single source for the build, the tests and the Node build.

/** MQTT 5: properties, reason codes, AUTH. */
declare const __MQTT5__: boolean;
/** QoS 2 in both directions. */
declare const __QOS2__: boolean;
/** Server side of the codec: encode CONNACK/SUBACK/..., decode CONNECT/SUBSCRIBE/... (broker, tests). */
declare const __SERVER__: boolean;
/** MQTT over WebSocket (ws://, wss://): the client-side RFC 6455 framing in firmware/transports/websocket. */
declare const __WS__: boolean;
/** Name of the profile the bundle was built with ("small", "full" or "node"), for boot lines and telemetry. */
declare const __PROFILE__: string;
