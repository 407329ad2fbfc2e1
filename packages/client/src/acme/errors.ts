/** Error helpers of the ACME layer. */
import { AcmeProblemError, AkamuError, type Problem } from '../errors.js';
import type { Authorization, Challenge } from './types.js';

/** `*.example.com` for a wildcard authorization, else the identifier value. */
export function authorizationName(a: Pick<Authorization, 'identifier' | 'wildcard'>): string {
  const value = a.identifier?.value ?? '?';
  return a.wildcard && !value.startsWith('*.') ? `*.${value}` : value;
}

/** An authorization that ended `invalid` (or another final non-valid state). */
export class AuthorizationFailedError extends AcmeProblemError {
  readonly identifier: string;
  readonly authorizationUrl: string;
  constructor(authz: Authorization, problem: Problem, status = 0) {
    super(problem, status, `authorization for ${authorizationName(authz)} failed`);
    this.identifier = authorizationName(authz);
    this.authorizationUrl = authz.url;
  }
}

/** Waiting for the server (authorization, order) ran past the deadline. */
export class PollTimeoutError extends AkamuError {
  readonly url: string;
  constructor(message: string, url: string) {
    super(message, 'timeout');
    this.url = url;
  }
}

/** The problem explaining why an authorization is not valid: the failed challenge's `error`. */
export function authorizationProblem(authz: Authorization): Problem {
  const failed: Challenge | undefined =
    authz.challenges?.find((c) => c.status === 'invalid' && c.error) ?? authz.challenges?.find((c) => c.error);
  if (failed?.error) return failed.error;
  return { type: 'about:blank', detail: `authorization is ${authz.status}` };
}

/**
 * One error for one or more failed authorizations; with several, the message lists each on its
 * own line after the first (`authorization for a failed: …` / `authorization for b failed: …`).
 */
export function authorizationsFailed(failed: Authorization[]): AuthorizationFailedError {
  const [first, ...rest] = failed;
  if (!first) throw new AkamuError('authorizationsFailed() needs at least one authorization');
  const err = new AuthorizationFailedError(first, authorizationProblem(first));
  if (rest.length > 0) {
    err.message = [err.message, ...rest.map((a) => new AuthorizationFailedError(a, authorizationProblem(a)).message)].join('\n');
  }
  return err;
}

/** Builds the AcmeProblemError for a problem response; a rate limit says when it lifts. */
export function problemError(problem: Problem, status: number, retryAfterMs?: number, now = Date.now()): AcmeProblemError {
  const err = new AcmeProblemError(problem, status);
  if (retryAfterMs !== undefined && (status === 429 || err.is('rateLimited'))) {
    const lifts = new Date(now + retryAfterMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const lines = err.message.split('\n');
    lines[0] = `${lines[0]} (retry after ${lifts})`;
    err.message = lines.join('\n');
  }
  return err;
}
