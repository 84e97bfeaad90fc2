// Espruino globals the firmware uses that @types/espruino 1.95 does not declare (or declares too narrowly).

/** Espruino's built-in modules (net, tls, Storage, Wifi, ...). The bundle check allows only those. */
declare function require(module: string): any;
declare function setTimeout(fn: () => void, ms: number): number;
declare const console: { log(...values: unknown[]): void };
declare namespace E {
  /** Bytes to a string of one char per byte; the result shares memory with a flat array. */
  function toString(...values: unknown[]): string;
  /** A hard reset, as if the reset pin were toggled: the saved code runs again and onInit is called. */
  function reboot(): void;
}
/**
 * Espruino's `process` has memory() (JsVars: free, usage, total, ...) and env (MODULES: the built-in
 * modules, comma-separated); the bundle check allows only those members.
 */
declare const process: { memory(): { free: number; usage: number; total: number }; env: { MODULES?: string } };
/** A pin may be given by its name ("D34"), as Espruino resolves strings to pins. */
declare function analogRead(pin: Pin | string): number;
