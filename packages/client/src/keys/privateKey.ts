import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { KeyFormatError, UnsupportedError } from '../errors.js';
import { parsePemBlocks, type PemBlock } from '../x509/pem.js';
import { isMlDsa, namedCurveOf, rsaBitsOf, type KeyType } from './keyType.js';

const generateKeyPairAsync = promisify(generateKeyPair);

const ML_DSA_UNSUPPORTED = 'ML-DSA keys are not supported yet';
/** DER of the ML-DSA OID prefix 2.16.840.1.101.3.4.3.{17,18,19} (RFC 9881), without the last arc. */
const ML_DSA_OID_PREFIX = Buffer.from('06096086480165030403', 'hex');

const CURVE_TO_TYPE: Readonly<Record<string, KeyType>> = {
  prime256v1: 'ec:P-256',
  secp384r1: 'ec:P-384',
  secp521r1: 'ec:P-521',
};

const PRIVATE_LABELS = new Set(['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY']);
const PUBLIC_LABELS = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE', 'CERTIFICATE REQUEST']);

/** The key type reported for an RSA modulus size (sizes outside the list map to the nearest lower one). */
function rsaKeyType(bits: number): KeyType {
  if (bits < 3072) return 'rsa:2048';
  if (bits < 4096) return 'rsa:3072';
  return 'rsa:4096';
}

/** One wrapper for every private key kind akamu uses (classical keys are node:crypto KeyObjects). */
export class PrivateKey {
  readonly keyType: KeyType;
  readonly key: KeyObject;
  /** Modulus size for RSA keys (may differ from the size in `keyType`, e.g. 2560). */
  readonly rsaBits?: number;

  private constructor(key: KeyObject, keyType: KeyType, rsaBits?: number) {
    this.key = key;
    this.keyType = keyType;
    if (rsaBits !== undefined) this.rsaBits = rsaBits;
  }

  /** Generates a fresh key (RSA with e = 65537). ML-DSA → UnsupportedError. */
  static async generate(t: KeyType): Promise<PrivateKey> {
    if (isMlDsa(t)) throw new UnsupportedError(ML_DSA_UNSUPPORTED);
    const curve = namedCurveOf(t);
    if (curve) {
      const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: curve });
      return new PrivateKey(privateKey, t);
    }
    const bits = rsaBitsOf(t);
    if (bits) {
      const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent: 65537 });
      return new PrivateKey(privateKey, t, bits);
    }
    if (t === 'ed25519') {
      const { privateKey } = await generateKeyPairAsync('ed25519');
      return new PrivateKey(privateKey, t);
    }
    throw new UnsupportedError(`cannot generate key type '${String(t)}'`);
  }

  /** Wraps an existing node:crypto private KeyObject; KeyFormatError for unsupported kinds. */
  static fromKeyObject(key: KeyObject): PrivateKey {
    if (key.type !== 'private') throw new KeyFormatError('expected a private key, got a public key');
    switch (key.asymmetricKeyType) {
      case 'ec': {
        const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
        const t = CURVE_TO_TYPE[curve];
        if (!t) throw new KeyFormatError(`unsupported EC curve '${curve}' (supported: P-256, P-384, P-521)`);
        return new PrivateKey(key, t);
      }
      case 'rsa': {
        const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
        if (bits < 2048) throw new KeyFormatError(`RSA key of ${bits} bits is too small (minimum 2048)`);
        return new PrivateKey(key, rsaKeyType(bits), bits);
      }
      case 'ed25519':
        return new PrivateKey(key, 'ed25519');
      default:
        throw new KeyFormatError(
          `unsupported key algorithm '${key.asymmetricKeyType ?? 'unknown'}' (supported: EC P-256/P-384/P-521, RSA, Ed25519)`,
        );
    }
  }

  /** Reads a PEM private key: PKCS#8, SEC1 (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`). */
  static fromPem(pem: string | Buffer): PrivateKey {
    const text = typeof pem === 'string' ? pem : pem.toString('utf8');
    let blocks: PemBlock[];
    try {
      blocks = parsePemBlocks(text);
    } catch (e) {
      throw new KeyFormatError(`not a readable PEM private key: ${(e as Error).message}`);
    }
    const block = blocks.find((b) => PRIVATE_LABELS.has(b.label));
    if (!block) {
      if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY')) {
        throw new KeyFormatError('encrypted private keys are not supported; decrypt it first (openssl pkey -in KEY -out PLAIN)');
      }
      const pub = blocks.find((b) => PUBLIC_LABELS.has(b.label));
      if (pub) throw new KeyFormatError(`expected a private key, found a PEM ${pub.label} block`);
      if (blocks.length > 0) throw new KeyFormatError(`expected a private key, found a PEM ${blocks[0]!.label} block`);
      throw new KeyFormatError('not a PEM private key (no -----BEGIN PRIVATE KEY----- block found)');
    }
    if ((block.headers['proc-type'] ?? '').includes('ENCRYPTED')) {
      throw new KeyFormatError('encrypted private keys are not supported; decrypt it first (openssl pkey -in KEY -out PLAIN)');
    }
    if (block.label === 'PRIVATE KEY' && isMlDsaPkcs8(block.der)) throw new UnsupportedError(ML_DSA_UNSUPPORTED);
    const type = block.label === 'PRIVATE KEY' ? 'pkcs8' : block.label === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs1';
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: block.der, format: 'der', type });
    } catch (e) {
      const reason = String((e as Error).message ?? e).split('\n')[0];
      throw new KeyFormatError(`cannot read ${block.label} block: ${reason}`);
    }
    return PrivateKey.fromKeyObject(key);
  }

  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  toPem(): string {
    return this.key.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  /** SubjectPublicKeyInfo DER of the public half. */
  publicKeyDer(): Buffer {
    return createPublicKey(this.key).export({ format: 'der', type: 'spki' });
  }

  /** Never expose key material through inspection or JSON. */
  toJSON(): { keyType: KeyType } {
    return { keyType: this.keyType };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `PrivateKey(${this.keyType})`;
  }
}

/** True when a PKCS#8 DER's privateKeyAlgorithm is an ML-DSA OID. */
function isMlDsaPkcs8(der: Buffer): boolean {
  const i = der.indexOf(ML_DSA_OID_PREFIX);
  return i >= 0 && i < 16 && [0x11, 0x12, 0x13].includes(der[i + ML_DSA_OID_PREFIX.length] ?? 0);
}
