/** Typed errors of akamu-client. The CLI maps them to exit codes and one-line messages. */

export class AkamuError extends Error {
  readonly code: string;
  constructor(message: string, code = 'akamu', options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input the caller can fix (unknown key type, wildcard with http-01, …). */
export class UsageError extends AkamuError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'usage', options);
  }
}

/** Key material that cannot be read or used. */
export class KeyFormatError extends AkamuError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'key-format', options);
  }
}

/** Network, TLS, timeout, or an HTTP answer that is not what ACME promises. */
export class TransportError extends AkamuError {
  readonly url: string;
  readonly status?: number;
  constructor(message: string, url: string, options?: { cause?: unknown; status?: number }) {
    super(message, 'transport', options);
    this.url = url;
    this.status = options?.status;
  }
}

export interface ProblemIdentifier {
  type: string;
  value: string;
}

export interface Problem {
  type?: string;
  detail?: string;
  status?: number;
  instance?: string;
  identifier?: ProblemIdentifier;
  subproblems?: Problem[];
  [extra: string]: unknown;
}

/** An ACME problem document (RFC 8555 §6.7) returned by the server. */
export class AcmeProblemError extends AkamuError {
  readonly type: string;
  readonly detail: string;
  readonly status: number;
  readonly subproblems: Problem[];
  readonly problem: Problem;
  constructor(problem: Problem, status: number, context?: string) {
    const type = typeof problem.type === 'string' ? problem.type : 'about:blank';
    const detail = typeof problem.detail === 'string' ? problem.detail : '';
    const subs = Array.isArray(problem.subproblems) ? problem.subproblems : [];
    const lines = [`${context ? `${context}: ` : ''}ACME error ${type}: ${detail}`];
    for (const sp of subs) {
      const id = sp.identifier?.value ?? '?';
      lines.push(`  ${id}: ${sp.type ?? 'about:blank'}: ${sp.detail ?? ''}`);
    }
    super(lines.join('\n'), 'acme-problem');
    this.type = type;
    this.detail = detail;
    this.status = status;
    this.subproblems = subs;
    this.problem = problem;
  }

  /** True when the problem type is `urn:ietf:params:acme:error:<name>`. */
  is(name: string): boolean {
    return this.type === `urn:ietf:params:acme:error:${name}`;
  }
}

/** A challenge could not be prepared or failed validation. */
export class ChallengeError extends AkamuError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'challenge', options);
  }
}

/** A feature that this version does not support yet. */
export class UnsupportedError extends AkamuError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'unsupported', options);
  }
}
