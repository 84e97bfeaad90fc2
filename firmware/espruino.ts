// The Platform on Espruino's own globals: net/tls sockets, setTimeout, getTime, console, Storage, Wifi.
// Socket facts (shared/ESPRUINO.md): data arrives as strings (one char per byte, up to 536 per event);
// write() takes only strings; E.toString(u8) shares memory with the array it reads.
import type { Platform, PlatformWifi } from './platform';

export function espruinoPlatform(): Platform {
  return {
    connect: (target, handlers) => {
      let closed = false;
      const close = (reason: string) => { if (!closed) { closed = true; handlers.close(reason); } };
      const options = { host: target.host, port: target.port };
      const socket = target.tls ? require('tls').connect(options, handlers.open) : require('net').connect(options, handlers.open);
      // a view of the socket's string, made natively: the session then moves bytes without a JS loop
      socket.on('data', (text: string) => { handlers.data(textBytes(text)); });
      socket.on('close', () => close('socket closed'));
      socket.on('error', (e: { message?: string }) => close('socket error: ' + ((e && e.message) || e)));
      return {
        // a private copy: the string E.toString returns shares memory with it, and the session reuses its buffer
        write: (bytes, n) => { socket.write(E.toString(new Uint8Array(bytes.subarray(0, n)))); },
        writeText: (text) => { socket.write(text); },
        end: () => { socket.end(); },
      };
    },
    textBytes: textBytes,
    now: () => getTime() * 1000,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as number),
    random: () => Math.random(),
    log: (line) => console.log(line),
  };
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
