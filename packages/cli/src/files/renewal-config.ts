/**
 * `<out>.renewal.toml`: everything needed to repeat an issuance, read by `renew --renewal-config`.
 * One table, RENEWAL_FIELDS, says for every field its TOML name, type, default, whether it is
 * required, which issue/renew option it stands for and whether it is written; its order is the
 * order in the file. Reading, defaults, writing and the mapping to and from options all follow it.
 * Unknown fields are ignored on read and `eab_key` is read but never written.
 */
import { UsageError, type Identifier } from 'akamu-client';
import { SMALL_FILE_LIMIT, describeFsError, readInputText } from './read-input.js';

type FieldType = 'string' | 'port' | 'seconds' | 'boolean' | 'strings' | 'table' | 'identifiers';

interface FieldSpec {
  readonly type: FieldType;
  /** Must be in the file (and is always written). */
  readonly required?: true;
  /** Used when the file leaves the field out; also the issue option's default. */
  readonly default?: string | number | readonly string[];
  /** The issue/renew option the field records (`renew`: an explicit flag beats the file). */
  readonly option?: string;
  /** `false`: read when an operator added it by hand, never written. */
  readonly written?: false;
}

export const RENEWAL_FIELDS = {
  server: { type: 'string', required: true, option: 'server' },
  account_key: { type: 'string', required: true, option: 'accountKey' },
  account_key_type: { type: 'string', default: 'ec:P-256', option: 'keyType' },
  cert_path: { type: 'string', required: true, option: 'out' },
  cert_key_path: { type: 'string', required: true, option: 'certKey' },
  cert_key_type: { type: 'string', default: 'ec:P-256', option: 'certKeyType' },
  /**
   * `true`: the certificate key was pinned (`--cert-key`) and renewals reuse it; absent: every
   * renewal generates a new key. Written only when true (no option: `--cert-key` sets it).
   */
  reuse_key: { type: 'boolean' },
  challenge_type: { type: 'string', default: 'http-01', option: 'challenge' },
  http_port: { type: 'port', default: 80, option: 'httpPort' },
  tls_port: { type: 'port', default: 443, option: 'tlsPort' },
  poll_timeout: { type: 'seconds', default: 120, option: 'pollTimeout' },
  eab_alg: { type: 'string', default: 'HS256', option: 'eabAlg' },
  /** The account's contacts, used when the account has to be registered anew (no option). */
  contacts: { type: 'strings', default: [] },
  onion_key: { type: 'string', option: 'onionKey' },
  eab_kid: { type: 'string', option: 'eabKid' },
  eab_key: { type: 'string', option: 'eabKey', written: false },
  gssapi_keytab: { type: 'string', option: 'gssapiKeytab' },
  dns_hook: { type: 'string', option: 'dnsHook' },
  /** `--dns-rfc2136`: the primary server updated by RFC 2136 (`HOST[:PORT]`). */
  dns_rfc2136: { type: 'string', option: 'dnsRfc2136' },
  /** `--tsig-key`: the key file's absolute path; the secret itself is never written here. */
  tsig_key: { type: 'string', option: 'tsigKey' },
  dns_zone: { type: 'string', option: 'dnsZone' },
  dns_resolver: { type: 'string', option: 'dnsResolver' },
  /** `--dns-propagation-timeout`; 0 = no propagation check (`--no-propagation-check`). */
  dns_propagation_timeout: { type: 'seconds', option: 'dnsPropagationTimeout' },
  /** Run after each issuance or renewal (hooks.ts); `failure_hook` after one failed. */
  deploy_hook: { type: 'string', option: 'deployHook' },
  failure_hook: { type: 'string', option: 'failureHook' },
  /** Seconds either hook may run (default 300, hooks.ts); written only when given. */
  hook_timeout: { type: 'seconds', option: 'hookTimeout' },
  profile: { type: 'string', option: 'profile' },
  tkauth_url: { type: 'string', option: 'tkauthUrl' },
  tkauth_keytab: { type: 'string', option: 'tkauthKeytab' },
  jwtcc: { type: 'string', option: 'jwtcc' },
  /** http-01 through the operator's web server: tokens are written below this directory (`--webroot`). */
  webroot: { type: 'string', option: 'webroot' },
  /**
   * Per-name webroots (from certbot's `[[webroot_map]]`), a TOML table: `"a.example" = "/var/www/a"`.
   * Names it lists use their own webroot; other names use `webroot`.
   */
  webroot_map: { type: 'table', option: 'webrootMap' },
  /** `--preferred-chain`: the issuer CN of the top certificate of the chain to prefer. */
  preferred_chain: { type: 'string', option: 'preferredChain' },
  /** `[[domains]]` tables: last, as TOML wants arrays of tables after plain keys. */
  domains: { type: 'identifiers', required: true, option: 'identifiers' },
} as const satisfies Record<string, FieldSpec>;

