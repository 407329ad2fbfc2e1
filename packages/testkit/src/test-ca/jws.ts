// Flattened JWS (RFC 7515 §7.2.2) as RFC 8555 §6.2 restricts it: one signature, everything
// protected, alg from the supported list and fitting the key, exactly one of jwk / kid.

import { b64uDecode, jsonObject } from './b64.js';
import { fromJwk, JWS_ALGORITHMS, type PublicKey } from './keys.js';
import { AcmeProblem, problem } from './problem.js';

export interface ParsedJws {
  header: Record<string, unknown>;
  protectedB64: string;
  payloadB64: string;
  signature: Buffer;
  /** The decoded payload bytes (empty for POST-as-GET). */
  payload: Buffer;
}

/** Parse the flattened JSON serialization and its protected header; nothing is verified yet. */
export function parseJws(body: Buffer | string | unknown, what = 'JWS'): ParsedJws {
  const obj = typeof body === 'object' && body !== null && !Buffer.isBuffer(body)
    ? body as Record<string, unknown> : jsonObject(body as Buffer, what);
  if ('signatures' in obj) throw problem('malformed', `${what}: the general JSON serialization is not allowed; use the flattened one`);
  if ('header' in obj) throw problem('malformed', `${what}: unprotected header parameters are not allowed`);
  for (const k of Object.keys(obj)) {
    if (!['protected', 'payload', 'signature'].includes(k)) throw problem('malformed', `${what}: unexpected member "${k}"`);
  }
  if (typeof obj.payload !== 'string') throw problem('malformed', `${what}: payload must be a string (no detached payload)`);
  const header = jsonObject(b64uDecode(obj.protected, `${what} protected header`), `${what} protected header`);
  const payload = b64uDecode(obj.payload, `${what} payload`);
  const signature = b64uDecode(obj.signature, `${what} signature`);
  if ('crit' in header) throw problem('malformed', `${what}: the "crit" header parameter is not supported`);
  if ('b64' in header) throw problem('malformed', `${what}: the "b64" header parameter is not allowed`);
  return { header, protectedB64: obj.protected as string, payloadB64: obj.payload, signature, payload };
}

/** The header's alg, if it is one the CA supports. */
export function checkAlg(header: Record<string, unknown>): string {
  const alg = header.alg;
  if (typeof alg !== 'string') throw problem('malformed', 'the protected header has no "alg"');
  if (!(JWS_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new AcmeProblem('badSignatureAlgorithm', `JWS algorithm "${alg}" is not supported`,
      { extra: { algorithms: [...JWS_ALGORITHMS] } });
  }
  return alg;
}

/** The key named by the `jwk` header (exactly one of jwk / kid must be present). */
export function keyHeader(header: Record<string, unknown>, want: 'jwk' | 'kid' | 'either'): PublicKey | string {
  const hasJwk = 'jwk' in header;
  const hasKid = 'kid' in header;
  if (hasJwk && hasKid) throw problem('malformed', 'the protected header must not have both "jwk" and "kid"');
  if (!hasJwk && !hasKid) throw problem('malformed', 'the protected header needs "jwk" or "kid"');
  if (want === 'jwk' && !hasJwk) throw problem('malformed', 'this request must be signed with a "jwk" header, not "kid"');
  if (want === 'kid' && !hasKid) throw problem('malformed', 'this request must be signed with a "kid" header (the account URL), not "jwk"');
  if (hasKid) {
    if (typeof header.kid !== 'string') throw problem('malformed', '"kid" must be a string');
    return header.kid;
  }
  return fromJwk(header.jwk);
}

/** Check alg against the key and verify the signature over "protected.payload". */
export function verifySignature(jws: ParsedJws, alg: string, key: PublicKey): void {
  if (alg !== key.jwsAlg) {
    throw new AcmeProblem('badSignatureAlgorithm', `JWS algorithm "${alg}" does not fit a ${key.description} key (use ${key.jwsAlg})`,
      { extra: { algorithms: [...JWS_ALGORITHMS] } });
  }
  const signingInput = Buffer.from(`${jws.protectedB64}.${jws.payloadB64}`, 'ascii');
  if (!key.verifyJws(signingInput, jws.signature)) throw problem('malformed', 'JWS verification error: the signature is not valid');
}
