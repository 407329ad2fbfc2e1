/** Getting hold of the ACME account: registering one, or logging in with the key and its URL sidecar. */
import { AkamuError, type AcmeClient, type PrivateKey } from 'akamu-client';
import { refusedAlgorithm } from './refused-algorithm.js';
import { accountUrlPath, readAccountUrl } from './files/account-url.js';
import { writeFileAtomic } from './files/atomic.js';
import { requireKeyFile } from './files/keys.js';
import type { GeneratedKey } from './results.js';
import { connect, type ServerOptions } from './server.js';
import { gssapiEab, type EabCredentials } from './eab.js';
import type { Runtime } from './runtime.js';

/** The account URL from the sidecar; a missing sidecar is an error for commands that need an account. */
export async function requireAccountUrl(accountKeyPath: string): Promise<string> {
  const url = await readAccountUrl(accountKeyPath);
  if (!url) {
    // the reference's text first, so that searching it finds this case
    throw new AkamuError(`No such file: ${accountUrlPath(accountKeyPath)} — run 'akamu-cli account register' first, or restore the sidecar from a backup`, 'no-account');
  }
  return url;
}

/** Register (or find) the account for `key`; with `gssapiKeytab`, its EAB credentials come from the CA's /acme/eab. */
export async function registerAccount(
  client: AcmeClient,
  key: PrivateKey,
  opts: { contact?: string[]; agreeTos: boolean; eab?: EabCredentials; gssapiKeytab?: string },
  rt: Runtime,
): Promise<{ url: string; created: boolean; status: string; contact: string[] }> {
  const eab = opts.eab ?? (opts.gssapiKeytab !== undefined ? await gssapiEab(client, opts.gssapiKeytab, rt) : undefined);
  const res = await client.newAccount(key, {
    contact: opts.contact ?? [],
    termsOfServiceAgreed: opts.agreeTos,
    eab,
  }).catch((err: unknown) => {
    throw refusedAlgorithm(err, key);
  });
  return { url: res.url, created: res.created, status: res.account.status ?? 'valid', contact: res.account.contact ?? [] };
}

/** Read the account key and its URL sidecar (before any network call), then connect and log in. */
export async function login(opts: ServerOptions & { accountKey: string }, rt: Runtime): Promise<{ client: AcmeClient; key: PrivateKey; url: string }> {
  const key = await requireKeyFile(opts.accountKey, 'account key');
  const url = await requireAccountUrl(opts.accountKey);
  const client = await connect(opts, rt);
  client.login(key, url);
  return { client, key, url };
}

/** Write a freshly generated key and report it at once: the file exists whatever happens next. */
export async function saveGeneratedKey(path: string, key: PrivateKey, rt: Runtime): Promise<GeneratedKey> {
  await writeFileAtomic(path, key.toPem(), { mkdir: true });
  const generated = { path, keyType: key.keyType };
  rt.emit({ type: 'key-generated', key: generated });
  return generated;
}
