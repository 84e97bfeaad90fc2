// One simulated board running the real firmware image (dist/espruino/firmware.<profile>.js, what
// flash.sh uploads): the image's createApp(platform) on the board's platform (virtual or TCP, with
// faults), plus what a board has around the app: Storage holding a provisioned sparrow.json, a seeded
// fake temperature sensor, process.memory() figures, and a reset that boots the image's app again.
// Under --pty the board's console can instead boot an image flashed to its Storage (flash.sh): that
// image then is the board's app (runFlashed), and its telemetry lines come in from the console.
//
// Nothing here publishes: the app does (birth and will on `<prefix>/<id>/status`, readings on
// `<prefix>/<id>/temperature`, answers to commands). The board's own counters come from the app's
// telemetry lines (docs/telemetry.md), parsed as the USB monitor parses them. A new id provisioned at
// its console is learnt from those lines; a new prefix is handed to the fleet's checker to follow.
import type { App } from '../../firmware/app/app';
import { defaults, readConfig } from '../../firmware/app/config';
import { ConfigLine, parseLine, StatusLine } from '../../firmware/app/telemetry';
import type { ConnectTarget, Platform, PlatformSocket, SocketHandlers } from '../../firmware/platform';
import type { BoardState } from './board';
import type { FirmwareImage } from '../bundle';
import type { FaultyPlatform } from '../platform/faulty';
import { streamFor } from '../platform/rng';
import { fakeTemperature } from '../platform/sensors';

export interface AppBoardOptions {
  /** Number of the board in the fleet (seeds, shards). */
  id: number;
  image: FirmwareImage;
  platform: FaultyPlatform;
  /** The provisioned config written to sparrow.json before the first boot. */
  config: { id: string; broker: string; interval: number; telemetry: number; prefix: string; discovery: string; username?: string; password?: string };
  seed: number;
  /** The object holding the board's Storage files (shared with its REPL console under --pty); a new one when absent. */
  files?: { [name: string]: string };
  /** Where the board's console lines go. */
  console(line: string): void;
  /** The fleet's checker: calls `then` once it receives what is published under `prefix` (at once when it already does). */
  follow?(prefix: string, then: () => void): void;
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
  /**
   * What runs the board: the fleet's image on the board's platform, or an image flashed to its Storage
   * (`.bootcde`) that its console booted, on the console's own globals (real sockets and clock, no faults).
   */
  firmware: 'fleet' | 'flashed' = 'fleet';
  /** Boots of an image flashed to the board's Storage. */
  flashedBoots = 0;
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
  /** Every device id the board has published under, oldest first: provisioning a new id at its console adds one. */
  readonly ids: string[];
  readonly appPlatform: Platform;

