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
}

export interface Solver {
  /** 'http-01' | 'tls-alpn-01' | 'dns-01' | … */
  readonly type: string;
  /** Before ordering: e.g. wildcards refused → UsageError. */
  check?(identifiers: Identifier[]): void;
  /** Listener lifetime etc. (once per issuance). */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  prepare(ctx: ChallengeContext): Promise<void>;
  /** Payload POSTed to the challenge URL; default {}. */
  responsePayload?(ctx: ChallengeContext): Promise<object>;
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
  add(r: DnsRecord): Promise<void>;
  remove?(r: DnsRecord): Promise<void>;
}
