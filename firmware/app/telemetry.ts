// The telemetry lines a board writes on its console for the USB monitor (docs/telemetry.md). The
// firmware formats them; the monitor, on Node, imports this same module to parse them, so the prefix,
// the events and the fields have one definition. What the firmware does not use is tree-shaken away.
import type { Config } from './config';

/**
 * Starts every telemetry line. Nothing else on an Espruino console starts like this: the REPL's
 * prompt is ">", its echoes start with "=", errors with "Uncaught", and "/1" is the format version.
 */
export const TELEMETRY_PREFIX = '@sparrow/1 ';

/** Why a status line was written (its `ev`). Config lines have `ev` "config" and their own fields. */
export const STATUS_EVENTS = ['boot', 'tick', 'status', 'wifi', 'connected', 'offline', 'error', 'cmd'];

/** Values of `mqtt`. */
export const MQTT_STATES = ['unconfigured', 'off', 'connecting', 'connected', 'offline'];

/** A status line: the board's whole state, written every `telemetry` seconds and at each event. */
export interface StatusLine {
  ev: string;
  id: string;
  fw: string;
  profile: string;
  wifi: string;
  mqtt: string;
  broker: string;
  sent: number;
  acked: number;
  received: number;
  dropped: number;
  refused: number;
  inflight: number;
  queued: number;
  reconnects: number;
  free: number | null;
  error: string | null;
  uptime: number;
  interval: number;
  /** Only on `cmd` lines: the command as received. */
  cmd?: string;
}

/** The answer to sparrow.configure() and sparrow.config(); passwords show as "***" when set. */
export interface ConfigLine {
  ev: 'config';
  id: string;
  /** The config can run (configure: it was valid and is now stored and applied). */
  ok: boolean;
  /** Why not, when ok is false. */
  error?: string;
  config?: { [setting: string]: string | number } | Config;
}

export type TelemetryLine = StatusLine | ConfigLine;

/** Each status line field: its JSON type and what it means (the monitor's columns and --json keys). */
export const STATUS_FIELDS: { [field: string]: [string, string] } = {
  // literal text only: a computed value would keep this table in the firmware image, which never reads it
  ev: ['string', 'why the line was written: boot, tick, status, wifi, connected, offline, error, cmd'],
  id: ['string', 'device id'],
  fw: ['string', 'firmware version'],
  profile: ['string', 'build profile: small or full'],
  wifi: ['string', 'Wi-Fi station state as the board names it (connected, connecting, off, wrong_password, ...); none without Wi-Fi'],
  mqtt: ['string', 'MQTT state: unconfigured, off, connecting, connected, offline'],
  broker: ['string', 'broker URL'],
  sent: ['number', 'QoS>0 publishes sent (resends count again)'],
  acked: ['number', 'QoS>0 publishes acknowledged by the broker'],
  received: ['number', 'messages received (commands)'],
  dropped: ['number', 'QoS 0 messages dropped from a full offline queue'],
  refused: ['number', 'publishes refused (store full, bad topic)'],
  inflight: ['number', 'QoS>0 publishes sent and not yet acknowledged'],
  queued: ['number', 'messages waiting in the offline queue'],
  reconnects: ['number', 'reconnect attempts of this MQTT client'],
  free: ['number|null', 'free JsVars; null where the platform cannot tell'],
  error: ['string|null', 'last error, kept until another replaces it'],
  uptime: ['number', 'whole seconds since the app started'],
  interval: ['number', 'sampling interval in seconds'],
  cmd: ['string', 'cmd lines only: the command text'],
};

export function formatLine(line: TelemetryLine): string {
  return TELEMETRY_PREFIX + JSON.stringify(line);
}

/**
 * The telemetry object in a console line, or null for any other line (plain output, garbage, a
 * truncated line). The prefix may follow REPL noise such as a prompt left on the same line.
 */
export function parseLine(line: string): TelemetryLine | null {
  const at = line.indexOf(TELEMETRY_PREFIX);
  if (at < 0) return null;
  try {
    const o = JSON.parse(line.substring(at + TELEMETRY_PREFIX.length));
    return o && typeof o === 'object' && typeof o.ev === 'string' && typeof o.id === 'string' ? o : null;
  } catch (e) {
    return null;
  }
}
