// Public keys as the test CA meets them: account JWKs (RFC 7517/7518/8037, AKP for ML-DSA) and
// SubjectPublicKeyInfo from CSRs and certificates. One shape for both, so "is this the same key?"
// is a comparison of canonical SPKI DER. Classical keys go through node:crypto; ML-DSA through
// @noble/post-quantum (a second implementation next to whatever the client used).

import { createHash, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { b64u, b64uDecode } from './b64.js';
import { AcmeProblem, type ProblemType } from './problem.js';

/** Every JWS `alg` the test CA verifies (what akamu signs with). */
export const JWS_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'EdDSA', 'ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'] as const;

const EC_CURVES: Record<string, { alg: string; hash: string; size: number }> = {
  'P-256': { alg: 'ES256', hash: 'sha256', size: 32 },
  'P-384': { alg: 'ES384', hash: 'sha384', size: 48 },
  'P-521': { alg: 'ES512', hash: 'sha512', size: 66 },
};

const ML_DSA = {
  'ML-DSA-44': { oid: '2.16.840.1.101.3.4.3.17', impl: ml_dsa44, pubLen: 1312 },
  'ML-DSA-65': { oid: '2.16.840.1.101.3.4.3.18', impl: ml_dsa65, pubLen: 1952 },
  'ML-DSA-87': { oid: '2.16.840.1.101.3.4.3.19', impl: ml_dsa87, pubLen: 2592 },
} as const;
type MlDsaName = keyof typeof ML_DSA;

/** X.509 signature algorithms accepted on CSRs: OID → key family and hash. */
const X509_SIG_ALGS: Record<string, { family: string; hash: string | null; params: 'absent' | 'null' }> = {
  '1.2.840.10045.4.3.2': { family: 'ec', hash: 'sha256', params: 'absent' },
  '1.2.840.10045.4.3.3': { family: 'ec', hash: 'sha384', params: 'absent' },
  '1.2.840.10045.4.3.4': { family: 'ec', hash: 'sha512', params: 'absent' },
  '1.2.840.113549.1.1.11': { family: 'rsa', hash: 'sha256', params: 'null' },
  '1.2.840.113549.1.1.12': { family: 'rsa', hash: 'sha384', params: 'null' },
  '1.2.840.113549.1.1.13': { family: 'rsa', hash: 'sha512', params: 'null' },
  '1.3.101.112': { family: 'ed25519', hash: null, params: 'absent' },
  ...Object.fromEntries(Object.entries(ML_DSA).map(([name, m]) => [m.oid, { family: name, hash: null, params: 'absent' as const }])),
};

