/** Flattened JWS (RFC 7515 §7.2.2) as ACME uses it, and the EAB HMAC JWS (RFC 8555 §7.3.4). */
import { createHmac } from 'node:crypto';
import { KeyFormatError } from '../errors.js';
import type { PrivateKey } from '../keys/privateKey.js';
import { b64u } from './base64url.js';
import type { Jwk } from './jwk.js';

export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

export type EabAlgorithm = 'HS256' | 'HS384' | 'HS512';

/**
 * Signs a flattened JWS. The protected header is `alg` (from the key's table entry) followed by
 * the caller's members. `payload === undefined` signs an empty payload (POST-as-GET, RFC 8555
 * §6.3); anything else is JSON-serialised.
 */
export function signJws(key: PrivateKey, header: Record<string, unknown>, payload?: object): FlattenedJws {
  const { alg: _ignored, ...rest } = header;
  const protectedB64 = b64u(JSON.stringify({ alg: key.jwsAlgorithm, ...rest }));
  const payloadB64 = payload === undefined ? '' : b64u(JSON.stringify(payload));
  const signature = key.signJws(Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii'));
  return { protected: protectedB64, payload: payloadB64, signature: b64u(signature) };
}

const EAB_HASH: Readonly<Record<EabAlgorithm, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/** External Account Binding JWS (RFC 8555 §7.3.4): HMAC over the account JWK, no nonce. */
export function eabJws(opts: { kid: string; hmacKey: Buffer; alg: EabAlgorithm; url: string; jwk: Jwk }): FlattenedJws {
  const hash = EAB_HASH[opts.alg];
  if (!hash) throw new KeyFormatError(`unsupported EAB MAC algorithm '${String(opts.alg)}'`);
  const protectedB64 = b64u(JSON.stringify({ alg: opts.alg, kid: opts.kid, url: opts.url }));
  const payloadB64 = b64u(JSON.stringify(opts.jwk));
  const mac = createHmac(hash, opts.hmacKey).update(`${protectedB64}.${payloadB64}`, 'ascii').digest();
  return { protected: protectedB64, payload: payloadB64, signature: b64u(mac) };
}
