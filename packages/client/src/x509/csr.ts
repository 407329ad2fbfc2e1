/**
 * PKCS#10 CSRs built from ACME identifiers: dns and ip identifiers become SANs (the first DNS name
 * that fits is the CN); authority-token identifiers (TNAuthList, JWTClaimConstraints,
 * EnhancedJWTClaimConstraints) become their RFC 8226 / RFC 9118 extension with the identifier's
 * DER. Callers may add attributes (e.g. the RFC 9799 nonces) and further extensions.
 */
import type { Extension as ExtensionT } from '@peculiar/asn1-x509';
import { UsageError } from '../errors.js';
import type { Identifier } from '../identifiers.js';
import { b64uDecode } from '../jose/base64url.js';
import type { PrivateKey } from '../keys/privateKey.js';
import { loadAsn1, OID } from './asn1.js';
import { commonNameName, generalNames } from './names.js';

/** Longest CN X.520 allows (ub-common-name). */
const MAX_CN = 64;

/** Identifier types carried as a certificate extension whose value is the identifier's DER. */
const EXTENSION_IDENTIFIERS: Readonly<Record<string, string>> = {
  TNAuthList: OID.tnAuthList,
  JWTClaimConstraints: OID.jwtClaimConstraints,
  EnhancedJWTClaimConstraints: OID.enhancedJwtClaimConstraints,
};

/** A CSR attribute: its type OID and the DER of each value. */
export interface CsrAttribute {
  oid: string;
  values: Uint8Array[];
}

/** A requested extension: OID, criticality and the DER of its extnValue contents. */
export interface CsrExtension {
  oid: string;
  critical?: boolean;
  value: Uint8Array;
}

export interface CsrOptions {
  identifiers: readonly Identifier[];
  /** Signs the CSR; its public key is the certificate's. */
  key: PrivateKey;
  /** Further attributes of CertificationRequestInfo (besides extensionRequest). */
  attributes?: readonly CsrAttribute[];
  /** Further requested extensions (besides the SAN and identifier extensions). */
  extensions?: readonly CsrExtension[];
}

/**
 * The CN for a CSR: the first DNS name that fits in 64 characters, else none (IP addresses go
 * only into iPAddress SANs, RFC 8738).
 */
export function csrCommonName(identifiers: readonly Identifier[]): string | undefined {
  return identifiers.find((i) => i.type === 'dns' && i.value.length <= MAX_CN)?.value;
}

/** PKCS#10 CSR (DER) for the identifiers, signed by `key`. */
export async function buildCsr(opts: CsrOptions): Promise<Buffer> {
  const { identifiers, key } = opts;
  if (identifiers.length === 0) throw new UsageError('a CSR needs at least one identifier');
  const { schema, x509, csr } = await loadAsn1();
  const extensions: ExtensionT[] = [];
  const sans = await generalNames(identifiers);
  if (sans.length > 0) {
    extensions.push(new x509.Extension({
      extnID: OID.subjectAltName,
      critical: false,
      extnValue: new schema.OctetString(schema.AsnConvert.serialize(new x509.SubjectAlternativeName(sans))),
    }));
  }
  for (const id of identifiers) {
    if (id.type === 'dns' || id.type === 'ip') continue;
    const oid = EXTENSION_IDENTIFIERS[id.type];
    if (!oid) throw new UsageError(`cannot put a '${id.type}' identifier into a CSR`);
    let der: Buffer;
    try {
      der = b64uDecode(id.value);
    } catch {
      throw new UsageError(`the ${id.type} identifier is not base64url DER`);
    }
    extensions.push(new x509.Extension({ extnID: oid, critical: false, extnValue: new schema.OctetString(der) }));
  }
  for (const e of opts.extensions ?? []) {
    extensions.push(new x509.Extension({ extnID: e.oid, critical: e.critical ?? false, extnValue: new schema.OctetString(e.value) }));
  }
  const attributes: InstanceType<typeof x509.Attribute>[] = [];
  if (extensions.length > 0) {
    attributes.push(new x509.Attribute({ type: OID.extensionRequest, values: [schema.AsnConvert.serialize(new x509.Extensions(extensions))] }));
  }
  for (const a of opts.attributes ?? []) {
    attributes.push(new x509.Attribute({ type: a.oid, values: a.values.map((v) => new Uint8Array(v).buffer) }));
  }
  const info = new csr.CertificationRequestInfo({
    version: 0,
    subject: await commonNameName(csrCommonName(identifiers)),
    subjectPKInfo: schema.AsnConvert.parse(key.publicKeyDer(), x509.SubjectPublicKeyInfo),
    attributes: new csr.Attributes(attributes),
  });
  const infoDer = Buffer.from(schema.AsnConvert.serialize(info));
  const alg = key.signatureAlgorithm;
  const request = new csr.CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: new x509.AlgorithmIdentifier({ algorithm: alg.oid, ...(alg.nullParams ? { parameters: null } : {}) }),
    signature: new Uint8Array(key.signX509(infoDer)).buffer,
  });
  return Buffer.from(schema.AsnConvert.serialize(request));
}
