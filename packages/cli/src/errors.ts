/** The CLI's own error types. */
// no runtime import of akamu-client here: main.ts loads this module on every start

/**
 * A failure in one step of a command, printed as `<step>: <the cause's message>`. The message is
 * built once; the exit code and any advice follow the cause (see printError in main.ts).
 */
export class StepError extends Error {
  constructor(readonly step: string, cause: unknown) {
    super(`${step}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StepError';
  }
}

/** The error a StepError wraps (itself for any other error). */
export function rootCause(err: unknown): unknown {
  return err instanceof StepError ? rootCause(err.cause) : err;
}

/** The signals that interrupt a run, and the exit status each ends it with (128 + its number). */
export const INTERRUPTS = { SIGINT: 130, SIGTERM: 143 } as const;
export type InterruptSignal = keyof typeof INTERRUPTS;

/** The run was interrupted by a signal: the reason the run's AbortSignal carries. */
export class InterruptedError extends Error {
  constructor(readonly signal: InterruptSignal) {
    super(`interrupted by ${signal}`);
    this.name = 'InterruptedError';
  }
}

/** A command did its work and returned its result, but part of it failed (the result's `failure`): exit 1. */
export class ResultFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultFailure';
  }
}
