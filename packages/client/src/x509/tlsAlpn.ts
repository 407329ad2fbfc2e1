import { randomBytes } from 'node:crypto';
import type { Identifier } from '../identifiers.js';
import { keyAuthorizationDigest } from '../jose/challenge.js';
import { PrivateKey } from '../keys/privateKey.js';
import { loadAsn1, OID } from './asn1.js';
import { commonNameName, generalNames } from './names.js';
import { toPem } from './pem.js';

const HOUR_MS = 3600_000;

/** DER of the id-pe-acmeIdentifier extension's extnValue: OCTET STRING(SHA-256(keyAuth)). */
function acmeIdentifierValue(keyAuth: string): Buffer {
  return Buffer.concat([Buffer.from([0x04, 0x20]), keyAuthorizationDigest(keyAuth)]);
}

/** The full critical acmeIdentifier Extension DER (RFC 8737 §3, 51 bytes). */
export async function acmeIdentifierExtensionDer(keyAuth: string): Promise<Buffer> {
  const { schema } = await loadAsn1();
  return Buffer.from(schema.AsnConvert.serialize(await acmeIdentifierExtension(keyAuth)));
}

async function acmeIdentifierExtension(keyAuth: string) {
  const { schema, x509 } = await loadAsn1();
  return new x509.Extension({
    extnID: OID.acmeIdentifier,
    critical: true,
    extnValue: new schema.OctetString(acmeIdentifierValue(keyAuth)),
  });
}

/** Random positive serial number: 16 bytes, high bit clear, no leading zero byte. */
function randomSerial(): ArrayBuffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return new Uint8Array(serial).buffer;
}

/**
 * RFC 8737 tls-alpn-01 certificate: fresh P-256 key, self-signed, CN = the identifier's value,
 * exactly one SAN (dNSName, or iPAddress for an ip identifier) and the critical acmeIdentifier
 * extension.
 */
export async function tlsAlpnCertificate(identifier: Identifier, keyAuth: string): Promise<{ certPem: string; keyPem: string }> {
  const name = identifier.value;
  const { schema, x509 } = await loadAsn1();
  const key = await PrivateKey.generate('ec:P-256');
  const algorithm = new x509.AlgorithmIdentifier({ algorithm: key.signatureAlgorithm.oid });
  const subject = await commonNameName(name.length <= 64 ? name : undefined);
  const now = Date.now();
  const tbs = new x509.TBSCertificate({
    version: x509.Version.v3,
    serialNumber: randomSerial(),
    signature: algorithm,
    issuer: subject,
    validity: new x509.Validity({ notBefore: new Date(now - HOUR_MS), notAfter: new Date(now + 7 * 24 * HOUR_MS) }),
    subject,
    subjectPublicKeyInfo: schema.AsnConvert.parse(key.publicKeyDer(), x509.SubjectPublicKeyInfo),
    extensions: new x509.Extensions([
      new x509.Extension({
        extnID: OID.subjectAltName,
        critical: false,
        extnValue: new schema.OctetString(
          schema.AsnConvert.serialize(new x509.SubjectAlternativeName(await generalNames([identifier]))),
        ),
      }),
      await acmeIdentifierExtension(keyAuth),
    ]),
  });
  const tbsDer = Buffer.from(schema.AsnConvert.serialize(tbs));
  const cert = new x509.Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: new Uint8Array(key.signX509(tbsDer)).buffer,
  });
  return { certPem: toPem('CERTIFICATE', Buffer.from(schema.AsnConvert.serialize(cert))), keyPem: key.toPem() };
}
