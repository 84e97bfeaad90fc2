// One simulated board running the real firmware image (dist/espruino/firmware.<profile>.js, what
// flash.sh uploads): the image's createApp(platform) on the board's platform (virtual or TCP, with
// faults), plus what a board has around the app: Storage holding a provisioned sparrow.json, a seeded
// fake temperature sensor, process.memory() figures, and a reset that boots the image's app again.
//
// Nothing here publishes: the app does (birth and will on `<prefix>/<id>/status`, readings on
// `<prefix>/<id>/temperature`, answers to commands). The board's own counters come from the app's
// telemetry lines (docs/telemetry.md), parsed as the USB monitor parses them.
import type { App } from '../firmware/app/app';
import { parseLine, StatusLine } from '../firmware/app/telemetry';
import type { Platform } from '../firmware/platform';
import type { BoardState } from './board';
import type { FirmwareImage } from './bundle';
import type { FaultyPlatform } from './faulty-platform';
import { streamFor } from './rng';
import { fakeTemperature } from './sensors';

export interface AppBoardOptions {
  /** Number of the board in the fleet (seeds, shards). */
  id: number;
  image: FirmwareImage;
  platform: FaultyPlatform;
  /** The provisioned config written to sparrow.json before the first boot. */
  config: { id: string; broker: string; interval: number; telemetry: number; prefix: string };
  seed: number;
  /** The object holding the board's Storage files (shared with its REPL console under --pty); a new one when absent. */
  files?: { [name: string]: string };
  /** Where the board's console lines go. */
  console(line: string): void;
}

/** The app's counters that belong to one MQTT client, summed over the board's boots. */
export interface AppCounters {
  sent: number;
  acked: number;
  received: number;
  dropped: number;
  refused: number;
}

const COUNTERS: (keyof AppCounters)[] = ['sent', 'acked', 'received', 'dropped', 'refused'];

/** An ESP32 build: 16383 JsVars, of which the firmware image and its state take about a quarter. */
const ESP32_MEMORY = { free: 12000, total: 16383 };

/** A fleet board's device id: `sensor-00042`. */
export function deviceId(id: number): string {
  return 'sensor-' + String(id).padStart(5, '0');
}

export class AppBoard {
  app: App | null = null;
  /** The board's Storage (sparrow.json lives here). */
  readonly files: { [name: string]: string };
  /** The latest status line the app wrote (or that a poll asked for). */
  last: StatusLine | null = null;
  /** Counters of the board's earlier MQTT clients (each boot starts the app's counters at 0). */
  private readonly earlier: AppCounters = { sent: 0, acked: 0, received: 0, dropped: 0, refused: 0 };
  /** Resets (the `reboot` command) and boots. */
  reboots = 0;
  boots = 0;
  private sampling = true;
  private quiet = false;
  private stopped = false;
  readonly deviceId: string;
  readonly appPlatform: Platform;

  constructor(readonly o: AppBoardOptions) {
    this.deviceId = o.config.id;
    this.files = o.files || {};
    this.files['sparrow.json'] = JSON.stringify(o.config);
    const p = o.platform, files = this.files;
    const temperature = fakeTemperature(streamFor(o.seed, o.id, 4));
    const sensors = { temperature };
    const self = this;
    this.appPlatform = {
      connect: (target, handlers) => p.connect(target, handlers),
      now: () => p.now(),
      setTimeout: (fn, ms) => p.setTimeout(fn, ms),
      clearTimeout: (h) => p.clearTimeout(h),
      random: () => p.random(),
      log: (line) => this.log(line),
      storage: { read: (name) => files[name], write: (name, text) => { files[name] = text; } },
      // read by the app at every sample: a draining fleet silences its sensors, and the app publishes nothing
      get sensors() { return self.sampling ? sensors : {}; },
      memory: () => ESP32_MEMORY,
      reboot: () => this.reset(),
    };
  }

  /** Power on: the image's app, as onInit starts it on a board. */
  start(): void {
    this.app = this.o.image.createApp(this.appPlatform);
    this.app.start();
  }

  /** E.reboot() typed at the board's console: the running app is gone (no goodbye), and the image boots again. */
  reboot(): void {
    if (this.app) this.app.stop();
    this.app = null;
    this.reset();
  }

  /** reset() typed at the console: RAM is cleared and no boot code runs, so the app stops until the next reboot. */
  halt(): void {
    if (this.app) this.app.stop();
    this.app = null;
  }

  /** E.reboot(): RAM is gone, Storage stays, the image boots again. */
  private reset(): void {
    this.reboots++;
    if (this.stopped) return;
    this.o.platform.log('(board reset)');
    this.start();
  }

  private log(line: string): void {
    const t = parseLine(line);
    if (t && t.ev !== 'config') {
      const s = t as StatusLine;
      if (s.ev === 'boot') {
        // a new app run: the previous client's counters are final (as last seen) and the new ones start at 0
        this.boots++;
        if (this.last) for (const k of COUNTERS) this.earlier[k] += this.last[k];
      }
      this.last = s;
    }
    if (!this.quiet) this.o.console(line);
  }

  /** Asks the app for a status line now, without showing it on the console. */
  poll(): StatusLine | null {
    if (!this.app || this.stopped) return this.last;
    this.quiet = true;
    try {
      this.app.status();
    } finally {
      this.quiet = false;
    }
    return this.last;
  }

  /** The board's counters over all its boots, as of the last status line. */
  counters(): AppCounters {
    const c = { ...this.earlier };
    if (this.last) for (const k of COUNTERS) c[k] += this.last[k];
    return c;
  }

  get state(): BoardState {
    if (this.stopped) return 'stopped';
    const m = this.last ? this.last.mqtt : 'off';
    return m === 'connected' ? 'connected' : m === 'offline' ? 'backoff' : m === 'unconfigured' ? 'stopped' : 'connecting';
  }

  /** QoS 1 publishes in flight or waiting in the offline queue (as of the last status line). */
  get pending(): number {
    return this.last ? this.last.inflight + this.last.queued : 0;
  }

  /** No more readings (the end of a run); the app stays connected and answers commands. */
  stopSampling(): void {
    this.sampling = false;
  }

  /** A clean end: the app disconnects (the broker drops the will; the retained status stays as it was). */
  stop(): void {
    if (this.stopped) return;
    this.poll();
    this.stopped = true;
    if (this.app) this.app.stop();
    this.o.platform.stop();
  }
}
