/** `akamu-cli account register|deregister|show|update|key-change`. */
import { UsageError, PrivateKey, parseKeyType } from 'akamu-client';
import { login, registerAccount, requireAccountUrl } from '../account-session.js';
import { parseEab } from '../eab.js';
import type { DeregisterOptions, KeyChangeOptions, RegisterOptions, ShowOptions, UpdateOptions } from '../program.js';
import type { Runtime } from '../runtime.js';
import { connect } from '../server.js';
import { loadKeyFile, requireKeyFile } from '../files/keys.js';
import { writeAccountUrl, removeAccountUrl, accountUrlPath } from '../files/account-url.js';
import { writeFileAtomic } from '../files/atomic.js';

export async function accountRegister(opts: RegisterOptions, rt: Runtime): Promise<void> {
  const keyType = parseKeyType(opts.keyType);
  const eab = parseEab(opts);
  const existing = await loadKeyFile(opts.accountKey, 'account key');
  const client = await connect(opts, rt);
  const tos = client.directory.meta?.termsOfService;
  if (tos && !opts.agreeTos) {
    throw new UsageError(`the server requires agreeing to its terms of service (${tos}); read them and pass --agree-tos`);
  }
  const accountKey = existing ?? (await PrivateKey.generate(keyType));
  const account = await registerAccount(client, accountKey, { contact: opts.contact, agreeTos: opts.agreeTos, eab });
  if (!existing) {
    await writeFileAtomic(opts.accountKey, accountKey.toPem(), { mkdir: true });
    rt.out(`Generated new ${accountKey.keyType} key → ${opts.accountKey}`);
  }
  await writeAccountUrl(opts.accountKey, account.url);
  if (!account.created) rt.note(`Note: the server already had an account for this key; its URL was saved to ${accountUrlPath(opts.accountKey)}`);
  rt.out(`Registered: ${account.url}`);
}

export async function accountShow(opts: ShowOptions, rt: Runtime): Promise<void> {
  const { client, url } = await login(opts, rt);
  const account = await client.getAccount();
  rt.out(`URL:     ${url}`);
  rt.out(`Status:  ${account.status ?? 'valid'}`);
  const contacts = account.contact ?? [];
  if (contacts.length === 0) rt.out('Contact: (none)');
  for (const c of contacts) rt.out(`Contact: ${c}`);
}

export async function accountUpdate(opts: UpdateOptions, rt: Runtime): Promise<void> {
  const { client, url } = await login(opts, rt);
  const account = await client.updateAccount(opts.contact);
  rt.out(`Updated account: ${url}`);
  const contacts = account.contact ?? [];
  if (contacts.length === 0) rt.out('  Contact: (none)');
  for (const c of contacts) rt.out(`  Contact: ${c}`);
}

export async function accountDeregister(opts: DeregisterOptions, rt: Runtime): Promise<void> {
  const { client, url } = await login(opts, rt);
  await client.deactivateAccount();
  try {
    await removeAccountUrl(opts.accountKey);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      rt.note(`Warning: account deactivated but could not remove sidecar ${accountUrlPath(opts.accountKey)}: ${(err as Error).message}. Future commands may attempt to use the deactivated account.`);
    }
  }
  rt.out(`Deactivated: ${url}`);
}

export async function accountKeyChange(opts: KeyChangeOptions, rt: Runtime): Promise<void> {
  const newKeyType = parseKeyType(opts.newKeyType);
  const oldKey = await requireKeyFile(opts.accountKey, 'account key');
  const url = await requireAccountUrl(opts.accountKey);
  let newKey = await loadKeyFile(opts.newKey, 'new key');
  let generated = false;
  if (!newKey) {
    newKey = await PrivateKey.generate(newKeyType);
    generated = true;
  }
  if (newKey.publicKeyDer().equals(oldKey.publicKeyDer())) throw new UsageError('--new-key is the same key as --account-key');
  const client = await connect(opts, rt);
  client.login(oldKey, url);
  if (generated) {
    // keep the new key on disk before the server switches to it, so it can never be lost
    await writeFileAtomic(opts.newKey, newKey.toPem(), { mkdir: true });
    rt.out(`Generated new ${newKey.keyType} key → ${opts.newKey}`);
  }
  await client.changeKey(newKey);
  await writeFileAtomic(opts.accountKey, newKey.toPem());
  rt.out(`Key changed. New key written to ${opts.accountKey}`);
  rt.out(`Account URL unchanged: ${url}`);
}
