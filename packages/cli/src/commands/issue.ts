/** `akamu-cli issue`: obtain a certificate. `renew` reuses the same plan and execution. */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  PrivateKey, UsageError, AkamuError, parseKeyType, issueCertificate, buildCsr, splitPemCertificates,
  publicKeyMatches, type KeyType, type AcmeClient, type Identifier, type Logger, type Solver,
} from 'akamu-client';
import { registerAccount, saveGeneratedKey } from '../account-session.js';
import { StepError } from '../errors.js';
import { parseEab, type EabCredentials } from '../eab.js';
import { parsePort, parsePositiveSeconds } from '../flag-values.js';
import type { IssueOptions } from '../program.js';
import type { IssueResult } from '../results.js';
import type { Runtime } from '../runtime.js';
import { connect } from '../server.js';
import { loadKeyFile } from '../files/keys.js';
import { checkOutputTarget } from '../files/output-check.js';
import { readAccountUrl, writeAccountUrl } from '../files/account-url.js';
import { prepareWrite, writeFilesAtomic } from '../files/atomic.js';
import { RENEWAL_FIELDS, renderRenewalConfig, renewalConfigFromOptions, renewalConfigPath, type RenewalConfig } from '../files/renewal-config.js';
import { identifiersFromFlags, normalizeIdentifiers } from '../identifiers.js';
import { makeSolver } from '../solvers.js';

/**
 * What an issuance is planned from: the issue flags, with identifiers instead of `-d` strings and
 * numbers as given (strings from flags, numbers from a renewal config; both are checked).
 */
export interface IssueSettings extends Omit<IssueOptions, 'domain' | 'httpPort' | 'tlsPort' | 'pollTimeout'> {
  identifiers: Identifier[];
  httpPort?: string | number;
  tlsPort?: string | number;
  pollTimeout?: string | number;
}

/** How the certificate key is chosen (renew passes its own rule). */
export interface CertKeyRule {
  /** The key file was named by the operator (`--cert-key`): always reuse it when it exists. */
  pinned: boolean;
  /** `--cert-key-type` was given on the command line. */
  requested?: KeyType;
  /** Type for a new key when none is requested. */
  fallbackType: KeyType;
}

export interface IssuePlan {
  opts: IssueSettings;
  identifiers: Identifier[];
  accountKeyType: KeyType;
  eab?: EabCredentials;
  pollTimeout: number;
  challenge: string;
  httpPort: number;
  tlsPort: number;
  solver: Solver;
  contacts: string[];
  certKey: CertKeyPlan;
  existingAccountKey?: PrivateKey;
  accountUrl?: string;
  /** `eab_kid` for the renewal config (kept even when its key was not given this time). */
  eabKidForConfig?: string;
}

interface CertKeyPlan {
  path: string;
  key: Promise<PrivateKey>;
  /** True when the key is new and must be written together with the chain. */
  isNew: boolean;
}

const NOT_YET: [keyof IssueSettings, string][] = [
  ['onionKey', '--onion-key (onion-csr-01)'],
  ['tkauthUrl', '--tkauth-url (tkauth-01)'],
  ['tkauthKeytab', '--tkauth-keytab (tkauth-01)'],
  ['jwtcc', '--jwtcc (tkauth-01)'],
];

