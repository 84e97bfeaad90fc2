// Puts a built firmware image (dist/espruino/firmware.<profile>.js) into a simulated board's Storage as
// its boot code, with an app config: what flash.sh and `sparrow provision` would leave on a real board.
import * as fs from 'fs';
import * as path from 'path';
import type { SimStorage } from './storage';

export function firmwareImagePath(profile: 'small' | 'full'): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const file = path.join(dir, 'dist', 'espruino', 'firmware.' + profile + '.js');
  if (!fs.existsSync(file)) throw new Error(file + ' is missing: run `npm run build` first');
  return file;
}

/** Writes `.bootcde` and, when given, the app's config file (firmware/app/config.ts: sparrow.json). */
export function installFirmware(storage: SimStorage, profile: 'small' | 'full', config?: object): void {
  storage.write('.bootcde', fs.readFileSync(firmwareImagePath(profile), 'latin1'));
  if (config) storage.write('sparrow.json', JSON.stringify(config));
}
