/**
 * The two ML-DSA implementations behind one interface: node:crypto where the runtime's OpenSSL has
 * ML-DSA (Node 24 with OpenSSL 3.5), else @noble/post-quantum (pure TypeScript; Node 20 and 22).
 * noble and the asn1js parser it needs are imported lazily, on the first ML-DSA key, so nothing
 * else pays for them. Both take the same 32-byte seed to the same key (FIPS 204 ML-DSA.KeyGen_internal)
 * and sign pure ML-DSA with an empty context, so their keys and signatures are interchangeable.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { KeyFormatError, UnsupportedError } from '../errors.js';
import {
  decodeMlDsaPkcs8, mlDsaExpandedPkcs8, mlDsaPublicKeyOfSpki, mlDsaSeedPkcs8, mlDsaSpki, ML_DSA_PARAMS, type Asn1Module, type MlDsaParams,
} from './mlDsaEncoding.js';

/** One ML-DSA private key as an engine holds it. */
export interface MlDsaMaterial {
  readonly publicKey: Buffer;
  /** Pure ML-DSA signature (FIPS 204 Algorithm 2, empty context). */
  sign(message: Uint8Array): Buffer;
  /** PKCS#8 DER: the seed form when the seed is known, else the expandedKey form. */
  pkcs8Der(): Buffer;
}

