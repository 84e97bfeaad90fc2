// The Platform on Espruino's own globals: net/tls sockets, setTimeout, getTime, console, Storage, Wifi.
// Socket facts (shared/ESPRUINO.md): data arrives as strings (one char per byte, up to 536 per event);
// write() takes only strings; E.toString(u8) shares memory with the array it reads.
import type { ConnectTarget, Platform, PlatformSocket, PlatformWifi, SocketHandlers } from './platform';

/**
 * The board's Platform. Espruino's natives ignore `this`, so they serve as methods as they are, and
 * the socket functions are shared: a wrapper or a closure here would cost JsVars per client.
 */
export function espruinoPlatform(): Platform {
  return {
    connect: connectSocket, textBytes: textBytes, now: now, setTimeout: setTimeout, clearTimeout: clearTimeout,
    random: Math.random, log: console.log,
  };
}

/** An Espruino socket, carrying the handlers of its client until it closes. */
interface EspruinoSocket {
  write(text: string): void;
  end(): void;
  on(event: string, listener: (this: EspruinoSocket, a: any) => void): void;
  _handlers: SocketHandlers | null;
}

function connectSocket(target: ConnectTarget, handlers: SocketHandlers): PlatformSocket {
  const options = { host: target.host, port: target.port };
  const socket: EspruinoSocket = target.tls ? require('tls').connect(options, handlers.open) : require('net').connect(options, handlers.open);
  socket._handlers = handlers;
  // the socket's strings as they come: the session takes their bytes natively (textBytes)
  socket.on('data', handlers.data);
  socket.on('close', socketEnded);
  socket.on('error', socketEnded);
  return new (Link as unknown as new (socket: EspruinoSocket) => PlatformSocket)(socket);
}

/** 'close' (its argument: had_error, a boolean) or 'error' (the error): the handlers hear of it once. */
function socketEnded(this: EspruinoSocket, e: unknown): void {
  const handlers = this._handlers;
  this._handlers = null;
  if (handlers) handlers.close(typeof e === 'boolean' ? 'socket closed' : 'socket error: ' + (((e as { message?: string }) && (e as { message?: string }).message) || e));
}

/** The client's end of a socket: methods on the prototype, one field per connection. */
function Link(this: { _socket: EspruinoSocket }, socket: EspruinoSocket) {
  this._socket = socket;
}

// Espruino does not hoist function declarations: the prototype comes after the functions it names
(Link as unknown as { prototype: object }).prototype = {
  // a private copy: the string E.toString returns shares memory with it, and the session reuses its buffer
  write: function (this: { _socket: EspruinoSocket }, bytes: Uint8Array, n: number) { this._socket.write(E.toString(new Uint8Array(bytes.subarray(0, n)))); },
  writeText: function (this: { _socket: EspruinoSocket }, text: string) { this._socket.write(text); },
  end: function (this: { _socket: EspruinoSocket }) { this._socket.end(); },
};

function now(): number {
  return getTime() * 1000;
}

/** A view of a string's bytes (one per char), made natively: a reference when the string is flat, else one copy. */
function textBytes(text: string): Uint8Array {
  return new Uint8Array(E.toArrayBuffer(text));
}

/** The platform plus what the sensor application needs; apart, so that the library bundle does not carry it. */
export function espruinoAppPlatform(): Platform {
  const platform = espruinoPlatform(), storage = require('Storage');
  platform.storage = { read: (name) => storage.read(name), write: (name, text) => { storage.write(name, text); } };
  platform.wifi = wifi();
  // not every chip has the on-chip sensor (newer ESP32 variants lack it)
  platform.sensors = E.getTemperature ? { temperature: () => E.getTemperature() } : {};
  platform.analog = (pin) => analogRead(pin);
  platform.memory = () => process.memory();
  platform.reboot = () => E.reboot();
  platform.serial = () => getSerial();
  return platform;
}

/** The Wi-Fi station, or undefined on a board without the Wifi module (Linux builds, wired boards). */
function wifi(): PlatformWifi | undefined {
  // asked, not tried: a caught exception still copies its source line into RAM (tools/build/espruino.ts, MAX_LINE)
  if ((process.env.MODULES || '').split(',').indexOf('Wifi') < 0) return undefined;
  const w: any = require('Wifi');
  return {
    // the callback reports only a wrong password; other failures retry inside the module
    connect: (ssid, password, cb) => { w.connect(ssid, { password: password }, (error: string | null) => cb(error || undefined)); },
    status: () => w.getDetails().status,
  };
}
