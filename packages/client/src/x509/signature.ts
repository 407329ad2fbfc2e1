import { sign } from 'node:crypto';
import { KeyFormatError } from '../errors.js';
import type { PrivateKey } from '../keys/privateKey.js';
import { OID } from './asn1.js';

export interface X509SignatureAlgorithm {
  /** AlgorithmIdentifier OID */
  oid: string;
  /** true → parameters NULL (RSA); false → parameters absent (ECDSA, Ed25519) */
  nullParams: boolean;
  /** digest for node:crypto sign, null for Ed25519 */
  hash: 'sha256' | 'sha384' | 'sha512' | null;
}

/** X.509/PKCS#10 signature algorithm for a key: ECDSA with the curve's hash, RSA SHA-256, pure Ed25519. */
export function x509SignatureAlgorithm(key: PrivateKey): X509SignatureAlgorithm {
  switch (key.keyType) {
    case 'ec:P-256':
      return { oid: OID.ecdsaWithSha256, nullParams: false, hash: 'sha256' };
    case 'ec:P-384':
      return { oid: OID.ecdsaWithSha384, nullParams: false, hash: 'sha384' };
    case 'ec:P-521':
      return { oid: OID.ecdsaWithSha512, nullParams: false, hash: 'sha512' };
    case 'rsa:2048':
    case 'rsa:3072':
    case 'rsa:4096':
      return { oid: OID.sha256WithRSAEncryption, nullParams: true, hash: 'sha256' };
    case 'ed25519':
      return { oid: OID.ed25519, nullParams: false, hash: null };
    default:
      throw new KeyFormatError(`cannot sign X.509 structures with key type '${key.keyType}'`);
  }
}

/** Signature over DER `tbs` in X.509 encoding (ECDSA as a DER Ecdsa-Sig-Value). */
export function x509Sign(key: PrivateKey, tbs: Uint8Array): Buffer {
  return sign(x509SignatureAlgorithm(key).hash, tbs, key.key);
}