  constructor(readonly o: AppBoardOptions) {
    this.ids = [o.config.id];
    this.files = o.files || {};
    this.files['sparrow.json'] = JSON.stringify(o.config);
    const p = o.platform, files = this.files;
    const temperature = fakeTemperature(streamFor(o.seed, o.id, 4));
    const sensors = { temperature };
    const self = this;
    this.appPlatform = {
      connect: (target, handlers) => this.connect(target, handlers),
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
    this.firmware = 'fleet';
    this.app = this.o.image.createApp(this.appPlatform);
    this.app.start();
  }

  /** E.reboot() or load() typed at the board's console, with no image in its Storage: the fleet's image boots again. */
  reboot(): void {
    this.halt();
    this.reset();
  }

  /**
   * The board's RAM is gone (reset(), E.reboot(), load() or power off at its console). The fleet's app
   * ends cleanly, its counters read first, so that the reset before an upload leaves no will and loses no
   * count; a flashed image dies with the console's RAM as on a board, its counters as of its last line.
   */
  halt(): void {
    if (this.stopped) return; // the fleet ended it, and the report reads its last line
    if (this.app && this.firmware === 'fleet') {
      this.poll();
      this.app.stop();
    }
    this.app = null;
    this.fold();
  }

  /**
   * The console booted the image flashed to the board's Storage, which runs the board from now on.
   * `app` is the `sparrow` object the image made (null for an image that made none); the image's
   * telemetry lines come in through telemetry(), its boot line already has. The app that ran before
   * was halted when the console's previous RAM ended.
   */
  runFlashed(app: App | null): void {
    this.firmware = 'flashed';
    this.app = app;
    this.reboots++;
    this.flashedBoots++;
  }

  /** E.reboot(): RAM is gone, Storage stays, the image boots again. */
  private reset(): void {
    this.reboots++;
    if (this.stopped) return;
    this.o.platform.log('(board reset)');
    this.start();
  }

  private log(line: string): void {
    this.telemetry(line);
    if (!this.quiet) this.o.console(line);
  }

  /**
   * The app's connection, opened once the fleet's checker follows the prefix the app runs with (from
   * Storage, as the app read it at boot): nothing published under a prefix newly provisioned at the
   * console goes unseen. A prefix already followed connects at once, on the socket itself.
   */
  private connect(target: ConnectTarget, handlers: SocketHandlers): PlatformSocket {
    const p = this.o.platform, follow = this.o.follow;
    if (!follow) return p.connect(target, handlers);
    const held = new HeldConnection(() => p.connect(target, handlers));
    follow(readConfig(this.appPlatform.storage!, defaults('')).config.prefix, () => held.open());
    return held.inner || held;
  }

  /** Books a console line of the board's app: its status lines are the board's counters. */
  telemetry(line: string): void {
    const t = parseLine(line);
    if (!t) return;
    if (t.ev === 'config') {
      // a config the app is about to run (or has stored): the checker starts following its prefix now,
      // ahead of the connection under it (an image flashed to the board connects without asking connect())
      const c = t as ConfigLine, prefix = c.ok && c.config ? c.config.prefix : undefined;
      if (typeof prefix === 'string' && this.o.follow) this.o.follow(prefix, () => undefined);
      return;
    }
    const s = t as StatusLine;
    if (s.ev === 'boot') {
      this.boots++;
      this.fold();
    }
    if (s.id && this.ids.indexOf(s.id) < 0) this.ids.push(s.id);
    this.last = s;
  }

  /** The id the board goes by now. */
  get deviceId(): string {
    return this.ids[this.ids.length - 1];
  }

  /** The app run is over: its client's counters are final (as last seen), and the next run's start at 0. */
  private fold(): void {
    if (this.last) for (const k of COUNTERS) this.earlier[k] += this.last[k];
    this.last = null;
  }

  /**
   * Asks the fleet's app for a status line now, without showing it on the console. A flashed image
   * would print it on the board's console, so it is known by the lines it prints on its own.
   */
  poll(): StatusLine | null {
    if (!this.app || this.stopped || this.firmware === 'flashed') return this.last;
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
    // a halted board (reset() at its console) runs no app until it boots again
    if (this.stopped || (!this.app && !this.last)) return 'stopped';
    const m = this.last ? this.last.mqtt : 'off';
    return m === 'connected' ? 'connected' : m === 'offline' ? 'backoff' : m === 'unconfigured' ? 'stopped' : 'connecting';
  }

  /** QoS 1 publishes in flight or waiting in the offline queue (as of the last status line). */
  get pending(): number {
    return this.last ? this.last.inflight + this.last.queued : 0;
  }

  /**
   * No more readings (the end of a run); the fleet's app stays connected and answers commands. A flashed
   * image's sensors cannot be silenced, so it ends now: its counters are then final before the drain
   * counts the last deliveries.
   */
  stopSampling(): void {
    this.sampling = false;
    if (this.firmware === 'flashed') this.stop();
  }

  /** A clean end: the app disconnects (the broker drops the will; the retained status stays as it was). */
  stop(): void {
    if (this.stopped) return;
    if (this.firmware === 'fleet') {
      this.poll();
      this.stopped = true;
      if (this.app) this.app.stop();
    } else {
      this.stopped = true;
      this.endFlashed();
    }
    this.o.platform.stop();
  }

  /** A status line (on the board's console) for the final counters, then a clean MQTT end. */
  private endFlashed(): void {
    const app = this.app;
    if (!app) return;
    try {
      app.status();
      app.stop();
    } catch (e) {
      // anyone's image can be flashed: its failure is the board's, not the fleet's
      this.o.console('(the flashed image failed to stop: ' + ((e as Error).message || e) + ')');
    }
  }
}

/** A connection opened only when told (the checker follows the board's prefix); ended before that, it never opens. */
class HeldConnection implements PlatformSocket {
  inner: PlatformSocket | null = null;
  private ended = false;

  constructor(private readonly opener: () => PlatformSocket) {}

  open(): void {
    if (!this.ended) this.inner = this.opener();
  }

  write(bytes: Uint8Array, n: number): void {
    if (this.inner) this.inner.write(bytes, n);
  }

  end(): void {
    this.ended = true;
    if (this.inner) this.inner.end();
  }
}
