/**
 * The library's logging seam: it never prints, it calls the logger it is given.
 *
 * A `Logger` takes `(message, fields?)`, so `console` works as it is. A pino-style logger, which
 * takes `(fields, message)`, is wrapped with {@link fromPino}.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

export type LogFields = Record<string, unknown>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  trace(message: string, fields?: LogFields): void;
  /** A logger for a sub-target (`akamu_client`, `http`); loggers without targets may omit it. */
  child?(target: string): Logger;
}

const noop = (): void => {};

/** A logger that drops everything (the default). */
export const silentLogger: Logger = { error: noop, warn: noop, info: noop, debug: noop, trace: noop };

/** The shape of a pino (or bunyan-like) logger: fields first, then the message. */
export interface PinoLike {
  error(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  debug(fields: object, message?: string): void;
  trace?(fields: object, message?: string): void;
  child?(bindings: object): PinoLike;
}

/** Adapts a pino-style logger; targets become a `target` binding of a child logger. */
export function fromPino(p: PinoLike): Logger {
  const at = (fn: (fields: object, message?: string) => void) => (message: string, fields?: LogFields): void => fn.call(p, fields ?? {}, message);
  return {
    error: at(p.error),
    warn: at(p.warn),
    info: at(p.info),
    debug: at(p.debug),
    trace: at(p.trace ?? p.debug),
    child: (target) => fromPino(p.child ? p.child({ target }) : p),
  };
}

/** The logger for a target of `log`, or the silent logger. */
export function childLogger(log: Logger | undefined, target: string): Logger {
  if (!log) return silentLogger;
  return log.child ? log.child(target) : log;
}
