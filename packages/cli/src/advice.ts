/**
 * The library reports what would fix an error as a structured hint, never as a CLI flag; this is
 * where the CLI turns each hint into advice about its own flags, appended to the `error:` line.
 */
import type { ErrorHint } from 'akamu-client';

const PORT_FLAG: Readonly<Record<string, string>> = { 'http-01': '--http-port', 'tls-alpn-01': '--tls-port' };

/** The text appended to an error's message for its hint ('' when there is none). */
export function adviceFor(hint: ErrorHint | undefined): string {
  if (!hint) return '';
  switch (hint.code) {
    case 'untrusted-server-certificate':
      return ' — pass --server-ca with the CA that issued the server certificate';
    case 'bind-permission': {
      const flag = PORT_FLAG[hint.challenge];
      const redirect = flag ? `redirect port ${hint.standardPort} to a high port and pass ${flag} <high-port>` : `redirect port ${hint.standardPort} to a high port`;
      return ` — ${hint.challenge} needs port ${hint.port}: run with sudo, grant CAP_NET_BIND_SERVICE to node, or ${redirect}`;
    }
    case 'port-in-use':
      return ` — another process is listening on port ${hint.port}: stop it or use ${PORT_FLAG[hint.challenge] ?? 'another port'}`;
    case 'wildcard-needs-dns':
      return '; use --challenge dns-01';
    case 'ip-needs-http-or-tls':
      return '; use --challenge http-01 or tls-alpn-01';
    case 'unsupported-algorithm':
      // the reference's advice, on its own line
      return hint.postQuantum
        ? '\nThe server does not support the requested key type. Use a classical key type such as ec:P-256, or a CA that supports ML-DSA.'
        : '\nThe server does not support the requested key type. Use another key type such as ec:P-256.';
    case 'dns-record-not-visible':
      return ' — wait longer with --dns-propagation-timeout / --poll-timeout, ask another server with --dns-resolver, or skip the check with --no-propagation-check';
    case 'kerberos-binding':
      return ' — install the MIT Kerberos development files (Debian/Ubuntu: apt-get install libkrb5-dev, plus python3, make and g++ to build the binding), then run `npm install kerberos` where akamu-cli is installed';
  }
}
