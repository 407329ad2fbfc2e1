/**
 * The shape of one key-algorithm descriptor. Everything akamu knows about a key type lives in its
 * entry of the table in `algorithms.ts`: how to generate it, how to read and write it, its public
 * JWK, its JWS `alg` and signature, and its X.509 signature AlgorithmIdentifier and signature.
 *
 * A descriptor hands out a {@link KeyImpl} (the signing seam, after instant-acme's `SigningKey`):
 * an object that holds the key material in whatever form the implementation needs. Nothing above
 * this layer assumes a node:crypto KeyObject, so a pure-TypeScript implementation (ML-DSA on Node
 * 20) or a key Node cannot import (Tor's expanded Ed25519 key) is one more entry.
 */
import type { KeyObject } from 'node:crypto';
import type { KeyType } from './keyType.js';

/** Public JWK members, lexicographically ordered (the RFC 7638 required members). */
export type Jwk = Record<string, string>;

export type JwsAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'EdDSA' | 'ML-DSA-44' | 'ML-DSA-65' | 'ML-DSA-87';

/** An X.509 / PKCS#10 signature AlgorithmIdentifier. */
export interface SignatureAlgorithmId {
  oid: string;
  /** RSA PKCS#1 v1.5 carries NULL parameters; ECDSA, EdDSA and ML-DSA have none. */
  nullParams: boolean;
}

/** One private key of one algorithm: the signing seam. */
export interface KeyImpl {
  /** The public JWK with exactly its RFC 7638 thumbprint members. */
  publicJwk(): Jwk;
  /** SubjectPublicKeyInfo DER of the public half. */
  spkiDer(): Buffer;
  /** PKCS#8 PrivateKeyInfo DER (what `toPem()` writes). */
  pkcs8Der(): Buffer;
  /** The JWS signature over `data` in JOSE encoding (ECDSA: raw r||s). */
  signJws(data: Uint8Array): Buffer;
  /** The signature over a DER `tbs` in X.509 encoding (ECDSA: DER Ecdsa-Sig-Value). */
  signX509(tbs: Uint8Array): Buffer;
  /** RSA modulus size, where the key type rounds it (e.g. 2560 → rsa:2048). */
  readonly rsaBits?: number;
}

export interface KeyAlgorithm {
  readonly keyType: KeyType;
  /** Other names accepted for the key type (`P-256`, `rsa2048`, `ML-DSA-65`). */
  readonly aliases: readonly string[];
  readonly jwsAlgorithm: JwsAlgorithm;
  readonly signatureAlgorithm: SignatureAlgorithmId;
  generate(): Promise<KeyImpl>;
  /** Claims a node:crypto private key of this type (classical keys read by Node). */
  fromKeyObject?(key: KeyObject): KeyImpl | undefined;
  /** Claims a key file of a format of its own, not PEM (Tor's `hs_ed25519_secret_key`); KeyFormatError when malformed. */
  fromFileContent?(data: Buffer): Promise<KeyImpl | undefined>;
  /**
   * Claims PKCS#8 DER that Node cannot import (tried before Node, by algorithm OID); throws
   * KeyFormatError for a key of this type that is malformed.
   */
  fromPkcs8?(der: Buffer): KeyImpl | undefined;
  /**
   * Loads, ahead of `fromPkcs8`, an implementation this entry imports lazily (pure-TypeScript
   * ML-DSA where Node has none); resolves at once when `der` is not this entry's or nothing is needed.
   */
  preparePkcs8?(der: Buffer): Promise<void>;
}
