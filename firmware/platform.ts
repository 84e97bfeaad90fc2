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
  /**
   * Sends bytes[0..length). They are a view of a scratch buffer that every client of the process
   * encodes its next packet into: copy them (or hand them off) first, before anything else can run.
   */
  write(bytes: Uint8Array, length: number): void;
  end(): void;
  /**
   * Sends a string of one char per byte, where the transport writes strings natively (Espruino's
   * sockets: a string costs them no copy, where bytes must first become one).
   */
  writeText?(text: string): void;
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
  /**
   * The bytes of a string of one char per byte, as a view made natively (Espruino's E.toArrayBuffer):
   * with writeText, it lets the client build packets as strings and still keep their bytes.
   */
  textBytes?(text: string): Uint8Array;
  /**
   * Opens MQTT over WebSocket (ws://, wss://) on top of connect(). A platform has it once the
   * sparrow-ws module wraps it (firmware/transports/websocket.ts, withWebSocket): boards that never
   * see a ws:// broker do not carry the framing.
   */
  webSocket?(target: ConnectTarget, path: string, handlers: SocketHandlers): PlatformSocket;

  // What the sensor application (firmware/app) needs beyond the client. All optional: the library
  // alone needs none of them, and a platform without one tells the app what the board lacks.

  /** Small named text files that survive a reset (Espruino's Storage); the app keeps its config here. */
  storage?: PlatformStorage;
  /** Wi-Fi station; absent where the network is already up (the simulator, a wired board). */
  wifi?: PlatformWifi;
  /** Sensors sampled by the app, by name; each name becomes a topic level (`<prefix>/<id>/<name>`). */
  sensors?: { [name: string]: () => number };
  /** An analog input as a fraction of full scale (0..1), for the app's `pin` setting. */
  analog?(pin: string): number;
  /** JsVars free and in total (process.memory()). */
  memory?(): { free: number; total: number };
  /** Resets the board (E.reboot()); absent where only the app itself can be restarted. */
  reboot?(): void;
  /** A stable identifier of the chip (getSerial()), for the default device id. */
  serial?(): string;
}

export interface PlatformStorage {
  /** The file's text, or undefined when there is no such file. */
  read(name: string): string | undefined;
  write(name: string, text: string): void;
}

export interface PlatformWifi {
  /** Joins a network; `cb` gets an error text, or nothing once the station has an address. */
  connect(ssid: string, password: string, cb: (error?: string) => void): void;
  /** The station's state as the board names it: "connected", "connecting", "off", "wrong_password", ... */
  status(): string;
}
