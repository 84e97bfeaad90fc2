// Loopback ports for servers the tests and benchmarks start.
import * as net from 'net';

/** A TCP port free on 127.0.0.1 right now (the OS picks it; the caller binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Loopback source address of fleet board `id` (>= 0), so a fleet can go past the ~28k ephemeral ports of
 * one source address: 254 boards per 127.<1+k>.<j>.1-254 block, every address valid and distinct.
 * (`(id & 255) + 1` as the last byte made 127.1.x.256 for every 256th board: Node refuses it, so those
 * boards never connected and kept their readings queued to the end of a run.)
 */
export function boardSourceAddress(id: number): string {
  const block = Math.floor(id / 254);
  return '127.' + (1 + Math.floor(block / 256)) + '.' + (block % 256) + '.' + (id % 254 + 1);
}
