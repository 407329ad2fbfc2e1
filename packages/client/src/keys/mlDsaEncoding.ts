/**
 * RFC 9881 encodings of ML-DSA keys: the parameter sets, the SPKI, and the three PKCS#8 private-key
 * forms (`seed` [0], `expandedKey`, `both`).
 *
 * The SPKI and the seed form have one fixed length per parameter set, so they are written from the
 * RFC's own constant prefixes (checked against OpenSSL 3.5 in the tests). Reading a PKCS#8 someone
 * else wrote goes through asn1js (loaded lazily, with the pure-TypeScript engine that needs it);
 * on a runtime with native ML-DSA, OpenSSL parses it.
 */
import { KeyFormatError } from '../errors.js';
import type { KeyType } from './keyType.js';

/** asn1js, imported lazily by the engine that parses with it. */
export type Asn1Module = typeof import('asn1js');

export interface MlDsaParams {
  keyType: Extract<KeyType, `ml-dsa-${string}`>;
  alg: 'ML-DSA-44' | 'ML-DSA-65' | 'ML-DSA-87';
  /** id-ml-dsa-* (NIST CSOR sigAlgs): the key's and the signature's AlgorithmIdentifier. */
  oid: string;
  /** Sizes in bytes (FIPS 204 Table 2). */
  publicKeyBytes: number;
  expandedKeyBytes: number;
  signatureBytes: number;
  /** DER of SubjectPublicKeyInfo up to the raw public key. */
  spkiPrefix: Buffer;
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** DER of the OID 2.16.840.1.101.3.4.3 without its last arc (17, 18, 19). */
const OID_PREFIX = hex('06 09 60 86 48 01 65 03 04 03');

export const ML_DSA_PARAMS: readonly MlDsaParams[] = [
  {
    keyType: 'ml-dsa-44', alg: 'ML-DSA-44', oid: '2.16.840.1.101.3.4.3.17',
    publicKeyBytes: 1312, expandedKeyBytes: 2560, signatureBytes: 2420,
    spkiPrefix: hex('30820532 300b 0609608648016503040311 0382052100'),
  },
  {
    keyType: 'ml-dsa-65', alg: 'ML-DSA-65', oid: '2.16.840.1.101.3.4.3.18',
    publicKeyBytes: 1952, expandedKeyBytes: 4032, signatureBytes: 3309,
    spkiPrefix: hex('308207b2 300b 0609608648016503040312 038207a100'),
  },
  {
    keyType: 'ml-dsa-87', alg: 'ML-DSA-87', oid: '2.16.840.1.101.3.4.3.19',
    publicKeyBytes: 2592, expandedKeyBytes: 4896, signatureBytes: 4627,
    spkiPrefix: hex('30820a32 300b 0609608648016503040313 03820a2100'),
  },
];

export const SEED_BYTES = 32;

const lastArc = (p: MlDsaParams): number => Number(p.oid.split('.').at(-1));

/** SubjectPublicKeyInfo DER: the BIT STRING is the raw public key. */
export function mlDsaSpki(p: MlDsaParams, publicKey: Uint8Array): Buffer {
  if (publicKey.length !== p.publicKeyBytes) throw new KeyFormatError(`${p.alg} public key must be ${p.publicKeyBytes} bytes`);
  return Buffer.concat([p.spkiPrefix, publicKey]);
}

/** The raw public key of an ML-DSA SPKI DER of this parameter set. */
export function mlDsaPublicKeyOfSpki(p: MlDsaParams, spki: Buffer): Buffer {
  if (spki.length !== p.spkiPrefix.length + p.publicKeyBytes || !spki.subarray(0, p.spkiPrefix.length).equals(p.spkiPrefix)) {
    throw new KeyFormatError(`not an ${p.alg} SubjectPublicKeyInfo`);
  }
  return spki.subarray(p.spkiPrefix.length);
}

/** PKCS#8 of the RFC 9881 `seed` form: `30 34 02 01 00 30 0b 06 09 <oid> 04 22 80 20 <seed>`. */
export function mlDsaSeedPkcs8(p: MlDsaParams, seed: Uint8Array): Buffer {
  if (seed.length !== SEED_BYTES) throw new KeyFormatError(`${p.alg} seed must be ${SEED_BYTES} bytes`);
  return Buffer.concat([hex('3034 020100 300b'), OID_PREFIX, Buffer.from([lastArc(p)]), hex('0422 8020'), seed]);
}

/**
 * The parameter set of a PKCS#8 whose privateKeyAlgorithm is an ML-DSA OID, else undefined. A
 * quick look at where the OID sits (after the version) to pick the table entry; the key itself is
 * then parsed strictly by the engine.
 */
export function mlDsaParamsOfPkcs8(der: Buffer): MlDsaParams | undefined {
  const i = der.indexOf(OID_PREFIX);
  if (i < 0 || i > 16) return undefined;
  const arc = der[i + OID_PREFIX.length];
  return ML_DSA_PARAMS.find((p) => lastArc(p) === arc);
}

/** What an ML-DSA PKCS#8 held: the seed, the expanded key, or both; and the public key, if given. */
export interface MlDsaPrivateParts {
  seed?: Buffer;
  expanded?: Buffer;
  publicKey?: Buffer;
}

/**
 * Parses an ML-DSA OneAsymmetricKey (v1 or v2): one element with nothing after it, parameters absent, the
 * privateKey OCTET STRING holding exactly one RFC 9881 CHOICE (told apart by tag, not length).
 */
export function decodeMlDsaPkcs8(asn1: Asn1Module, p: MlDsaParams, der: Buffer): MlDsaPrivateParts {
  const bad = (why: string): KeyFormatError => new KeyFormatError(`${p.alg} private key: ${why}`);
  const top = parseDer(asn1, der, bad);
  if (!(top instanceof asn1.Sequence)) throw bad('not a PKCS#8 SEQUENCE');
  const [version, algorithm, privateKey, ...rest] = top.valueBlock.value;
  if (!(version instanceof asn1.Integer) || ![0, 1].includes(version.valueBlock.valueDec)) throw bad('unknown PKCS#8 version');
  if (!(algorithm instanceof asn1.Sequence) || algorithm.valueBlock.value.length !== 1) throw bad('AlgorithmIdentifier must be the OID alone (parameters absent)');
  const oid = algorithm.valueBlock.value[0];
  if (!(oid instanceof asn1.ObjectIdentifier) || oid.valueBlock.toString() !== p.oid) throw bad(`algorithm is not ${p.oid}`);
  if (!(privateKey instanceof asn1.OctetString) || privateKey.valueBlock.isConstructed) throw bad('privateKey is not an OCTET STRING');
  const parts = decodeChoice(asn1, p, Buffer.from(privateKey.valueBlock.valueHexView), bad);
  for (const extra of rest) {
    const { tagClass, tagNumber } = extra.idBlock;
    if (tagClass === 3 && tagNumber === 0) continue; // attributes [0]: nothing akamu uses
    if (tagClass === 3 && tagNumber === 1 && version.valueBlock.valueDec === 1 && !extra.idBlock.isConstructed) {
      parts.publicKey = Buffer.from((extra as InstanceType<Asn1Module['Primitive']>).valueBlock.valueHexView).subarray(1);
      continue;
    }
    throw bad('unexpected field after privateKey');
  }
  return parts;
}

function decodeChoice(asn1: Asn1Module, p: MlDsaParams, der: Buffer, bad: (why: string) => KeyFormatError): MlDsaPrivateParts {
  const choice = parseDer(asn1, der, bad);
  const { tagClass, tagNumber } = choice.idBlock;
  const octets = (b: unknown, size: number, what: string): Buffer => {
    if (!(b instanceof asn1.OctetString) || b.valueBlock.isConstructed) throw bad(`${what} is not an OCTET STRING`);
    const v = Buffer.from(b.valueBlock.valueHexView);
    if (v.length !== size) throw bad(`${what} must be ${size} bytes, not ${v.length}`);
    return v;
  };
  if (tagClass === 3 && tagNumber === 0 && choice instanceof asn1.Primitive) {
    const seed = Buffer.from(choice.valueBlock.valueHexView);
    if (seed.length !== SEED_BYTES) throw bad(`seed must be ${SEED_BYTES} bytes, not ${seed.length}`);
    return { seed };
  }
  if (choice instanceof asn1.OctetString) return { expanded: octets(choice, p.expandedKeyBytes, 'expandedKey') };
  if (choice instanceof asn1.Sequence) {
    const [seed, expanded, ...more] = choice.valueBlock.value;
    if (more.length > 0) throw bad('the "both" form has more than seed and expandedKey');
    return { seed: octets(seed, SEED_BYTES, 'seed'), expanded: octets(expanded, p.expandedKeyBytes, 'expandedKey') };
  }
  throw bad('privateKey is none of the RFC 9881 forms (seed, expandedKey, both)');
}

/** One ASN.1 element filling `der` exactly (nothing before or after it). */
function parseDer(asn1: Asn1Module, der: Buffer, bad: (why: string) => KeyFormatError): InstanceType<Asn1Module['BaseBlock']> {
  const { offset, result } = asn1.fromBER(der);
  if (offset !== der.length || result.error) throw bad('not valid DER');
  return result;
}

/** PKCS#8 of the RFC 9881 `expandedKey` form (written only for keys that come without a seed). */
export function mlDsaExpandedPkcs8(asn1: Asn1Module, p: MlDsaParams, expanded: Uint8Array): Buffer {
  const inner = new asn1.OctetString({ valueHex: new Uint8Array(expanded) }).toBER();
  const info = new asn1.Sequence({
    value: [
      new asn1.Integer({ value: 0 }),
      new asn1.Sequence({ value: [new asn1.ObjectIdentifier({ value: p.oid })] }),
      new asn1.OctetString({ valueHex: inner }),
    ],
  });
  return Buffer.from(info.toBER());
}
