// Levelled, readable log lines: `2025-01-01T12:00:00.000Z INFO  message`. One sink, swappable for tests.
import { nodeClock, type Clock } from './clock';

export const LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type Level = (typeof LEVELS)[number];

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  enabled(level: Level): boolean;
}

/** A logger that writes lines at `level` and above (`silent` writes none) to `sink`, stamped by `clock`. */
export function createLogger(level: string, sink: (line: string) => void = (l) => process.stderr.write(l + '\n'), clock: Pick<Clock, 'now'> = nodeClock): Logger {
  const max = level === 'silent' ? -1 : LEVELS.indexOf(level as Level);
  if (max < 0 && level !== 'silent') throw new Error(`unknown log level "${level}" (use ${LEVELS.join(', ')} or silent)`);
  const at = (l: Level) => (msg: string) => {
    if (LEVELS.indexOf(l) <= max) sink(`${new Date(clock.now()).toISOString()} ${l.toUpperCase().padEnd(5)} ${msg}`);
  };
  return {
    error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'),
    enabled: (l) => LEVELS.indexOf(l) <= max,
  };
}
