/** The transport's error taxonomy: one clear line per network, DNS or TLS failure. */
import { AkamuError, TransportError, type ErrorHint } from '../errors.js';

const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
const TLS_CERT_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/**
 * A failed attempt. `transient` marks failures worth another try; `reachedServer` says the request
 * may have reached the server (a connection was up when it failed), so a POST's fate is unknown;
 * `deadlineExceeded` says the caller's budget ran out, not the transport's own timeouts.
 */
export class HttpAttemptError extends TransportError {
  readonly transient: boolean;
  readonly reusedSocket: boolean;
  readonly reachedServer: boolean;
  readonly deadlineExceeded: boolean;
  constructor(message: string, url: string, opts: {
    cause?: unknown; transient?: boolean; reusedSocket?: boolean; reachedServer?: boolean; deadlineExceeded?: boolean; hint?: ErrorHint;
  }) {
    super(message, url, { cause: opts.cause, ...(opts.hint ? { hint: opts.hint } : {}) });
    this.transient = opts.transient ?? false;
    this.reusedSocket = opts.reusedSocket ?? false;
    this.reachedServer = opts.reachedServer ?? false;
    this.deadlineExceeded = opts.deadlineExceeded ?? false;
  }

  /** The same failure, marked as one that may have reached the server. */
  reached(): HttpAttemptError {
    if (this.reachedServer) return this;
    return new HttpAttemptError(this.message, this.url, {
      cause: this.cause, transient: this.transient, reusedSocket: this.reusedSocket, reachedServer: true,
      deadlineExceeded: this.deadlineExceeded, ...(this.hint ? { hint: this.hint } : {}),
    });
  }
}

/** The error for work ended by an abort signal (`code` 'aborted'); the signal's reason is the cause. */
export function abortedError(what: string, signal?: AbortSignal): AkamuError {
  return new AkamuError(`${what}: aborted`, 'aborted', { cause: signal?.reason });
}

export function hostPort(u: URL): string {
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return `${u.hostname}:${port}`;
}

function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** One-line error for a socket / DNS / TLS failure. */
export function describeNetworkError(err: unknown, url: URL, reusedSocket = false): HttpAttemptError {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const target = url.href;
  const make = (msg: string, transient = false, hint?: ErrorHint): HttpAttemptError =>
    new HttpAttemptError(msg, target, { cause: err, transient, reusedSocket, ...(hint ? { hint } : {}) });
  switch (code) {
    case 'ECONNREFUSED':
      return make(`cannot connect to ${target}: connection refused`);
    case 'ENOTFOUND':
      return make(`cannot connect to ${target}: cannot resolve host '${url.hostname}'`);
    case 'EAI_AGAIN':
      return make(`cannot connect to ${target}: DNS lookup of '${url.hostname}' failed (temporary failure)`);
    case 'ETIMEDOUT':
      return make(`connect to ${hostPort(url)} timed out`);
    case 'EHOSTUNREACH':
      return make(`cannot connect to ${target}: host unreachable`);
    case 'ENETUNREACH':
      return make(`cannot connect to ${target}: network unreachable`);
    default:
      break;
  }
  if (code && TRANSIENT_CODES.has(code)) return make(`request to ${target} failed: connection reset by the server`, true);
  if (code && TLS_TRUST_CODES.has(code)) {
    // newer Node versions append their own advice (`; if the root CA is installed locally, …`)
    const reason = message.split(';')[0];
    return make(`cannot connect to ${target}: TLS: ${reason}`, false, { code: 'untrusted-server-certificate' });
  }
  if (code && TLS_CERT_CODES.has(code)) return make(`cannot connect to ${target}: TLS: ${message}`);
  if (code === 'EPROTO' || (code && code.startsWith('ERR_SSL')) || /SSL routines|tls/i.test(message)) {
    const reason = message.replace(/^.*SSL routines:[^:]*:/s, '').split('\n')[0]?.trim() ?? message;
    return make(`cannot connect to ${target}: TLS handshake failed: ${reason}`);
  }
  return make(`request to ${target} failed: ${message.split('\n')[0] ?? message}`);
}
