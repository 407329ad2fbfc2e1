// The test CA's own PKI: an ECDSA P-256 root and intermediate made at start, the HTTPS listener's
// certificate (from the root) and the leaf certificates it issues (from the intermediate), built
// with @peculiar/asn1-x509 and signed with node:crypto.

import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier, AttributeTypeAndValue, AttributeValue, AuthorityKeyIdentifier, BasicConstraints, Certificate,
  ExtendedKeyUsage, Extension, Extensions, GeneralName, KeyIdentifier, KeyUsage, KeyUsageFlags, Name,
  RelativeDistinguishedName, SubjectAlternativeName, SubjectKeyIdentifier, SubjectPublicKeyInfo,
  TBSCertificate, Validity, Version, id_kp_serverAuth,
} from '@peculiar/asn1-x509';
import { pem } from './b64.js';
import type { Identifier } from './problem.js';
import { AUTHORITY_TOKEN_OIDS } from './tkauth.js';

const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID = {
  cn: '2.5.4.3', o: '2.5.4.10', basicConstraints: '2.5.29.19', keyUsage: '2.5.29.15', extKeyUsage: '2.5.29.37',
  san: '2.5.29.17', ski: '2.5.29.14', aki: '2.5.29.35',
};

export interface CaCert { der: Buffer; pem: string; key: KeyObject; name: Name; ski: Buffer }

export interface IssuedLeaf {
  der: Buffer;
  /** Serial number content octets exactly as encoded (a leading 00 kept). */
  serial: Buffer;
  notBefore: Date;
  notAfter: Date;
}

function name(cn: string): Name {
  const rdn = (type: string, value: string) =>
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  return new Name([rdn(OID.o, 'akamu test CA'), rdn(OID.cn, cn)]);
}

function ext(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
function keyId(spkiDer: Buffer): Buffer {
  const info = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo);
  return createHash('sha1').update(Buffer.from(info.subjectPublicKey)).digest();
}

/** A positive serial of 16 random bytes; about half get the DER leading 00 (which ARI's certID keeps). */
function randomSerial(): Buffer {
  const b = randomBytes(16);
  if (b[0] === 0) b[0] = 1;
  return b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
}

function signCert(tbs: TBSCertificate, issuerKey: KeyObject): Buffer {
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: ECDSA_SHA256 }),
    signatureValue: new Uint8Array(sign('sha256', tbsDer, issuerKey)).buffer,
  });
  return Buffer.from(AsnConvert.serialize(cert));
}

function tbsFor(opts: {
  serial: Buffer; issuer: Name; subject: Name; spki: Buffer; notBefore: Date; notAfter: Date; extensions: Extension[];
}): TBSCertificate {
  return new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(opts.serial).buffer,
    signature: new AlgorithmIdentifier({ algorithm: ECDSA_SHA256 }),
    issuer: opts.issuer,
    validity: new Validity({ notBefore: opts.notBefore, notAfter: opts.notAfter }),
    subject: opts.subject,
    subjectPublicKeyInfo: AsnConvert.parse(opts.spki, SubjectPublicKeyInfo),
    extensions: new Extensions(opts.extensions),
  });
}

function caCert(cn: string, issuer: CaCert | undefined, now: Date, days: number): CaCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const ski = keyId(spki);
  const subject = name(cn);
  const extensions = [
    ext(OID.basicConstraints, true, new BasicConstraints({ cA: true, ...(issuer ? { pathLenConstraint: 0 } : {}) })),
    ext(OID.keyUsage, true, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature)),
    ext(OID.ski, false, new SubjectKeyIdentifier(new Uint8Array(ski).buffer)),
  ];
  if (issuer) extensions.push(ext(OID.aki, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(issuer.ski).buffer) })));
  const der = signCert(tbsFor({
    serial: randomSerial(), issuer: issuer?.name ?? subject, subject, spki,
    notBefore: new Date(now.getTime() - 3600_000), notAfter: new Date(now.getTime() + days * 86400_000), extensions,
  }), issuer?.key ?? privateKey);
  return { der, pem: pem('CERTIFICATE', der), key: privateKey, name: subject, ski };
}

