/**
 * ACME identifiers (RFC 8555 §7.1.4, RFC 8738, RFC 9447/9448) and their normalisation. Names are
 * normalised here and nowhere else: lower case, no trailing dot, IDNA A-labels, canonical IP text.
 */
import { isIP } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { UsageError } from './errors.js';
import { formatIp, parseIp } from './x509/ip.js';

/** The identifier types akamu orders certificates for. */
export type IdentifierType = 'dns' | 'ip' | 'TNAuthList' | 'JWTClaimConstraints' | 'EnhancedJWTClaimConstraints';

export interface Identifier {
  type: IdentifierType | (string & {});
  value: string;
}

const LDH = /^[a-z0-9-]+$/;
const MAX_NAME = 253;
const MAX_LABEL = 63;

/** A name as echoed in an error: at most 80 characters of it. */
function shown(raw: string): string {
  return raw.length > 80 ? `${raw.slice(0, 80)}…` : raw;
}

/** Why an A-label is not one: it must decode (punycode) to non-ASCII that encodes back to it. */
function aLabelProblem(label: string): string | undefined {
  const unicode = domainToUnicode(label);
  if (unicode === '' || /^[\x00-\x7f]*$/.test(unicode) || domainToASCII(unicode) !== label) {
    return `'${shown(label)}' is not a valid A-label (punycode)`;
  }
  return undefined;
}

/** Why `ascii` (lower case, no trailing dot, no `*.`) is not a DNS name; undefined when it is one. */
function dnsNameProblem(ascii: string): string | undefined {
  const labels = ascii.split('.');
  for (const label of labels) {
    if (label === '') return 'it has an empty label';
    if (label.length > MAX_LABEL) return `label '${shown(label)}' is longer than ${MAX_LABEL} characters (${label.length})`;
    if (!LDH.test(label)) return `label '${shown(label)}' has characters other than a-z, 0-9 and '-'`;
    if (label.startsWith('-') || label.endsWith('-')) return `label '${shown(label)}' starts or ends with '-'`;
    if (label.startsWith('xn--')) {
      const problem = aLabelProblem(label);
      if (problem) return problem;
    }
  }
  if (labels.length < 2 && ascii !== 'localhost') return 'a single label is not a fully qualified name';
  // RFC 3696 §2: a top-level domain is never all-numeric (and 999.1.1.1 is no IP address either)
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'it is not an IP address, and its last label is all digits';
  return undefined;
}

/**
 * A DNS name in ACME form: lower case, no trailing dot, A-labels (IDNA); a leading `*.` is kept.
 * `*` alone is returned as is (the "any domain" form some records use). UsageError, with the
 * reason, when invalid: an empty or over-long name (253) or label (63), characters outside
 * letters, digits and hyphens, an A-label that is not valid punycode, a single label, an
 * all-numeric last label.
 */
export function normalizeDnsName(raw: string): string {
  let name = raw.trim().toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '*') return name;
  const invalid = (why: string): never => {
    throw new UsageError(`invalid domain '${shown(raw)}': ${why}`);
  };
  if (name.length === 0) invalid('empty name');
  const wildcard = name.startsWith('*.');
  const base = wildcard ? name.slice(2) : name;
  // (a bound before IDNA conversion too: a U-label is never longer than its A-label)
  if (name.length > MAX_NAME) invalid(`longer than ${MAX_NAME} characters (${name.length})`);
  const ascii = /^[\x00-\x7f]*$/.test(base) ? base : domainToASCII(base);
  if (!ascii) invalid('not a valid internationalized domain name');
  const problem = dnsNameProblem(ascii);
  if (problem) invalid(problem);
  const full = wildcard ? `*.${ascii}` : ascii;
  if (full.length > MAX_NAME) invalid(`longer than ${MAX_NAME} characters (${full.length}) in A-label form`);
  return full;
}

/** Canonical text of an IP literal (dotted quad, RFC 5952 IPv6), or undefined for other text. */
export function normalizeIp(raw: string): string | undefined {
  const v = raw.trim();
  if (isIP(v) === 0) return undefined;
  const bytes = parseIp(v);
  return bytes ? formatIp(bytes) : undefined;
}

/** One name as an identifier: an IP literal becomes `ip`, anything else a normalised `dns` name. */
export function identifierFromName(raw: string): Identifier {
  const ip = normalizeIp(raw);
  return ip !== undefined ? { type: 'ip', value: ip } : { type: 'dns', value: normalizeDnsName(raw) };
}

/**
 * Normalises identifiers (names given as strings become dns/ip identifiers) and drops duplicates,
 * keeping the first occurrence's position. Other identifier types pass through unchanged.
 */
export function normalizeIdentifiers(input: readonly (string | Identifier)[]): Identifier[] {
  const seen = new Set<string>();
  const out: Identifier[] = [];
  for (const item of input) {
    const id = typeof item === 'string' ? identifierFromName(item) : normalizeIdentifier(item);
    const key = `${id.type}:${id.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(id);
  }
  return out;
}

function normalizeIdentifier(id: Identifier): Identifier {
  if (id.type === 'dns') return { type: 'dns', value: normalizeDnsName(id.value) };
  if (id.type === 'ip') {
    const ip = normalizeIp(id.value);
    if (ip === undefined) throw new UsageError(`invalid IP address '${id.value}'`);
    return { type: 'ip', value: ip };
  }
  return { type: id.type, value: id.value };
}

/** True for a wildcard name (`*.example.com`). */
export function isWildcard(id: Identifier): boolean {
  return id.value.startsWith('*.') || id.value.includes('*');
}

/** True when the identifier is an IP address identifier (RFC 8738) or its value is an IP literal. */
export function isIpIdentifier(id: Identifier): boolean {
  return id.type === 'ip' || isIP(id.value) !== 0;
}
