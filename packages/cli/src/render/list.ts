/**
 * `list DIR` as text: one block per certificate, sorted as the result is (by first name), in the
 * spirit of `certbot certificates`. Values from files and servers are escaped (safe-text.ts).
 */
import type { ListedCertificate, ListResult } from '../results.js';
import { escapeControls as safe } from './safe-text.js';
import type { TextOutput } from './text.js';

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `in 3 days`, `5 hours ago`: how far `d` is from `now`, roughly. */
export function relative(d: Date, now: Date): string {
  const ms = d.getTime() - now.getTime();
  const abs = Math.abs(ms);
  const [n, unit] = abs >= 2 * 86400_000 ? [Math.floor(abs / 86400_000), 'days']
    : abs >= 2 * 3600_000 ? [Math.floor(abs / 3600_000), 'hours']
      : [Math.max(1, Math.floor(abs / 60_000)), 'minutes'];
  return ms >= 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

function ariLine(c: ListedCertificate): string | undefined {
  const d = c.decision;
  if (d?.window) {
    const from = c.ari?.source !== 'cached' ? 'from the CA' : c.ari.freshUntil ? `cached until ${iso(c.ari.freshUntil)}` : 'cached';
    return `${iso(d.window.start)} – ${iso(d.window.end)} (${from})`;
  }
  switch (c.ari?.source) {
    case 'offline': return 'not asked (--offline; no fresh answer in the ARI cache)';
    case 'unsupported': return 'the CA does not offer ARI';
    case 'no-cert-id': return 'none (the certificate has no Authority Key Identifier)';
    case 'error': return `unavailable (${safe(c.ari.error ?? 'unknown error')})`;
    default: return undefined;
  }
}

function renewLine(c: ListedCertificate, now: Date): string | undefined {
  if (c.renewsNow) return 'at the next renew run (the set is not whole: see above)';
  const d = c.decision;
  if (!d) return undefined;
  const rule = d.reason === 'ari' ? 'ARI window' : 'expiry rule';
  if (d.due) return `now: due since ${iso(d.at)} (${rule})`;
  return `${iso(d.at)} (${relative(d.at, now)}; ${rule})`;
}

function renderEntry(c: ListedCertificate, now: Date, o: TextOutput): void {
  const title = c.identifiers?.[0]?.value ?? c.certificate?.names[0] ?? c.renewalConfigPath;
  o.out(`  ${safe(title)}${c.ok ? '' : '  [BROKEN]'}`);
  const field = (label: string, value: string | undefined): void => {
    if (value !== undefined) o.out(`    ${`${label}:`.padEnd(14)}${value}`);
  };
  for (const p of c.problems) field('Problem', safe(p));
  const cert = c.certificate;
  const names = cert ? cert.names : c.identifiers?.map((i) => i.value);
  field('Names', names && (names.length > 0 ? safe(names.join(', ')) : '(none)'));
  if (cert) {
    field('Serial', cert.serial);
    field('Expires', `${iso(cert.notAfter)} (${cert.expired ? `EXPIRED ${relative(cert.notAfter, now)}` : relative(cert.notAfter, now)})`);
    field('Key type', cert.keyType);
  }
  field('Profile', c.profile !== undefined ? safe(c.profile) : c.server !== undefined ? '(the CA\'s default)' : undefined);
  field('Challenge', c.challenge && safe(c.challenge));
  field('Server', c.server && safe(c.server));
  if (c.certificatePath !== undefined) {
    const chain = c.chain ? ` (${c.chain.length} certificate${c.chain.length === 1 ? '' : 's'}, ${c.chain.inOrder ? 'in order' : 'NOT in order'})` : '';
    field('Chain', `${safe(c.certificatePath)}${chain}`);
  }
  if (c.certificateKeyPath !== undefined) {
    const match = c.keyMatches === undefined ? '' : c.keyMatches ? ' (matches the certificate)' : ' (does NOT match the certificate)';
    field('Key', `${safe(c.certificateKeyPath)}${match}`);
  }
  field('ARI window', ariLine(c));
  field('Renews', renewLine(c, now));
  field('Config', safe(c.renewalConfigPath));
}

export function renderList(r: ListResult, o: TextOutput): void {
  const n = r.certificates.length;
  if (n === 0) return o.out(`No renewal configs (*.renewal.toml) found below ${safe(r.directory)}.`);
  const broken = r.certificates.filter((c) => !c.ok).length;
  o.out(`Found ${n} certificate${n === 1 ? '' : 's'} below ${safe(r.directory)}${broken ? ` (${broken} with problems)` : ''}:`);
  for (const c of r.certificates) {
    o.out('');
    renderEntry(c, r.checkedAt, o);
  }
}
