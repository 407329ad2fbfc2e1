/** A server's refusal of the account key's signature algorithm, as the reference words it. */
import { AcmeProblemError, AkamuError, type PrivateKey } from 'akamu-client';

/**
 * The error to show when the server refused `key`'s signature algorithm: the reference's
 * `Unsupported algorithm: ML-DSA-65`, with a hint for the advice line. A server says so with
 * `badSignatureAlgorithm` (RFC 8555 §6.2); Pebble 2.10's JOSE library cannot even read an AKP JWK
 * and answers `malformed` "… unsupported key type/format …". Any other error is returned as it is.
 */
export function refusedAlgorithm(err: unknown, key: PrivateKey): unknown {
  if (!(err instanceof AcmeProblemError)) return err;
  const postQuantum = key.publicJwk().kty === 'AKP';
  const refused = err.is('badSignatureAlgorithm') || (postQuantum && err.is('malformed') && /unsupported key type/i.test(err.detail));
  if (!refused) return err;
  const algorithm = key.jwsAlgorithm;
  return new AkamuError(`Unsupported algorithm: ${algorithm}`, 'unsupported', { cause: err, hint: { code: 'unsupported-algorithm', algorithm, postQuantum } });
}