export interface PublicKey {
  /** 'ec' | 'rsa' | 'ed25519' | 'ML-DSA-44' | 'ML-DSA-65' | 'ML-DSA-87' */
  family: string;
  /** Human description, e.g. "EC P-256", "RSA 2048", "ML-DSA-65". */
  description: string;
  /** The one JWS alg this key signs with. */
  jwsAlg: string;
  /** The RFC 7638 thumbprint members, in order. */
  jwk: Record<string, string>;
  thumbprint: string;
  /** Canonical SubjectPublicKeyInfo DER. */
  spki: Buffer;
  /** Raw public key bytes for Ed25519 / ML-DSA (undefined otherwise). */
  raw?: Buffer;
  /** Verify a JWS signature (raw r||s for ECDSA). */
  verifyJws(data: Buffer, sig: Buffer): boolean;
  /** Verify an X.509 signature (DER ECDSA) made with the algorithm `sigOid`. */
  verifyX509(sigOid: string, data: Buffer, sig: Buffer): boolean;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

function fail(kind: ProblemType, detail: string): never {
  throw new AcmeProblem(kind, detail);
}

function thumbprintOf(members: Record<string, string>): string {
  return b64u(createHash('sha256').update(JSON.stringify(members)).digest());
}

function classical(key: KeyObject, kind: ProblemType): PublicKey {
  const type = key.asymmetricKeyType;
  const jwk = key.export({ format: 'jwk' }) as Record<string, string>;
  const spki = key.export({ type: 'spki', format: 'der' });
  if (type === 'ec') {
    const curve = EC_CURVES[jwk.crv ?? ''];
    if (!curve) fail(kind, `unsupported EC curve ${jwk.crv}`);
    const members = { crv: jwk.crv!, kty: 'EC', x: jwk.x!, y: jwk.y! };
    return {
      family: 'ec', description: `EC ${jwk.crv}`, jwsAlg: curve.alg, jwk: members, thumbprint: thumbprintOf(members), spki,
      verifyJws: (data, sig) => sig.length === 2 * curve.size && nodeVerify(curve.hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig),
      verifyX509: (oid, data, sig) => x509Verify(oid, 'ec', data, (hash) => nodeVerify(hash, data, { key, dsaEncoding: 'der' }, sig)),
    };
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048 || bits > 8192) fail(kind, `RSA key of ${bits} bits refused (2048 to 8192 allowed)`);
    const members = { e: jwk.e!, kty: 'RSA', n: jwk.n! };
    return {
      family: 'rsa', description: `RSA ${bits}`, jwsAlg: 'RS256', jwk: members, thumbprint: thumbprintOf(members), spki,
      verifyJws: (data, sig) => nodeVerify('sha256', data, key, sig),
      verifyX509: (oid, data, sig) => x509Verify(oid, 'rsa', data, (hash) => nodeVerify(hash, data, key, sig)),
    };
  }
  if (type === 'ed25519') {
    const members = { crv: 'Ed25519', kty: 'OKP', x: jwk.x! };
    return {
      family: 'ed25519', description: 'Ed25519', jwsAlg: 'EdDSA', jwk: members, thumbprint: thumbprintOf(members), spki,
      raw: Buffer.from(jwk.x!, 'base64url'),
      verifyJws: (data, sig) => sig.length === 64 && nodeVerify(null, data, key, sig),
      verifyX509: (oid, data, sig) => x509Verify(oid, 'ed25519', data, () => sig.length === 64 && nodeVerify(null, data, key, sig)),
    };
  }
  return fail(kind, `unsupported key type ${type}`);
}

function x509Verify(oid: string, family: string, _data: Buffer, check: (hash: string) => boolean): boolean {
  const alg = X509_SIG_ALGS[oid];
  if (!alg || alg.family !== family) return false;
  try {
    return check(alg.hash ?? '');
  } catch {
    return false;
  }
}

function mlDsa(name: MlDsaName, pub: Buffer): PublicKey {
  const m = ML_DSA[name];
  const spki = Buffer.from(AsnConvert.serialize(new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: m.oid }),
    subjectPublicKey: new Uint8Array(pub).buffer,
  })));
  const members = { alg: name, kty: 'AKP', pub: b64u(pub) };
  const check = (data: Buffer, sig: Buffer) => {
    try {
      return m.impl.verify(sig, data, pub);
    } catch {
      return false;
    }
  };
  return {
    family: name, description: name, jwsAlg: name, jwk: members, thumbprint: thumbprintOf(members), spki, raw: pub,
    verifyJws: check,
    verifyX509: (oid, data, sig) => oid === m.oid && check(data, sig),
  };
}

function str(jwk: Record<string, unknown>, member: string): string {
  const v = jwk[member];
  if (typeof v !== 'string') fail('malformed', `JWK member "${member}" is missing or not a string`);
  return v;
}

