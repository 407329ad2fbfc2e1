/**
 * The one poller of the client: authorizations, orders and issuance all wait through it. Each
 * round fetches the resource; between rounds it waits for the server's Retry-After when given
 * (a `0` does not make it spin), else a backoff from 50 ms doubling to 1 s, never past the
 * deadline. Failure states are thrown by `settle`; at the deadline `onTimeout` builds the error.
 * An abort `signal` ends a wait at once.
 */
import { abortedError } from '../transport/errors.js';
import { sleepUnlessAborted } from '../transport/retry.js';

export type Sleep = (ms: number) => Promise<void>;
export type Clock = () => number;

export const defaultSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface PollOptions<T> {
  /** One round: the resource and the response's Retry-After. */
  fetch: () => Promise<{ value: T; retryAfterMs?: number }>;
  /** True when waiting is over; throws for a state that will never get there. */
  settle: (value: T) => boolean | Promise<boolean>;
  /** Epoch milliseconds past which no further round starts. */
  deadline: number;
  /** The error to throw at the deadline, given the last value seen. */
  onTimeout: (last: T) => Error | Promise<Error>;
  /** Pause before the first round (e.g. to give a fast CA time to validate). */
  firstDelayMs?: number;
  sleep?: Sleep;
  now?: Clock;
  signal?: AbortSignal;
}

const FIRST_STEP_MS = 50;
const MAX_STEP_MS = 1_000;

export async function poll<T>(opts: PollOptions<T>): Promise<T> {
  const now = opts.now ?? Date.now;
  const sleep = (ms: number): Promise<void> =>
    sleepUnlessAborted(opts.sleep ?? defaultSleep, ms, opts.signal, () => abortedError('waiting for the server', opts.signal));
  if (opts.firstDelayMs) await sleep(Math.min(opts.firstDelayMs, Math.max(0, opts.deadline - now())));
  for (let step = FIRST_STEP_MS; ; step = Math.min(step * 2, MAX_STEP_MS)) {
    const { value, retryAfterMs } = await opts.fetch();
    if (await opts.settle(value)) return value;
    const remaining = opts.deadline - now();
    if (remaining <= 0) throw await opts.onTimeout(value);
    await sleep(Math.min(Math.max(retryAfterMs ?? 0, step), remaining));
  }
}

/** `N s` (at least 1) for a timeout message. */
export function wholeSeconds(ms: number): number {
  return Math.max(1, Math.round(ms / 1000));
}
