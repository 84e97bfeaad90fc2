// Entry of the library bundles (dist/espruino/sparrow-mqtt.{small,full}.js). On Espruino the bundle is
// loaded as a module (`require("sparrow-mqtt")`), so it fills the module's `exports`; the simulator and
// duk evaluate it the same way, as `new Function('exports', bundle)`. Plain assignments, not ESM
// exports: esbuild would otherwise emit a getter-based CommonJS shim, which costs bytes.
import { connect, ClientOptions } from './client';
import { espruinoPlatform } from './espruino';
import type { Platform } from './platform';
import { VERSION } from './version';

declare const exports: { [name: string]: unknown };

exports.VERSION = VERSION;
exports.PROFILE = __PROFILE__;
/** MQTT.js's connect(url, options), on the board's own sockets and timers. */
exports.connect = (url: string, options?: ClientOptions) => connect(espruinoPlatform(), url, options);
/** The same API on another platform: the simulator runs many boards from one evaluation of this bundle. */
exports.create = (platform: Platform) => ({
  connect: (url: string, options?: ClientOptions) => connect(platform, url, options),
});
/** The board's own platform, for wrapping (e.g. in require("sparrow-serial").serialPlatform). */
exports.espruinoPlatform = espruinoPlatform;
