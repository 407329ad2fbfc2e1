/** `akamu-cli account register|deregister|show|update|key-change`. */
import { unlink } from 'node:fs/promises';
import { UsageError, PrivateKey, DEFAULT_KEY_TYPE, parseKeyType, type AcmeClient } from 'akamu-client';
import { login, registerAccount, requireAccountUrl, saveGeneratedKey } from '../account-session.js';
import { refusedAlgorithm } from '../refused-algorithm.js';
import { parseEab } from '../eab.js';
import { writeAccountUrl, removeAccountUrl, accountUrlPath } from '../files/account-url.js';
import { writeFileAtomic } from '../files/atomic.js';
import { loadKeyFile, requireKeyFile } from '../files/keys.js';
import type { DeregisterOptions, KeyChangeOptions, RegisterOptions, ShowOptions, UpdateOptions } from '../program.js';
import type {
  AccountDeregisterResult, AccountInfo, AccountKeyChangeResult, AccountRegisterResult, AccountShowResult, AccountUpdateResult,
} from '../results.js';
import type { Runtime } from '../runtime.js';
import { connect } from '../server.js';

function accountInfo(url: string, account: { status?: string; contact?: string[] }): AccountInfo {
  return { url, status: account.status ?? 'valid', contacts: account.contact ?? [] };
}

export async function accountRegister(opts: RegisterOptions, rt: Runtime): Promise<AccountRegisterResult> {
  const keyType = parseKeyType(opts.keyType);
  const eab = await parseEab(opts);
  const existing = await loadKeyFile(opts.accountKey, 'account key');
  const client = await connect(opts, rt);
  const tos = client.directory.meta?.termsOfService;
  if (tos && !opts.agreeTos) {
    throw new UsageError(`the server requires agreeing to its terms of service (${tos}); read them and pass --agree-tos`);
  }
  const accountKey = existing ?? (await PrivateKey.generate(keyType));
  const account = await registerAccount(client, accountKey, { contact: opts.contact, agreeTos: opts.agreeTos, eab, gssapiKeytab: opts.gssapiKeytab }, rt);
  const generatedKey = existing ? undefined : await saveGeneratedKey(opts.accountKey, accountKey, rt);
  const sidecar = await writeAccountUrl(opts.accountKey, account.url);
  return {
    command: 'account register',
    account: { url: account.url, status: account.status, contacts: account.contact },
    created: account.created,
    // an existing account keeps its contacts: changing them is `account update`'s job
    contactsDiffer: !account.created && opts.contact.length > 0 && !sameContacts(opts.contact, account.contact),
    requestedContacts: opts.contact,
    accountKeyPath: opts.accountKey,
    accountUrlPath: sidecar,
    generatedKey,
  };
}

/** The same contacts, in any order. */
function sameContacts(a: string[], b: string[]): boolean {
  const sortedB = [...b].sort();
  return a.length === b.length && [...a].sort().every((c, i) => c === sortedB[i]);
}

export async function accountShow(opts: ShowOptions, rt: Runtime): Promise<AccountShowResult> {
  const { client, url } = await login(opts, rt);
  return { command: 'account show', account: accountInfo(url, await client.getAccount()) };
}

export async function accountUpdate(opts: UpdateOptions, rt: Runtime): Promise<AccountUpdateResult> {
  const { client, url } = await login(opts, rt);
  return { command: 'account update', account: accountInfo(url, await client.updateAccount(opts.contact)) };
}

export async function accountDeregister(opts: DeregisterOptions, rt: Runtime): Promise<AccountDeregisterResult> {
  const { client, url } = await login(opts, rt);
  const account = accountInfo(url, await client.deactivateAccount());
  const result: AccountDeregisterResult = { command: 'account deregister', account, accountUrlPath: accountUrlPath(opts.accountKey) };
  try {
    await removeAccountUrl(opts.accountKey);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') result.sidecarError = (err as Error).message;
  }
  return result;
}

/**
 * After a failed key change: a new-key file this run generated is removed when the account still
 * answers to the old key (the server did not switch); otherwise it is kept, as it may be the key.
 */
async function dropUnusedNewKey(client: AcmeClient, path: string, rt: Runtime): Promise<void> {
  const oldKeyStillWorks = await client.getAccount().then(() => true, () => false);
  if (oldKeyStillWorks) {
    await unlink(path).catch(() => {});
    return;
  }
  rt.note(`Note: the new key ${path} is kept: the server may have switched the account to it`);
}

export async function accountKeyChange(opts: KeyChangeOptions, rt: Runtime): Promise<AccountKeyChangeResult> {
  const requestedType = opts.newKeyType !== undefined ? parseKeyType(opts.newKeyType) : undefined;
  const oldKey = await requireKeyFile(opts.accountKey, 'account key');
  const url = await requireAccountUrl(opts.accountKey);
  const existing = await loadKeyFile(opts.newKey, 'new key');
  if (existing && requestedType !== undefined && requestedType !== existing.keyType) {
    rt.emit({ type: 'new-key-type-ignored', path: opts.newKey, keyType: existing.keyType, requested: requestedType });
  }
  const newKey = existing ?? (await PrivateKey.generate(requestedType ?? DEFAULT_KEY_TYPE));
  if (newKey.publicKeyDer().equals(oldKey.publicKeyDer())) throw new UsageError('--new-key is the same key as --account-key');
  const client = await connect(opts, rt);
  client.login(oldKey, url);
  // keep the new key on disk before the server switches to it, so it can never be lost; it is
  // reported (stdout) only once the change succeeded
  if (!existing) await writeFileAtomic(opts.newKey, newKey.toPem(), { mkdir: true });
  try {
    await client.changeKey(newKey);
  } catch (err) {
    if (!existing) await dropUnusedNewKey(client, opts.newKey, rt);
    throw refusedAlgorithm(err, newKey);
  }
  const generatedKey = existing ? undefined : { path: opts.newKey, keyType: newKey.keyType };
  if (generatedKey) rt.emit({ type: 'key-generated', key: generatedKey });
  await writeFileAtomic(opts.accountKey, newKey.toPem());
  return {
    command: 'account key-change',
    accountUrl: url,
    accountKeyPath: opts.accountKey,
    newKeyPath: opts.newKey,
    keyType: newKey.keyType,
    generatedKey,
  };
}
