/**
 * ACME identifiers (RFC 8555 §7.1.4, RFC 8738, RFC 9447/9448) and their normalisation. Names are
 * normalised here and nowhere else: lower case, no trailing dot, IDNA A-labels, canonical IP text.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { UsageError } from './errors.js';
import { formatIp, parseIp } from './x509/ip.js';

/** The identifier types akamu orders certificates for. */
export type IdentifierType = 'dns' | 'ip' | 'TNAuthList' | 'JWTClaimConstraints' | 'EnhancedJWTClaimConstraints';

export interface Identifier {
  type: IdentifierType | (string & {});
  value: string;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A DNS name in ACME form: lower case, no trailing dot, A-labels (IDNA); a leading `*.` is kept.
 * `*` alone is returned as is (the "any domain" form some records use). UsageError when invalid.
 */
export function normalizeDnsName(raw: string): string {
  let name = raw.trim().toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '*') return name;
  if (name.length === 0 || name.length > 253) throw new UsageError(`invalid domain '${raw}'`);
  const wildcard = name.startsWith('*.');
  const base = wildcard ? name.slice(2) : name;
  const ascii = /^[\x00-\x7f]*$/.test(base) ? base : domainToASCII(base);
  const labels = ascii.split('.');
  if (!ascii || !labels.every((l) => LABEL.test(l)) || (labels.length < 2 && ascii !== 'localhost')) {
    throw new UsageError(`invalid domain '${raw}'`);
  }
  return wildcard ? `*.${ascii}` : ascii;
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
