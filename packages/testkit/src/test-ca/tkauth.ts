// tkauth-01 (RFC 9447, standards.md §9): authority-token identifiers (TNAuthList, JWTClaimConstraints,
// EnhancedJWTClaimConstraints: base64url DER), and the check of a Token Authority's `atc` JWT — its
// signature against the TA key this CA trusts, `exp`, a `jti` never seen before, `tktype`/`tkvalue`
// equal to the authorization's identifier and `fingerprint` equal to the requesting account's.

import { b64uDecode, jsonObject } from './b64.js';
import type { PublicKey } from './keys.js';
import { AcmeProblem, type Identifier } from './problem.js';

/** Authority-token identifier types and the certificate extension (RFC 8226 / RFC 9118) each one becomes. */
export const AUTHORITY_TOKEN_OIDS: Readonly<Record<string, string>> = {
  TNAuthList: '1.3.6.1.5.5.7.1.26',
  JWTClaimConstraints: '1.3.6.1.5.5.7.1.27',
  EnhancedJWTClaimConstraints: '1.3.6.1.5.5.7.1.33',
};

export function isAuthorityTokenType(type: string): boolean {
  return Object.hasOwn(AUTHORITY_TOKEN_OIDS, type);
}

/** Why an authority-token identifier value is refused (it must be base64url of a DER SEQUENCE), or undefined. */
export function authorityTokenValueProblem(value: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return 'the value must be base64url (no padding) of DER';
  const der = Buffer.from(value, 'base64url');
  if (der.length < 2 || der[0] !== 0x30) return 'the value must be the DER of a SEQUENCE';
  return undefined;
}

/** The Token Authority this CA trusts: the key its `atc` tokens are signed with, and its URL for the challenge hint. */
export interface TokenAuthorityTrust {
  key: PublicKey;
  url?: string;
}

/** RFC 9447 `atc.fingerprint` of an account key: `SHA256 ` + colon-separated uppercase hex of the raw thumbprint. */
export function fingerprintOf(thumbprint: string): string {
  return `SHA256 ${Buffer.from(thumbprint, 'base64url').toString('hex').toUpperCase().match(/../g)!.join(':')}`;
}

const unauthorized = (detail: string): AcmeProblem => new AcmeProblem('unauthorized', `tkauth-01: ${detail}`);

/** The parts of a compact JWS; a malformed problem when it is not one. */
function compact(token: unknown): { header: Record<string, unknown>; payload: Record<string, unknown>; signingInput: Buffer; signature: Buffer } {
  if (typeof token !== 'string') throw new AcmeProblem('malformed', 'a tkauth-01 response is {"tkauth": "<compact JWT>"}');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new AcmeProblem('malformed', 'tkauth-01: the token is not a compact JWS');
  try {
    return {
      header: jsonObject(b64uDecode(parts[0], 'JWT header'), 'JWT header'),
      payload: jsonObject(b64uDecode(parts[1], 'JWT payload'), 'JWT payload'),
      signingInput: Buffer.from(`${parts[0]}.${parts[1]}`),
      signature: b64uDecode(parts[2], 'JWT signature'),
    };
  } catch (e) {
    throw new AcmeProblem('malformed', `tkauth-01: the token does not parse (${(e as Error).message})`);
  }
}

/**
 * Check a Token Authority token for one authorization; every refusal is an `unauthorized` problem
 * (a `malformed` one when it is no JWT at all). The `jti` is recorded only once every check passed.
 */
export function validateTkauth(opts: {
  ta: TokenAuthorityTrust;
  identifier: Identifier;
  accountThumbprint: string;
  token: unknown;
  usedJtis: Set<string>;
  now: Date;
}): void {
  const { header, payload, signingInput, signature } = compact(opts.token);
  if (header.alg !== opts.ta.key.jwsAlg) throw unauthorized(`the token's alg ${JSON.stringify(header.alg)} is not the Token Authority's (${opts.ta.key.jwsAlg})`);
  if (!opts.ta.key.verifyJws(signingInput, signature)) throw unauthorized('the token is not signed by the trusted Token Authority');
  const { exp, jti, atc } = payload;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw unauthorized('the token has no numeric exp');
  if (exp * 1000 <= opts.now.getTime()) throw unauthorized(`the token expired at ${new Date(exp * 1000).toISOString()}`);
  if (typeof jti !== 'string' || jti === '') throw unauthorized('the token has no jti');
  if (opts.usedJtis.has(jti)) throw unauthorized(`the token's jti ${JSON.stringify(jti)} was used before`);
  if (typeof atc !== 'object' || atc === null || Array.isArray(atc)) throw unauthorized('the token has no atc claim');
  const { tktype, tkvalue, fingerprint, ca } = atc as Record<string, unknown>;
  if (typeof tktype !== 'string' || tktype.toLowerCase() !== opts.identifier.type.toLowerCase()) {
    throw unauthorized(`atc.tktype ${JSON.stringify(tktype)} is not the identifier type ${opts.identifier.type}`);
  }
  if (tkvalue !== opts.identifier.value) throw unauthorized('atc.tkvalue is not the identifier value');
  if (ca !== undefined && typeof ca !== 'boolean') throw unauthorized('atc.ca must be a boolean');
  const want = fingerprintOf(opts.accountThumbprint);
  if (fingerprint !== want) {
    throw unauthorized(`atc.fingerprint ${JSON.stringify(fingerprint)} is not the requesting account's key fingerprint (${want}): the token was issued for another account`);
  }
  opts.usedJtis.add(jti);
}

