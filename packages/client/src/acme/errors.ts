/** Errors of the ACME layer: failed authorizations, invalid orders, problem responses. */
import { AcmeProblemError, AkamuError, problemMessage, TransportError, type Problem } from '../errors.js';
import { parseRetryAfter } from '../transport/retryAfter.js';
import { headerValue, type HttpResponse } from '../transport/types.js';
import { problemInBody } from './parse.js';
import type { Authorization, Challenge, Order } from './types.js';

/** `*.example.com` for a wildcard authorization, else the identifier value. */
export function authorizationName(a: Pick<Authorization, 'identifier' | 'wildcard'>): string {
  const value = a.identifier?.value ?? '?';
  return a.wildcard && !value.startsWith('*.') ? `*.${value}` : value;
}

/** The problem explaining why an authorization is not valid: the failed challenge's `error`. */
export function authorizationProblem(authz: Authorization): Problem {
  const failed: Challenge | undefined =
    authz.challenges.find((c) => c.status === 'invalid' && c.error) ?? authz.challenges.find((c) => c.error);
  if (failed?.error) return failed.error;
  return { type: 'about:blank', detail: `authorization is ${authz.status}` };
}

/** One failed authorization: which identifier, where, and the server's reason. */
export interface AuthorizationFailure {
  identifier: string;
  authorizationUrl: string;
  problem: Problem;
}

/**
 * One or more authorizations ended `invalid` (or in another final state that is not `valid`).
 * The message has one block per failure (`authorization for a failed: ACME error …`); `type`,
 * `detail` and `subproblems` are the first failure's.
 */
export class AuthorizationFailedError extends AcmeProblemError {
  readonly identifier: string;
  readonly authorizationUrl: string;
  readonly failures: readonly AuthorizationFailure[];
  constructor(failed: readonly Authorization[]) {
    const [first] = failed;
    if (!first) throw new AkamuError('AuthorizationFailedError needs at least one authorization');
    const failures = failed.map((a) => ({ identifier: authorizationName(a), authorizationUrl: a.url, problem: authorizationProblem(a) }));
    const context = (f: AuthorizationFailure): string => `authorization for ${f.identifier} failed`;
    const [head, ...rest] = failures as [AuthorizationFailure, ...AuthorizationFailure[]];
    super(head.problem, 0, { context: context(head), moreLines: rest.map((f) => problemMessage(f.problem, context(f))) });
    this.identifier = head.identifier;
    this.authorizationUrl = first.url;
    this.failures = failures;
  }
}

/** Builds the AcmeProblemError for a problem response; a rate limit records when it lifts. */
export function problemError(problem: Problem, status: number, retryAfterMs?: number, now = Date.now()): AcmeProblemError {
  return new AcmeProblemError(problem, status, retryAfterMs !== undefined ? { retryAfter: new Date(now + retryAfterMs) } : {});
}

/** The error for an unauthenticated GET not answered 200: its problem document (with when a rate limit lifts), or the status. */
export function getError(url: string, res: HttpResponse): AkamuError {
  const problem = problemInBody(res.body);
  if (problem) return problemError(problem, res.status, parseRetryAfter(headerValue(res, 'retry-after')));
  return new TransportError(`GET ${url}: HTTP ${res.status}`, url, { status: res.status });
}

/** The error for an order that turned invalid. */
export function orderInvalidError(order: Order): AkamuError {
  if (order.error) return problemError(order.error, 0);
  return new AkamuError(`order ${order.url} is invalid`, 'order-invalid');
}
