/**
 * ACME identifiers from `-d` values and renewal configs. Identifiers stay `Identifier` objects from
 * here to the CSR; this module checks and normalises them once, before anything is ordered.
 */
import { isIP } from 'node:net';
import { UsageError, type Identifier } from 'akamu-client';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** `-d` values as identifiers, as given (checked and normalised by normalizeIdentifiers). */
export function identifiersFromFlags(values: string[]): Identifier[] {
  return values.map((value) => ({ type: isIP(value.trim()) ? 'ip' : 'dns', value }));
}

/**
 * Check, normalise and de-duplicate: IP addresses in canonical form, DNS names lower-cased, without
 * a trailing dot, IDNA A-labels. The type is taken from the value (as for `-d`), so a renewal config
 * written by hand cannot mislabel an address.
 */
export function normalizeIdentifiers(ids: Identifier[]): Identifier[] {
  if (ids.length === 0) throw new UsageError('at least one -d DOMAIN is required');
  const seen = new Set<string>();
  const out: Identifier[] = [];
  for (const { value: raw } of ids) {
    const v = raw.trim();
    if (isIP(v)) {
      const value = isIP(v) === 6 ? new URL(`http://[${v}]/`).hostname.slice(1, -1) : v;
      if (!seen.has(`ip:${value}`)) out.push({ type: 'ip', value });
      seen.add(`ip:${value}`);
      continue;
    }
    let name = v.toLowerCase().replace(/\.$/, '');
    if (name.length > 253 || name.length === 0) throw new UsageError(`invalid domain '${raw}'`);
    const wildcard = name.startsWith('*.');
    const base = wildcard ? name.slice(2) : name;
    const ascii = toAscii(base, raw);
    if (!ascii.split('.').every((l) => LABEL.test(l)) || !ascii.includes('.') && ascii !== 'localhost') {
      throw new UsageError(`invalid domain '${raw}'`);
    }
    name = wildcard ? `*.${ascii}` : ascii;
    if (seen.has(`dns:${name}`)) continue;
    seen.add(`dns:${name}`);
    out.push({ type: 'dns', value: name });
  }
  return out;
}

function toAscii(name: string, raw: string): string {
  if (/^[\x00-\x7f]*$/.test(name)) return name;
  try {
    return new URL(`http://${name}/`).hostname; // IDNA to A-labels (RFC 8555 §7.1.4)
  } catch {
    throw new UsageError(`invalid domain '${raw}'`);
  }
}
