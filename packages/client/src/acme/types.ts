/** ACME resource shapes (RFC 8555 §7.1) as akamu-client hands them out, after validation. */
import type { Problem } from '../errors.js';
import type { Identifier } from '../identifiers.js';

export type { Problem } from '../errors.js';
export type { Identifier } from '../identifiers.js';

export type AccountStatus = 'valid' | 'deactivated' | 'revoked';
export type OrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
export type AuthorizationStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
export type ChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';

export interface DirectoryMeta {
  termsOfService?: string;
  website?: string;
  caaIdentities?: string[];
  externalAccountRequired?: boolean;
  /** draft-ietf-acme-profiles: profile name → description */
  profiles?: Record<string, string>;
  /** draft-ietf-acme-dns-persist-02 */
  accountHashPrefix?: string;
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
}

export interface Order {
  /** The order URL (from the newOrder `Location` header; the order object has no self URL). */
  url: string;
  status: OrderStatus;
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
}

/** A challenge object; type-specific members (token, nonce, issuer-domain-names, …) are kept. */
export interface Challenge {
  type: string;
  url: string;
  status: ChallengeStatus;
  token?: string;
  validated?: string;
  error?: Problem;
  [extra: string]: unknown;
}

export interface Authorization {
  /** The authorization URL (attached by the client). */
  url: string;
  status: AuthorizationStatus;
  identifier: Identifier;
  wildcard?: boolean;
  challenges: Challenge[];
  expires?: string;
}

export interface AccountObject {
  status: AccountStatus;
  contact?: string[];
  orders?: string;
  termsOfServiceAgreed?: boolean;
  /** The server's echo of a verified External Account Binding (RFC 8555 §7.3.4). */
  externalAccountBinding?: unknown;
}
