// The firmware's Platform on Node, with real sockets and the real clock. Data reaches the firmware the
// way it does on a board: in pieces of at most 536 bytes per event, handed on as the board's platform
// hands them (views of the socket's data), so the simulator exercises the same edge code as the board.
// (Virtual links and virtual time build on this.)
// For the sensor application it also has Storage (in memory), a fake temperature sensor, a fixed
// memory figure and, when asked, a reboot hook; no Wi-Fi, since the host's network is already up.
import * as net from 'net';
import * as tls from 'tls';
import type { Platform, PlatformSocket, SocketHandlers, ConnectTarget } from '../../firmware/platform';
import { seededRandom } from './rng';
import { fakeTemperature } from './sensors';

/** Espruino's largest socket data event, in bytes. */
export const ESPRUINO_CHUNK = 536;

export interface NodePlatformOptions extends TcpOptions {
  /** Console lines of the board. */
  log?: (line: string) => void;
  random?: () => number;
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

/**
 * Hands data to the firmware as a board does: Espruino's socket gives strings of at most 536 chars,
 * and the board's platform (firmware/espruino.ts) hands the session a view of each (E.toArrayBuffer).
 * Views of `data` here, not strings: a string would make the session copy it back byte by byte, a
 * loop the board never runs (and, in a 100,000-board virtual fleet, a tenth of the time).
 */
export function deliverAsEspruino(data: Uint8Array, handlers: SocketHandlers): void {
  if (data.length <= ESPRUINO_CHUNK) { handlers.data(data); return; }
  for (let i = 0; i < data.length; i += ESPRUINO_CHUNK) handlers.data(data.subarray(i, Math.min(data.length, i + ESPRUINO_CHUNK)));
}

/** What a TCP connection of the simulator needs from its board: where it binds, and who sees its socket. */
export interface TcpOptions {
  /** Local address to bind (a fleet spreads over 127.0.0.0/8 past the ephemeral-port limit). */
  localAddress?: string;
  /** Accept self-signed TLS certificates (test brokers). */
  insecureTls?: boolean;
  /** More TLS options (a CA to trust, a host name check): `sparrow pub/sub --cafile`. */
  tls?: tls.ConnectionOptions;
  /** Sees each real socket made, so a test can cut it as a network failure would. */
  onSocket?: (socket: net.Socket) => void;
  /** Sees every socket error before the board does (a fleet stops on an OS limit). */
  onSocketError?: (e: Error) => void;
  /**
   * Hands the socket's data on as Node reads it (Buffers of any size), not in a board's pieces of at
   * most 536 bytes: for Node programs (the package's client), whose messages are then views of those
   * Buffers up to a whole read, where a piece would leave a packet across two of them to be copied.
   */
  nodeChunks?: boolean;
}

/**
 * One TCP (or TLS) connection of a board, as the firmware's PlatformSocket. A class with listeners shared
 * by every connection (they find theirs on the socket) rather than closures per connection: a fleet holds
 * tens of thousands of these, and each closure and its context is heap per board.
 */
export class TcpConnection implements PlatformSocket {
  readonly socket: net.Socket;
  private closed = false;

  constructor(target: ConnectTarget, private readonly handlers: SocketHandlers, private readonly options: TcpOptions) {
    const tcp = net.connect({ host: target.host, port: target.port, localAddress: options.localAddress });
    const socket = target.tls
      ? tls.connect({ socket: tcp, servername: net.isIP(target.host) ? undefined : target.host, rejectUnauthorized: !options.insecureTls, ...options.tls })
      : tcp;
    this.socket = socket;
    socket.setNoDelay(true);
    (socket as SocketWithConnection)[CONNECTION] = this;
    if (options.onSocket) options.onSocket(socket);
    socket.on(target.tls ? 'secureConnect' : 'connect', onSocketOpen);
    socket.on('data', onSocketData);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
  }

  write(bytes: Uint8Array, n: number): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.from(bytes.subarray(0, n)));
  }

  end(): void {
    this.socket.end();
    this.socket.destroySoon();
  }

  /** Destroys the connection at once, as a pulled cable followed by a reset would (a cut fault). */
  abort(): void {
    this.socket.destroy();
  }

  opened(): void {
    this.handlers.open();
  }

  received(data: Buffer): void {
    if (this.options.nodeChunks) this.handlers.data(data);
    else deliverAsEspruino(data, this.handlers);
  }

  failed(e: Error): void {
    if (this.options.onSocketError) this.options.onSocketError(e);
    this.closedBy('socket error: ' + e.message);
  }

  closedBy(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.close(reason);
  }
}

const CONNECTION = Symbol('sparrow connection');
type SocketWithConnection = net.Socket & { [CONNECTION]: TcpConnection };
function onSocketOpen(this: SocketWithConnection): void { this[CONNECTION].opened(); }
function onSocketData(this: SocketWithConnection, data: Buffer): void { this[CONNECTION].received(data); }
function onSocketError(this: SocketWithConnection, e: Error): void { this[CONNECTION].failed(e); }
function onSocketClose(this: SocketWithConnection): void { this[CONNECTION].closedBy('socket closed'); }

export function nodePlatform(options: NodePlatformOptions = {}): Platform {
  return {
    connect: (target: ConnectTarget, handlers: SocketHandlers): PlatformSocket => new TcpConnection(target, handlers, options),
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
