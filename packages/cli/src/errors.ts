/** The CLI's own error types. */
import { AcmeProblemError, AkamuError, type PrivateKey } from 'akamu-client';

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

/**
 * The error to show when the server refused `key`'s signature algorithm: the reference's
 * `Unsupported algorithm: ML-DSA-65`, with a hint for the advice line. A server says so with
 * `badSignatureAlgorithm` (RFC 8555 §6.2); Pebble 2.10's JOSE library cannot even read an AKP JWK
 * and answers `malformed` "… unsupported key type/format …". Any other error is returned as it is.
 */
export function refusedAlgorithm(err: unknown, key: PrivateKey): unknown {
  if (!(err instanceof AcmeProblemError)) return err;
  const postQuantum = key.publicJwk().kty === 'AKP';
  const refused = err.is('badSignatureAlgorithm') || (postQuantum && err.is('malformed') && /unsupported key type/i.test(err.detail));
  if (!refused) return err;
  const algorithm = key.jwsAlgorithm;
  return new AkamuError(`Unsupported algorithm: ${algorithm}`, 'unsupported', { cause: err, hint: { code: 'unsupported-algorithm', algorithm, postQuantum } });
}
