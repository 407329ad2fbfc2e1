/** ACME resource shapes (RFC 8555 §7.1) as akamu-client hands them out. */
import type { Problem } from '../errors.js';

export type { Problem } from '../errors.js';

export interface DirectoryMeta {
  termsOfService?: string;
  website?: string;
  caaIdentities?: string[];
  externalAccountRequired?: boolean;
  /** draft-ietf-acme-profiles: profile name → description */
  profiles?: Record<string, string>;
  [extra: string]: unknown;
}

export interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  revokeCert: string;
  keyChange: string;
  newAuthz?: string;
  /** RFC 9773 (ARI) */
  renewalInfo?: string;
  meta?: DirectoryMeta;
  [extra: string]: unknown;
}

export interface Identifier {
  type: 'dns' | 'ip' | string;
  value: string;
}

export interface Order {
  /** The order URL (from the newOrder `Location` header; the order object has no self URL). */
  url: string;
  status: string;
  expires?: string;
  identifiers: Identifier[];
  authorizations: string[];
  finalize: string;
  certificate?: string;
  profile?: string;
  replaces?: string;
  notBefore?: string;
  notAfter?: string;
  error?: Problem;
  [extra: string]: unknown;
}

export interface Challenge {
  type: string;
  url: string;
  status: string;
  token?: string;
  validated?: string;
  error?: Problem;
  [extra: string]: unknown;
}

export interface Authorization {
  /** The authorization URL (attached by the client). */
  url: string;
  status: string;
  identifier: Identifier;
  wildcard?: boolean;
  challenges: Challenge[];
  expires?: string;
  [extra: string]: unknown;
}

export interface AccountObject {
  status: string;
  contact?: string[];
  orders?: string;
  termsOfServiceAgreed?: boolean;
  externalAccountBinding?: unknown;
  [extra: string]: unknown;
}
