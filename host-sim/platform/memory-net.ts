// An in-memory network on the virtual clock: servers listen on host:port, boards connect with the
// firmware's Platform.connect, and every connection is a MemoryLink shaped by the board's LinkShape.
// A connect takes one round trip before open(); to an address nobody listens on it is refused after
// one round trip, as a RST would be; while the board's network is down it times out, as a SYN into
// nowhere does on lwIP.
import type { Link } from '../../broker/link';
import type { VirtualClock } from './clock';
import { AbortableSocket, LinkShape, MemoryLink } from './links';
import type { ConnectTarget, SocketHandlers } from '../../firmware/platform';
import type { Random } from './rng';

/** lwIP gives up a SYN that gets no answer after about this long. */
export const CONNECT_TIMEOUT_MS = 20000;

export class MemoryNetwork {
  private servers = new Map<string, (link: Link) => void>();
  private nextPort = 40000;
  /** Sees every link as it is made (tests cut one at a chosen byte). */
  onLink: ((link: MemoryLink) => void) | null = null;

  constructor(readonly clock: VirtualClock) {}

  listen(host: string, port: number, accept: (link: Link) => void): void {
    this.servers.set(host + ':' + port, accept);
  }

  unlisten(host: string, port: number): void {
    this.servers.delete(host + ':' + port);
  }

  /**
   * Connects from a board. `reachable()` says whether the board's network is up at this moment.
   * Returns the board's socket at once, as Espruino does; open() or close() follows.
   */
  connect(target: ConnectTarget, handlers: SocketHandlers, shape: LinkShape, random: Random, reachable: () => boolean, from: string): AbortableSocket & { link?: MemoryLink } {
    const clock = this.clock;
    const rtt = 2 * shape.latency;
    if (!reachable()) {
      let gone = false;
      clock.setTimeout(() => { if (!gone) handlers.close('connect timeout (network down)'); }, CONNECT_TIMEOUT_MS);
      return { write: () => {}, end: () => { gone = true; }, abort: () => { gone = true; } };
    }
    const accept = this.servers.get(target.host + ':' + target.port);
    if (!accept) {
      let gone = false;
      clock.setTimeout(() => { if (!gone) handlers.close('connection refused'); }, rtt);
      return { write: () => {}, end: () => { gone = true; }, abort: () => { gone = true; } };
    }
    const link = new MemoryLink(clock, shape, random, handlers, from + ':' + this.nextPort++);
    if (this.nextPort > 65535) this.nextPort = 40000;
    if (this.onLink) this.onLink(link);
    // the server accepts after the SYN's way there, the board hears SYN-ACK one latency later
    clock.setTimeout(() => { if (link.isOpen) accept(link.broker); }, shape.latency);
    clock.setTimeout(() => { if (link.isOpen) handlers.open(); }, rtt);
    const socket = link.board as AbortableSocket & { link?: MemoryLink };
    socket.link = link;
    return socket;
  }
}
