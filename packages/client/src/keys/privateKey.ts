/** PrivateKey: one wrapper for every key type; the work is done by the type's table entry. */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { KeyFormatError } from '../errors.js';
import { parsePemBlocks, toPem, type PemBlock } from '../x509/pem.js';
import type { Jwk, JwsAlgorithm, KeyAlgorithm, KeyImpl, SignatureAlgorithmId } from './algorithm.js';
import { KEY_FILE_READERS, keyAlgorithm, keyAlgorithms } from './algorithms.js';
import type { KeyType } from './keyType.js';

const PRIVATE_LABELS = new Set(['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY']);
const PUBLIC_LABELS = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE', 'CERTIFICATE REQUEST']);
const ENCRYPTED = 'encrypted private keys are not supported; decrypt it first (openssl pkey -in KEY -out PLAIN)';

/** A private key of any supported type. Key material never shows in inspection or JSON. */
export class PrivateKey {
  readonly keyType: KeyType;
  readonly algorithm: KeyAlgorithm;
  readonly #impl: KeyImpl;
  #jwk?: Jwk;

  private constructor(algorithm: KeyAlgorithm, impl: KeyImpl) {
    this.algorithm = algorithm;
    this.keyType = algorithm.keyType;
    this.#impl = impl;
  }

  /** Generates a fresh key (RSA with e = 65537; ML-DSA from a fresh 32-byte seed). */
  static async generate(t: KeyType): Promise<PrivateKey> {
    const algorithm = keyAlgorithm(t);
    return new PrivateKey(algorithm, await algorithm.generate());
  }

  /**
   * Reads a key file's content: a format of its own that an entry claims (Tor's
   * `hs_ed25519_secret_key`, whose expanded key is signed with directly), else PEM as {@link PrivateKey.fromPemAsync}.
   */
  static async fromFileContent(data: Buffer): Promise<PrivateKey> {
    for (const algorithm of [...keyAlgorithms(), ...KEY_FILE_READERS]) {
      const impl = await algorithm.fromFileContent?.(data);
      if (impl) return new PrivateKey(algorithm, impl);
    }
    return PrivateKey.fromPemAsync(data);
  }

  /** Wraps a node:crypto private KeyObject; KeyFormatError for kinds akamu does not use. */
  static fromKeyObject(key: KeyObject): PrivateKey {
    if (key.type !== 'private') throw new KeyFormatError('expected a private key, got a public key');
    for (const algorithm of keyAlgorithms()) {
      const impl = algorithm.fromKeyObject?.(key);
      if (impl) return new PrivateKey(algorithm, impl);
    }
    if (key.asymmetricKeyType === 'ec') {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
      throw new KeyFormatError(`unsupported EC curve '${curve}' (supported: P-256, P-384, P-521)`);
    }
    throw new KeyFormatError(
      `unsupported key algorithm '${key.asymmetricKeyType ?? 'unknown'}' (supported: EC P-256/P-384/P-521, RSA, Ed25519, ML-DSA-44/65/87)`,
    );
  }

  /**
   * Reads a PEM private key: PKCS#8, SEC1 (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`); ML-DSA
   * in any RFC 9881 form. Where Node has no ML-DSA (Node 20, 22) an ML-DSA key needs the
   * pure-TypeScript implementation loaded first: use {@link PrivateKey.fromPemAsync}, which works for every key.
   */
  static fromPem(pem: string | Buffer): PrivateKey {
    const block = privateKeyBlock(typeof pem === 'string' ? pem : pem.toString('utf8'));
    if (block.label === 'PRIVATE KEY') {
      for (const algorithm of keyAlgorithms()) {
        const impl = algorithm.fromPkcs8?.(block.der);
        if (impl) return new PrivateKey(algorithm, impl);
      }
    }
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

  /** Reads a PEM private key like {@link PrivateKey.fromPem}, first loading any implementation it needs. */
  static async fromPemAsync(pem: string | Buffer): Promise<PrivateKey> {
    const text = typeof pem === 'string' ? pem : pem.toString('utf8');
    const block = privateKeyBlock(text);
    if (block.label === 'PRIVATE KEY') await Promise.all(keyAlgorithms().map((a) => a.preparePkcs8?.(block.der)));
    return PrivateKey.fromPem(text);
  }

  /** JWS `alg` of this key (RS256 for every RSA key). */
  get jwsAlgorithm(): JwsAlgorithm {
    return this.algorithm.jwsAlgorithm;
  }

  /** X.509 / PKCS#10 signature AlgorithmIdentifier of this key. */
  get signatureAlgorithm(): SignatureAlgorithmId {
    return this.algorithm.signatureAlgorithm;
  }

  /** Modulus size of an RSA key (may differ from the size in `keyType`, e.g. 2560). */
  get rsaBits(): number | undefined {
    return this.#impl.rsaBits;
  }

  /** The public JWK (RFC 7638 members only, lexicographic order). */
  publicJwk(): Jwk {
    this.#jwk ??= this.#impl.publicJwk();
    return { ...this.#jwk };
  }

  /** JWS signature over `data` (JOSE encoding). */
  signJws(data: Uint8Array): Buffer {
    return this.#impl.signJws(data);
  }

  /** X.509 signature over DER `tbs` (certificate, CSR). */
  signX509(tbs: Uint8Array): Buffer {
    return this.#impl.signX509(tbs);
  }

  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  toPem(): string {
    return toPem('PRIVATE KEY', this.#impl.pkcs8Der());
  }

  /** SubjectPublicKeyInfo DER of the public half. */
  publicKeyDer(): Buffer {
    return this.#impl.spkiDer();
  }

  /** True when `other` has the same public key. */
  samePublicKey(other: PrivateKey): boolean {
    return this.publicKeyDer().equals(other.publicKeyDer());
  }

  /** Only the key type: key material never reaches JSON. */
  toJSON(): { keyType: KeyType } {
    return { keyType: this.keyType };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `PrivateKey(${this.keyType})`;
  }
}

/** The one private-key block of a PEM text, with the reasons a text has none. */
function privateKeyBlock(text: string): PemBlock {
  let blocks: PemBlock[];
  try {
    blocks = parsePemBlocks(text);
  } catch (e) {
    throw new KeyFormatError(`not a readable PEM private key: ${(e as Error).message}`);
  }
  const block = blocks.find((b) => PRIVATE_LABELS.has(b.label));
  if (!block) {
    if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY')) throw new KeyFormatError(ENCRYPTED);
    const other = blocks.find((b) => PUBLIC_LABELS.has(b.label)) ?? blocks[0];
    if (other) throw new KeyFormatError(`expected a private key, found a PEM ${other.label} block`);
    throw new KeyFormatError('not a PEM private key (no -----BEGIN PRIVATE KEY----- block found)');
  }
  if ((block.headers['proc-type'] ?? '').includes('ENCRYPTED')) throw new KeyFormatError(ENCRYPTED);
  return block;
}
