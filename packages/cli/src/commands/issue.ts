/** `akamu-cli issue`: obtain a certificate. */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  PrivateKey, UsageError, AkamuError, parseKeyType, issueCertificate, buildCsr, splitPemCertificates,
  publicKeyMatches, type KeyType, type AcmeClient,
} from 'akamu-client';
import { connect, parseEab, parsePort, parsePositiveSeconds, registerAccount, type EabFlags, type Runtime, type ServerOptions } from '../context.js';
import { loadKeyFile } from '../files/keys.js';
import { readAccountUrl, writeAccountUrl } from '../files/account-url.js';
import { prepareWrite, writeFileAtomic, writeFilesAtomic } from '../files/atomic.js';
import { parseDomains } from '../identifiers.js';
import { makeSolver } from '../solvers.js';

export interface IssueOptions extends ServerOptions, EabFlags {
  accountKey: string;
  domain: string[];
  out: string;
  keyType?: string;
  certKeyType?: string;
  certKey?: string;
  challenge?: string;
  dnsHook?: string;
  httpPort?: string;
  tlsPort?: string;
  onionKey?: string;
  tkauthUrl?: string;
  tkauthKeytab?: string;
  jwtcc?: string;
  pollTimeout?: string;
  profile?: string;
}

const NOT_YET: [keyof IssueOptions, string][] = [
  ['onionKey', '--onion-key (onion-csr-01)'],
  ['tkauthUrl', '--tkauth-url (tkauth-01)'],
  ['tkauthKeytab', '--tkauth-keytab (tkauth-01)'],
  ['jwtcc', '--jwtcc (tkauth-01)'],
];

interface CertKeyPlan {
  path: string;
  key: Promise<PrivateKey>;
  /** True when the key is new and must be written together with the chain. */
  isNew: boolean;
}

async function planCertKey(opts: IssueOptions, rt: Runtime): Promise<CertKeyPlan> {
  const requested: KeyType | undefined = opts.certKeyType !== undefined ? parseKeyType(opts.certKeyType) : undefined;
  const path = opts.certKey ?? `${opts.out}.key.pem`;
  const existing = await loadKeyFile(path, 'certificate key');
  if (existing) {
    if (opts.certKey !== undefined || requested === undefined || requested === existing.keyType) {
      if (requested !== undefined && requested !== existing.keyType) {
        rt.note(`Note: --cert-key ${path} is a ${existing.keyType} key; --cert-key-type ${requested} is ignored`);
      }
      return { path, key: Promise.resolve(existing), isNew: false };
    }
    rt.log.info(`certificate key ${path} is ${existing.keyType}; a new ${requested} key replaces it once the certificate is issued`);
  }
  const key = PrivateKey.generate(requested ?? 'ec:P-256');
  key.catch(() => {}); // awaited later; avoid an unhandled rejection in between
  return { path, key, isNew: true };
}

/** Fail before ordering when the output cannot be written, so no certificate is issued in vain. */
async function checkWritable(path: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const probe = await prepareWrite(path, '');
    await probe.abort();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`cannot write to ${dirname(path)}: ${e.code === 'EACCES' ? 'permission denied' : e.message}`);
  }
}

export async function issue(opts: IssueOptions, rt: Runtime): Promise<void> {
  for (const [flag, name] of NOT_YET) {
    if (opts[flag] !== undefined) throw new UsageError(`${name} is not supported yet`);
  }
  const identifiers = parseDomains(opts.domain);
  const accountKeyType = parseKeyType(opts.keyType ?? 'ec:P-256');
  const eab = parseEab(opts);
  const pollTimeout = parsePositiveSeconds(opts.pollTimeout ?? '120', '--poll-timeout');
  const solver = makeSolver({
    challenge: opts.challenge ?? 'http-01',
    dnsHook: opts.dnsHook,
    httpPort: parsePort(opts.httpPort ?? '80', '--http-port'),
    tlsPort: parsePort(opts.tlsPort ?? '443', '--tls-port'),
  }, rt);
  solver.check?.(identifiers);

  const existingAccountKey = await loadKeyFile(opts.accountKey, 'account key');
  const accountUrl = existingAccountKey ? await readAccountUrl(opts.accountKey) : undefined;
  const certKey = await planCertKey(opts, rt);
  await checkWritable(opts.out);
  if (certKey.isNew) await checkWritable(certKey.path);

  const client = await connect(opts, rt);
  warnUnknownProfile(client, opts.profile, rt);

  const accountKey = existingAccountKey ?? (await PrivateKey.generate(accountKeyType));
  if (accountUrl) {
    client.login(accountKey, accountUrl);
    if (eab) rt.log.debug('an account URL sidecar exists; --eab-kid/--eab-key are not needed and were not used');
  } else {
    const account = await registerAccount(client, accountKey, { agreeTos: true, eab }).catch((err: unknown) => {
      throw prefixError('register', err);
    });
    if (!existingAccountKey) {
      await writeFileAtomic(opts.accountKey, accountKey.toPem(), { mkdir: true });
      rt.out(`Generated new ${accountKey.keyType} key → ${opts.accountKey}`);
    }
    await writeAccountUrl(opts.accountKey, account.url);
    client.login(accountKey, account.url);
    rt.out(`Registered new account: ${account.url}`);
    const tos = client.directory.meta?.termsOfService;
    if (tos) rt.note(`Note: the new account agreed to the terms of service at ${tos}`);
  }

  const names = identifiers.map((i) => i.value);
  const result = await issueCertificate(client, {
    identifiers,
    profile: opts.profile,
    solver,
    csr: async () => buildCsr(await certKey.key, names),
    pollTimeoutMs: pollTimeout * 1000,
    log: rt.log.child?.('akamu_client') ?? rt.log,
  });

  const key = await certKey.key;
  const leaf = splitPemCertificates(result.chainPem)[0];
  if (!leaf || !(await publicKeyMatches(leaf, key))) {
    throw new AkamuError('the server returned a certificate that does not match the certificate key; nothing was written');
  }
  // chain and (new) key are both fully written before either is moved into place
  const files = [{ path: opts.out, data: result.chainPem }];
  if (certKey.isNew) files.unshift({ path: certKey.path, data: key.toPem() });
  await writeFilesAtomic(files);
  if (certKey.isNew) rt.out(`Certificate key saved to ${certKey.path}`);
  rt.out(`Certificate written to ${opts.out}`);
  if (result.order.certificate) rt.out(`Certificate URL:  ${result.order.certificate}`);
  rt.out(`Certificate key:  ${certKey.path}`);
  if (eab) rt.note('Note: the EAB HMAC key is not saved anywhere; supply --eab-key again if this account ever has to be registered anew.');
}

function warnUnknownProfile(client: AcmeClient, profile: string | undefined, rt: Runtime): void {
  if (!profile) return;
  const profiles = client.directory.meta?.profiles;
  if (!profiles) {
    rt.log.warn(`the server does not advertise certificate profiles; requesting profile '${profile}' anyway`);
  } else if (!Object.hasOwn(profiles, profile)) {
    rt.log.warn(`the server does not list profile '${profile}' (offered: ${Object.keys(profiles).join(', ') || 'none'}); requesting it anyway`);
  }
}

function prefixError(prefix: string, err: unknown): unknown {
  if (err instanceof Error) err.message = `${prefix}: ${err.message}`;
  return err;
}

