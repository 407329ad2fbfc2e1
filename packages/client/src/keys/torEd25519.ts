/**
 * Tor's expanded Ed25519 key: the onion service identity key as C-tor keeps it in
 * `hs_ed25519_secret_key` (standards.md §8.6): the 32-byte header `== ed25519v1-secret: type0 ==`
 * (29 ASCII bytes and three NULs), then the 64-byte expanded key `a || prefix` — `a` the clamped
 * scalar (little-endian), `prefix` the nonce key, both halves of SHA-512(seed). The seed itself is
 * gone (vanity generators never had one), so node:crypto, which signs from a seed, cannot use it:
 * this entry signs from (a, prefix) directly (RFC 8032 §5.1.6 with the hashing of the seed skipped),
 * with @noble/curves for the point and scalar arithmetic. The signatures are standard Ed25519,
 * the same bytes node:crypto makes from the seed. @noble/curves is loaded only when such a key is read.
 */
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { KeyFormatError, UnsupportedError } from '../errors.js';
import { b64u } from '../jose/base64url.js';
import type { Jwk, KeyAlgorithm, KeyImpl } from './algorithm.js';

/** The header of C-tor's `hs_ed25519_secret_key` file. */
const SECRET_HEADER = Buffer.concat([Buffer.from('== ed25519v1-secret: type0 =='), Buffer.alloc(3)]);
/** The header of C-tor's `hs_ed25519_public_key` file (refused with its own reason). */
const PUBLIC_TAG = Buffer.from('== ed25519v1-public: type0 ==');
/** Any other C-tor key file (`== <kind>: type<N> ==`). */
const TOR_TAG = Buffer.from('== ');
const EXPANDED_LENGTH = 64;

type Ed25519Math = Pick<typeof import('@noble/curves/ed25519.js')['ed25519'], 'Point'>;

let noble: Promise<Ed25519Math> | undefined;

function loadNoble(): Promise<Ed25519Math> {
  noble ??= import('@noble/curves/ed25519.js').then((m) => m.ed25519);
  return noble;
}

function sha512(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** A little-endian byte string as a number. */
function littleEndian(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).reverse().toString('hex') || '0'}`);
}

/** The expanded key of an Ed25519 seed (RFC 8032 §5.1.5): clamped SHA-512(seed)[0:32] || SHA-512(seed)[32:64]. */
export function expandEd25519Seed(seed: Uint8Array): Buffer {
  if (seed.length !== 32) throw new KeyFormatError(`an Ed25519 seed is 32 bytes, not ${seed.length}`);
  const h = sha512(seed);
  h[0]! &= 248;
  h[31]! &= 127;
  h[31]! |= 64;
  return h;
}

/** An Ed25519 private key held as its expanded form (a, prefix); signs without the seed. */
class ExpandedEd25519Key implements KeyImpl {
  readonly #prefix: Buffer;
  readonly #scalar: bigint;
  readonly #publicKey: Uint8Array;

  constructor(expanded: Buffer, private readonly ed: Ed25519Math) {
    // [a]B = [a mod L]B: the base point has order L. Tor does not insist on a clamped scalar
    // (vanity generators step it), so neither does this; only a zero one is no key at all.
    this.#scalar = ed.Point.Fn.create(littleEndian(expanded.subarray(0, 32)));
    if (this.#scalar === 0n) throw new KeyFormatError('not an Ed25519 key: its secret scalar is zero');
    this.#prefix = Buffer.from(expanded.subarray(32, 64));
    this.#publicKey = ed.Point.BASE.multiply(this.#scalar).toBytes();
  }

  publicJwk(): Jwk {
    return { crv: 'Ed25519', kty: 'OKP', x: b64u(this.#publicKey) };
  }

  spkiDer(): Buffer {
    return createPublicKey({ key: this.publicJwk(), format: 'jwk' }).export({ format: 'der', type: 'spki' });
  }

  pkcs8Der(): Buffer {
    throw new UnsupportedError("an expanded Ed25519 key (Tor's hs_ed25519_secret_key) has no PKCS#8 form: its seed cannot be recovered");
  }

  /** RFC 8032 §5.1.6 from step 2: r = H(prefix || M), R = [r]B, S = r + H(R || A || M)·a mod L. */
  #sign(message: Uint8Array): Buffer {
    const { Point } = this.ed;
    const r = Point.Fn.create(littleEndian(sha512(this.#prefix, message)));
    const R = Point.BASE.multiply(r).toBytes();
    const k = Point.Fn.create(littleEndian(sha512(R, this.#publicKey, message)));
    const S = Point.Fn.add(r, Point.Fn.mul(k, this.#scalar));
    return Buffer.concat([R, Point.Fn.toBytes(S)]);
  }

  signJws(data: Uint8Array): Buffer {
    return this.#sign(data);
  }

  signX509(tbs: Uint8Array): Buffer {
    return this.#sign(tbs);
  }
}

/**
 * The expanded key in C-tor's `hs_ed25519_secret_key` format; undefined when `data` is no Tor key
 * file (Tor's start with `== `), KeyFormatError when it is one but not a usable secret key.
 */
function torSecretKey(data: Buffer): Buffer | undefined {
  const startsWith = (tag: Buffer): boolean => data.subarray(0, tag.length).equals(tag);
  if (startsWith(SECRET_HEADER)) {
    if (data.length !== SECRET_HEADER.length + EXPANDED_LENGTH) {
      throw new KeyFormatError(`a Tor Ed25519 secret key file is ${SECRET_HEADER.length + EXPANDED_LENGTH} bytes, not ${data.length}`);
    }
    return data.subarray(SECRET_HEADER.length);
  }
  if (startsWith(PUBLIC_TAG)) {
    throw new KeyFormatError("this is Tor's public key file (hs_ed25519_public_key); the secret key is in hs_ed25519_secret_key");
  }
  if (startsWith(TOR_TAG)) {
    throw new KeyFormatError("not a Tor Ed25519 secret key: the header is not '== ed25519v1-secret: type0 ==' and three NUL bytes");
  }
  return undefined;
}

/**
 * The table entry of Ed25519 keys in expanded form. It shares the key type `ed25519` (JWS EdDSA,
 * X.509 Ed25519) with the node:crypto entry, which reads and writes PKCS#8 seeds; this one only
 * reads Tor's file, and `generate()` makes a fresh seed and keeps only its expansion, as Tor does.
 */
export const TOR_ED25519: KeyAlgorithm = {
  keyType: 'ed25519',
  aliases: [],
  jwsAlgorithm: 'EdDSA',
  signatureAlgorithm: { oid: '1.3.101.112', nullParams: false },
  async generate() {
    return new ExpandedEd25519Key(expandEd25519Seed(randomBytes(32)), await loadNoble());
  },
  async fromFileContent(data) {
    const expanded = torSecretKey(data);
    return expanded ? new ExpandedEd25519Key(expanded, await loadNoble()) : undefined;
  },
};
