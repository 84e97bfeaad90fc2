// Real sockets for a fleet board: the firmware's Platform on Node's clock and TCP, as one small object
// per board with shared methods (a fleet holds tens of thousands: closures per board are heap per board).
// Its connections abort() (destroy the TCP connection at once), so a cut fault drops it for both ends as
// a pulled cable followed by a reset would, instead of a polite FIN. Boards that need Storage, sensors
// and the rest of the app's platform get them from nodePlatform (node.ts) or their own layer on top.
import type { ConnectTarget, Platform, SocketHandlers } from '../../firmware/platform';
import { TcpConnection, TcpOptions } from './node';

/** What the boards of one fleet share: TLS trust and who hears of socket errors. */
export interface TcpFleetOptions {
  insecureTls?: boolean;
  onSocketError?: (e: Error, board: TcpPlatform) => void;
}

export class TcpPlatform implements Platform, TcpOptions {
  constructor(
    /** Board id (-1, -2: the checker, the feeder), for messages. */
    readonly id: number,
    readonly localAddress: string | undefined,
    readonly random: () => number,
    readonly log: (line: string) => void,
    private readonly shared: TcpFleetOptions,
  ) {}

  get insecureTls(): boolean | undefined {
    return this.shared.insecureTls;
  }

  onSocketError(e: Error): void {
    if (this.shared.onSocketError) this.shared.onSocketError(e, this);
  }

  connect(target: ConnectTarget, handlers: SocketHandlers): TcpConnection {
    return new TcpConnection(target, handlers, this);
  }

  now(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, ms: number): unknown {
    return setTimeout(fn, ms);
  }

  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}
