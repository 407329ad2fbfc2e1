import { UsageError } from '../errors.js';
import type { PrivateKey } from '../keys/privateKey.js';
import { loadAsn1, OID } from './asn1.js';
import { parseIp } from './ip.js';
import { commonNameName, generalNames } from './names.js';
import { x509Sign, x509SignatureAlgorithm } from './signature.js';

/** Longest CN X.520 allows (ub-common-name). */
const MAX_CN = 64;

/**
 * The CN for a CSR: the first DNS name that fits in 64 characters, else none
 * (IP addresses go only into iPAddress SANs, RFC 8738).
 */
export function csrCommonName(names: string[]): string | undefined {
  return names.find((n) => parseIp(n) === undefined && n.length <= MAX_CN);
}

/** PKCS#10 CSR (DER) for `names`, signed by `key`; SANs in a non-critical extensionRequest. */
export async function buildCsr(key: PrivateKey, names: string[]): Promise<Buffer> {
  if (names.length === 0) throw new UsageError('a CSR needs at least one name');
  const { schema, x509, csr } = await loadAsn1();
  const san = new x509.SubjectAlternativeName(await generalNames(names));
  const extensions = new x509.Extensions([
    new x509.Extension({
      extnID: OID.subjectAltName,
      critical: false,
      extnValue: new schema.OctetString(schema.AsnConvert.serialize(san)),
    }),
  ]);
  const info = new csr.CertificationRequestInfo({
    version: 0,
    subject: await commonNameName(csrCommonName(names)),
    subjectPKInfo: schema.AsnConvert.parse(key.publicKeyDer(), x509.SubjectPublicKeyInfo),
    attributes: new csr.Attributes([
      new x509.Attribute({ type: OID.extensionRequest, values: [schema.AsnConvert.serialize(extensions)] }),
    ]),
  });
  const infoDer = Buffer.from(schema.AsnConvert.serialize(info));
  const alg = x509SignatureAlgorithm(key);
  const request = new csr.CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: new x509.AlgorithmIdentifier({ algorithm: alg.oid, ...(alg.nullParams ? { parameters: null } : {}) }),
    signature: new Uint8Array(x509Sign(key, infoDer)).buffer,
  });
  return Buffer.from(schema.AsnConvert.serialize(request));
}