type Fields = typeof RENEWAL_FIELDS;
export type RenewalField = keyof Fields;

type ValueOf<T extends FieldType> = T extends 'port' | 'seconds' ? number
  : T extends 'boolean' ? boolean
  : T extends 'strings' ? string[]
  : T extends 'table' ? Record<string, string>
    : T extends 'identifiers' ? Identifier[]
      : string;
/** Fields that always have a value once read: required ones and those with a default. */
type PresentField = { [K in RenewalField]: Fields[K] extends { required: true } | { default: unknown } ? K : never }[RenewalField];
type Resolve<T> = { [K in keyof T]: T[K] };

/** A renewal config as read (defaults applied), keyed by the TOML names. */
export type RenewalConfig = Resolve<
  { [K in PresentField]: ValueOf<Fields[K]['type']> } & { [K in Exclude<RenewalField, PresentField>]?: ValueOf<Fields[K]['type']> }
>;

/** Fields that record an option, and the option names. */
type OptionField = { [K in RenewalField]: Fields[K] extends { option: string } ? K : never }[RenewalField];
type OptionValue<K extends OptionField> = ValueOf<Fields[K]['type']>;
type RequiredField = { [K in RenewalField]: Fields[K] extends { required: true } ? K : never }[RenewalField];

/** A config's values under their option names (ports and seconds as numbers). */
export type RenewalOptions = Resolve<
  { [K in OptionField & PresentField as Fields[K]['option']]: OptionValue<K> }
  & { [K in Exclude<OptionField, PresentField> as Fields[K]['option']]?: OptionValue<K> }
>;

/** What a config is made from: the required fields' options, any others (missing ones take the default). */
export type RenewalOptionsInput = Resolve<
  { [K in OptionField & RequiredField as Fields[K]['option']]: OptionValue<K> }
  & { [K in Exclude<OptionField, RequiredField> as Fields[K]['option']]?: OptionValue<K> | undefined }
>;

const MAX: Partial<Record<FieldType, number>> = { port: 65535, seconds: 86400 };

function entries(): [RenewalField, FieldSpec][] {
  return Object.entries(RENEWAL_FIELDS) as [RenewalField, FieldSpec][];
}

export function renewalConfigPath(certPath: string): string {
  return `${certPath}.renewal.toml`;
}

