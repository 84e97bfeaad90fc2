// The firmware's socket over a serial line to a host bridge (`sparrow bridge`), for boards that reach
// the network only through a host or modem. It carries one MQTT session at a time over a UART-like
// port (Espruino's Serial1: write(string), on('data', string)), framed and retransmitted by
// serial-frame.ts, so the client above sees an ordinary byte stream (docs/serial.md).
import type { ConnectTarget, Platform, PlatformSocket, SocketHandlers } from '../platform';
import { LinkOptions, SerialLink } from './serial-frame';

/** What the transport needs of a UART: Espruino's Serial1/Serial2/USB objects have this shape. */
export interface UartPort {
  write(data: string): void;
  on(event: 'data', fn: (data: string) => void): void;
}

/**
 * `platform` with connect() going over `port` to the bridge, which picks the broker: the target's host
 * and port are not sent. Only one session at a time; opening a new one drops the old.
 */
export function serialPlatform(platform: Platform, port: UartPort, options?: LinkOptions): Platform {
  let handlers: SocketHandlers | null = null;
  const link = new SerialLink((s) => port.write(s), platform, {
    open: () => { if (handlers) handlers.open(); },
    data: (bytes, start, end) => { if (handlers) handlers.data(bytes.subarray(start, end)); },
    close: (reason) => { const h = handlers; handlers = null; if (h) h.close(reason); },
  }, options);
  port.on('data', (data) => link.input(data));
  const copy: Platform = {} as Platform;
  for (const k in platform) (copy as any)[k] = (platform as any)[k];
  copy.connect = (_target: ConnectTarget, h: SocketHandlers): PlatformSocket => {
    const old = handlers;
    handlers = null;
    if (old) old.close('replaced by a new connection');
    handlers = h;
    link.open(platform.random());
    const mine = h;
    return {
      write: (bytes, n) => {
        if (handlers === mine && !link.write(bytes, n)) { link.close(); handlers = null; mine.close('serial transmit queue full'); }
      },
      end: () => { if (handlers === mine) { handlers = null; link.close(); } },
    };
  };
  return copy;
}
