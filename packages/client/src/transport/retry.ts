/**
 * The retry policy shared by the transport (GET, HEAD) and the ACME wire layer (signed POSTs):
 * which answers are worth another try, how long to wait, and when a wait does not fit (the answer
 * is then returned, or thrown, for the caller to report, e.g. when a rate limit lifts).
 *
 * A wait is the answer's `Retry-After` (delta-seconds or HTTP-date) when it has one, else a
 * jittered exponential backoff. With a deadline, any wait that ends before it is taken; without
 * one, `Retry-After` is waited for up to `maxRetryAfterMs`. Either way at most `maxRetries` tries
 * are added.
 */
import { parseRetryAfter } from './retryAfter.js';
import type { HttpResponse } from './types.js';

/** What GET and HEAD, and signed POST-as-GET reads, are retried on. */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);
/** What a signed POST that changes something is retried on: the server refused it without acting. */
export const REFUSED_STATUSES: ReadonlySet<number> = new Set([429, 503]);

export interface RetryPolicy {
  /** Extra attempts after the first. */
  maxRetries: number;
  /** First backoff step, doubled per attempt, ±50 % jitter. */
  baseMs: number;
  /** Longest backoff step. */
  maxBackoffMs: number;
  /** Longest Retry-After waited for when there is no deadline. */
  maxRetryAfterMs: number;
  random?: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 6, baseMs: 250, maxBackoffMs: 8_000, maxRetryAfterMs: 30_000 };

/** Jittered exponential backoff before attempt `attempt + 1`. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = policy.random ?? Math.random): number {
  return Math.round(Math.min(policy.baseMs * 2 ** (attempt - 1), policy.maxBackoffMs) * (0.5 + random()));
}

/** True when a wait of `waitMs` ends before a deadline that is `remainingMs` away (always, without one). */
export function fits(waitMs: number, remainingMs: number | undefined): boolean {
  return remainingMs === undefined || waitMs < remainingMs;
}

export type StatusVerdict = { retry: false; reason?: string } | { retry: true; waitMs: number };

/**
 * Whether an answer with a status worth retrying, on `attempt`, should be followed by another try,
 * and after how long. `remainingMs` is what is left of the caller's deadline (undefined: none).
 */
export function retryOnStatus(policy: RetryPolicy, res: HttpResponse, attempt: number, remainingMs?: number): StatusVerdict {
  if (attempt > policy.maxRetries) return { retry: false, reason: `giving up after ${attempt} tries` };
  const retryAfter = parseRetryAfter(res.headers['retry-after']);
  if (retryAfter !== undefined) {
    const limit = remainingMs ?? policy.maxRetryAfterMs;
    if (retryAfter > limit || (remainingMs !== undefined && !fits(retryAfter, remainingMs))) {
      return { retry: false, reason: `Retry-After ${Math.round(retryAfter / 1000)} s is beyond the ${remainingMs === undefined ? 'cap' : 'deadline'}; not waiting` };
    }
    return { retry: true, waitMs: retryAfter };
  }
  const wait = backoffMs(policy, attempt);
  if (!fits(wait, remainingMs)) return { retry: false, reason: 'no time is left before the deadline' };
  return { retry: true, waitMs: wait };
}

/** `sleep(ms)` that ends at once, with `onAbort()`'s error, when `signal` aborts. */
export function sleepUnlessAborted(sleep: (ms: number) => Promise<void>, ms: number, signal: AbortSignal | undefined, onAbort: () => Error): Promise<void> {
  if (!signal) return sleep(ms);
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<void>((resolve, reject) => {
    const abort = (): void => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    sleep(ms).then(
      () => {
        signal.removeEventListener('abort', abort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(err);
      },
    );
  });
}
