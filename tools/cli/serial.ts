// The serial-side entries of the `sparrow` command table (tools/cli.ts spreads them in): ports,
// monitor, provision, flash-upload and bridge. Kept here so the shared table grows by one line.
import * as fs from 'fs';
import { runBridge } from '../bridge';
import { provision, provisionSettings } from '../provision';
import { runMonitor, runPorts } from '../monitor/command';
import { flashUpload } from '../monitor/flash-upload';
import { UsageError } from './usage';

type Value = string | boolean | Array<string | boolean> | undefined;
type Values = { [name: string]: Value };
type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

export interface SerialCommand {
  args: string;
  summary: string;
  optionHelp?: string[];
  options?: { [name: string]: OptionSpec };
  run(values: Values, positionals: string[]): number | Promise<number>;
}

/** A whole positive number option, or the default; NaN when it is not one (usage error). */
export function intOption(v: Value, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : NaN;
}

/** Bad flags: main.ts prints the message and a hint, exit 2. */
function usageError(message: string): never {
  throw new UsageError(message);
}

/** Named ports must be there when the command starts: a typo is a usage error, not a silent or idle run. */
function existingPorts(ports: string[]): string[] {
  for (const p of ports) if (!fs.existsSync(p)) usageError(`${p}: no such port (\`sparrow ports\` lists them)`);
  return ports;
}

export const SERIAL_COMMANDS: { [name: string]: SerialCommand } = {
  ports: {
    args: '[PORT...]',
    summary: 'List serial ports, marking Espruino boards and USB-serial chips by USB id (works without udev too).',
    optionHelp: ['  --json        the list as JSON'],
    options: { json: { type: 'boolean' } },
    run: (values, ports) => runPorts(existingPorts(ports), !!values.json),
  },
  monitor: {
    args: '[PORT...]',
    summary: 'Watch boards\' consoles: a live table of their telemetry (keys: raw console), or --json lines.',
    optionHelp: ['  --baud B      baud rate (default 115200)',
      '  --json        one JSON object per telemetry line and event, on stdout',
      '  --log DIR     write each board\'s raw console to DIR/<id>.log',
      '  Without PORT, boards are found by USB id (see `sparrow ports`) and looked for again as they come and go.',
      '  Named ports may appear later (a board plugged in), but at least one must be there at the start.'],
    options: { baud: { type: 'string' }, json: { type: 'boolean' }, log: { type: 'string' } },
    run: (values, ports) => {
      const baud = intOption(values.baud, 115200);
      if (Number.isNaN(baud)) return usageError('--baud must be a whole number');
      // boards come and go: a named port may appear later, but one that names no port at all is a typo
      const missing = ports.filter((p) => !fs.existsSync(p));
      if (ports.length && missing.length === ports.length) existingPorts(ports);
      for (const p of missing) console.error(`sparrow monitor: note: ${p} is not there (yet); watching for it`);
      return runMonitor({ ports, baud, json: !!values.json, log: values.log as string | undefined });
    },
  },
  provision: {
    args: 'PORT --broker URL [options]',
    summary: 'Give a board its Wi-Fi, broker, id and interval over the console, check, reboot, wait for MQTT connected.',
    optionHelp: ['  --wifi SSID          Wi-Fi network', '  --wifi-password PW   Wi-Fi password (never echoed or logged)',
      '  --broker URL         mqtt://, mqtts://, ws:// or wss:// broker', '  --id ID              device id (MQTT client id and topic level)',
      '  --interval S         sampling interval in seconds', '  --telemetry S        seconds between telemetry lines',
      '  --prefix P           topic prefix', '  --username U, --mqtt-password P   the broker\'s user name and password (never echoed)',
      '  --baud B             baud rate (default 115200)', '  --timeout S          seconds to wait for MQTT connected (default 60)'],
    options: {
      wifi: { type: 'string' }, 'wifi-password': { type: 'string' }, broker: { type: 'string' }, id: { type: 'string' },
      // the old name of --wifi-password, kept to say so
      password: { type: 'string' },
      interval: { type: 'string' }, telemetry: { type: 'string' }, prefix: { type: 'string' }, username: { type: 'string' },
      'mqtt-password': { type: 'string' }, baud: { type: 'string' }, timeout: { type: 'string' },
    },
    run: async (values, ports) => {
      if (ports.length !== 1) return usageError('give exactly one PORT');
      existingPorts(ports);
      const { settings, error } = provisionSettings(values);
      if (error) return usageError(error);
      const baud = intOption(values.baud, 115200), timeout = intOption(values.timeout, 60);
      if (Number.isNaN(baud) || Number.isNaN(timeout)) return usageError('--baud and --timeout take whole numbers');
      try {
        await provision({ port: ports[0], baud, settings, timeout });
        console.log('provisioned ' + ports[0]);
        return 0;
      } catch (e) {
        console.error('sparrow provision: ' + (e as Error).message);
        return 1;
      }
    },
  },
  'flash-upload': {
    args: '--file IMAGE [--port P] [options]',
    summary: 'Upload a firmware image to a board\'s Storage as boot code, verify it, and wait for its version (flash.sh uses this).',
    optionHelp: ['  --file IMAGE      firmware image (dist/espruino/firmware.<profile>.js)', '  --port P          serial port (default: the one board found by USB id)',
      '  --baud B          baud rate (default 115200)', '  --expect-version V   fail unless the board then reports firmware V',
      '  --timeout S       seconds to wait for the board to report (default 30)'],
    options: { file: { type: 'string' }, port: { type: 'string' }, baud: { type: 'string' }, 'expect-version': { type: 'string' }, timeout: { type: 'string' } },
    run: async (values, rest) => {
      if (rest.length || typeof values.file !== 'string') return usageError('--file IMAGE is required (and nothing else positional)');
      const baud = intOption(values.baud, 115200), timeout = intOption(values.timeout, 30);
      if (Number.isNaN(baud) || Number.isNaN(timeout)) return usageError('--baud and --timeout take whole numbers');
      try {
        await flashUpload({ file: values.file, port: values.port as string | undefined, baud, timeout, version: values['expect-version'] as string | undefined });
        return 0;
      } catch (e) {
        console.error('sparrow flash-upload: ' + (e as Error).message);
        return 1;
      }
    },
  },
  bridge: {
    args: 'PORT... --broker URL',
    summary: 'Forward each serial-transport board\'s MQTT session to a broker, one broker connection per board, with live status.',
    optionHelp: ['  --broker URL   mqtt://host:port of the broker', '  --baud B       baud rate (default 115200)',
      '  --json         events and status as JSON lines', '  --status S     seconds between status lines (default 5, 0 for events only)'],
    options: { broker: { type: 'string' }, baud: { type: 'string' }, json: { type: 'boolean' }, status: { type: 'string' } },
    run: (values, ports) => {
      if (!ports.length || typeof values.broker !== 'string') return usageError('give PORT... and --broker URL');
      const baud = intOption(values.baud, 115200);
      const status = values.status === undefined ? 5 : Number(values.status);
      if (Number.isNaN(baud) || !(status >= 0)) return usageError('--baud takes a whole number, --status seconds');
      return runBridge({ ports: existingPorts(ports), broker: values.broker, baud, json: !!values.json, statusMs: status * 1000 });
    },
  },
};
