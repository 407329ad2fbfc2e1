/**
 * Descriptors for the classical key types, backed by node:crypto KeyObjects: ECDSA on P-256/384/521
 * (ES256/384/512), RSA (RS256 for every size) and Ed25519 (EdDSA).
 */
import { createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { KeyFormatError } from '../errors.js';
import { b64u, b64uDecode } from '../jose/base64url.js';
import type { Jwk, KeyAlgorithm, KeyImpl } from './algorithm.js';
import type { KeyType } from './keyType.js';

const generateKeyPairAsync = promisify(generateKeyPair);

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ed25519: '1.3.101.112',
} as const;

/** What every KeyObject-backed key shares: SPKI, PKCS#8, and the key for signing. */
abstract class NodeKey implements KeyImpl {
  constructor(protected readonly key: KeyObject) {}
  abstract publicJwk(): Jwk;
  abstract signJws(data: Uint8Array): Buffer;
  abstract signX509(tbs: Uint8Array): Buffer;
  spkiDer(): Buffer {
    return createPublicKey(this.key).export({ format: 'der', type: 'spki' });
  }
  pkcs8Der(): Buffer {
    return this.key.export({ format: 'der', type: 'pkcs8' });
  }
}

// ---- ECDSA ------------------------------------------------------------------------------------

interface Curve {
  keyType: KeyType;
  alias: string;
  crv: 'P-256' | 'P-384' | 'P-521';
  nodeCurve: 'prime256v1' | 'secp384r1' | 'secp521r1';
  /** Coordinate length in bytes (RFC 8555 erratum 7565: JWK x/y keep it). */
  size: number;
  hash: 'sha256' | 'sha384' | 'sha512';
  jws: 'ES256' | 'ES384' | 'ES512';
  sigOid: string;
}

class EcKey extends NodeKey {
  constructor(key: KeyObject, private readonly curve: Curve) {
    super(key);
  }
  publicJwk(): Jwk {
    // The SPKI ends with the uncompressed point 04 || X || Y (fixed-length coordinates).
    const { size, crv } = this.curve;
    const spki = this.spkiDer();
    const point = spki.subarray(spki.length - (2 * size + 1));
    if (point[0] !== 0x04) throw new KeyFormatError('EC public key is not an uncompressed point');
    return { crv, kty: 'EC', x: b64u(point.subarray(1, 1 + size)), y: b64u(point.subarray(1 + size)) };
  }
  signJws(data: Uint8Array): Buffer {
    return sign(this.curve.hash, data, { key: this.key, dsaEncoding: 'ieee-p1363' });
  }
  signX509(tbs: Uint8Array): Buffer {
    return sign(this.curve.hash, tbs, this.key);
  }
}

function ecAlgorithm(curve: Curve): KeyAlgorithm {
  return {
    keyType: curve.keyType,
    aliases: [curve.alias],
    jwsAlgorithm: curve.jws,
    signatureAlgorithm: { oid: curve.sigOid, nullParams: false },
    async generate() {
      const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: curve.nodeCurve });
      return new EcKey(privateKey, curve);
    },
    fromKeyObject(key) {
      if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== curve.nodeCurve) return undefined;
      return new EcKey(key, curve);
    },
  };
}

// ---- RSA --------------------------------------------------------------------------------------

/** Strips leading zero bytes (RFC 7518 §6.3.1: RSA n/e are minimal big-endian). */
function minimal(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

class RsaKey extends NodeKey {
  readonly rsaBits: number;
  constructor(key: KeyObject, bits: number) {
    super(key);
    this.rsaBits = bits;
  }
  publicJwk(): Jwk {
    const jwk = createPublicKey(this.key).export({ format: 'jwk' });
    return { e: b64u(minimal(b64uDecode(String(jwk.e)))), kty: 'RSA', n: b64u(minimal(b64uDecode(String(jwk.n)))) };
  }
  signJws(data: Uint8Array): Buffer {
    return sign('sha256', data, this.key);
  }
  signX509(tbs: Uint8Array): Buffer {
    return sign('sha256', tbs, this.key);
  }
}

/** The smallest RSA size akamu accepts. */
export const MIN_RSA_BITS = 2048;

/**
 * RSA key types by size. A key read from a file claims the entry whose size is the largest not
 * above its modulus (2560 bits → rsa:2048; its real size stays in `rsaBits`).
 */
function rsaAlgorithm(bits: 2048 | 3072 | 4096, nextBits: number): KeyAlgorithm {
  return {
    keyType: `rsa:${bits}`,
    aliases: [`rsa${bits}`],
    jwsAlgorithm: 'RS256',
    signatureAlgorithm: { oid: OID.sha256WithRSAEncryption, nullParams: true },
    async generate() {
      const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent: 65537 });
      return new RsaKey(privateKey, bits);
    },
    fromKeyObject(key) {
      if (key.asymmetricKeyType !== 'rsa') return undefined;
      const size = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (size < MIN_RSA_BITS) throw new KeyFormatError(`RSA key of ${size} bits is too small (minimum ${MIN_RSA_BITS})`);
      return size >= bits && size < nextBits ? new RsaKey(key, size) : undefined;
    },
  };
}

// ---- Ed25519 ----------------------------------------------------------------------------------

class Ed25519Key extends NodeKey {
  publicJwk(): Jwk {
    return { crv: 'Ed25519', kty: 'OKP', x: String(createPublicKey(this.key).export({ format: 'jwk' }).x) };
  }
  signJws(data: Uint8Array): Buffer {
    return sign(null, data, this.key);
  }
  signX509(tbs: Uint8Array): Buffer {
    return sign(null, tbs, this.key);
  }
}

const ed25519: KeyAlgorithm = {
  keyType: 'ed25519',
  aliases: [],
  jwsAlgorithm: 'EdDSA',
  signatureAlgorithm: { oid: OID.ed25519, nullParams: false },
  async generate() {
    const { privateKey } = await generateKeyPairAsync('ed25519');
    return new Ed25519Key(privateKey);
  },
  fromKeyObject(key) {
    return key.asymmetricKeyType === 'ed25519' ? new Ed25519Key(key) : undefined;
  },
};

/** The classical entries of the algorithm table, in KEY_TYPES order. */
export const CLASSICAL_ALGORITHMS: readonly KeyAlgorithm[] = [
  ecAlgorithm({ keyType: 'ec:P-256', alias: 'P-256', crv: 'P-256', nodeCurve: 'prime256v1', size: 32, hash: 'sha256', jws: 'ES256', sigOid: OID.ecdsaWithSha256 }),
  ecAlgorithm({ keyType: 'ec:P-384', alias: 'P-384', crv: 'P-384', nodeCurve: 'secp384r1', size: 48, hash: 'sha384', jws: 'ES384', sigOid: OID.ecdsaWithSha384 }),
  ecAlgorithm({ keyType: 'ec:P-521', alias: 'P-521', crv: 'P-521', nodeCurve: 'secp521r1', size: 66, hash: 'sha512', jws: 'ES512', sigOid: OID.ecdsaWithSha512 }),
  rsaAlgorithm(2048, 3072),
  rsaAlgorithm(3072, 4096),
  rsaAlgorithm(4096, Infinity),
  ed25519,
];
