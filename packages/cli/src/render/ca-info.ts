/** `ca info --server URL` as text: one labelled line per fact, "not advertised" where the directory is silent. */
import type { CaInfoResult } from '../results.js';
import { escapeControls as safe } from './safe-text.js';
import type { TextOutput } from './text.js';

const NOT_ADVERTISED = 'not advertised';

export function renderCaInfo(r: CaInfoResult, o: TextOutput): void {
  const field = (label: string, value: string): void => o.out(`${`${label}:`.padEnd(22)}${value}`);
  field('Directory', safe(r.server));
  field('Terms of service', r.termsOfService !== undefined ? safe(r.termsOfService) : NOT_ADVERTISED);
  field('Website', r.website !== undefined ? safe(r.website) : NOT_ADVERTISED);
  field('CAA identities', r.caaIdentities.length > 0 ? safe(r.caaIdentities.join(', ')) : NOT_ADVERTISED);
  field('External account', r.externalAccountRequired === undefined ? 'not stated (assume not required)'
    : r.externalAccountRequired ? 'required (register with --eab-kid and --eab-key-file)' : 'not required');
  field('ARI (RFC 9773)', r.ari.supported ? `yes: ${safe(r.ari.renewalInfoUrl ?? '')}` : 'no (renewals use the expiry rule)');
  field('Key change', safe(r.keyChangeUrl));
  field('Pre-authorization', r.preAuthorizationUrl !== undefined ? safe(r.preAuthorizationUrl) : 'no (no newAuthz)');
  field('Identifier types', NOT_ADVERTISED);
  field('Challenge types', NOT_ADVERTISED);
  if (r.profiles.length === 0) field('Profiles', NOT_ADVERTISED);
  else {
    o.out('Profiles:');
    const width = Math.max(...r.profiles.map((p) => safe(p.name).length));
    for (const p of r.profiles) o.out(`  ${safe(p.name).padEnd(width)}  ${p.description ? safe(p.description) : '(no description)'}`);
  }
  if (r.extensions.length > 0) {
    o.out('Extensions:');
    for (const e of r.extensions) o.out(`  ${e.name}: ${safe(e.detail)}`);
  }
  const other = Object.entries(r.otherMeta);
  if (other.length > 0) {
    o.out('Other metadata:');
    for (const [k, v] of other) o.out(`  ${safe(k)}: ${safe(JSON.stringify(v) ?? String(v))}`);
  }
}
