import { AkamuError } from '../errors.js';
import { b64u } from '../jose/base64url.js';
import type { PrivateKey } from '../keys/privateKey.js';
import { loadAsn1, OID } from './asn1.js';
import { formatIp, parseIp } from './ip.js';
import { nameToString } from './names.js';
import { parsePemBlocks } from './pem.js';

export interface CertificateFacts {
  dnsNames: string[];
  ipAddresses: string[];
  /** Lower-case hex of the serial number without leading zero bytes. */
  serialHex: string;
  /** Raw INTEGER content octets of the serial, leading 00 kept (ARI certID). */
  serialBytes: Buffer;
  akiKeyId?: Buffer;
  notBefore: Date;
  notAfter: Date;
  spkiDer: Buffer;
  issuer: string;
  subject: string;
  /** The issuer's signature algorithm, by OpenSSL's name (`ecdsa-with-SHA256`), else its OID. */
  signatureAlgorithm: string;
}

/** OpenSSL's names of the usual certificate signature algorithms. */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, string>> = {
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
  '2.16.840.1.101.3.4.3.17': 'ML-DSA-44',
  '2.16.840.1.101.3.4.3.18': 'ML-DSA-65',
  '2.16.840.1.101.3.4.3.19': 'ML-DSA-87',
};

/** DER of the first certificate in a PEM text, or the DER itself. */
export function certificateDer(pemOrDer: string | Buffer): Buffer {
  const looksPem = typeof pemOrDer === 'string' || pemOrDer.subarray(0, 64).toString('latin1').includes('-----BEGIN');
  if (!looksPem) return pemOrDer as Buffer;
  const text = typeof pemOrDer === 'string' ? pemOrDer : pemOrDer.toString('utf8');
  const block = parsePemBlocks(text).find((b) => b.label === 'CERTIFICATE');
  if (!block) throw new AkamuError('no PEM CERTIFICATE block found', 'bad-certificate');
  return block.der;
}

/** Facts about a certificate needed by issuance, renewal (ARI) and revocation. */
export async function certificateFacts(pemOrDer: string | Buffer): Promise<CertificateFacts> {
  const { schema, x509 } = await loadAsn1();
  let cert;
  try {
    cert = schema.AsnConvert.parse(certificateDer(pemOrDer), x509.Certificate);
  } catch (e) {
    throw new AkamuError(`cannot parse certificate: ${(e as Error).message}`, 'bad-certificate', { cause: e });
  }
  const tbs = cert.tbsCertificate;
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  let akiKeyId: Buffer | undefined;
  for (const ext of tbs.extensions ?? []) {
    if (ext.extnID === OID.subjectAltName) {
      const san = schema.AsnConvert.parse(ext.extnValue, x509.SubjectAlternativeName);
      for (const gn of san) {
        if (gn.dNSName !== undefined) dnsNames.push(gn.dNSName);
        if (gn.iPAddress !== undefined) {
          const bytes = parseIp(gn.iPAddress);
          ipAddresses.push(bytes ? formatIp(bytes) : gn.iPAddress);
        }
      }
    } else if (ext.extnID === OID.authorityKeyIdentifier) {
      const aki = schema.AsnConvert.parse(ext.extnValue, x509.AuthorityKeyIdentifier);
      if (aki.keyIdentifier) akiKeyId = Buffer.from(aki.keyIdentifier.buffer);
    }
  }
  const serialBytes = Buffer.from(tbs.serialNumber);
  let firstNonZero = 0;
  while (firstNonZero < serialBytes.length - 1 && serialBytes[firstNonZero] === 0) firstNonZero++;
  const facts: CertificateFacts = {
    dnsNames,
    ipAddresses,
    serialHex: serialBytes.subarray(firstNonZero).toString('hex'),
    serialBytes,
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    spkiDer: Buffer.from(schema.AsnConvert.serialize(tbs.subjectPublicKeyInfo)),
    issuer: nameToString(tbs.issuer),
    subject: nameToString(tbs.subject),
    signatureAlgorithm: SIGNATURE_ALGORITHMS[cert.signatureAlgorithm.algorithm] ?? cert.signatureAlgorithm.algorithm,
  };
  if (akiKeyId) facts.akiKeyId = akiKeyId;
  return facts;
}

/** RFC 9773 certID: b64u(AKI keyIdentifier) "." b64u(serial content octets). */
export async function ariCertId(pemOrDer: string | Buffer): Promise<string> {
  const facts = await certificateFacts(pemOrDer);
  if (!facts.akiKeyId) {
    throw new AkamuError('certificate has no Authority Key Identifier; cannot build an ARI certID', 'no-aki');
  }
  return `${b64u(facts.akiKeyId)}.${b64u(facts.serialBytes)}`;
}

/** True when the certificate's public key is the public half of `key` (SPKI DER comparison). */
export async function publicKeyMatches(certPemOrDer: string | Buffer, key: PrivateKey): Promise<boolean> {
  const facts = await certificateFacts(certPemOrDer);
  return facts.spkiDer.equals(key.publicKeyDer());
}
