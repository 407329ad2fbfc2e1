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
    if (auth !== 'standalone') {
      notes.push(`certbot used the ${auth} plugin; akamu answers http-01 with its own server, which needs the http_port free during renewal`);
    }
    return { challenge: 'http-01', dns: false, notes };
  }
  notes.push(`unknown certbot authenticator '${authenticator}'; mapped to http-01`);
  return { challenge: 'http-01', dns: false, notes };
}
