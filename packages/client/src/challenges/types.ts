/** Contracts between the issuance flow (acme/issue.ts) and the challenge solvers. */
import type { Authorization, Challenge, Directory } from '../acme/types.js';
import type { Identifier } from '../identifiers.js';

export interface ChallengeContext {
  authorization: Authorization;
  challenge: Challenge;
  identifier: Identifier;
  keyAuthorization: string;
  accountUrl: string;
  thumbprint: string;
  directory: Directory;
  /** The run's deadline (epoch ms by the issuance's clock): a solver's own waiting must end by it. */
  deadline?: number;
  /** Aborted when the issuance is interrupted: a solver's own waiting ends at once. */
  signal?: AbortSignal;
}

/**
 * One challenge type's way of proving control (prepare → trigger → cleanup). issueCertificate
 * takes a list of solvers and gives each authorization the first whose type the server offers
 * and whose `check` accepts the identifier.
 */
export interface Solver {
  /** The challenge type it solves: 'http-01' | 'tls-alpn-01' | 'dns-01' | … */
  readonly type: string;
  /** Refuses identifiers it cannot validate (UsageError); also used to choose among solvers. */
  check?(identifiers: Identifier[]): void;
  /** Starts what the solver needs for the whole issuance (e.g. a listener); once per issuance. */
  start?(): Promise<void>;
  /** Stops what start() started; always called at the end of an issuance that started it. */
  stop?(): Promise<void>;
  /** Makes the challenge answerable (serve a token, publish a record). */
  prepare(ctx: ChallengeContext): Promise<void>;
  /** Payload POSTed to the challenge URL; default {}. */
  responsePayload?(ctx: ChallengeContext): Promise<object>;
  /** Undoes prepare(); always called, also after a failure. */
  cleanup(ctx: ChallengeContext): Promise<void>;
}

export interface DnsRecord {
  /** FQDN with trailing dot, e.g. `_acme-challenge.example.com.` */
  name: string;
  /** TXT value */
  value: string;
  /** Base domain (wildcard prefix `*.` stripped) */
  domain: string;
  identifier: Identifier;
  token?: string;
  keyAuthorization?: string;
  challengeType: string;
}

export interface DnsPublisher {
  /**
   * Gets ready for an issuance and checks what can be checked before anything is ordered (e.g. an
   * RFC 2136 key and zone); called through the solver's start(), so more than once: make it idempotent.
   */
  start?(): Promise<void>;
  add(r: DnsRecord): Promise<void>;
  remove?(r: DnsRecord): Promise<void>;
}

/** Waits until a published record is visible in the DNS (see DnsPropagationCheck). */
export interface DnsPropagation {
  /** Resolves once `record.value` is seen at `record.name`; rejects at the deadline or on abort. */
  wait(record: DnsRecord, bound?: { deadline?: number; signal?: AbortSignal }): Promise<void>;
}
