/**
 * Test helpers for ML-DSA: the second implementation (noble, called directly), the RFC 9881
 * private-key forms built with asn1js, CSR parts, and what this runtime's OpenSSL can do.
 */
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as asn1 from 'asn1js';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { ML_DSA_PARAMS, type MlDsaParams } from '../../src/keys/mlDsaEncoding.js';
import { nodeMlDsaEngine, pinMlDsaEngine, type MlDsaEngine } from '../../src/keys/mlDsaEngines.js';

export { ML_DSA_PARAMS, type MlDsaParams };

/** True when node:crypto (this runtime's OpenSSL, 3.5 or later) does ML-DSA. */
export const OPENSSL_ML_DSA = nodeMlDsaEngine() !== undefined;
/** What a test needing OpenSSL 3.5 says about itself in its name, and its skip reason. */
export const NEEDS_OPENSSL = `[needs OpenSSL 3.5 via node:crypto${OPENSSL_ML_DSA ? '' : `: skipped on Node ${process.versions.node} / OpenSSL ${process.versions.openssl}`}]`;
export const SKIP_WITHOUT_OPENSSL: false | string = OPENSSL_ML_DSA ? false : `Node ${process.versions.node} has OpenSSL ${process.versions.openssl}, without ML-DSA`;

export const NOBLE = { 'ml-dsa-44': ml_dsa44, 'ml-dsa-65': ml_dsa65, 'ml-dsa-87': ml_dsa87 } as const;

export const paramsOf = (t: string): MlDsaParams => ML_DSA_PARAMS.find((p) => p.keyType === t)!;

/** The three RFC 9881 PKCS#8 forms of one key, made by noble and encoded with asn1js. */
export function pkcs8Forms(p: MlDsaParams, seed: Uint8Array): { seed: Buffer; expanded: Buffer; both: Buffer; publicKey: Buffer; secretKey: Buffer } {
  const { publicKey, secretKey } = NOBLE[p.keyType].keygen(seed);
  const wrap = (inner: ArrayBuffer): Buffer =>
    Buffer.from(new asn1.Sequence({
      value: [
        new asn1.Integer({ value: 0 }),
        new asn1.Sequence({ value: [new asn1.ObjectIdentifier({ value: p.oid })] }),
        new asn1.OctetString({ valueHex: inner }),
      ],
    }).toBER());
  const octets = (b: Uint8Array) => new asn1.OctetString({ valueHex: new Uint8Array(b) });
  return {
    seed: wrap(new asn1.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: new Uint8Array(seed) }).toBER()),
    expanded: wrap(octets(secretKey).toBER()),
    both: wrap(new asn1.Sequence({ value: [octets(seed), octets(secretKey)] }).toBER()),
    publicKey: Buffer.from(publicKey),
    secretKey: Buffer.from(secretKey),
  };
}

export function pem(der: Uint8Array, label = 'PRIVATE KEY'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export function derOf(pemText: string): Buffer {
  return Buffer.from(pemText.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** The parts of a CSR a signature check needs, parsed with @peculiar/asn1-csr. */
export function csrParts(der: Buffer): { sigOid: string; sigAlgDer: Buffer; spki: Buffer; tbs: Buffer; signature: Buffer } {
  const csr = AsnConvert.parse(der, CertificationRequest);
  return {
    sigOid: csr.signatureAlgorithm.algorithm,
    sigAlgDer: Buffer.from(AsnConvert.serialize(csr.signatureAlgorithm)),
    spki: Buffer.from(AsnConvert.serialize(csr.certificationRequestInfo.subjectPKInfo)),
    tbs: Buffer.from(AsnConvert.serialize(csr.certificationRequestInfo as CertificationRequestInfo)),
    signature: Buffer.from(csr.signature),
  };
}

/** noble's verdict on a pure ML-DSA signature (empty context). */
export function nobleVerifies(p: MlDsaParams, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return NOBLE[p.keyType].verify(signature, message, publicKey);
}

/** OpenSSL's verdict (node:crypto, OpenSSL 3.5), the public key given as SPKI DER. */
export function opensslVerifies(spki: Buffer, message: Uint8Array, signature: Uint8Array): boolean {
  return verify(null, message, createPublicKey({ key: spki, format: 'der', type: 'spki' }), signature);
}

/** Keys OpenSSL 3.5 wrote (see fixtures/make-ml-dsa-openssl.mjs), with its signatures. */
export const OPENSSL_FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/ml-dsa-openssl.json', import.meta.url), 'utf8')) as {
  writtenBy: string;
  message: string;
  keys: Record<string, { pkcs8Pem: string; spki: string; signature: string }>;
};

/** Runs `fn` with every ML-DSA key made or read by `engine`, then unpins it. */
export async function withEngine<T>(engine: MlDsaEngine, fn: () => Promise<T>): Promise<T> {
  pinMlDsaEngine(engine);
  try {
    return await fn();
  } finally {
    pinMlDsaEngine(undefined);
  }
}
