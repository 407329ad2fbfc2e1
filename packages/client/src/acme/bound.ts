/**
 * What bounds a client's work: a deadline (epoch milliseconds, by the client's clock) and an abort
 * signal. Each request gets what is left of the deadline as its budget, each wait between attempts
 * must end before it, and an abort ends both at once. Past the deadline nothing new is sent.
 */
import type { AkamuError } from '../errors.js';
import { PollTimeoutError } from '../errors.js';
import { abortedError } from '../transport/errors.js';
import { wholeSeconds, type Clock } from './poll.js';

export interface Bound {
  /** Epoch milliseconds; undefined: no deadline. */
  deadline?: number;
  /** When the bounded work started, for "timed out after N s". */
  startedAt: number;
  signal?: AbortSignal;
}

/** Milliseconds left before the deadline (undefined: no deadline). */
export function remainingMs(bound: Bound, now: Clock): number | undefined {
  return bound.deadline === undefined ? undefined : bound.deadline - now();
}

/** The one error for a request the deadline cut short (or that could not start before it). */
export function deadlineError(bound: Bound, what: string, url: string): PollTimeoutError {
  const span = bound.deadline === undefined ? 0 : bound.deadline - bound.startedAt;
  return new PollTimeoutError(`timed out after ${wholeSeconds(span)} s waiting for the server's answer to ${what}`, url);
}

/** Throws when the signal has aborted or the deadline has passed. */
export function checkBound(bound: Bound, now: Clock, what: string, url: string): void {
  if (bound.signal?.aborted) throw abortedError(what, bound.signal);
  const left = remainingMs(bound, now);
  if (left !== undefined && left <= 0) throw deadlineError(bound, what, url);
}

/** The abort error for `what`. */
export function abortError(bound: Bound, what: string): AkamuError {
  return abortedError(what, bound.signal);
}

/** `outer` narrowed by a later deadline and another signal (the earlier deadline wins; either signal aborts). */
export function narrowBound(outer: Bound, more: { deadline?: number; signal?: AbortSignal }, now: Clock): Bound {
  const signals = [outer.signal, more.signal].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const keepOuter = more.deadline === undefined || (outer.deadline !== undefined && outer.deadline <= more.deadline);
  const base: Bound = keepOuter ? { ...outer } : { deadline: more.deadline, startedAt: now() };
  if (signal) base.signal = signal;
  else delete base.signal;
  return base;
}
