/** What every command that talks to an ACME server needs: transport, client, account. */
import { readFile } from 'node:fs/promises';
import {
  AcmeClient, HttpTransport, UsageError, AkamuError, b64uDecode, splitPemCertificates,
  type Logger, type PrivateKey,
} from 'akamu-client';
import { USER_AGENT } from './version.js';
import { readAccountUrl } from './files/account-url.js';
import { describeFsError } from './files/keys.js';

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

export interface ServerOptions {
  server: string;
  serverCa?: string;
}

export interface Runtime {
  log: Logger;
  /** Write one result line to stdout. */
  out(line: string): void;
  /** Write one progress/notice line to stderr (always shown: notes the user must see). */
  note(line: string): void;
  /** Ask the operator something on stderr and wait for a line on stdin. */
  prompt(text: string): Promise<string>;
}

export async function readServerCa(path: string, log?: Logger): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --server-ca ${path}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new UsageError(`--server-ca ${path} contains no PEM certificate`);
  if (log) {
    const { X509Certificate } = await import('node:crypto');
    splitPemCertificates(pem).forEach((der, i) => {
      try {
        const c = new X509Certificate(der);
        log.debug(`CA certificate [${i}] from ${path}: subject=${c.subject.replace(/\n/g, ', ')} issuer=${c.issuer.replace(/\n/g, ', ')} not_before=${c.validFrom} not_after=${c.validTo}`);
      } catch (err) {
        log.warn(`--server-ca ${path}: certificate [${i}] cannot be parsed: ${(err as Error).message}`);
      }
    });
  }
  return pem;
}

export function checkServerUrl(server: string): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server '${server}' is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:' && url.protocol !== 'http+unix:') {
    throw new UsageError(`--server '${server}' must be an https://, http:// or http+unix:// URL`);
  }
}

export async function connect(opts: ServerOptions, rt: Runtime): Promise<AcmeClient> {
  checkServerUrl(opts.server);
  const extraCaPem = opts.serverCa ? await readServerCa(opts.serverCa, rt.log) : undefined;
  const transport = new HttpTransport({ extraCaPem, userAgent: USER_AGENT, log: rt.log.child?.('http') ?? rt.log });
  return AcmeClient.connect(opts.server, { transport, log: rt.log.child?.('akamu_client') ?? rt.log });
}

/** The account URL from the sidecar; a missing sidecar is an error for commands that need an account. */
export async function requireAccountUrl(accountKeyPath: string): Promise<string> {
  const url = await readAccountUrl(accountKeyPath);
  if (!url) {
    throw new AkamuError(`no account URL sidecar ${accountKeyPath}.account-url; run 'akamu-cli account register' first, or restore the sidecar from a backup`, 'no-account');
  }
  return url;
}

export type EabAlg = 'HS256' | 'HS384' | 'HS512';

export interface EabFlags {
  eabKid?: string;
  eabKey?: string;
  eabAlg?: string;
  gssapiKeytab?: string;
}

export interface EabCredentials {
  kid: string;
  hmacKey: Buffer;
  alg: EabAlg;
}

/** Validate the EAB flags before any network call. */
export function parseEab(flags: EabFlags): EabCredentials | undefined {
  if (flags.gssapiKeytab !== undefined) {
    if (flags.eabKid !== undefined || flags.eabKey !== undefined) {
      throw new UsageError('--gssapi-keytab cannot be combined with --eab-kid / --eab-key');
    }
    throw new UsageError('--gssapi-keytab (GSSAPI-authenticated EAB) is not supported yet; use --eab-kid and --eab-key');
  }
  const alg = (flags.eabAlg ?? 'HS256').toUpperCase();
  if (alg !== 'HS256' && alg !== 'HS384' && alg !== 'HS512') {
    throw new UsageError(`unsupported --eab-alg '${flags.eabAlg}'; use HS256, HS384 or HS512`);
  }
  if (flags.eabKid === undefined && flags.eabKey === undefined) return undefined;
  if (flags.eabKid === undefined || flags.eabKey === undefined) throw new UsageError('--eab-kid and --eab-key must both be provided');
  if (!flags.eabKid) throw new UsageError('--eab-kid must not be empty');
  let hmacKey: Buffer;
  try {
    hmacKey = b64uDecode(flags.eabKey.trim());
  } catch (err) {
    throw new UsageError(`--eab-key is not base64url without padding: ${(err as Error).message}`);
  }
  if (hmacKey.length === 0) throw new UsageError('--eab-key must not be empty');
  return { kid: flags.eabKid, hmacKey, alg };
}

/** Register (or find) the account for `key`. */
export async function registerAccount(
  client: AcmeClient,
  key: PrivateKey,
  opts: { contact?: string[]; agreeTos: boolean; eab?: EabCredentials },
): Promise<{ url: string; created: boolean; status: string; contact: string[] }> {
  const res = await client.newAccount(key, {
    contact: opts.contact ?? [],
    termsOfServiceAgreed: opts.agreeTos,
    eab: opts.eab,
  });
  return { url: res.url, created: res.created, status: res.account.status ?? 'valid', contact: res.account.contact ?? [] };
}

export function parsePort(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a port number (0–65535), got '${value}'`);
  const n = Number(value);
  if (n > 65535) throw new UsageError(`${flag} must be a port number (0–65535), got '${value}'`);
  return n;
}

export function parsePositiveSeconds(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) === 0) throw new UsageError(`${flag} must be a positive number of seconds, got '${value}'`);
  return Number(value);
}