/** An account (or certificate) key from a JWS `jwk` header; refuses private members and weak keys. */
export function fromJwk(value: unknown): PublicKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('malformed', 'jwk must be a JSON object');
  const jwk = value as Record<string, unknown>;
  for (const m of PRIVATE_MEMBERS) {
    if (m in jwk) fail('malformed', `jwk holds the private member "${m}"`);
  }
  const kty = str(jwk, 'kty');
  if (kty === 'AKP') {
    const alg = str(jwk, 'alg');
    if (!(alg in ML_DSA)) fail('badPublicKey', `unsupported AKP algorithm ${alg}`);
    const pub = b64uDecode(jwk.pub, 'jwk.pub');
    if (pub.length !== ML_DSA[alg as MlDsaName].pubLen) fail('badPublicKey', `${alg} public key must be ${ML_DSA[alg as MlDsaName].pubLen} bytes`);
    return mlDsa(alg as MlDsaName, pub);
  }
  let input: Record<string, string>;
  if (kty === 'EC') {
    const crv = str(jwk, 'crv');
    const curve = EC_CURVES[crv];
    if (!curve) fail('badPublicKey', `unsupported EC curve ${crv}`);
    for (const c of ['x', 'y']) {
      if (b64uDecode(jwk[c], `jwk.${c}`).length !== curve.size) fail('badPublicKey', `jwk.${c} must be ${curve.size} bytes (RFC 7518 §6.2.1)`);
    }
    input = { kty, crv, x: str(jwk, 'x'), y: str(jwk, 'y') };
  } else if (kty === 'RSA') {
    const n = b64uDecode(jwk.n, 'jwk.n');
    const e = b64uDecode(jwk.e, 'jwk.e');
    if (n[0] === 0 || e[0] === 0) fail('badPublicKey', 'RSA n and e must not have leading zero bytes');
    input = { kty, n: str(jwk, 'n'), e: str(jwk, 'e') };
  } else if (kty === 'OKP') {
    const crv = str(jwk, 'crv');
    if (crv !== 'Ed25519') fail('badPublicKey', `unsupported OKP curve ${crv}`);
    if (b64uDecode(jwk.x, 'jwk.x').length !== 32) fail('badPublicKey', 'Ed25519 jwk.x must be 32 bytes');
    input = { kty, crv, x: str(jwk, 'x') };
  } else {
    return fail('badPublicKey', `unsupported key type "${kty}"`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: input, format: 'jwk' });
  } catch (e) {
    return fail('badPublicKey', `the JWK is not a valid public key: ${(e as Error).message}`);
  }
  return classical(key, 'badPublicKey');
}

/** A key from SubjectPublicKeyInfo DER (CSRs, certificates); problems are reported as `kind`. */
export function fromSpki(der: Uint8Array, kind: ProblemType): PublicKey {
  let info: SubjectPublicKeyInfo;
  try {
    info = AsnConvert.parse(der, SubjectPublicKeyInfo);
  } catch {
    return fail(kind, 'SubjectPublicKeyInfo does not parse');
  }
  const ml = Object.entries(ML_DSA).find(([, m]) => m.oid === info.algorithm.algorithm);
  if (ml) {
    const [name, m] = ml as [MlDsaName, (typeof ML_DSA)[MlDsaName]];
    if (info.algorithm.parameters !== undefined && info.algorithm.parameters !== null) fail(kind, `${name} key parameters must be absent (RFC 9881)`);
    const pub = Buffer.from(info.subjectPublicKey);
    if (pub.length !== m.pubLen) fail(kind, `${name} public key must be ${m.pubLen} bytes`);
    return mlDsa(name, pub);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch {
    return fail(kind, `unsupported or invalid public key (algorithm ${info.algorithm.algorithm})`);
  }
  return classical(key, kind);
}

/** Is `oid` a CSR signature algorithm the test CA accepts, and are its parameters as the RFCs say? */
export function checkX509SigAlg(oid: string, params: ArrayBuffer | null | undefined): string | undefined {
  const alg = X509_SIG_ALGS[oid];
  if (!alg) return `unsupported signature algorithm ${oid}`;
  const absent = params === undefined || params === null;
  const isNull = !absent && Buffer.from(params).equals(Buffer.from([0x05, 0x00]));
  if (alg.params === 'absent' && !absent) return `signature algorithm ${oid} must have absent parameters`;
  if (alg.params === 'null' && !absent && !isNull) return `signature algorithm ${oid} must have NULL parameters`;
  return undefined;
}