export interface MlDsaEngine {
  readonly name: 'node:crypto' | '@noble/post-quantum';
  fromSeed(p: MlDsaParams, seed: Uint8Array): MlDsaMaterial;
  /** Reads any RFC 9881 PKCS#8 form; KeyFormatError when malformed (a "both" whose halves disagree included). */
  fromPkcs8(p: MlDsaParams, der: Buffer): MlDsaMaterial;
  /** Signature check, for the tests' cross-implementation proofs. */
  verify(p: MlDsaParams, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

// ---- node:crypto ------------------------------------------------------------------------------

/** A node:crypto ML-DSA private key (as Node 24 reads it from any of the three forms). */
export function nodeMaterial(p: MlDsaParams, key: KeyObject): MlDsaMaterial {
  const publicKey = mlDsaPublicKeyOfSpki(p, createPublicKey(key).export({ format: 'der', type: 'spki' }));
  // the AKP JWK's `priv` is the seed; a key read from an expanded key alone has none
  let seed: Buffer | undefined;
  try {
    const priv = key.export({ format: 'jwk' }).priv;
    if (typeof priv === 'string') seed = Buffer.from(priv, 'base64url');
  } catch {
    seed = undefined;
  }
  return {
    publicKey,
    sign: (message) => sign(null, message, key),
    pkcs8Der: () => (seed ? mlDsaSeedPkcs8(p, seed) : key.export({ format: 'der', type: 'pkcs8' })),
  };
}

function nodeImport(p: MlDsaParams, der: Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new KeyFormatError(`${p.alg} private key: ${String((e as Error).message ?? e).split('\n')[0]}`);
  }
  if ((key.asymmetricKeyType as string | undefined) !== p.keyType) throw new KeyFormatError(`${p.alg} private key: OpenSSL read it as ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

function nodePublicKey(p: MlDsaParams, publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: mlDsaSpki(p, publicKey), format: 'der', type: 'spki' });
}

const nodeEngine: MlDsaEngine = {
  name: 'node:crypto',
  fromSeed: (p, seed) => nodeMaterial(p, nodeImport(p, mlDsaSeedPkcs8(p, seed))),
  fromPkcs8: (p, der) => nodeMaterial(p, nodeImport(p, der)),
  verify: (p, publicKey, message, signature) => verify(null, message, nodePublicKey(p, publicKey), signature),
};

let nodeAvailable: boolean | undefined;

/** node:crypto's ML-DSA engine when this runtime has one (with AKP JWK export for the seed), else undefined. */
export function nodeMlDsaEngine(): MlDsaEngine | undefined {
  if (nodeAvailable === undefined) {
    try {
      const probe = createPrivateKey({ key: mlDsaSeedPkcs8(ML_DSA_PARAMS[0]!, new Uint8Array(32)), format: 'der', type: 'pkcs8' });
      nodeAvailable = (probe.asymmetricKeyType as string | undefined) === 'ml-dsa-44' && typeof probe.export({ format: 'jwk' }).priv === 'string';
    } catch {
      nodeAvailable = false;
    }
  }
  return nodeAvailable ? nodeEngine : undefined;
}

// ---- @noble/post-quantum ----------------------------------------------------------------------

type Noble = typeof import('@noble/post-quantum/ml-dsa.js');

/** FIPS 204 private key layout: rho (32) || K (32) || tr (64) || s1 || s2 || t0; tr = SHAKE256(pk, 64). */
const TR = { start: 64, end: 128 } as const;

function nobleEngine(noble: Noble, asn1: Asn1Module): MlDsaEngine {
  const dsa = (p: MlDsaParams) => ({ 'ml-dsa-44': noble.ml_dsa44, 'ml-dsa-65': noble.ml_dsa65, 'ml-dsa-87': noble.ml_dsa87 })[p.keyType];
  const material = (p: MlDsaParams, seed: Buffer | undefined, secretKey: Uint8Array, publicKey: Uint8Array): MlDsaMaterial => ({
    publicKey: Buffer.from(publicKey),
    // noble ≥ 0.5: sign(message, secretKey); hedged (fresh randomness), empty context by default
    sign: (message) => Buffer.from(dsa(p).sign(message, secretKey)),
    pkcs8Der: () => (seed ? mlDsaSeedPkcs8(p, seed) : mlDsaExpandedPkcs8(asn1, p, secretKey)),
  });
  const fromSeed = (p: MlDsaParams, seed: Uint8Array): { m: MlDsaMaterial; secretKey: Uint8Array } => {
    const { publicKey, secretKey } = dsa(p).keygen(seed);
    return { m: material(p, Buffer.from(seed), secretKey, publicKey), secretKey };
  };
  return {
    name: '@noble/post-quantum',
    fromSeed: (p, seed) => fromSeed(p, seed).m,
    fromPkcs8(p, der) {
      const parts = decodeMlDsaPkcs8(asn1, p, der);
      let m: MlDsaMaterial;
      if (parts.seed) {
        const k = fromSeed(p, parts.seed);
        // RFC 9881: a "both" key whose expanded half is not KeyGen_internal(seed) is refused
        if (parts.expanded && !Buffer.from(k.secretKey).equals(parts.expanded)) {
          throw new KeyFormatError(`${p.alg} private key: the seed and the expanded key of the "both" form disagree`);
        }
        m = k.m;
      } else {
        const expanded = parts.expanded!;
        let publicKey: Uint8Array;
        try {
          publicKey = dsa(p).getPublicKey(expanded);
        } catch (e) {
          throw new KeyFormatError(`${p.alg} private key: the expanded key is malformed (${(e as Error).message})`);
        }
        const tr = createHash('shake256', { outputLength: 64 }).update(publicKey).digest();
        if (!tr.equals(expanded.subarray(TR.start, TR.end))) throw new KeyFormatError(`${p.alg} private key: the expanded key is inconsistent (tr)`);
        m = material(p, undefined, expanded, publicKey);
      }
      if (parts.publicKey && !parts.publicKey.equals(m.publicKey)) throw new KeyFormatError(`${p.alg} private key: its publicKey field is not its public key`);
      return m;
    },
    verify: (p, publicKey, message, signature) => dsa(p).verify(signature, message, publicKey),
  };
}

let nobleLoading: Promise<MlDsaEngine> | undefined;
let nobleLoaded: MlDsaEngine | undefined;

/** The pure-TypeScript engine, imported on first use (on any runtime: the tests compare both). */
export function loadNobleMlDsaEngine(): Promise<MlDsaEngine> {
  nobleLoading ??= Promise.all([import('@noble/post-quantum/ml-dsa.js'), import('asn1js')]).then(
    ([noble, asn1]) => (nobleLoaded = nobleEngine(noble, asn1)),
    (e: unknown) => {
      nobleLoading = undefined;
      throw new UnsupportedError(`ML-DSA needs @noble/post-quantum on Node ${process.versions.node}, which could not be loaded: ${(e as Error).message}`);
    },
  );
  return nobleLoading;
}

let pinned: MlDsaEngine | undefined;

/** Pins the engine every ML-DSA key uses from now on (tests run one implementation against the other); undefined unpins. */
export function pinMlDsaEngine(engine: MlDsaEngine | undefined): void {
  pinned = engine;
}

/** The engine this runtime uses, if it can be had without waiting: node:crypto, or noble once loaded. */
export function mlDsaEngineNow(): MlDsaEngine | undefined {
  return pinned ?? nodeMlDsaEngine() ?? nobleLoaded;
}

/** The engine this runtime uses: node:crypto where it has ML-DSA, else noble (loaded now if need be). */
export async function mlDsaEngine(): Promise<MlDsaEngine> {
  return mlDsaEngineNow() ?? loadNobleMlDsaEngine();
}
