/**
 * dns-account-01 (draft-ietf-acme-dns-account-label-01, as Pebble 2.10 and Boulder implement it):
 * dns-01 with an account-specific label, so several accounts can validate one name side by side:
 * TXT `_<label>._acme-challenge.<base>.` = b64u(SHA-256(key authorization)), where
 * label = lowercase(base32(SHA-256(account URL)[0..10])) — 16 characters, no padding.
 */
import { createHash } from 'node:crypto';
import { base32 } from '../jose/base32.js';
import { dns01TxtValue } from '../jose/challenge.js';
import { baseDomain } from './common.js';
import { Dns01Solver } from './dns01.js';
import type { ChallengeContext, DnsRecord } from './types.js';

/** The account label: `_` + lowercase base32 of the first 10 bytes of SHA-256(account URL). */
export function dnsAccountLabel(accountUrl: string): string {
  return `_${base32(createHash('sha256').update(accountUrl, 'utf8').digest().subarray(0, 10))}`;
}

/** `_<label>._acme-challenge.<identifier without *.>.` (FQDN with trailing dot). */
export function dnsAccount01RecordName(identifierValue: string, accountUrl: string): string {
  return `${dnsAccountLabel(accountUrl)}._acme-challenge.${baseDomain(identifierValue)}.`;
}

/** The DnsRecord a dns-account-01 challenge asks for. */
export function dnsAccount01Record(ctx: ChallengeContext): DnsRecord {
  const token = ctx.challenge.token;
  return {
    name: dnsAccount01RecordName(ctx.identifier.value, ctx.accountUrl),
    value: dns01TxtValue(ctx.keyAuthorization),
    domain: baseDomain(ctx.identifier.value),
    identifier: ctx.identifier,
    token: typeof token === 'string' ? token : undefined,
    keyAuthorization: ctx.keyAuthorization,
    challengeType: 'dns-account-01',
  };
}

/**
 * dns-account-01 through a DnsPublisher, like Dns01Solver (`add` in prepare, `remove` in cleanup,
 * the optional propagation wait), with the account-labelled record name.
 */
export class DnsAccount01Solver extends Dns01Solver {
  override readonly type: string = 'dns-account-01';

  protected override record(ctx: ChallengeContext): DnsRecord {
    return dnsAccount01Record(ctx);
  }
}