async function planCertKey(path: string, rule: CertKeyRule, rt: Runtime): Promise<CertKeyPlan> {
  const existing = await loadKeyFile(path, 'certificate key');
  if (existing) {
    if (rule.requested === undefined || rule.requested === existing.keyType) return { path, key: Promise.resolve(existing), isNew: false };
    if (rule.pinned) {
      rt.emit({ type: 'cert-key-type-ignored', path, keyType: existing.keyType, requested: rule.requested });
      return { path, key: Promise.resolve(existing), isNew: false };
    }
    rt.log.info(`certificate key ${path} is ${existing.keyType}; a new ${rule.requested} key replaces it once the certificate is issued`);
  }
  const key = PrivateKey.generate(rule.requested ?? rule.fallbackType);
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

/** Validate everything and read local files: no network, nothing written. */
export async function planIssue(
  opts: IssueSettings,
  rt: Runtime,
  extra: { contacts?: string[]; certKeyRule?: CertKeyRule; eabKidForConfig?: string } = {},
): Promise<IssuePlan> {
  for (const [flag, name] of NOT_YET) {
    if (opts[flag] !== undefined) throw new UsageError(`${name} is not supported yet`);
  }
  const identifiers = normalizeIdentifiers(opts.identifiers);
  // the defaults are the renewal config's (the reference gives the same ones for the flags)
  const accountKeyType = parseKeyType(opts.keyType ?? RENEWAL_FIELDS.account_key_type.default);
  const eab = await parseEab(opts);
  const pollTimeout = parsePositiveSeconds(String(opts.pollTimeout ?? RENEWAL_FIELDS.poll_timeout.default), '--poll-timeout');
  const challenge = opts.challenge ?? RENEWAL_FIELDS.challenge_type.default;
  const httpPort = parsePort(String(opts.httpPort ?? RENEWAL_FIELDS.http_port.default), '--http-port');
  const tlsPort = parsePort(String(opts.tlsPort ?? RENEWAL_FIELDS.tls_port.default), '--tls-port');
  const solver = makeSolver({ challenge, dnsHook: opts.dnsHook, httpPort, tlsPort }, rt);
  solver.check?.(identifiers);
  // where the files go is checked before any key is read or generated
  await checkOutputTarget(opts.out, '--out');
  await checkOutputTarget(renewalConfigPath(opts.out), 'renewal config');

  const existingAccountKey = await loadKeyFile(opts.accountKey, 'account key');
  if (!existingAccountKey) await checkOutputTarget(opts.accountKey, '--account-key');
  const accountUrl = existingAccountKey ? await readAccountUrl(opts.accountKey) : undefined;
  const rule = extra.certKeyRule ?? {
    pinned: opts.certKey !== undefined,
    requested: opts.certKeyType !== undefined ? parseKeyType(opts.certKeyType) : undefined,
    fallbackType: RENEWAL_FIELDS.cert_key_type.default,
  };
  const certKey = await planCertKey(opts.certKey ?? `${opts.out}.key.pem`, rule, rt);
  if (certKey.isNew) await checkOutputTarget(certKey.path, 'certificate key');
  await checkWritable(opts.out);
  if (certKey.isNew) await checkWritable(certKey.path);
  return {
    opts, identifiers, accountKeyType, eab, pollTimeout, challenge, httpPort, tlsPort, solver,
    contacts: extra.contacts ?? [], certKey, existingAccountKey, accountUrl, eabKidForConfig: extra.eabKidForConfig ?? opts.eabKid,
  };
}

/** Log in with the sidecar's account, or register one (writing key and sidecar at once). */
async function useAccount(client: AcmeClient, plan: IssuePlan, rt: Runtime): Promise<IssueResult['account']> {
  const { opts } = plan;
  const accountKey = plan.existingAccountKey ?? (await PrivateKey.generate(plan.accountKeyType));
  if (plan.accountUrl) {
    client.login(accountKey, plan.accountUrl);
    if (plan.eab) rt.log.debug('an account URL sidecar exists; --eab-kid/--eab-key are not needed and were not used');
    return { url: plan.accountUrl, registered: false };
  }
  const account = await registerAccount(client, accountKey, { agreeTos: true, eab: plan.eab, contact: plan.contacts }).catch((err: unknown) => {
    throw err instanceof Error ? new StepError('register', err) : err;
  });
  const generatedKey = plan.existingAccountKey ? undefined : await saveGeneratedKey(opts.accountKey, accountKey, rt);
  await writeAccountUrl(opts.accountKey, account.url);
  client.login(accountKey, account.url);
  rt.emit({ type: 'account-registered', url: account.url, termsOfService: client.directory.meta?.termsOfService });
  return { url: account.url, registered: true, generatedKey };
}

/** The CSR for the order, from its identifiers. */
function buildCsrFor(key: PrivateKey, identifiers: Identifier[]): Promise<Buffer> {
  return buildCsr({ identifiers, key });
}

/**
 * The one call of the library's issuance flow (the solvers in order of preference, one chosen per
 * authorization). The CSR, and the ASN.1 modules it loads (~30 ms of CPU), is built as soon as the
 * first challenge is triggered: while the CA validates, the event loop is otherwise idle.
 */
function orderCertificate(client: AcmeClient, plan: IssuePlan, replaces: string | undefined, log: Logger, signal: AbortSignal) {
  let csr: Promise<Buffer> | undefined;
  const startCsr = (): Promise<Buffer> => {
    csr ??= plan.certKey.key.then((k) => buildCsrFor(k, plan.identifiers));
    csr.catch(() => {}); // awaited through csr(); avoid an unhandled rejection meanwhile
    return csr;
  };
  return issueCertificate(client, {
    identifiers: plan.identifiers,
    profile: plan.opts.profile,
    replaces,
    solvers: [plan.solver],
    csr: startCsr,
    events: { onChallengeTriggered: () => void startCsr() },
    pollTimeoutMs: plan.pollTimeout * 1000,
    log,
    signal,
  });
}

/** Order, validate, finalize, download; then write key, chain and renewal config together. */
export async function executeIssue(plan: IssuePlan, client: AcmeClient, rt: Runtime, extra: { replaces?: string } = {}): Promise<IssueResult> {
  const { opts } = plan;
  warnUnknownProfile(client, opts.profile, rt);
  const account = await useAccount(client, plan, rt);

  const result = await orderCertificate(client, plan, extra.replaces, rt.log.child?.('akamu_client') ?? rt.log, rt.signal);

  const key = await plan.certKey.key;
  const leaf = splitPemCertificates(result.chainPem)[0];
  if (!leaf || !(await publicKeyMatches(leaf, key))) {
    throw new AkamuError('the server returned a certificate that does not match the certificate key; nothing was written');
  }
  const configPath = renewalConfigPath(opts.out);
  const profile = result.order.profile ?? opts.profile;
  const config = renewalConfig(plan, key.keyType, profile);
  // key, chain and renewal config are all fully written before any of them is moved into place
  const files = [{ path: opts.out, data: result.chainPem }, { path: configPath, data: await renderRenewalConfig(config) }];
  if (plan.certKey.isNew) files.unshift({ path: plan.certKey.path, data: key.toPem() });
  await writeFilesAtomic(files);

  return {
    command: 'issue',
    identifiers: plan.identifiers,
    account,
    certificate: { path: opts.out, url: result.order.certificate, profile },
    certificateKey: { path: plan.certKey.path, keyType: key.keyType, generated: plan.certKey.isNew },
    renewalConfigPath: configPath,
    eabKeyNotStored: opts.eabKey !== undefined,
  };
}

/** What `renew --renewal-config` needs to repeat this issuance; paths are made absolute for cron. */
function renewalConfig(plan: IssuePlan, certKeyType: KeyType, profile: string | undefined): RenewalConfig {
  const { opts } = plan;
  return renewalConfigFromOptions({
    ...opts,
    identifiers: plan.identifiers,
    accountKey: resolve(opts.accountKey),
    keyType: plan.existingAccountKey?.keyType ?? plan.accountKeyType,
    out: resolve(opts.out),
    certKey: resolve(plan.certKey.path),
    certKeyType,
    challenge: plan.challenge,
    httpPort: plan.httpPort,
    tlsPort: plan.tlsPort,
    pollTimeout: plan.pollTimeout,
    eabAlg: plan.eab?.alg ?? opts.eabAlg?.toUpperCase(),
    eabKid: plan.eabKidForConfig,
    dnsHook: opts.dnsHook?.includes('/') ? resolve(opts.dnsHook) : opts.dnsHook,
    profile,
  }, { contacts: plan.contacts });
}

export async function issue(opts: IssueOptions, rt: Runtime): Promise<IssueResult> {
  const { domain, ...rest } = opts;
  const plan = await planIssue({ ...rest, identifiers: identifiersFromFlags(domain) }, rt);
  const client = await connect(opts, rt);
  return executeIssue(plan, client, rt);
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
