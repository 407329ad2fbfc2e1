/** The library's logging seam: it never prints, it calls the logger it is given. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  trace(message: string, fields?: Record<string, unknown>): void;
  /** A logger for a sub-target (e.g. `http`); loggers without targets return themselves. */
  child?(target: string): Logger;
}

const noop = (): void => {};

export const silentLogger: Logger = { error: noop, warn: noop, info: noop, debug: noop, trace: noop };

export function childLogger(log: Logger | undefined, target: string): Logger {
  if (!log) return silentLogger;
  return log.child ? log.child(target) : log;
}
