// Entry of the firmware image (dist/espruino/firmware.{small,full}.js): the sensor application.
// On a board the image runs at top level: it makes the REPL's `sparrow` object (provisioning, see
// docs/telemetry.md) and the global `onInit`, which Espruino calls after save() and at every boot.
// A host (the simulator, the tests) evaluates it as a module instead, with `exports`, and gets the
// factory: one evaluation of the image then serves many simulated boards, each on its own platform.
import { App, createApp } from './app/app';
import { espruinoAppPlatform } from './espruino';
import { VERSION } from './version';

declare const exports: { [name: string]: unknown };

declare global {
  var onInit: () => void;
  var sparrow: App;
}

if (typeof exports === 'object') {
  exports.VERSION = VERSION;
  exports.PROFILE = __PROFILE__;
  exports.createApp = createApp;
} else {
  // nothing starts here: what runs at upload is frozen by save(), and sockets do not survive that
  const app = createApp(espruinoAppPlatform());
  global.sparrow = app;
  global.onInit = app.start;
}
