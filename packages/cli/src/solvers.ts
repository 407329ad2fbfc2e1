/** Picking the challenge solver for `--challenge`. */
import {
  Http01Solver, TlsAlpn01Solver, Dns01Solver, DnsPersist01Solver, HookDnsPublisher, ManualDnsPublisher, UsageError, AkamuError,
  type Solver, type DnsRecord,
} from 'akamu-client';
import type { Runtime } from './runtime.js';

export const CHALLENGE_TYPES = ['http-01', 'dns-01', 'dns-persist-01', 'tls-alpn-01', 'onion-csr-01', 'tkauth-01'] as const;
const SUPPORTED_NOW = new Set(['http-01', 'dns-01', 'dns-persist-01', 'tls-alpn-01']);

export interface SolverOptions {
  challenge: string;
  dnsHook?: string;
  httpPort: number;
  tlsPort: number;
}

export function checkChallengeType(type: string): void {
  if (!(CHALLENGE_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`unsupported challenge type '${type}'; supported: ${CHALLENGE_TYPES.join(', ')}`);
  }
  if (!SUPPORTED_NOW.has(type)) throw new UsageError(`--challenge ${type} is not supported yet; use http-01, dns-01, dns-persist-01 or tls-alpn-01`);
}

export function makeSolver(opts: SolverOptions, rt: Runtime): Solver {
  checkChallengeType(opts.challenge);
  if (opts.dnsHook && !opts.challenge.startsWith('dns-')) rt.log.warn(`--dns-hook is only used with DNS challenges; ignored for ${opts.challenge}`);
  const log = rt.log.child?.('akamu_client') ?? rt.log;
  switch (opts.challenge) {
    case 'http-01':
      return new Http01Solver({ port: opts.httpPort, log });
    case 'tls-alpn-01':
      return new TlsAlpn01Solver({ port: opts.tlsPort, log });
    default: {
      const persist = opts.challenge === 'dns-persist-01';
      const publisher = opts.dnsHook
        ? new HookDnsPublisher(opts.dnsHook, { log, signal: rt.signal })
        : new ManualDnsPublisher((r: DnsRecord) => manualDnsPrompt(r, persist, rt));
      return persist ? new DnsPersist01Solver({ publisher, log }) : new Dns01Solver({ publisher, log });
    }
  }
}

async function manualDnsPrompt(r: DnsRecord, persist: boolean, rt: Runtime): Promise<void> {
  const lines = [
    '',
    `${persist ? 'DNS-persist-01' : 'DNS-01'} challenge for ${r.identifier.value}:`,
    `  Name:  ${r.name}`,
    '  Type:  TXT',
    `  Value: ${r.value}`,
    '',
  ];
  if (persist) lines.push('This is a long-lived TXT record; it only needs to be set once.');
  lines.push('Press Enter after the TXT record has propagated (Ctrl-C to abort)... ');
  try {
    await rt.prompt(lines.join('\n'));
  } catch (err) {
    throw new AkamuError(`${(err as Error).message} — aborting ${persist ? 'dns-persist-01' : 'dns-01'} challenge`, 'aborted');
  }
}
