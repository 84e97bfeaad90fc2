// The Platform on Espruino's own globals: net/tls sockets, setTimeout, getTime, console.
// Socket facts (shared/ESPRUINO.md): data arrives as strings (one char per byte, up to 536 per event);
// write() takes only strings; E.toString(u8) shares memory with the array it reads.
import type { Platform } from './platform';

export function espruinoPlatform(): Platform {
  return {
    connect: (target, handlers) => {
      let closed = false;
      const close = (reason: string) => { if (!closed) { closed = true; handlers.close(reason); } };
      const options = { host: target.host, port: target.port };
      const socket = target.tls ? require('tls').connect(options, handlers.open) : require('net').connect(options, handlers.open);
      socket.on('data', handlers.data);
      socket.on('close', () => close('socket closed'));
      socket.on('error', (e: { message?: string }) => close('socket error: ' + ((e && e.message) || e)));
      return {
        // a private copy: the string E.toString returns shares memory with it, and the session reuses its buffer
        write: (bytes, n) => { socket.write(E.toString(new Uint8Array(bytes.subarray(0, n)))); },
        end: () => { socket.end(); },
      };
    },
    now: () => getTime() * 1000,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as number),
    random: () => Math.random(),
    log: (line) => console.log(line),
  };
}
