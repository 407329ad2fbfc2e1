import { createHmac, sign } from 'node:crypto';
import { KeyFormatError } from '../errors.js';
import type { PrivateKey } from '../keys/privateKey.js';
import { b64u } from './base64url.js';
import { ecParams, jwsAlgorithm, type Jwk } from './jwk.js';

export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

export type EabAlgorithm = 'HS256' | 'HS384' | 'HS512';

/** JWS signature bytes over `data` (ES*: raw r||s; RS256: PKCS#1 v1.5 SHA-256; EdDSA: pure Ed25519). */
export function jwsSignature(key: PrivateKey, data: Buffer): Buffer {
  const ec = ecParams(key);
  if (ec) return sign(ec.hash, data, { key: key.key, dsaEncoding: 'ieee-p1363' });
  if (key.keyType.startsWith('rsa:')) return sign('sha256', data, key.key);
  if (key.keyType === 'ed25519') return sign(null, data, key.key);
  throw new KeyFormatError(`cannot sign a JWS with key type '${key.keyType}'`);
}

/**
 * Flattened JWS (RFC 7515 §7.2.2). The protected header is `alg` followed by the caller's members.
 * `payload === ''` produces a POST-as-GET (empty payload); anything else is JSON-serialised.
 */
export function signJws(key: PrivateKey, header: Record<string, unknown>, payload: unknown): FlattenedJws {
  const { alg: _ignored, ...rest } = header;
  const protectedB64 = b64u(JSON.stringify({ alg: jwsAlgorithm(key), ...rest }));
  const payloadB64 = payload === '' ? '' : b64u(JSON.stringify(payload));
  const signature = jwsSignature(key, Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii'));
  return { protected: protectedB64, payload: payloadB64, signature: b64u(signature) };
}

/** External Account Binding JWS (RFC 8555 §7.3.4): HMAC over the account JWK, no nonce. */
export function eabJws(opts: { kid: string; hmacKey: Buffer; alg: EabAlgorithm; url: string; jwk: Jwk }): FlattenedJws {
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[opts.alg];
  if (!hash) throw new KeyFormatError(`unsupported EAB MAC algorithm '${String(opts.alg)}'`);
  const protectedB64 = b64u(JSON.stringify({ alg: opts.alg, kid: opts.kid, url: opts.url }));
  const payloadB64 = b64u(JSON.stringify(opts.jwk));
  const mac = createHmac(hash, opts.hmacKey).update(`${protectedB64}.${payloadB64}`, 'ascii').digest();
  return { protected: protectedB64, payload: payloadB64, signature: b64u(mac) };
}
