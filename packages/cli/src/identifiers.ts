/** Turning `-d` values into ACME identifiers. */
import { isIP } from 'node:net';
import { UsageError, type Identifier } from 'akamu-client';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function parseDomains(values: string[]): Identifier[] {
  if (values.length === 0) throw new UsageError('at least one -d DOMAIN is required');
  const seen = new Set<string>();
  const out: Identifier[] = [];
  for (const raw of values) {
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
