// A board for the app tests: the built firmware image (dist/espruino/firmware.*.js, what is flashed)
// on the host platform, with its Storage, console lines and sockets in the test's hands.
import type * as net from 'net';
import type { App } from '../../firmware/app/app';
import { parseLine, type ConfigLine, type StatusLine, type TelemetryLine } from '../../firmware/app/telemetry';
import type { Platform } from '../../firmware/platform';
import { bundlePath, loadBundle, type FirmwareImage } from '../../host-sim/bundle';
import { nodePlatform } from '../../host-sim/platform/node';
import { until } from './wait';

export function firmware(profile: 'small' | 'full' = 'full'): FirmwareImage {
  return loadBundle<FirmwareImage>(bundlePath(profile, 'firmware'));
}

export interface TestBoardOptions {
  /** Written to Storage as sparrow.json before boot: an object as JSON, a string as is. */
  config?: object | string;
  profile?: 'small' | 'full';
  /** Give the platform a reboot hook (counted in `reboots`); without it the app restarts itself. */
  reboot?: boolean;
  /** Changes to the platform (a fake Wi-Fi, ...). */
  extend?: (p: Platform) => void;
}

export class TestBoard {
  /** Every console line, in order. */
  readonly lines: string[] = [];
  readonly files: { [name: string]: string } = {};
  readonly sockets: net.Socket[] = [];
  reboots = 0;
  readonly app: App;

  constructor(o: TestBoardOptions = {}) {
    if (o.config !== undefined) this.files['sparrow.json'] = typeof o.config === 'string' ? o.config : JSON.stringify(o.config);
    const platform = nodePlatform({
      log: (l) => { this.lines.push(l); if (process.env.APP_LOG) console.error(l); },
      files: this.files,
      onSocket: (s) => this.sockets.push(s),
      reboot: o.reboot ? () => { this.reboots++; } : undefined,
    });
    if (o.extend) o.extend(platform);
    this.app = firmware(o.profile).createApp(platform);
  }

  /** Telemetry lines from index `from` of `lines` on. */
  telemetry(from = 0): TelemetryLine[] {
    return this.lines.slice(from).map(parseLine).filter((t): t is TelemetryLine => t !== null);
  }

  /** The first status line from index `from` on that `match` accepts, waiting for it (bounded). */
  async status(match: (s: StatusLine) => boolean, what: string, from = 0, ms = 5000): Promise<StatusLine> {
    let found: StatusLine | undefined;
    await until(() => !!(found = this.telemetry(from).find((t): t is StatusLine => t.ev !== 'config' && match(t as StatusLine))), what, ms);
    return found as StatusLine;
  }

  /** The first config line from index `from` on. */
  async configLine(from: number): Promise<ConfigLine> {
    let found: ConfigLine | undefined;
    await until(() => !!(found = this.telemetry(from).find((t): t is ConfigLine => t.ev === 'config')), 'a config line', 2000);
    return found as ConfigLine;
  }

  /** A status line written now (sparrow.status()). */
  now(): StatusLine {
    const from = this.lines.length;
    this.app.status();
    return parseLine(this.lines[from]) as StatusLine;
  }

  stop(): void {
    this.app.stop();
  }
}
