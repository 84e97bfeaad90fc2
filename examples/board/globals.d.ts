// Espruino globals this sketch uses that @types/espruino 1.95 does not declare, for an editor or
// `tsc --checkJs` beside "espruino" and "sparrow-mqtt/types/espruino" (see jsconfig.json).
declare const console: { log(...values: unknown[]): void };
declare function setInterval(fn: () => void, ms: number): number;
declare const LED1: Pin;
declare namespace E {
  /** Bytes to a string of one char per byte. */
  function toString(...values: unknown[]): string;
}
