/** certbot's authenticator (and preferred challenges) → akamu's challenge type. */

export type DnsChallenge = 'dns-01' | 'dns-persist-01';

export interface ChallengeMapping {
  challenge: string;
  /** A DNS challenge: renewals need a hook (or an operator at the prompt). */
  dns: boolean;
  /** Notes for the operator (printed as `Note for <lineage>: …`). */
  notes: string[];
}

const HTTP_PLUGINS = new Set(['standalone', 'webroot', 'nginx', 'apache']);

/** `dns`, `dns-01`, `dns-01,` … any DNS flavour among certbot's preferred challenges. */
function prefersDns(prefChalls: string[]): boolean {
  return prefChalls.some((c) => c.trim().toLowerCase().startsWith('dns'));
}

export function mapChallenge(
  authenticator: string | undefined,
  prefChalls: string[],
  dnsChallenge: DnsChallenge,
): ChallengeMapping {
  const auth = (authenticator ?? 'standalone').trim().toLowerCase();
  const notes: string[] = [];
  if (authenticator === undefined) notes.push("renewal config has no 'authenticator'; assuming 'standalone'");
  if (auth === 'tls-sni-01') {
    return { challenge: 'tls-alpn-01', dns: false, notes: [...notes, 'tls-sni-01 is deprecated; mapped to tls-alpn-01'] };
  }
  if (auth.startsWith('dns-') || auth === 'dns') return { challenge: dnsChallenge, dns: true, notes };
  if (auth === 'manual') {
    if (prefersDns(prefChalls)) return { challenge: dnsChallenge, dns: true, notes };
    return { challenge: 'http-01', dns: false, notes };
  }
  if (HTTP_PLUGINS.has(auth)) {
    // webroot lineages keep their webroots (mapWebroot), unless the conf names none
    if (auth !== 'standalone' && auth !== 'webroot') {
      notes.push(`certbot used the ${auth} plugin; akamu answers http-01 with its own server, which needs the http_port free during renewal`);
    }
    return { challenge: 'http-01', dns: false, notes };
  }
  notes.push(`unknown certbot authenticator '${authenticator}'; mapped to http-01`);
  return { challenge: 'http-01', dns: false, notes };
}

/** The webroot settings an imported lineage renews with (renewal config `webroot`, `webroot_map`). */
export interface WebrootMapping {
  webroot?: string;
  webrootMap?: Record<string, string>;
  notes: string[];
}

/**
 * certbot's webroot settings → akamu's: one directory for every name becomes `webroot`; several
 * become `webroot_map` (certbot's `[[webroot_map]]`, name → directory), with the first
 * `webroot_path` as `webroot` for any name the map does not list. A webroot lineage that names no
 * directory renews with the built-in server, with a note.
 */
export function mapWebroot(
  authenticator: string | undefined,
  conf: { webrootMap: Record<string, string>; webrootPath: string[] },
  names: string[],
): WebrootMapping {
  if ((authenticator ?? '').trim().toLowerCase() !== 'webroot') return { notes: [] };
  const map: Record<string, string> = {};
  for (const [name, dir] of Object.entries(conf.webrootMap)) if (dir.trim() !== '') map[name.toLowerCase()] = dir.trim();
  const first = conf.webrootPath[0]?.trim();
  const dirs = new Set(Object.values(map));
  const unlisted = names.filter((n) => map[n.toLowerCase()] === undefined);
  if (dirs.size === 0) {
    if (first === undefined) {
      return { notes: ['certbot used the webroot plugin but its renewal config names no webroot; akamu answers http-01 with its own server, which needs the http_port free during renewal'] };
    }
    const notes = conf.webrootPath.length > 1 ? [`certbot's renewal config lists several webroots without a webroot_map; using ${first} for every name`] : [];
    return { webroot: first, notes };
  }
  if (dirs.size === 1 && (unlisted.length === 0 || first === undefined || first === [...dirs][0])) {
    return { webroot: [...dirs][0]!, notes: [] };
  }
  if (unlisted.length > 0 && first === undefined) {
    return { webrootMap: map, notes: [`no webroot for ${unlisted.join(', ')} in certbot's webroot_map; add it to webroot_map before renewing`] };
  }
  return { webrootMap: map, ...(unlisted.length > 0 && first !== undefined ? { webroot: first } : {}), notes: [] };
}
