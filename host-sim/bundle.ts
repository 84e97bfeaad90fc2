// Loads the built ES5 bundles from dist/ (what is flashed), evaluated once; each simulated board is an
// instance made by the bundle's factory on its own platform: the library's `create` (a client), or
// the firmware image's `createApp` (the whole sensor application).
import * as fs from 'fs';
import * as path from 'path';
import type { App } from '../firmware/app/app';
import type { ClientOptions, MqttClient } from '../firmware/client';
import type { Platform } from '../firmware/platform';
import type { serialPlatform } from '../firmware/transports/serial';
import type { withWebSocket } from '../firmware/transports/websocket';

export interface SparrowBundle {
  VERSION: string;
  PROFILE: string;
  create(platform: Platform): { connect(url: string, options?: ClientOptions): MqttClient };
}

/** What the serial-line module (dist/espruino/sparrow-serial.*.js) exports. */
export interface SerialBundle {
  serialPlatform: typeof serialPlatform;
}

/** What the WebSocket module (dist/espruino/sparrow-ws.*.js) exports. */
export interface WebSocketBundle {
  withWebSocket: typeof withWebSocket;
}

/** What the firmware image (firmware/main.ts) exports when it is evaluated with `exports`. */
export interface FirmwareImage {
  VERSION: string;
  PROFILE: string;
  createApp(platform: Platform): App;
}

const loaded: { [file: string]: unknown } = {};

/** Path of a bundle in dist/espruino (the library by default); fails with the command to run when it was not built. */
export function bundlePath(profile: 'small' | 'full', name: 'sparrow-mqtt' | 'firmware' | 'sparrow-serial' | 'sparrow-ws' = 'sparrow-mqtt'): string {
  const file = path.join(packageRoot(), 'dist', 'espruino', name + '.' + profile + '.js');
  if (!fs.existsSync(file)) throw new Error(file + ' is missing: run `npm run build` first');
  return file;
}

/** The folder of package.json above this file, from the sources or from dist/node alike. */
function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** The exports of a bundle: SparrowBundle for the library, FirmwareImage for `loadBundle<FirmwareImage>(firmware)`. */
export function loadBundle<T = SparrowBundle>(file: string): T {
  if (!loaded[file]) {
    const exports = {};
    new Function('exports', fs.readFileSync(file, 'utf8'))(exports);
    loaded[file] = exports;
  }
  return loaded[file] as T;
}
