// PKCS#10 CSRs (RFC 2986): parse, verify the self-signature (every key type the CA issues for,
// ML-DSA included), and read the names (CN + SAN, authority-token extensions) and attributes.

import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { Extensions, Name, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { checkX509SigAlg, fromSpki, type PublicKey } from './keys.js';
import { canonicalIp } from './identifiers.js';
import { problem, type Identifier } from './problem.js';
import { AUTHORITY_TOKEN_OIDS, isAuthorityTokenType } from './tkauth.js';

const OID_CN = '2.5.4.3';
const OID_SAN = '2.5.29.17';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

export interface ParsedCsr {
  key: PublicKey;
  spki: Buffer;
  /** Common names in the subject. */
  commonNames: string[];
  /** SAN entries: dns / ip identifiers; anything else is listed in `otherNames`. */
  sans: Identifier[];
  otherNames: string[];
  /** Attribute OID → the DER of each value (extensionRequest included). */
  attributes: Map<string, Buffer[]>;
  /** Requested extension OID → its extnValue contents. */
  extensions: Map<string, Buffer>;
}

/** Parse and verify a DER CSR; every fault is a badCSR problem. */
export function parseCsr(der: Buffer): ParsedCsr {
  let req: CertificationRequest;
  try {
    req = AsnConvert.parse(der, CertificationRequest);
  } catch {
    throw problem('badCSR', 'the CSR is not a DER PKCS#10 CertificationRequest');
  }
  const info = req.certificationRequestInfo;
  if (info.version !== 0) throw problem('badCSR', `CSR version must be 0 (v1), not ${info.version}`);
  const spki = Buffer.from(AsnConvert.serialize(info.subjectPKInfo));
  const key = fromSpki(spki, 'badCSR');
  const sigErr = checkX509SigAlg(req.signatureAlgorithm.algorithm, req.signatureAlgorithm.parameters);
  if (sigErr) throw problem('badCSR', `CSR: ${sigErr}`);
  const tbs = Buffer.from(req.certificationRequestInfoRaw ?? AsnConvert.serialize(info));
  if (!key.verifyX509(req.signatureAlgorithm.algorithm, tbs, Buffer.from(req.signature))) {
    throw problem('badCSR', `the CSR's signature does not verify with its ${key.description} key`);
  }
  const attributes = new Map<string, Buffer[]>();
  for (const a of info.attributes) {
    if (attributes.has(a.type)) throw problem('badCSR', `CSR attribute ${a.type} appears twice`);
    attributes.set(a.type, a.values.map((v) => Buffer.from(v)));
  }
  const sans: Identifier[] = [];
  const otherNames: string[] = [];
  const extensions = new Map<string, Buffer>();
  const extReq = attributes.get(OID_EXTENSION_REQUEST);
  if (extReq) {
    if (extReq.length !== 1) throw problem('badCSR', 'extensionRequest must have exactly one value');
    let exts: Extensions;
    try {
      exts = AsnConvert.parse(extReq[0]!, Extensions);
    } catch {
      throw problem('badCSR', 'the CSR extensionRequest does not parse');
    }
    for (const e of exts) {
      if (extensions.has(e.extnID)) throw problem('badCSR', `the CSR requests extension ${e.extnID} twice`);
      extensions.set(e.extnID, Buffer.from(e.extnValue.buffer));
    }
    for (const e of exts.filter((x) => x.extnID === OID_SAN)) {
      const san = AsnConvert.parse(e.extnValue.buffer, SubjectAlternativeName);
      for (const g of san) {
        if (g.dNSName !== undefined) sans.push({ type: 'dns', value: g.dNSName.toLowerCase() });
        else if (g.iPAddress !== undefined) sans.push({ type: 'ip', value: canonicalIp(g.iPAddress) });
        else otherNames.push(Object.keys(g).find((k) => (g as unknown as Record<string, unknown>)[k] !== undefined) ?? 'unknown');
      }
    }
  }
  return { key, spki: key.spki, commonNames: commonNames(info.subject), sans, otherNames, attributes, extensions };
}

function commonNames(subject: Name): string[] {
  const out: string[] = [];
  for (const rdn of subject) {
    for (const atv of rdn) {
      if (atv.type === OID_CN) out.push(atv.value.toString().toLowerCase());
    }
  }
  return out;
}

/**
 * Authority-token identifiers (RFC 9448, RFC 9118) are requested as their extension, whose value
 * is the identifier's DER: each one of the order must be there with exactly that DER, and none
 * that the order does not have.
 */
function checkAuthorityTokenExtensions(csr: ParsedCsr, identifiers: Identifier[]): void {
  for (const [type, oid] of Object.entries(AUTHORITY_TOKEN_OIDS)) {
    const wanted = identifiers.filter((i) => i.type === type);
    const got = csr.extensions.get(oid);
    if (wanted.length > 1) throw problem('badCSR', `a certificate can carry one ${type} extension; the order has ${wanted.length} ${type} identifiers`);
    if (wanted.length === 0 && got) throw problem('badCSR', `the CSR requests a ${type} extension (${oid}) the order has no identifier for`);
    if (wanted.length === 1 && !got) throw problem('badCSR', `the CSR does not request the ${type} extension (${oid}) of the order's identifier`);
    if (wanted.length === 1 && !got!.equals(Buffer.from(wanted[0]!.value, 'base64url'))) {
      throw problem('badCSR', `the CSR's ${type} extension is not the DER of the order's identifier`);
    }
  }
}

/**
 * Check that the CSR asks for exactly the order's identifiers (CN, if any, must be one of them;
 * authority-token identifiers as their extension).
 */
export function checkCsrNames(csr: ParsedCsr, identifiers: Identifier[]): void {
  if (csr.otherNames.length > 0) throw problem('badCSR', `the CSR asks for names of unsupported kinds: ${csr.otherNames.join(', ')}`);
  checkAuthorityTokenExtensions(csr, identifiers);
  const key = (i: Identifier) => `${i.type}:${i.value}`;
  const want = new Set(identifiers.filter((i) => !isAuthorityTokenType(i.type)).map(key));
  const got = new Set(csr.sans.map(key));
  for (const cn of csr.commonNames) {
    const asIp = canonicalIp(cn);
    got.add(want.has(`ip:${asIp}`) ? `ip:${asIp}` : `dns:${cn}`);
  }
  const extra = [...got].filter((k) => !want.has(k));
  const missing = [...want].filter((k) => !got.has(k));
  if (extra.length > 0 || missing.length > 0) {
    const parts = [extra.length ? `not in the order: ${extra.join(', ')}` : '', missing.length ? `missing: ${missing.join(', ')}` : ''];
    throw problem('badCSR', `the CSR's names do not match the order's identifiers (${parts.filter(Boolean).join('; ')})`);
  }
}