function sanOf(identifiers: Identifier[]): SubjectAlternativeName {
  return new SubjectAlternativeName(identifiers.filter((i) => i.type === 'dns' || i.type === 'ip').map((i) =>
    new GeneralName(i.type === 'ip' ? { iPAddress: i.value } : { dNSName: i.value })));
}

/** The RFC 8226 / RFC 9118 extension of each authority-token identifier: its DER, non-critical. */
function authorityTokenExtensions(identifiers: Identifier[]): Extension[] {
  return identifiers.filter((i) => Object.hasOwn(AUTHORITY_TOKEN_OIDS, i.type)).map((i) =>
    new Extension({ extnID: AUTHORITY_TOKEN_OIDS[i.type]!, critical: false, extnValue: new OctetString(Buffer.from(i.value, 'base64url')) }));
}

export class Pki {
  readonly root: CaCert;
  readonly intermediate: CaCert;

  constructor(now: Date) {
    const tag = randomBytes(3).toString('hex');
    this.root = caCert(`akamu test CA root ${tag}`, undefined, now, 3650);
    this.intermediate = caCert(`akamu test CA intermediate ${tag}`, this.root, now, 1825);
  }

  /** A leaf from the intermediate for `spki` covering `identifiers` (order matters only for the CN). */
  issue(spki: Buffer, identifiers: Identifier[], family: string, notBefore: Date, notAfter: Date): IssuedLeaf {
    return this.leaf(this.intermediate, spki, identifiers, family, notBefore, notAfter);
  }

  /** The HTTPS listener's certificate (from the root): localhost, 127.0.0.1 and ::1. */
  tlsServer(now: Date): { certPem: string; keyPem: string } {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ids: Identifier[] = [{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }];
    const leaf = this.leaf(this.root, publicKey.export({ type: 'spki', format: 'der' }), ids, 'ec',
      new Date(now.getTime() - 3600_000), new Date(now.getTime() + 365 * 86400_000));
    return { certPem: pem('CERTIFICATE', leaf.der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
  }

  private leaf(issuer: CaCert, spki: Buffer, identifiers: Identifier[], family: string, notBefore: Date, notAfter: Date): IssuedLeaf {
    const serial = randomSerial();
    const first = identifiers.find((i) => i.type === 'dns' && i.value.length <= 64);
    const names = identifiers.filter((i) => i.type === 'dns' || i.type === 'ip');
    const tokens = authorityTokenExtensions(identifiers);
    // without a name the subject must not be empty (RFC 5280 §4.1.2.6): an authority-token
    // certificate is named for its identifier type
    const cn = first?.value ?? (names.length === 0 ? identifiers[0]?.type : undefined);
    const subject = cn ? new Name([new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type: OID.cn, value: new AttributeValue({ utf8String: cn }) })])]) : new Name([]);
    const usage = family === 'rsa' ? KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment : KeyUsageFlags.digitalSignature;
    const der = signCert(tbsFor({
      serial, issuer: issuer.name, subject, spki, notBefore, notAfter,
      extensions: [
        ext(OID.basicConstraints, true, new BasicConstraints({ cA: false })),
        ext(OID.keyUsage, true, new KeyUsage(usage)),
        ext(OID.extKeyUsage, false, new ExtendedKeyUsage([id_kp_serverAuth])),
        ext(OID.ski, false, new SubjectKeyIdentifier(new Uint8Array(keyId(spki)).buffer)),
        ext(OID.aki, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(issuer.ski).buffer) })),
        ...(names.length > 0 ? [ext(OID.san, !first, sanOf(identifiers))] : []),
        ...tokens,
      ],
    }), issuer.key);
    return { der, serial, notBefore, notAfter };
  }
}
