/**
 * certbot accounts: `accounts/<host[:port]>/<directory path…>/<account id>/` holding
 * `private_key.json` (the account key as a private JWK), `regr.json` (`uri` = account URL,
 * `body.contact` when the CA returned it) and `meta.json` (`creation_dt`).
 */
import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PrivateKey } from 'akamu-client';
import { SMALL_FILE_LIMIT, describeFsError, readInputText } from '../files/read-input.js';

export interface CertbotAccount {
  /** Leaf folder name (certbot's account id, referenced by `account = …` in renewal confs). */
  id: string;
  /** The path between `accounts/` and the id folder, e.g. `127.0.0.1:14000/dir`. */
  server: string;
  key: PrivateKey;
  url?: string;
  contacts: string[];
  createdAt?: string;
}

export interface AccountDiscovery {
  accounts: CertbotAccount[];
  warnings: string[];
}

/** Folders below `accounts/` are searched this deep for `private_key.json`. */
const MAX_DEPTH = 10;

/** A certbot private JWK (RSA or EC) → PrivateKey. */
export function privateKeyFromJwk(jwk: unknown): PrivateKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new Error('not a JSON object');
  const o = jwk as Record<string, unknown>;
  if (typeof o.kty !== 'string') throw new Error("no 'kty' member");
  if (o.kty !== 'RSA' && o.kty !== 'EC') throw new Error(`unsupported key type '${o.kty}' (RSA and EC are supported)`);
  if (typeof o.d !== 'string') throw new Error('not a private key (no \'d\' member)');
  let keyObject;
  try {
    keyObject = createPrivateKey({ key: o as JsonWebKey, format: 'jwk' });
  } catch (err) {
    throw new Error(String((err as Error).message).split('\n')[0]);
  }
  return PrivateKey.fromKeyObject(keyObject);
}

export async function discoverAccounts(certbotDir: string): Promise<AccountDiscovery> {
  const root = join(certbotDir, 'accounts');
  const result: AccountDiscovery = { accounts: [], warnings: [] };
  const dirs: string[] = [];
  await walk(root, 0, dirs, result.warnings, true);
  dirs.sort();
  for (const dir of dirs) {
    const rel = relative(root, dir).split(sep);
    const id = rel[rel.length - 1]!;
    const server = rel.slice(0, -1).join('/');
    if (server === '') {
      result.warnings.push(`Warning: skipping account ${id} (${dir}): it is not inside a CA folder below ${root}`);
      continue;
    }
    const keyPath = join(dir, 'private_key.json');
    let key: PrivateKey;
    try {
      key = privateKeyFromJwk(JSON.parse(await readInputText(keyPath, SMALL_FILE_LIMIT)));
    } catch (err) {
      result.warnings.push(`Warning: skipping account ${id} (${dir}): cannot read private_key.json: ${describe(err)}`);
      continue;
    }
    const account: CertbotAccount = { id, server, key, contacts: [] };

    const regrPath = join(dir, 'regr.json');
    const regr = await readJson(regrPath, result.warnings);
    if (regr !== undefined) {
      if (typeof regr !== 'object' || regr === null) {
        result.warnings.push(`Warning: cannot parse ${regrPath}: not a JSON object`);
      } else {
        const r = regr as { uri?: unknown; body?: { contact?: unknown } };
        if (typeof r.uri === 'string' && r.uri !== '') account.url = r.uri;
        const contact = r.body && typeof r.body === 'object' ? r.body.contact : undefined;
        if (Array.isArray(contact)) account.contacts = contact.filter((c): c is string => typeof c === 'string');
      }
    }

    const metaPath = join(dir, 'meta.json');
    const meta = await readJson(metaPath, result.warnings, true);
    if (meta && typeof meta === 'object' && typeof (meta as { creation_dt?: unknown }).creation_dt === 'string') {
      account.createdAt = (meta as { creation_dt: string }).creation_dt;
    }
    result.accounts.push(account);
  }
  return result;
}

async function walk(dir: string, depth: number, out: string[], warnings: string[], isRoot: boolean): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (isRoot && e.code === 'ENOENT') return; // no accounts at all
    warnings.push(`Warning: cannot read certbot accounts dir ${dir}: ${describeFsError(e)}`);
    return;
  }
  if (!isRoot && entries.some((e) => e.name === 'private_key.json' && !e.isDirectory())) {
    out.push(dir);
    return;
  }
  if (depth >= MAX_DEPTH) return;
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.isDirectory()) await walk(join(dir, e.name), depth + 1, out, warnings, false);
  }
}

/** Parsed JSON, or undefined with a warning (a missing file is silent when `optional`). */
async function readJson(path: string, warnings: string[], optional = false): Promise<unknown> {
  let text: string;
  try {
    text = await readInputText(path, SMALL_FILE_LIMIT);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (!(optional && e.code === 'ENOENT')) warnings.push(`Warning: cannot read ${path}: ${describeFsError(e)}`);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    warnings.push(`Warning: cannot parse ${path}: ${(err as Error).message}`);
    return undefined;
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string' && e.syscall) return describeFsError(e);
  return (err as Error)?.message ?? String(err);
}

/**
 * certbot's account folder name for a directory URL: `<host[:port]><path>` without a trailing
 * slash (the default https port omitted), e.g. `127.0.0.1:14000/dir`.
 */
export function serverKey(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const defaultPort = (u.protocol === 'https:' && u.port === '443') || (u.protocol === 'http:' && u.port === '80');
  const host = u.port && !defaultPort ? `${u.hostname}:${u.port}` : u.hostname;
  return `${host}${u.pathname.replace(/\/+$/, '')}`.toLowerCase();
}

/** Does the account folder belong to this directory URL? Old layouts have only the host folder. */
export function accountMatchesServer(account: { server: string }, url: string): boolean {
  const key = serverKey(url);
  if (!key) return false;
  const folder = account.server.replace(/\/+$/, '').toLowerCase();
  if (folder === key) return true;
  return !folder.includes('/') && folder === key.split('/')[0];
}
