/**
 * The transport's retry policy: which answers are worth another try, how long to wait, and when
 * a Retry-After is too long to wait out (the response is then returned for the caller to report).
 */
import { parseRetryAfter } from './retryAfter.js';
import type { HttpResponse } from './types.js';

export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

export interface RetryPolicy {
  /** Extra attempts for idempotent requests (3 tries in all by default). */
  maxRetries: number;
  /** First backoff step, doubled per attempt, ±50 % jitter. */
  baseMs: number;
  /** Longest Retry-After waited for. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 2, baseMs: 250, maxRetryAfterMs: 30_000 };

/** Jittered exponential backoff before attempt `attempt + 1`. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  return Math.round(policy.baseMs * 2 ** (attempt - 1) * (0.5 + random()));
}

export type StatusVerdict = { retry: false; reason?: string } | { retry: true; waitMs: number };

/** Whether an idempotent request answered with `res` on `attempt` should be sent again. */
export function retryOnStatus(policy: RetryPolicy, res: HttpResponse, attempt: number): StatusVerdict {
  if (!RETRY_STATUSES.has(res.status) || attempt > policy.maxRetries) return { retry: false };
  const retryAfter = parseRetryAfter(res.headers['retry-after']);
  if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) {
    return { retry: false, reason: `Retry-After ${Math.round(retryAfter / 1000)} s is beyond the cap; not waiting` };
  }
  return { retry: true, waitMs: retryAfter ?? backoffMs(policy, attempt) };
}
