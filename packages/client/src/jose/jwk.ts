/** JWK thumbprints (RFC 7638) and the RFC 9447 fingerprint. A key's own JWK comes from its table entry. */
import { createHash } from 'node:crypto';
import { KeyFormatError } from '../errors.js';
import type { Jwk, JwsAlgorithm } from '../keys/algorithm.js';
import type { PrivateKey } from '../keys/privateKey.js';
import { b64u } from './base64url.js';

export type { Jwk, JwsAlgorithm };

/** The public JWK of a key (RFC 7638 members only, lexicographic order). */
export function publicJwk(key: PrivateKey): Jwk {
  return key.publicJwk();
}

/** JWS `alg` for a key: ES256/384/512, RS256 for every RSA key, EdDSA for Ed25519. */
export function jwsAlgorithm(key: PrivateKey): JwsAlgorithm {
  return key.jwsAlgorithm;
}

/** Required members per kty of any JWK, ours or a peer's (RFC 7638 §3.2, RFC 8037, AKP per draft-ietf-cose-dilithium). */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
  oct: ['k', 'kty'],
  AKP: ['alg', 'kty', 'pub'],
};

/** The RFC 7638 canonical JSON of a JWK's required members. */
export function thumbprintInput(jwk: Jwk): string {
  const kty = jwk.kty;
  const members = kty === undefined ? undefined : THUMBPRINT_MEMBERS[kty];
  if (!members) throw new KeyFormatError(`cannot compute a thumbprint for JWK kty '${String(kty)}'`);
  const parts = members.map((m) => {
    const v = jwk[m];
    if (typeof v !== 'string') throw new KeyFormatError(`JWK is missing required member '${m}'`);
    return `${JSON.stringify(m)}:${JSON.stringify(v)}`;
  });
  return `{${parts.join(',')}}`;
}

/** Raw SHA-256 JWK thumbprint (32 bytes). */
export function thumbprintBytes(jwk: Jwk): Buffer {
  return createHash('sha256').update(thumbprintInput(jwk), 'utf8').digest();
}

/** RFC 7638 thumbprint: b64u(SHA-256(canonical JWK)). */
export function thumbprint(jwk: Jwk): string {
  return b64u(thumbprintBytes(jwk));
}

/** RFC 9447 `atc.fingerprint`: `SHA256 ` + colon-separated uppercase hex of the raw thumbprint. */
export function rfc9447Fingerprint(jwk: Jwk): string {
  return fingerprintOfThumbprint(thumbprintBytes(jwk));
}

/** The RFC 9447 fingerprint of a raw SHA-256 thumbprint (32 bytes). */
export function fingerprintOfThumbprint(raw: Uint8Array): string {
  const hex = Buffer.from(raw).toString('hex').toUpperCase();
  return `SHA256 ${hex.match(/../g)!.join(':')}`;
}
