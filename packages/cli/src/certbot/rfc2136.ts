/**
 * Lineages made with certbot's dns-rfc2136 plugin (`authenticator = dns-rfc2136`,
 * `dns_rfc2136_credentials = <INI file>`) → akamu's built-in RFC 2136 updater. The credentials
 * file is ConfigObj INI, as the plugin reads it:
 *
 *     dns_rfc2136_server = 192.0.2.1
 *     dns_rfc2136_port = 53
 *     dns_rfc2136_name = keyname.
 *     dns_rfc2136_secret = base64…
 *     dns_rfc2136_algorithm = HMAC-SHA512
 *
 * The plugin's default algorithm is HMAC-MD5, which akamu does not support (nor HMAC-SHA1/224/384):
 * such a lineage is imported without the updater, and the reason is reported. The secret goes only
 * into the key file the import writes (0600); it is never printed nor put in the renewal config.
 */
import type { TsigKey, TsigAlgorithm } from 'akamu-client';
import { SMALL_FILE_LIMIT, describeFsError, readInputText } from '../files/read-input.js';
import { configString, parseConfigObj } from './configobj.js';

/** What akamu's TSIG key files hold. */
export type CertbotTsigKey = TsigKey;

export type Rfc2136Mapping =
  | { ok: true; server: string; key: CertbotTsigKey }
  | { ok: false; server?: string; keyName?: string; algorithm?: string; problem: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SUPPORTED: Record<string, TsigAlgorithm> = { 'HMAC-SHA256': 'hmac-sha256', 'HMAC-SHA512': 'hmac-sha512' };

/** `HOST:PORT` (`[v6]:PORT`) as `--dns-rfc2136` takes it. */
function serverText(host: string, port: string | undefined): string {
  const p = port && port.trim() !== '' ? port.trim() : '53';
  return host.includes(':') ? `[${host}]:${p}` : `${host}:${p}`;
}

/** Reads certbot's dns-rfc2136 credentials file; problems are returned (never thrown), without the secret. */
export async function readRfc2136Credentials(path: string): Promise<Rfc2136Mapping> {
  let text: string;
  try {
    text = await readInputText(path, SMALL_FILE_LIMIT);
  } catch (err) {
    return { ok: false, problem: `cannot read certbot's dns_rfc2136_credentials ${path}: ${describeFsError(err as NodeJS.ErrnoException)}` };
  }
  let root;
  try {
    root = parseConfigObj(text);
  } catch (err) {
    return { ok: false, problem: `cannot parse certbot's dns_rfc2136_credentials ${path}: ${(err as Error).message}` };
  }
  const get = (k: string): string | undefined => configString(root, `dns_rfc2136_${k}`)?.trim() || undefined;
  const host = get('server');
  const port = get('port');
  const name = get('name');
  const secret = get('secret');
  const algorithmText = get('algorithm');
  const server = host ? serverText(host, port) : undefined;
  const facts = { ...(server ? { server } : {}), ...(name ? { keyName: name } : {}), ...(algorithmText ? { algorithm: algorithmText } : {}) };
  const missing = [!host && 'dns_rfc2136_server', !name && 'dns_rfc2136_name', !secret && 'dns_rfc2136_secret'].filter(Boolean);
  if (missing.length > 0) return { ok: false, ...facts, problem: `${path} has no ${missing.join(', ')}` };
  if (port !== undefined && (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535)) {
    return { ok: false, ...facts, problem: `dns_rfc2136_port '${port}' in ${path} is not a port number` };
  }
  // certbot's plugin falls back to HMAC-MD5 when no algorithm is given
  const algorithm = SUPPORTED[(algorithmText ?? 'HMAC-MD5').toUpperCase()];
  if (!algorithm) {
    const what = algorithmText === undefined ? "certbot's default HMAC-MD5 (no dns_rfc2136_algorithm)" : algorithmText;
    return {
      ok: false, ...facts, algorithm: algorithmText ?? 'HMAC-MD5',
      problem: `the TSIG key uses ${what}, which akamu does not support (HMAC-SHA256 and HMAC-SHA512 are); make a new key with tsig-keygen -a hmac-sha256, then set dns_rfc2136 and tsig_key in the renewal config`,
    };
  }
  if (!BASE64.test(secret!)) return { ok: false, ...facts, problem: `dns_rfc2136_secret in ${path} is not base64` };
  return { ok: true, server: server!, key: { name: name!.replace(/\.$/, ''), algorithm, secret: Buffer.from(secret!, 'base64') } };
}
