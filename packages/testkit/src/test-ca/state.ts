// The test CA's objects (RFC 8555 §7.1) kept in memory, their JSON forms and the state machines
// that move orders and authorizations along (§7.1.6).

import { randomBytes } from 'node:crypto';
import type { PublicKey } from './keys.js';
import type { Identifier, ProblemDocument } from './problem.js';

export type OrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
export type AuthzStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
export type ChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';

export interface Account {
  id: string;
  url: string;
  key: PublicKey;
  status: 'valid' | 'deactivated' | 'revoked';
  contact: string[];
  termsOfServiceAgreed: boolean;
  /** The verified externalAccountBinding JWS, echoed in the account object. */
  externalAccountBinding?: unknown;
  /** The Kerberos principal whose GSSAPI EAB kid registered the account. */
  kerberosPrincipal?: string;
  orderIds: string[];
}

export interface Order {
  id: string;
  accountId: string;
  status: OrderStatus;
  expires: Date;
  identifiers: Identifier[];
  authzIds: string[];
  profile: string;
  replaces?: string;
  error?: ProblemDocument;
  certId?: string;
}

export interface Authz {
  id: string;
  accountId: string;
  identifier: Identifier;
  wildcard: boolean;
  status: AuthzStatus;
  expires: Date;
  challengeIds: string[];
  /** The hidden-service key proven by onion-csr-01 (raw Ed25519 public key). */
  onionKey?: Buffer;
}

export interface Challenge {
  id: string;
  authzId: string;
  type: string;
  /** The token (http-01, dns-01, tls-alpn-01) or the onion-csr-01 nonce (standard base64). */
  token: string;
  status: ChallengeStatus;
  /** tkauth-01: the Token Authority's URL, given to the client as `token-authority`. */
  tokenAuthority?: string;
  validated?: Date;
  error?: ProblemDocument;
}

export interface IssuedCert {
  id: string;
  accountId: string;
  orderId: string;
  der: Buffer;
  chainPem: string;
  /** Serial content octets as encoded (leading 00 kept). */
  serial: Buffer;
  /** RFC 9773 certID: b64u(AKI keyIdentifier) "." b64u(serial). */
  certId: string;
  notBefore: Date;
  notAfter: Date;
  identifiers: Identifier[];
  spki: Buffer;
  revoked?: { reason: number; at: Date };
  /** The order that names this certificate in `replaces` (and is not invalid). */
  replacedByOrderId?: string;
  /** A suggested ARI window set by a test; otherwise computed. */
  window?: { start: Date; end: Date };
}

const newId = () => randomBytes(12).toString('base64url');

export class CaState {
  readonly accounts = new Map<string, Account>();
  readonly orders = new Map<string, Order>();
  readonly authzs = new Map<string, Authz>();
  readonly challenges = new Map<string, Challenge>();
  readonly certs = new Map<string, IssuedCert>();
  /** JWK thumbprint → account id. */
  readonly accountByKey = new Map<string, string>();
  /** The `jti` of every Token Authority token accepted (tkauth-01 refuses a reused one). */
  readonly tkauthJtis = new Set<string>();

  constructor(readonly base: string, private readonly now: () => Date) {}

  id(): string {
    return newId();
  }

  url(kind: string, id: string): string {
    return `${this.base}/${kind}/${id}`;
  }

  accountByUrl(url: string): Account | undefined {
    const prefix = `${this.base}/acct/`;
    return url.startsWith(prefix) ? this.accounts.get(url.slice(prefix.length)) : undefined;
  }

  certBySerial(serialHex: string): IssuedCert | undefined {
    const want = serialHex.replace(/[:\s]/g, '').toLowerCase().replace(/^0+/, '');
    return [...this.certs.values()].find((c) => c.serial.toString('hex').replace(/^0+/, '') === want);
  }

  /** Expire what is past its time and move an authorization along. */
  refreshAuthz(a: Authz): Authz {
    if ((a.status === 'pending' || a.status === 'valid') && this.now() > a.expires) a.status = 'expired';
    return a;
  }

  /** RFC 8555 §7.1.6: pending → ready when every authorization is valid; invalid on any failure or expiry. */
  refreshOrder(o: Order): Order {
    if (o.status === 'pending') {
      const authzs = o.authzIds.map((id) => this.refreshAuthz(this.authzs.get(id)!));
      const failed = authzs.find((a) => a.status !== 'pending' && a.status !== 'valid');
      if (failed) {
        o.status = 'invalid';
        const chall = failed.challengeIds.map((id) => this.challenges.get(id)!).find((c) => c.error);
        o.error = chall?.error ?? { type: 'urn:ietf:params:acme:error:unauthorized', detail: `authorization for ${failed.identifier.value} is ${failed.status}` };
      } else if (authzs.every((a) => a.status === 'valid')) {
        o.status = 'ready';
      }
    }
    if ((o.status === 'pending' || o.status === 'ready') && this.now() > o.expires) {
      o.status = 'invalid';
      o.error = { type: 'urn:ietf:params:acme:error:malformed', detail: 'the order expired' };
    }
    return o;
  }

  accountJson(a: Account): Record<string, unknown> {
    return {
      status: a.status,
      contact: a.contact,
      termsOfServiceAgreed: a.termsOfServiceAgreed,
      ...(a.externalAccountBinding ? { externalAccountBinding: a.externalAccountBinding } : {}),
      orders: `${a.url}/orders`,
    };
  }

  orderJson(o: Order): Record<string, unknown> {
    this.refreshOrder(o);
    return {
      status: o.status,
      expires: o.expires.toISOString(),
      identifiers: o.identifiers,
      authorizations: o.authzIds.map((id) => this.url('authz', id)),
      finalize: `${this.url('order', o.id)}/finalize`,
      profile: o.profile,
      ...(o.replaces ? { replaces: o.replaces } : {}),
      ...(o.error ? { error: o.error } : {}),
      ...(o.certId ? { certificate: this.url('cert', o.certId) } : {}),
    };
  }

  authzJson(a: Authz, authKey: Record<string, string>): Record<string, unknown> {
    this.refreshAuthz(a);
    return {
      identifier: a.identifier,
      status: a.status,
      expires: a.expires.toISOString(),
      challenges: a.challengeIds.map((id) => this.challengeJson(this.challenges.get(id)!, authKey)),
      ...(a.wildcard ? { wildcard: true } : {}),
    };
  }

  challengeJson(c: Challenge, authKey: Record<string, string>): Record<string, unknown> {
    const specific = c.type === 'onion-csr-01' ? { nonce: c.token, authKey }
      : c.type === 'tkauth-01' ? { 'tkauth-type': 'atc', token: c.token, ...(c.tokenAuthority ? { 'token-authority': c.tokenAuthority } : {}) }
        : { token: c.token };
    return {
      type: c.type,
      url: this.url('chall', c.id),
      status: c.status,
      ...specific,
      ...(c.validated ? { validated: c.validated.toISOString() } : {}),
      ...(c.error ? { error: c.error } : {}),
    };
  }
}
