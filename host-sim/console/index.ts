// The simulated board's Espruino-like console (docs/console-protocol.md), its Storage, and boards on ptys.
export { SimConsole, type ConsoleOptions } from './console';
export { SimStorage } from './storage';
export { UsbBoard, openPtyPair, attachConsole, type PtyPair, type UsbBoardOptions } from './pty';
export type { WifiNetworks, SimUart } from './globals';
export { installFirmware, firmwareImagePath } from './firmware';
