// Loads the built ES5 bundle from dist/ (what is flashed), evaluated once; each simulated board is an
// instance made by the bundle's factory on its own platform.
import * as fs from 'fs';
import * as path from 'path';
import type { ClientOptions, MqttClient } from '../firmware/client';
import type { Platform } from '../firmware/platform';

export interface SparrowBundle {
  VERSION: string;
  PROFILE: string;
  create(platform: Platform): { connect(url: string, options?: ClientOptions): MqttClient };
}

const loaded: { [file: string]: SparrowBundle } = {};

/** Path of a library bundle in dist/espruino; fails with the command to run when it was not built. */
export function bundlePath(profile: 'small' | 'full'): string {
  const file = path.join(packageRoot(), 'dist', 'espruino', 'sparrow-mqtt.' + profile + '.js');
  if (!fs.existsSync(file)) throw new Error(file + ' is missing: run `npm run build` first');
  return file;
}

/** The folder of package.json above this file, from the sources or from dist/node alike. */
function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

export function loadBundle(file: string): SparrowBundle {
  if (!loaded[file]) {
    const exports = {} as SparrowBundle;
    new Function('exports', fs.readFileSync(file, 'utf8'))(exports);
    loaded[file] = exports;
  }
  return loaded[file];
}
