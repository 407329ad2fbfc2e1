// External account binding (RFC 8555 §7.3.4): an HMAC-signed JWS over the account's public JWK,
// keyed by a key id the CA handed out; HS256, HS384 and HS512.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { jsonObject } from './b64.js';
import { parseJws } from './jws.js';
import { fromJwk, type PublicKey } from './keys.js';
import { problem } from './problem.js';

const MAC_HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/** Verify the externalAccountBinding of a newAccount request; returns it for the account object. */
export function verifyEab(value: unknown, keys: Map<string, Buffer>, outerUrl: string, accountKey: PublicKey): unknown {
  const jws = parseJws(value, 'externalAccountBinding');
  const { alg, kid, url } = jws.header;
  const hash = typeof alg === 'string' ? MAC_HASH[alg] : undefined;
  if (!hash) throw problem('malformed', `externalAccountBinding: alg must be HS256, HS384 or HS512, not ${JSON.stringify(alg)}`);
  if ('nonce' in jws.header) throw problem('malformed', 'externalAccountBinding: the protected header must not have a nonce');
  if ('jwk' in jws.header) throw problem('malformed', 'externalAccountBinding: the protected header must not have a jwk');
  if (url !== outerUrl) throw problem('unauthorized', 'externalAccountBinding: url must equal the newAccount request url');
  const macKey = typeof kid === 'string' ? keys.get(kid) : undefined;
  if (!macKey) throw problem('unauthorized', `externalAccountBinding: unknown key id ${JSON.stringify(kid)}`);
  const mac = createHmac(hash, macKey).update(`${jws.protectedB64}.${jws.payloadB64}`, 'ascii').digest();
  if (mac.length !== jws.signature.length || !timingSafeEqual(mac, jws.signature)) {
    throw problem('unauthorized', 'externalAccountBinding: the MAC does not verify with that key id');
  }
  const bound = fromJwk(jsonObject(jws.payload, 'externalAccountBinding payload'));
  if (bound.thumbprint !== accountKey.thumbprint) {
    throw problem('unauthorized', 'externalAccountBinding: the payload is not the account key being registered');
  }
  return value;
}
