/**
 * `<out>.renewal.toml`: everything needed to repeat an issuance, read by `renew --renewal-config`.
 * Field names and defaults follow the command reference; unknown fields are ignored on read and
 * `eab_key` is never written.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from 'akamu-client';
import { describeFsError } from './keys.js';

export interface RenewalIdentifier {
  type: string;
  value: string;
}

export interface RenewalConfig {
  server: string;
  domains: RenewalIdentifier[];
  account_key: string;
  account_key_type: string;
  cert_path: string;
  cert_key_path: string;
  cert_key_type: string;
  challenge_type: string;
  http_port: number;
  tls_port: number;
  poll_timeout: number;
  eab_alg: string;
  contacts: string[];
  onion_key?: string;
  eab_kid?: string;
  /** Read when an operator added it by hand; never written. */
  eab_key?: string;
  gssapi_keytab?: string;
  dns_hook?: string;
  profile?: string;
  tkauth_url?: string;
  tkauth_keytab?: string;
  jwtcc?: string;
}

export const RENEWAL_DEFAULTS = {
  account_key_type: 'ec:P-256',
  cert_key_type: 'ec:P-256',
  challenge_type: 'http-01',
  http_port: 80,
  tls_port: 443,
  poll_timeout: 120,
  eab_alg: 'HS256',
  contacts: [] as string[],
} as const;

export function renewalConfigPath(certPath: string): string {
  return `${certPath}.renewal.toml`;
}

const OPTIONAL_STRINGS = ['onion_key', 'eab_kid', 'eab_key', 'gssapi_keytab', 'dns_hook', 'profile', 'tkauth_url', 'tkauth_keytab', 'jwtcc'] as const;

/** Parse and validate a renewal config; errors name the file and the field. */
export function parseRenewalConfig(text: string, path: string, toml: { parse(s: string): Record<string, unknown> }): RenewalConfig {
  let raw: Record<string, unknown>;
  try {
    raw = toml.parse(text);
  } catch (err) {
    throw new UsageError(`cannot parse ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const bad = (field: string, what: string): never => {
    throw new UsageError(`${path}: '${field}' ${what}`);
  };
  const str = (field: string, required: boolean): string | undefined => {
    const v = raw[field];
    if (v === undefined) return required ? bad(field, 'is missing') : undefined;
    if (typeof v !== 'string' || (required && v === '')) return bad(field, 'must be a string');
    return v;
  };
  const int = (field: string, def: number, max: number): number => {
    const v = raw[field];
    if (v === undefined) return def;
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) return bad(field, `must be an integer between 0 and ${max}`);
    return n;
  };
  const domainsRaw = raw.domains;
  if (!Array.isArray(domainsRaw) || domainsRaw.length === 0) bad('domains', 'must list at least one [[domains]] entry');
  const domains = (domainsRaw as unknown[]).map((d, i) => {
    const o = d as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || typeof o.value !== 'string' || (o.type !== undefined && typeof o.type !== 'string')) {
      return bad(`domains[${i}]`, 'must have a string value (and type)');
    }
    return { type: (o.type as string | undefined) ?? 'dns', value: o.value };
  });
  const contactsRaw = raw.contacts;
  if (contactsRaw !== undefined && (!Array.isArray(contactsRaw) || contactsRaw.some((c) => typeof c !== 'string'))) bad('contacts', 'must be a list of strings');
  const cfg: RenewalConfig = {
    server: str('server', true)!,
    domains,
    account_key: str('account_key', true)!,
    account_key_type: str('account_key_type', false) ?? RENEWAL_DEFAULTS.account_key_type,
    cert_path: str('cert_path', true)!,
    cert_key_path: str('cert_key_path', true)!,
    cert_key_type: str('cert_key_type', false) ?? RENEWAL_DEFAULTS.cert_key_type,
    challenge_type: str('challenge_type', false) ?? RENEWAL_DEFAULTS.challenge_type,
    http_port: int('http_port', RENEWAL_DEFAULTS.http_port, 65535),
    tls_port: int('tls_port', RENEWAL_DEFAULTS.tls_port, 65535),
    poll_timeout: int('poll_timeout', RENEWAL_DEFAULTS.poll_timeout, 86400),
    eab_alg: str('eab_alg', false) ?? RENEWAL_DEFAULTS.eab_alg,
    contacts: (contactsRaw as string[] | undefined) ?? [],
  };
  for (const f of OPTIONAL_STRINGS) {
    const v = str(f, false);
    if (v !== undefined) cfg[f] = v;
  }
  return cfg;
}

export async function readRenewalConfig(path: string): Promise<RenewalConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --renewal-config ${path}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
  const toml = await import('smol-toml');
  return parseRenewalConfig(text, path, toml);
}

/** TOML text in the reference's field order; optional fields only when set; never `eab_key`. */
export async function renderRenewalConfig(cfg: RenewalConfig): Promise<string> {
  const { stringify } = await import('smol-toml');
  const doc: Record<string, unknown> = {
    server: cfg.server,
    account_key: cfg.account_key,
    account_key_type: cfg.account_key_type,
    cert_path: cfg.cert_path,
    cert_key_path: cfg.cert_key_path,
    cert_key_type: cfg.cert_key_type,
    challenge_type: cfg.challenge_type,
    http_port: cfg.http_port,
    tls_port: cfg.tls_port,
    poll_timeout: cfg.poll_timeout,
    eab_alg: cfg.eab_alg,
    contacts: cfg.contacts,
  };
  for (const f of OPTIONAL_STRINGS) {
    if (f === 'eab_key') continue;
    if (cfg[f] !== undefined) doc[f] = cfg[f];
  }
  doc.domains = cfg.domains.map((d) => ({ type: d.type, value: d.value }));
  return `# written by akamu-cli; renew with: akamu-cli renew --renewal-config <this file>\n${stringify(doc)}\n`;
}
