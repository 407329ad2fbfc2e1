// RFC 8555 §6.7 problem documents, thrown by every check of the test CA and rendered by server.ts.

export const ACME_ERROR = 'urn:ietf:params:acme:error:';

/** The problem types the test CA answers with (RFC 8555 §6.7 plus RFC 9773 / profiles). */
export type ProblemType =
  | 'accountDoesNotExist' | 'alreadyRevoked' | 'alreadyReplaced' | 'badCSR' | 'badNonce' | 'badPublicKey'
  | 'badRevocationReason' | 'badSignatureAlgorithm' | 'connection' | 'dns' | 'externalAccountRequired'
  | 'incorrectResponse' | 'invalidContact' | 'invalidProfile' | 'malformed' | 'orderNotReady'
  | 'rejectedIdentifier' | 'serverInternal' | 'tls' | 'unauthorized' | 'unsupportedContact'
  | 'unsupportedIdentifier';

export interface Identifier { type: string; value: string }

export interface ProblemDocument {
  type: string;
  detail: string;
  status?: number;
  identifier?: Identifier;
  subproblems?: ProblemDocument[];
  [extra: string]: unknown;
}

/** An ACME error: its problem document, HTTP status and any extra response headers. */
export class AcmeProblem extends Error {
  readonly status: number;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(readonly kind: ProblemType, detail: string,
    opts: { status?: number; extra?: Record<string, unknown>; headers?: Record<string, string> } = {}) {
    super(detail);
    this.name = 'AcmeProblem';
    this.status = opts.status ?? defaultStatus(kind);
    this.extra = opts.extra ?? {};
    this.headers = opts.headers ?? {};
  }

  /** The document without HTTP status (for challenge and order `error` fields). */
  document(): ProblemDocument {
    return { type: ACME_ERROR + this.kind, detail: this.message, ...this.extra };
  }
}

function defaultStatus(kind: ProblemType): number {
  switch (kind) {
    case 'unauthorized': case 'orderNotReady': return 403;
    case 'alreadyReplaced': return 409;
    case 'serverInternal': return 500;
    default: return 400;
  }
}

/** Shorthand: `problem('malformed', 'why')`. */
export function problem(kind: ProblemType, detail: string, status?: number): AcmeProblem {
  return new AcmeProblem(kind, detail, status === undefined ? {} : { status });
}
