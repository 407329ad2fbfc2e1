/**
 * The `error` object of a `--json` document: what text mode prints as its `error:` line, as data.
 *
 *   type        the ACME problem type (`urn:ietf:params:acme:error:…`) when the CA refused, else
 *               akamu's error code (`usage`, `transport`, `timeout`, `locked`, … ; `interrupted`;
 *               `error` for any other failure)
 *   detail      the CA's detail, or the error's own message
 *   message     the text after `error: ` in text mode, advice included
 *   exitCode    the process's exit status (the same as in text mode)
 * and where known: `code` (akamu's code), `status`, `subproblems` ({type, detail, status,
 * identifier}), `retryAfter`, `instance`, `authorizations` (every failed one: identifier, url,
 * type, detail, status, subproblems), `url`, `step`, `lockPath`, `signal`, `hint` (what would fix
 * it, as data) and `advice` (the same in words).
 */
import { AcmeProblemError, AkamuError, AuthorizationFailedError, TransportError, PollTimeoutError, type Problem } from 'akamu-client';
import type { CommanderError } from '@commander-js/extra-typings';
import { StepError, rootCause, INTERRUPTS, type InterruptSignal } from '../errors.js';
import { LockedError } from '../files/lock.js';
import { JsonCollector, plain } from './json.js';

type ErrorObject = Record<string, unknown>;

/** A problem document's parts, in the order a reader wants them; unknown members are left out. */
function problemObject(p: Problem): ErrorObject {
  return {
    type: typeof p.type === 'string' ? p.type : 'about:blank',
    detail: typeof p.detail === 'string' ? p.detail : '',
    ...(typeof p.status === 'number' ? { status: p.status } : {}),
    ...(p.identifier && typeof p.identifier === 'object' ? { identifier: { type: String(p.identifier.type), value: String(p.identifier.value) } } : {}),
    ...(Array.isArray(p.subproblems) && p.subproblems.length > 0 ? { subproblems: p.subproblems.map(problemObject) } : {}),
  };
}

/** The advice text without its joining punctuation (` — `, `; `, a line break). */
const adviceText = (advice: string): string => advice.replace(/^(\s*—\s*|;\s*|\n)/, '').trim();

/** The error object of a failed command. */
export function errorObject(err: unknown, text: { message: string; advice: string; exitCode: number }): ErrorObject {
  const cause = rootCause(err);
  const o: ErrorObject = {};
  if (cause instanceof AcmeProblemError) {
    o.type = cause.type;
    o.detail = cause.detail;
    const status = cause.status > 0 ? cause.status : cause.problem.status;
    if (typeof status === 'number') o.status = status;
    o.subproblems = cause.subproblems.map(problemObject);
    if (cause.retryAfter) o.retryAfter = plain(cause.retryAfter);
    if (typeof cause.problem.instance === 'string') o.instance = cause.problem.instance;
    if (cause instanceof AuthorizationFailedError) {
      o.authorizations = cause.failures.map((f) => ({ identifier: f.identifier, url: f.authorizationUrl, ...problemObject(f.problem) }));
    }
  } else if (cause instanceof LockedError) {
    o.type = 'locked';
    o.detail = cause.message;
    o.lockPath = cause.lockPath;
  } else {
    o.type = cause instanceof AkamuError ? cause.code : 'error';
    o.detail = cause instanceof Error ? cause.message : String(cause);
  }
  o.message = text.message;
  if (cause instanceof AkamuError) o.code = cause.code;
  if (cause instanceof TransportError || cause instanceof PollTimeoutError) o.url = cause.url;
  if (cause instanceof TransportError && cause.status !== undefined) o.status = cause.status;
  if (err instanceof StepError) o.step = err.step;
  if (cause instanceof AkamuError && cause.hint) o.hint = plain(cause.hint);
  if (text.advice) o.advice = adviceText(text.advice);
  o.exitCode = text.exitCode;
  return o;
}

/** The error object of an interrupted run. */
export function interruptedError(signal: InterruptSignal, message: string): ErrorObject {
  return { type: 'interrupted', detail: message, message, signal, exitCode: INTERRUPTS[signal] };
}

/** The error object of a command line commander refused (exit 2). */
export function usageError(err: CommanderError): ErrorObject {
  // a command that needs a subcommand prints its help instead of a message
  const detail = err.code === 'commander.help' ? 'a subcommand is required' : err.message.replace(/^error: /, '');
  return { type: 'usage', detail, message: detail, code: 'usage', commanderCode: err.code, exitCode: 2 };
}

/** The document of a failed run, with what the run collected before it failed. */
export function failureDocument(collector: JsonCollector | undefined, command: string | undefined, error: ErrorObject): string {
  return (collector ?? new JsonCollector()).failure(command, error);
}
