/**
 * dns-persist-01 (draft-ietf-acme-dns-persist): a long-lived TXT record
 * `_validation-persist.<base>.` = `<issuer>; accounturi=<URI>[; policy=wildcard]`.
 *
 * Two wire formats, keyed off what the server sends:
 * - published -00/-01: the challenge carries kebab-case `issuer-domain-names`; `accounturi` is the
 *   account URL;
 * - -02 editor's copy: the challenge carries camelCase `issuerDomainNames` and the directory
 *   `meta.accountHashPrefix`; `accounturi` is the hashed URI of {@link dnsPersistAccountUri}.
 */
import { createHash } from 'node:crypto';
import type { Identifier } from '../identifiers.js';
import { ChallengeError, UsageError } from '../errors.js';
import { normalizeDnsName } from '../identifiers.js';
import { b64u } from '../jose/base64url.js';
import { type Logger, silentLogger } from '../log.js';
import { baseDomain, refuseIpIdentifiers } from './common.js';
import { publishRecord } from './dns01.js';
import type { ChallengeContext, DnsPropagation, DnsPublisher, DnsRecord, Solver } from './types.js';

/** The draft's limit on the issuer list (1..10 entries). */
export const DNS_PERSIST_MAX_ISSUERS = 10;

/** `_validation-persist.<identifier without *.>.` (FQDN with trailing dot). */
export function dnsPersistRecordName(identifierValue: string): string {
  return `_validation-persist.${baseDomain(identifierValue)}.`;
}

/** The domain as hashed: normalised (lower case, A-label, no trailing dot); `*` stays `*`. */
function hashDomain(domain: string): string {
  try {
    return normalizeDnsName(domain);
  } catch {
    throw new UsageError(`dns-persist-01: '${domain}' is not a valid domain name`);
  }
}

/**
 * The hashed `accounturi` of the -02 editor's copy:
 * `prefix || "sha-256/" || b64u(SHA-256( len(domain) [1 octet] || domain || thumbprint || accountUrl ))`.
 * `domain` is the FQDN the record validates (normalised: lower case, A-label, no trailing dot), or
 * `*` for a record usable for every domain; `thumbprint` is the 43-character b64u JWK thumbprint
 * string (ASCII, not the raw digest); `accountUrl` is taken as US-ASCII.
 */
export function dnsPersistAccountUri(opts: {
  accountHashPrefix: string;
  domain: string;
  thumbprint: string;
  accountUrl: string;
}): string {
  const domain = Buffer.from(hashDomain(opts.domain), 'ascii');
  if (domain.length === 0 || domain.length > 255) {
    throw new UsageError(`dns-persist-01: domain '${opts.domain}' must be 1..255 octets for the hashed accounturi`);
  }
  const digest = createHash('sha256')
    .update(Buffer.from([domain.length]))
    .update(domain)
    .update(Buffer.from(opts.thumbprint, 'ascii'))
    .update(Buffer.from(opts.accountUrl, 'ascii'))
    .digest();
  return `${opts.accountHashPrefix}sha-256/${b64u(digest)}`;
}

/** A CAA issuer-domain-name: lower-case-insensitive LDH labels, no spaces, `;` or trailing dot. */
const ISSUER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * Reads the issuer list of a challenge and says which format applies. Missing, empty, non-string
 * or more than ten entries → ChallengeError.
 */
function issuerOf(ctx: ChallengeContext): { issuer: string; hashed: boolean } {
  const id = ctx.identifier.value;
  const kebab = ctx.challenge['issuer-domain-names'];
  const camel = ctx.challenge.issuerDomainNames;
  const prefix = ctx.directory.meta?.accountHashPrefix;
  const hashed = camel !== undefined && typeof prefix === 'string';
  const field = hashed || kebab === undefined ? 'issuerDomainNames' : 'issuer-domain-names';
  const list = hashed ? camel : (kebab ?? camel);
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) {
    throw new ChallengeError(`dns-persist-01 challenge for ${id} has no issuer-domain-names`);
  }
  if (!Array.isArray(list)) {
    throw new ChallengeError(`dns-persist-01 challenge for ${id} has a malformed ${field} (not an array)`);
  }
  if (list.length > DNS_PERSIST_MAX_ISSUERS) {
    throw new ChallengeError(
      `dns-persist-01 challenge for ${id} lists ${list.length} ${field} (at most ${DNS_PERSIST_MAX_ISSUERS} allowed)`,
    );
  }
  const first: unknown = list[0];
  if (typeof first !== 'string' || first.length > 253 || !ISSUER_NAME.test(first)) {
    throw new ChallengeError(`dns-persist-01 challenge for ${id} has an invalid issuer domain name ${JSON.stringify(first)}`);
  }
  return { issuer: first.toLowerCase(), hashed };
}

/** True when the authorization covers a wildcard (`*.x`): the record needs `policy=wildcard`. */
function wantsWildcard(ctx: ChallengeContext): boolean {
  return ctx.authorization.wildcard === true || ctx.identifier.value.startsWith('*.');
}

/**
 * The DnsRecord a dns-persist-01 challenge asks for; `value` is the whole record text, `token` and
 * `keyAuthorization` are undefined (the challenge has neither).
 */
export function dnsPersistRecord(ctx: ChallengeContext): DnsRecord {
  const { issuer, hashed } = issuerOf(ctx);
  const domain = baseDomain(ctx.identifier.value);
  const accountUri = hashed
    ? dnsPersistAccountUri({
        accountHashPrefix: ctx.directory.meta?.accountHashPrefix as string,
        domain,
        thumbprint: ctx.thumbprint,
        accountUrl: ctx.accountUrl,
      })
    : ctx.accountUrl;
  let value = `${issuer}; accounturi=${accountUri}`;
  if (wantsWildcard(ctx)) value += '; policy=wildcard';
  return {
    name: dnsPersistRecordName(ctx.identifier.value),
    value,
    domain,
    identifier: ctx.identifier,
    token: undefined,
    keyAuthorization: undefined,
    challengeType: 'dns-persist-01',
  };
}

export interface DnsPersist01SolverOptions {
  publisher: DnsPublisher;
  /** Wait until each record is visible before the challenge is triggered (e.g. a DnsPropagationCheck). */
  propagation?: DnsPropagation;
  log?: Logger;
}

/**
 * Publishes the persistent TXT record through a DnsPublisher (`add` in prepare). The record is
 * long-lived and meant to stay: cleanup never calls `remove`. The response payload is `{}`.
 */
export class DnsPersist01Solver implements Solver {
  readonly type = 'dns-persist-01';
  private readonly opts: DnsPersist01SolverOptions;
  private readonly log: Logger;

  constructor(opts: DnsPersist01SolverOptions) {
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
  }

  /** The publisher's own checks (e.g. an RFC 2136 key), before anything is ordered. */
  async start(): Promise<void> {
    await this.opts.publisher.start?.();
  }

  /** DNS-based validation cannot cover IP address identifiers. */
  check(identifiers: Identifier[]): void {
    refuseIpIdentifiers(this.type, identifiers);
  }

  async prepare(ctx: ChallengeContext): Promise<void> {
    await publishRecord(dnsPersistRecord(ctx), ctx, this.opts, this.log);
  }

  async responsePayload(): Promise<object> {
    return {};
  }

  /** The record is persistent: nothing to remove. */
  async cleanup(): Promise<void> {}
}
