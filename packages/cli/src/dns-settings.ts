/**
 * The DNS flags of issue and renew: the RFC 2136 updater (`--dns-rfc2136`, `--tsig-key`,
 * `--dns-zone`) and the propagation check (`--dns-resolver`, `--dns-propagation-timeout`,
 * `--no-propagation-check`). Checked, and the key file read, before anything is ordered.
 */
import { isIP } from 'node:net';
import { UsageError, normalizeDnsName, type DnsServerAddress, type TsigKey } from 'akamu-client';
import { readTsigKeyFile } from './files/tsig-key.js';
import type { Runtime } from './runtime.js';

export interface DnsFlags {
  dnsHook?: string;
  dnsRfc2136?: string;
  tsigKey?: string;
  dnsZone?: string;
  dnsResolver?: string;
  /** Seconds: a string from the flag, a number from a renewal config; 0 = no check. */
  dnsPropagationTimeout?: string | number;
  /** false with `--no-propagation-check`. */
  propagationCheck?: boolean;
}

export interface DnsPlan {
  rfc2136?: { server: DnsServerAddress; key: TsigKey; zone?: string };
  /** Where the propagation check asks; undefined: the zone's authoritative servers. */
  checkServers?: DnsServerAddress[];
  /** undefined: no propagation check. */
  propagation?: { timeoutMs?: number };
  /** What the renewal config records (under the option names). */
  config: { dnsRfc2136?: string; tsigKey?: string; dnsZone?: string; dnsResolver?: string; dnsPropagationTimeout?: number };
}

/** `HOST[:PORT]`, `[IPv6]:PORT` or a bare IPv6 address; port 53 by default. */
export function parseDnsServer(text: string, flag: string): DnsServerAddress {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  const bareV6 = m === null && isIP(text) === 6;
  const host = bareV6 ? text : m?.[1];
  const port = bareV6 || m?.[2] === undefined ? 53 : Number(m[2]);
  if (!host || port < 1 || port > 65535 || (text.startsWith('[') && isIP(host) !== 6)) {
    throw new UsageError(`${flag} must be HOST[:PORT] (an IPv6 address with a port as [ADDRESS]:PORT), got '${text}'`);
  }
  return { host, port };
}

function parseTimeout(value: string | number): number {
  const text = String(value);
  if (!/^\d+$/.test(text) || Number(text) > 86_400) {
    throw new UsageError(`--dns-propagation-timeout must be a number of seconds (0–86400; 0 turns the check off), got '${text}'`);
  }
  return Number(text);
}

/** Checks the DNS flags for a challenge type and reads the TSIG key file. */
export async function planDns(flags: DnsFlags, challenge: string, rt: Runtime): Promise<DnsPlan> {
  const dnsChallenge = challenge.startsWith('dns-');
  if (flags.tsigKey !== undefined && flags.dnsRfc2136 === undefined) throw new UsageError('--tsig-key is only used with --dns-rfc2136');
  if (flags.dnsZone !== undefined && flags.dnsRfc2136 === undefined) throw new UsageError('--dns-zone is only used with --dns-rfc2136');
  if (flags.dnsRfc2136 !== undefined) {
    if (flags.dnsHook !== undefined) throw new UsageError('--dns-rfc2136 and --dns-hook are mutually exclusive; pass one of them');
    if (flags.tsigKey === undefined) throw new UsageError('--dns-rfc2136 needs --tsig-key FILE (a BIND key file, as tsig-keygen writes it)');
  }
  const timeout = flags.dnsPropagationTimeout !== undefined ? parseTimeout(flags.dnsPropagationTimeout) : undefined;
  const resolver = flags.dnsResolver !== undefined ? parseDnsServer(flags.dnsResolver, '--dns-resolver') : undefined;
  if (!dnsChallenge) {
    if (flags.dnsRfc2136 !== undefined) rt.log.warn(`--dns-rfc2136 is only used with DNS challenges; ignored for ${challenge}`);
    return { config: {} };
  }
  let rfc2136: DnsPlan['rfc2136'];
  if (flags.dnsRfc2136 !== undefined) {
    const server = parseDnsServer(flags.dnsRfc2136, '--dns-rfc2136');
    let zone: string | undefined;
    if (flags.dnsZone !== undefined) {
      try {
        zone = normalizeDnsName(flags.dnsZone.replace(/\.$/, ''));
      } catch {
        throw new UsageError(`--dns-zone must be a DNS name, got '${flags.dnsZone}'`);
      }
    }
    const key = await readTsigKeyFile(flags.tsigKey!, (line) => rt.log.warn(line));
    rfc2136 = { server, key, ...(zone !== undefined ? { zone } : {}) };
  }
  const off = flags.propagationCheck === false || timeout === 0;
  const checkServers = resolver ? [resolver] : rfc2136 ? [rfc2136.server] : undefined;
  return {
    ...(rfc2136 ? { rfc2136 } : {}),
    ...(checkServers ? { checkServers } : {}),
    ...(off ? {} : { propagation: timeout !== undefined ? { timeoutMs: timeout * 1000 } : {} }),
    config: {
      dnsRfc2136: flags.dnsRfc2136,
      tsigKey: flags.tsigKey,
      dnsZone: rfc2136?.zone,
      dnsResolver: flags.dnsResolver,
      dnsPropagationTimeout: off ? 0 : timeout,
    },
  };
}
