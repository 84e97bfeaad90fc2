// The reference broker's public surface.
export { Broker } from './broker';
export type { Clock, Timer } from './clock';
export { createLogger } from './log';
export type { Logger } from './log';
export { DEFAULTS } from './options';
export type { BrokerOptions } from './options';
