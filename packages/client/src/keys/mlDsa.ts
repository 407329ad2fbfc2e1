/**
 * Descriptors for ML-DSA-44/65/87 (FIPS 204): JWS `alg` ML-DSA-xx with the AKP JWK
 * (draft-ietf-cose-dilithium), X.509 signatures and keys with the RFC 9881 identifiers. One factory
 * makes the three entries; the work is done by an engine (node:crypto or @noble/post-quantum, see
 * `mlDsaEngines.ts`).
 *
 * Keys are generated from a fresh 32-byte seed and written in the RFC 9881 seed form. A key read
 * from an expandedKey-only PKCS#8 has no seed (and none can be recovered from it), so it is written
 * back in the expandedKey form: the only encoding that keeps that key.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { UnsupportedError } from '../errors.js';
import { b64u } from '../jose/base64url.js';
import type { Jwk, KeyAlgorithm, KeyImpl } from './algorithm.js';
import { mlDsaParamsOfPkcs8, mlDsaSpki, ML_DSA_PARAMS, SEED_BYTES, type MlDsaParams } from './mlDsaEncoding.js';
import { loadNobleMlDsaEngine, mlDsaEngine, mlDsaEngineNow, nodeMaterial, type MlDsaMaterial } from './mlDsaEngines.js';

class MlDsaKey implements KeyImpl {
  constructor(private readonly params: MlDsaParams, private readonly material: MlDsaMaterial) {}
  publicJwk(): Jwk {
    return { alg: this.params.alg, kty: 'AKP', pub: b64u(this.material.publicKey) };
  }
  spkiDer(): Buffer {
    return mlDsaSpki(this.params, this.material.publicKey);
  }
  pkcs8Der(): Buffer {
    return this.material.pkcs8Der();
  }
  signJws(data: Uint8Array): Buffer {
    return this.material.sign(data);
  }
  signX509(tbs: Uint8Array): Buffer {
    return this.material.sign(tbs);
  }
}

/** An ML-DSA key from its 32-byte seed (FIPS 204 ML-DSA.KeyGen_internal), with the runtime's engine. */
export async function mlDsaKeyFromSeed(p: MlDsaParams, seed: Uint8Array): Promise<KeyImpl> {
  return new MlDsaKey(p, (await mlDsaEngine()).fromSeed(p, seed));
}

function mlDsaAlgorithm(p: MlDsaParams): KeyAlgorithm {
  return {
    keyType: p.keyType,
    aliases: [p.alg],
    jwsAlgorithm: p.alg,
    signatureAlgorithm: { oid: p.oid, nullParams: false },
    generate: () => mlDsaKeyFromSeed(p, randomBytes(SEED_BYTES)),
    fromKeyObject(key: KeyObject) {
      return (key.asymmetricKeyType as string | undefined) === p.keyType ? new MlDsaKey(p, nodeMaterial(p, key)) : undefined;
    },
    fromPkcs8(der) {
      if (mlDsaParamsOfPkcs8(der) !== p) return undefined;
      const engine = mlDsaEngineNow();
      if (!engine) {
        throw new UnsupportedError(
          `ML-DSA on Node ${process.versions.node} uses @noble/post-quantum, which is loaded asynchronously: read the key with PrivateKey.fromPemAsync()`,
        );
      }
      return new MlDsaKey(p, engine.fromPkcs8(p, der));
    },
    async preparePkcs8(der) {
      if (mlDsaParamsOfPkcs8(der) === p && !mlDsaEngineNow()) await loadNobleMlDsaEngine();
    },
  };
}

/** The ML-DSA entries of the algorithm table, in KEY_TYPES order. */
export const ML_DSA_ALGORITHMS: readonly KeyAlgorithm[] = ML_DSA_PARAMS.map(mlDsaAlgorithm);
