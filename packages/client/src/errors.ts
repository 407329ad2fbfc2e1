/**
 * Typed errors of akamu-client. Every error the library throws for bad input, bad peers or failed
 * protocol steps is an AkamuError with a `code` from {@link ErrorCode}; messages are complete at
 * construction and never changed afterwards. Advice that depends on the caller's interface (a CLI
 * flag, a config key) is not in the message: a structured {@link ErrorHint} says what would help,
 * and the caller words it.
 */

/** Every `code` an AkamuError can carry. */
export type ErrorCode =
  | 'akamu'
  | 'usage'
  | 'key-format'
  | 'transport'
  | 'acme-problem'
  | 'challenge'
  | 'unsupported'
  | 'timeout'
  | 'no-account'
  | 'no-ari'
  | 'bad-ari'
  | 'bad-certificate'
  | 'bad-chain'
  | 'bad-pem'
  | 'no-aki'
  | 'order-invalid'
  | 'bad-response'
  | 'aborted'
  | 'not-found'
  /** Kerberos (GSSAPI/SPNEGO) authentication failed: keytab, KDC, or the server's refusal. */
  | 'kerberos'
  /** The optional Kerberos binding (the `kerberos` package) is not installed or cannot load. */
  | 'kerberos-unavailable';

/** What would fix an error, for the caller to turn into its own advice. */
export type ErrorHint =
  /** The server's TLS certificate is not trusted: an extra CA certificate is needed. */
  | { code: 'untrusted-server-certificate' }
  /** Binding a challenge listener was refused (low port without privileges). */
  | { code: 'bind-permission'; challenge: string; port: number; standardPort: number }
  /** Another process holds the challenge listener's port. */
  | { code: 'port-in-use'; challenge: string; port: number }
  /** Wildcard identifiers need a DNS-based challenge. */
  | { code: 'wildcard-needs-dns' }
  /** IP identifiers need http-01 or tls-alpn-01. */
  | { code: 'ip-needs-http-or-tls' }
  /** The server does not accept signatures of this JWS algorithm (the key type must change, or the CA). */
  | { code: 'unsupported-algorithm'; algorithm: string; postQuantum: boolean }
  /** A published DNS record did not become visible in time (a longer wait, or no check, would help). */
  | { code: 'dns-record-not-visible' }
  /** Kerberos needs the optional binding: the system's krb5 development files and the `kerberos` package. */
  | { code: 'kerberos-binding' };

export interface AkamuErrorOptions {
  cause?: unknown;
  hint?: ErrorHint;
}

/** Base class of every error akamu-client throws on purpose. */
export class AkamuError extends Error {
  readonly code: ErrorCode;
  readonly hint?: ErrorHint;
  constructor(message: string, code: ErrorCode = 'akamu', options: AkamuErrorOptions = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    if (options.hint) this.hint = options.hint;
  }
}

/** Bad input the caller can fix (unknown key type, wildcard with http-01, …). */
export class UsageError extends AkamuError {
  constructor(message: string, options?: AkamuErrorOptions) {
    super(message, 'usage', options);
  }
}

/** Key material that cannot be read or used. */
export class KeyFormatError extends AkamuError {
  constructor(message: string, options?: AkamuErrorOptions) {
    super(message, 'key-format', options);
  }
}

/** Network, TLS, timeout, or an HTTP answer that is not what ACME promises. */
export class TransportError extends AkamuError {
  readonly url: string;
  readonly status?: number;
  constructor(message: string, url: string, options: AkamuErrorOptions & { status?: number } = {}) {
    super(message, 'transport', options);
    this.url = url;
    if (options.status !== undefined) this.status = options.status;
  }
}

export interface ProblemIdentifier {
  type: string;
  value: string;
}

/** An RFC 7807 / RFC 8555 §6.7 problem document. */
export interface Problem {
  type?: string;
  detail?: string;
  status?: number;
  instance?: string;
  identifier?: ProblemIdentifier;
  subproblems?: Problem[];
  [extra: string]: unknown;
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface AcmeProblemOptions {
  /** Prefix of the first message line (`authorization for x failed`). */
  context?: string;
  /** When a rate limit lifts (429 or `rateLimited` with Retry-After). */
  retryAfter?: Date;
  /** Further message lines (e.g. the other failed authorizations). */
  moreLines?: readonly string[];
}

/** An ACME problem document (RFC 8555 §6.7) returned by the server. */
export class AcmeProblemError extends AkamuError {
  readonly type: string;
  readonly detail: string;
  readonly status: number;
  readonly subproblems: Problem[];
  readonly problem: Problem;
  /** When the server says the request may be retried (rate limits). */
  readonly retryAfter?: Date;
  constructor(problem: Problem, status: number, options: AcmeProblemOptions = {}) {
    const { type, detail, subproblems } = problemParts(problem);
    const rateLimited = status === 429 || type === 'urn:ietf:params:acme:error:rateLimited';
    const retryAfter = rateLimited ? options.retryAfter : undefined;
    super([problemMessage(problem, options.context, retryAfter), ...(options.moreLines ?? [])].join('\n'), 'acme-problem');
    this.type = type;
    this.detail = detail;
    this.status = status;
    this.subproblems = subproblems;
    this.problem = problem;
    if (retryAfter) this.retryAfter = retryAfter;
  }

  /** True when the problem type is `urn:ietf:params:acme:error:<name>`. */
  is(name: string): boolean {
    return this.type === `urn:ietf:params:acme:error:${name}`;
  }
}

function problemParts(problem: Problem): { type: string; detail: string; subproblems: Problem[] } {
  return {
    type: typeof problem.type === 'string' ? problem.type : 'about:blank',
    detail: typeof problem.detail === 'string' ? problem.detail : '',
    subproblems: Array.isArray(problem.subproblems) ? problem.subproblems : [],
  };
}

/** The server's text on one line: its line breaks would pass for lines of the message. */
const oneLine = (text: unknown): string => String(text).replace(/[\r\n]+/g, ' ');

/** `[context: ]ACME error <type>: <detail>[ (retry after T)]` and one line per subproblem. */
export function problemMessage(problem: Problem, context?: string, retryAfter?: Date): string {
  const { type, detail, subproblems } = problemParts(problem);
  const lines = [`${context ? `${oneLine(context)}: ` : ''}ACME error ${oneLine(type)}: ${oneLine(detail)}${retryAfter ? ` (retry after ${iso(retryAfter)})` : ''}`];
  for (const sp of subproblems) {
    lines.push(`  ${oneLine(sp.identifier?.value ?? '?')}: ${oneLine(sp.type ?? 'about:blank')}: ${oneLine(sp.detail ?? '')}`);
  }
  return lines.join('\n');
}

/** A challenge could not be prepared or failed validation. */
export class ChallengeError extends AkamuError {
  constructor(message: string, options?: AkamuErrorOptions) {
    super(message, 'challenge', options);
  }
}

/** A feature that this version does not support yet. */
export class UnsupportedError extends AkamuError {
  constructor(message: string, options?: AkamuErrorOptions) {
    super(message, 'unsupported', options);
  }
}

/** Waiting for the server (authorization, order, issuance) ran past the deadline. */
export class PollTimeoutError extends AkamuError {
  readonly url: string;
  constructor(message: string, url: string) {
    super(message, 'timeout');
    this.url = url;
  }
}
