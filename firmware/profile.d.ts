// Compile-time profile flags, the way embedded C stacks use config macros. esbuild's `define` replaces
// them with literals and tree shaking removes the dead branches. The values per profile live in
// tools/build/profiles.json, the single source for the build, the tests and the Node build.

/** MQTT 5: properties, reason codes, AUTH. */
declare const __MQTT5__: boolean;
/** QoS 2 in both directions. */
declare const __QOS2__: boolean;
/** Server side of the codec: encode CONNACK/SUBACK/..., decode CONNECT/SUBSCRIBE/... (broker, tests). */
declare const __SERVER__: boolean;
/**
 * Texts of the MQTT 5 reason codes in errors and logs (host builds). Board bundles say "reason 0x87":
 * the 43 texts would cost a board about 1.7 KB of RAM-resident code, and the host tools name the code.
 */
declare const __TEXTS__: boolean;
/**
 * The firmware image speaks MQTT over WebSocket (ws://, wss://) itself: firmware/transports/websocket.
 * The library bundles never carry it; a board that needs it loads the sparrow-ws module.
 */
declare const __WS__: boolean;
/** Home Assistant MQTT discovery in the sensor app (firmware/app/discovery.ts), with the `discovery` setting. */
declare const __DISCOVERY__: boolean;
/** Name of the profile the bundle was built with ("small", "full" or "node"), for boot lines and telemetry. */
declare const __PROFILE__: string;
