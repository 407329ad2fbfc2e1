/**
 * `akamu-cli ca info --server URL`: what a CA offers, read from its directory before anyone orders
 * (one GET): terms of service, website, CAA identities, profiles, ARI, EAB, key change,
 * pre-authorization, and the extensions its `meta` announces. RFC 8555 and its extensions have no
 * directory field that lists the identifier or challenge types a CA accepts (Pebble and the test CA
 * list none either), so those are "not advertised"; what the directory does say about them is in
 * `extensions` (dns-persist-01's issuer names, onion CAA, subdomain authorizations, STAR).
 */
import type { DirectoryMeta } from 'akamu-client';
import type { CaInfoOptions } from '../program.js';
import type { CaInfoResult } from '../results.js';
import type { Runtime } from '../runtime.js';
import { connect } from '../server.js';

/** The `meta` members this command reads itself; the rest are shown as they are. */
const KNOWN_META = new Set([
  'termsOfService', 'website', 'caaIdentities', 'externalAccountRequired', 'profiles',
  'issuerDomainNames', 'accountHashPrefix', 'inBandOnionCAARequired', 'subdomainAuthAllowed', 'auto-renewal',
]);

/** `meta[name]` when it is a list of strings. */
function stringList(meta: DirectoryMeta, name: string): string[] | undefined {
  const v = meta[name];
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** The extensions announced in `meta`, one line of detail each. */
function extensions(meta: DirectoryMeta): CaInfoResult['extensions'] {
  const out: CaInfoResult['extensions'] = [];
  const issuers = stringList(meta, 'issuerDomainNames');
  if (issuers) {
    const hashed = typeof meta.accountHashPrefix === 'string' ? `; hashed account URIs under ${meta.accountHashPrefix}` : '';
    out.push({ name: 'dns-persist-01', detail: `issuer domain names ${issuers.join(', ')}${hashed}` });
  } else if (typeof meta.accountHashPrefix === 'string') {
    out.push({ name: 'dns-persist-01', detail: `hashed account URIs under ${meta.accountHashPrefix}` });
  }
  if (typeof meta.inBandOnionCAARequired === 'boolean') {
    out.push({ name: 'onion (RFC 9799)', detail: meta.inBandOnionCAARequired ? 'in-band CAA required in finalize' : 'in-band CAA not required' });
  }
  if (typeof meta.subdomainAuthAllowed === 'boolean') {
    out.push({ name: 'subdomain authorizations (RFC 9444)', detail: meta.subdomainAuthAllowed ? 'allowed' : 'not allowed' });
  }
  const star = meta['auto-renewal'];
  if (star !== undefined && typeof star === 'object' && star !== null) {
    out.push({ name: 'STAR auto-renewal (RFC 8739)', detail: JSON.stringify(star) });
  }
  return out;
}

export async function caInfo(opts: CaInfoOptions, rt: Runtime): Promise<CaInfoResult> {
  const client = await connect({ server: opts.server, serverCa: opts.serverCa }, rt);
  const dir = client.directory;
  const meta: DirectoryMeta = dir.meta ?? {};
  const otherMeta = Object.fromEntries(Object.entries(meta).filter(([k]) => !KNOWN_META.has(k)));
  return {
    command: 'ca info',
    server: client.directoryUrl,
    ...(meta.termsOfService !== undefined ? { termsOfService: meta.termsOfService } : {}),
    ...(meta.website !== undefined ? { website: meta.website } : {}),
    caaIdentities: meta.caaIdentities ?? [],
    profiles: Object.entries(meta.profiles ?? {}).map(([name, description]) => ({ name, description })),
    ari: client.supportsAri ? { supported: true, renewalInfoUrl: dir.renewalInfo! } : { supported: false },
    ...(meta.externalAccountRequired !== undefined ? { externalAccountRequired: meta.externalAccountRequired } : {}),
    keyChangeUrl: dir.keyChange,
    ...(dir.newAuthz !== undefined ? { preAuthorizationUrl: dir.newAuthz } : {}),
    extensions: extensions(meta),
    otherMeta,
  };
}
