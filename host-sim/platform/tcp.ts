// Real sockets for a fleet board: host-sim/platform.ts's nodePlatform, plus abort() on each socket
// (destroy the TCP connection at once) so a cut fault drops it for both ends as a pulled cable
// followed by a reset would, instead of a polite FIN.
import type * as net from 'net';
import type { Platform } from '../../firmware/platform';
import { nodePlatform, NodePlatformOptions } from './node';

export function tcpPlatform(options: NodePlatformOptions): Platform {
  let last: net.Socket | null = null;
  const inner = nodePlatform({ ...options, onSocket: (s) => { last = s; if (options.onSocket) options.onSocket(s); } });
  return {
    ...inner,
    connect: (target, handlers) => {
      last = null;
      const socket = inner.connect(target, handlers);
      const raw = last as net.Socket | null;
      return { write: socket.write, end: socket.end, abort: () => { if (raw) raw.destroy(); } } as ReturnType<Platform['connect']>;
    },
  };
}
