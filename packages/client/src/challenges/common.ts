/** Helpers shared by the built-in solvers. */
import type { Server } from 'node:net';
import { ChallengeError, UsageError } from '../errors.js';
import { isIpIdentifier, isWildcard, type Identifier } from '../identifiers.js';
import { parseIp } from '../x509/ip.js';

/**
 * Throws UsageError listing every wildcard identifier when the challenge type cannot validate
 * wildcards (RFC 8555 §8.3 and §7.1.3, RFC 8737 §3).
 */
export function refuseWildcards(type: string, identifiers: Identifier[]): void {
  const wild = identifiers.filter(isWildcard).map((i) => i.value);
  if (wild.length > 0) {
    throw new UsageError(`${type} cannot validate wildcard identifiers: ${wild.join(', ')}`, { hint: { code: 'wildcard-needs-dns' } });
  }
}

/**
 * Throws UsageError listing every IP address identifier when the (DNS-based) challenge type cannot
 * validate them (RFC 8738 §7).
 */
export function refuseIpIdentifiers(type: string, identifiers: Identifier[]): void {
  const ips = identifiers.filter(isIpIdentifier).map((i) => i.value);
  if (ips.length > 0) {
    throw new UsageError(
      `${type} cannot validate IP address identifiers: ${ips.join(', ')} (an IP address has no DNS name to publish the record under; RFC 8738 §7)`,
      { hint: { code: 'ip-needs-http-or-tls' } },
    );
  }
}

/** Base domain of an identifier: `*.` prefix and a trailing dot removed. */
export function baseDomain(value: string): string {
  let v = value.startsWith('*.') ? value.slice(2) : value;
  if (v.endsWith('.')) v = v.slice(0, -1);
  return v;
}

/**
 * The reverse-mapping name an ACME validator puts in SNI for an IP identifier (RFC 8738 §6),
 * without trailing dot and in lower case: `192.0.2.1` → `1.2.0.192.in-addr.arpa`,
 * `2001:db8::1` → `1.0.0.0.…8.b.d.0.1.0.0.2.ip6.arpa`.
 */
export function reverseDnsName(ip: string): string {
  const bytes = parseIp(ip);
  if (bytes?.length === 4) return `${Array.from(bytes).reverse().join('.')}.in-addr.arpa`;
  if (bytes?.length === 16) return `${bytes.toString('hex').split('').reverse().join('.')}.ip6.arpa`;
  throw new UsageError(`not an IP address: '${ip}'`);
}

/** Normalises an SNI / DNS name for lookups: lower case, no trailing dot. */
export function normaliseName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** `listen EACCES: permission denied 0.0.0.0:80` → `Permission denied` (the system's text). */
function bindFailure(err: NodeJS.ErrnoException): string {
  const m = /^listen E[A-Z0-9]+: (.+?)(?: \S*:\d+)?$/.exec(err.message);
  const text = m?.[1] ?? err.message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * `server.listen(port, host)` as a promise; a bind failure becomes a ChallengeError that names the
 * port (`Failed to bind port 80: Permission denied`), with a hint (privileges, or a port already in
 * use, naming the challenge type) for the caller to turn into advice.
 */
export function listen(server: Server, opts: { type: string; standardPort: number; port: number; host?: string }): Promise<void> {
  const { type, standardPort, port, host } = opts;
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const hint = err.code === 'EACCES' || err.code === 'EPERM'
        ? { code: 'bind-permission' as const, challenge: type, port, standardPort }
        : err.code === 'EADDRINUSE' ? { code: 'port-in-use' as const, challenge: type, port } : undefined;
      reject(new ChallengeError(`Failed to bind port ${port}: ${bindFailure(err)}`, { cause: err, ...(hint ? { hint } : {}) }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    if (host === undefined) server.listen(port);
    else server.listen(port, host);
  });
}
