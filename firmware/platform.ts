// The one interface the firmware needs from a board. firmware/espruino.ts implements it on Espruino's
// globals; host-sim/ implements it on Node (real or in-memory sockets, real or virtual time).

/** Callbacks a platform socket reports to. Data is a string (Espruino) or bytes (host); both are accepted. */
export interface SocketHandlers {
  data(chunk: Uint8Array | string): void;
  /** The connection is established (TCP/TLS handshake done). */
  open(): void;
  /** The connection ended, for whatever reason; called once. */
  close(reason: string): void;
}

export interface PlatformSocket {
  /** Sends bytes[0..length). The platform copies or hands them off before returning. */
  write(bytes: Uint8Array, length: number): void;
  end(): void;
}

export interface ConnectTarget {
  host: string;
  port: number;
  tls: boolean;
}

export interface Platform {
  /** Opens a TCP (or TLS) connection. May throw at once (Linux Espruino) or report close() later (ESP32). */
  connect(target: ConnectTarget, handlers: SocketHandlers): PlatformSocket;
  /** Milliseconds on a monotonic clock. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** A number in [0, 1), for backoff jitter and WebSocket masks. */
  random(): number;
  /** A line for the console (the USB monitor reads these). */
  log(line: string): void;
}
