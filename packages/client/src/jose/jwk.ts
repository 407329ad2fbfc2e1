import { createHash, createPublicKey } from 'node:crypto';
import { KeyFormatError } from '../errors.js';
import type { PrivateKey } from '../keys/privateKey.js';
import { b64u, b64uDecode } from './base64url.js';

export type Jwk = Record<string, string>;

export type JwsAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'EdDSA';

const EC_PARAMS = {
  'ec:P-256': { crv: 'P-256', size: 32, alg: 'ES256', hash: 'sha256' },
  'ec:P-384': { crv: 'P-384', size: 48, alg: 'ES384', hash: 'sha384' },
  'ec:P-521': { crv: 'P-521', size: 66, alg: 'ES512', hash: 'sha512' },
} as const;

/** EC parameters of a key, or undefined for non-EC keys. */
export function ecParams(key: PrivateKey): (typeof EC_PARAMS)[keyof typeof EC_PARAMS] | undefined {
  return (EC_PARAMS as Record<string, (typeof EC_PARAMS)[keyof typeof EC_PARAMS]>)[key.keyType];
}

/** Strips leading zero bytes (RFC 7518 §6.3.1: RSA n/e are minimal big-endian). */
function minimal(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

/**
 * Public JWK with members in lexicographic order. EC coordinates keep their fixed length
 * (32/48/66 bytes, RFC 8555 erratum 7565); RSA n/e are minimal; Ed25519 is OKP.
 */
export function publicJwk(key: PrivateKey): Jwk {
  const ec = ecParams(key);
  if (ec) {
    // The SPKI ends with the uncompressed point 04 || X || Y (fixed-length coordinates).
    const spki = key.publicKeyDer();
    const point = spki.subarray(spki.length - (2 * ec.size + 1));
    if (point[0] !== 0x04) throw new KeyFormatError('EC public key is not an uncompressed point');
    return {
      crv: ec.crv,
      kty: 'EC',
      x: b64u(point.subarray(1, 1 + ec.size)),
      y: b64u(point.subarray(1 + ec.size)),
    };
  }
  const exported = createPublicKey(key.key).export({ format: 'jwk' });
  if (key.keyType.startsWith('rsa:')) {
    return {
      e: b64u(minimal(b64uDecode(String(exported.e)))),
      kty: 'RSA',
      n: b64u(minimal(b64uDecode(String(exported.n)))),
    };
  }
  if (key.keyType === 'ed25519') {
    return { crv: 'Ed25519', kty: 'OKP', x: String(exported.x) };
  }
  throw new KeyFormatError(`no JWK form for key type '${key.keyType}'`);
}

/** JWS `alg` for a key: ES256/384/512, RS256 for every RSA key, EdDSA for Ed25519. */
export function jwsAlgorithm(key: PrivateKey): JwsAlgorithm {
  const ec = ecParams(key);
  if (ec) return ec.alg;
  if (key.keyType.startsWith('rsa:')) return 'RS256';
  if (key.keyType === 'ed25519') return 'EdDSA';
  throw new KeyFormatError(`no JWS algorithm for key type '${key.keyType}'`);
}

/** Required members per kty (RFC 7638 §3.2, RFC 8037, AKP per draft-ietf-cose-dilithium). */
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
  const hex = thumbprintBytes(jwk).toString('hex').toUpperCase();
  return `SHA256 ${hex.match(/../g)!.join(':')}`;
}