/** Check one field's raw TOML value; undefined when absent. `bad` throws the file-and-field error. */
function readField(name: string, spec: FieldSpec, v: unknown, bad: (field: string, what: string) => never): unknown {
  if (spec.type === 'identifiers') {
    if (!Array.isArray(v) || v.length === 0) return bad(name, 'must list at least one [[domains]] entry');
    return v.map((d: unknown, i) => {
      const o = d as Record<string, unknown>;
      if (typeof o !== 'object' || o === null || typeof o.value !== 'string' || (o.type !== undefined && typeof o.type !== 'string')) {
        return bad(`${name}[${i}]`, 'must have a string value (and type)');
      }
      return { type: (o.type as string | undefined) ?? 'dns', value: o.value };
    });
  }
  if (v === undefined) return spec.required ? bad(name, 'is missing') : undefined;
  switch (spec.type) {
    case 'boolean':
      if (typeof v !== 'boolean') return bad(name, 'must be true or false');
      return v;
    case 'strings':
      if (!Array.isArray(v) || v.some((c) => typeof c !== 'string')) return bad(name, 'must be a list of strings');
      return v;
    case 'table': {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date) return bad(name, 'must be a table of strings');
      const table = v as Record<string, unknown>;
      if (Object.values(table).some((x) => typeof x !== 'string')) return bad(name, 'must be a table of strings');
      return { ...table };
    }
    case 'port':
    case 'seconds': {
      const n = typeof v === 'bigint' ? Number(v) : v;
      const max = MAX[spec.type]!;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) return bad(name, `must be an integer between 0 and ${max}`);
      return n;
    }
    default:
      if (typeof v !== 'string' || (spec.required && v === '')) return bad(name, 'must be a string');
      return v;
  }
}

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
  const cfg: Record<string, unknown> = {};
  for (const [name, spec] of entries()) {
    const value = readField(name, spec, raw[name], bad) ?? spec.default;
    if (value !== undefined) cfg[name] = copy(value);
  }
  return cfg as RenewalConfig;
}

/** A field's value, copied (lists and tables), so a config never shares them with the table's defaults. */
function copy(v: unknown): unknown {
  if (Array.isArray(v)) return [...v];
  return typeof v === 'object' && v !== null && !(v instanceof Date) ? { ...v } : v;
}

export async function readRenewalConfig(path: string): Promise<RenewalConfig> {
  let text: string;
  try {
    text = await readInputText(path, SMALL_FILE_LIMIT);
  } catch (err) {
    throw new UsageError(`cannot read --renewal-config ${path}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
  const toml = await import('smol-toml');
  return parseRenewalConfig(text, path, toml);
}

/** TOML text in the table's order; optional fields only when set; never the unwritten ones. */
export async function renderRenewalConfig(cfg: RenewalConfig): Promise<string> {
  const { stringify } = await import('smol-toml');
  const doc: Record<string, unknown> = {};
  for (const [name, spec] of entries()) {
    const value = (cfg as Record<string, unknown>)[name];
    if (spec.written === false || value === undefined) continue;
    if (spec.type === 'table' && Object.keys(value as object).length === 0) continue;
    doc[name] = spec.type === 'identifiers' ? (value as Identifier[]).map((d) => ({ type: d.type, value: d.value })) : value;
  }
  return `# written by akamu-cli; renew with: akamu-cli renew --renewal-config <this file>\n${stringify(doc)}\n`;
}

/** Fields that record no option (their values are passed by field name). */
export type RenewalExtras = { [K in Exclude<RenewalField, OptionField>]?: ValueOf<Fields[K]['type']> | undefined };

/** A config from values under their option names; fields not given take the table's default. */
export function renewalConfigFromOptions(values: RenewalOptionsInput, extra: RenewalExtras = {}): RenewalConfig {
  const given = values as Record<string, unknown>;
  const others = extra as Record<string, unknown>;
  const cfg: Record<string, unknown> = {};
  for (const [name, spec] of entries()) {
    const value = spec.option !== undefined ? given[spec.option] : others[name];
    const v = value ?? spec.default;
    if (v === undefined && spec.required) throw new Error(`renewal config: no value for required field '${name}'`);
    if (v !== undefined) cfg[name] = copy(v);
  }
  return cfg as RenewalConfig;
}

/** The config's values under their option names (what `renew` merges its flags over). */
export function renewalConfigOptions(cfg: RenewalConfig): RenewalOptions {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of entries()) {
    const value = (cfg as Record<string, unknown>)[name];
    if (spec.option !== undefined && value !== undefined) out[spec.option] = value;
  }
  return out as RenewalOptions;
}
