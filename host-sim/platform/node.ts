// The firmware's Platform on Node, with real sockets and the real clock. Data reaches the firmware the
// way it does on a board: as strings of one char per byte, at most 536 bytes per event, so the
// simulator exercises the same edge code as the board. (Virtual links and virtual time build on this.)
// For the sensor application it also has Storage (in memory), a fake temperature sensor, a fixed
// memory figure and, when asked, a reboot hook; no Wi-Fi, since the host's network is already up.
import * as net from 'net';
import * as tls from 'tls';
import type { Platform, PlatformSocket, SocketHandlers, ConnectTarget } from '../../firmware/platform';
import { seededRandom } from './rng';
import { fakeTemperature } from './sensors';

/** Espruino's largest socket data event, in bytes. */
export const ESPRUINO_CHUNK = 536;

export interface NodePlatformOptions {
  /** Console lines of the board. */
  log?: (line: string) => void;
  /** Local address to bind (a fleet spreads over 127.0.0.0/8 past the ephemeral-port limit). */
  localAddress?: string;
  /** Accept self-signed TLS certificates (test brokers). */
  insecureTls?: boolean;
  /** More TLS options (a CA to trust, a host name check): `sparrow pub/sub --cafile`. */
  tls?: tls.ConnectionOptions;
  random?: () => number;
  /** Sees each real socket made, so a test can cut it as a network failure would. */
  onSocket?: (socket: net.Socket) => void;
  /** The board's Storage files, owned by the caller so it can seed and read them (default: a fresh empty set). */
  files?: { [name: string]: string };
  /** Seed of the fake temperature sensor (default 1). */
  seed?: number;
  /** JsVars as process.memory() would report them (default an ESP32 build with the firmware loaded). */
  memory?: { free: number; total: number };
  /** What E.reboot() does; without it the platform has no reboot and the app restarts itself. */
  reboot?: () => void;
  /** getSerial(), for the app's default device id. */
  serial?: string;
}

/** An ESP32 build has 16383 JsVars; the firmware image and its state take about a quarter. */
const ESP32_MEMORY = { free: 12000, total: 16383 };

/** Hands data to the firmware as Espruino does: strings of at most 536 chars, one per byte. */
export function deliverAsEspruino(data: Uint8Array, handlers: SocketHandlers): void {
  for (let i = 0; i < data.length; i += ESPRUINO_CHUNK) {
    handlers.data(Buffer.from(data.buffer, data.byteOffset + i, Math.min(ESPRUINO_CHUNK, data.length - i)).toString('latin1'));
  }
}

export function nodePlatform(options: NodePlatformOptions = {}): Platform {
  return {
    connect: (target: ConnectTarget, handlers: SocketHandlers): PlatformSocket => {
      const tcp = net.connect({ host: target.host, port: target.port, localAddress: options.localAddress });
      const socket = target.tls
        ? tls.connect({ socket: tcp, servername: net.isIP(target.host) ? undefined : target.host, rejectUnauthorized: !options.insecureTls, ...options.tls })
        : tcp;
      socket.setNoDelay(true);
      if (options.onSocket) options.onSocket(socket);
      let closed = false;
      socket.on(target.tls ? 'secureConnect' : 'connect', () => handlers.open());
      socket.on('data', (data: Buffer) => deliverAsEspruino(data, handlers));
      socket.on('error', (e) => { if (!closed) { closed = true; handlers.close('socket error: ' + e.message); } });
      socket.on('close', () => { if (!closed) { closed = true; handlers.close('socket closed'); } });
      return {
        write: (bytes, n) => { if (!socket.destroyed) socket.write(Buffer.from(bytes.subarray(0, n))); },
        end: () => { socket.end(); socket.destroySoon(); },
      };
    },
    now: () => performance.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    random: options.random || Math.random,
    log: options.log || ((line) => console.log(line)),
    storage: storage(options.files || {}),
    sensors: { temperature: fakeTemperature(seededRandom(options.seed === undefined ? 1 : options.seed)) },
    memory: () => options.memory || ESP32_MEMORY,
    reboot: options.reboot,
    serial: options.serial === undefined ? undefined : () => options.serial as string,
  };
}

/** Storage as plain strings in `files`; the network is the host's, so there is no `wifi`. */
function storage(files: { [name: string]: string }): NonNullable<Platform['storage']> {
  return { read: (name) => files[name], write: (name, text) => { files[name] = text; } };
}
