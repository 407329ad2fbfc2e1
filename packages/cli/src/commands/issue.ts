/** `akamu-cli issue`: obtain a certificate. `renew` reuses the same plan and execution. */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  PrivateKey, UsageError, AkamuError, parseKeyType, issueCertificate, buildCsr, splitPemCertificates, certificateFacts,
  publicKeyMatches, type KeyType, type AcmeClient, type Authorization, type Identifier, type IssueEvents, type Logger, type Solver, type TkAuth01Solver,
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
import { accountUrlPath, readAccountUrl, writeAccountUrl } from '../files/account-url.js';
import { prepareWrite } from '../files/atomic.js';
import { openCertificateSet, type CertificateSet, type CertificateSetPaths } from '../files/cert-set.js';
import { resolveWriteTarget } from '../files/links.js';
import { RENEWAL_FIELDS, renderRenewalConfig, renewalConfigFromOptions, renewalConfigPath, type RenewalConfig } from '../files/renewal-config.js';
import { identifiersFromFlags, normalizeIdentifiers } from '../identifiers.js';
import { checkDnsHook, makeSolvers } from '../solvers.js';
import { loadOnionKey } from '../files/onion-key.js';
import { planDns, type DnsPlan } from '../dns-settings.js';
import { planHooks, type HookPlan } from '../hooks.js';
import { deployAfter, failureHook } from './hook-steps.js';
import { planTkauth, tkauthIdentifiers } from '../tkauth.js';

/**
 * What an issuance is planned from: the issue flags, with identifiers instead of `-d` strings and
 * numbers as given (strings from flags, numbers from a renewal config; both are checked).
 */
export interface IssueSettings extends Omit<IssueOptions, 'domain' | 'httpPort' | 'tlsPort' | 'pollTimeout' | 'hookTimeout' | 'contact' | 'agreeTos' | 'dnsPropagationTimeout' | 'propagationCheck'> {
  identifiers: Identifier[];
  /** `--contact` (issue): the contacts of an account this run registers. */
  contact?: string[];
  /** `--agree-tos` (issue): the operator agreed explicitly, so the terms need no note. */
  agreeTos?: boolean;
  httpPort?: string | number;
  tlsPort?: string | number;
  pollTimeout?: string | number;
  dnsPropagationTimeout?: string | number;
  /** false: `--no-propagation-check`. */
  propagationCheck?: boolean;
  /** `webroot_map` of a renewal config (an imported certbot lineage): per-name webroots. */
  webrootMap?: Record<string, string>;
  hookTimeout?: string | number;
  /** An imported certbot lineage's manual hooks (renewal config only; no flags). */
  certbotAuthHook?: string;
  certbotCleanupHook?: string;
}

/**
 * How the certificate key is chosen (renew passes its own rule): a new key on every issuance,
 * unless the key is pinned.
 */
export interface CertKeyRule {
  /**
   * The key is pinned (`--cert-key`, or `reuse_key = true` in the renewal config): reused when it
   * exists, never replaced; generated and saved there when it does not exist yet.
   */
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
  /** In order of preference (onion-csr-01 first when there is an onion key); one is chosen per authorization. */
  solvers: Solver[];
  /** The tkauth-01 solver (among `solvers`); with no identifiers yet, it asks the Token Authority for one. */
  tkauth?: TkAuth01Solver;
  /** The RFC 2136 updater and the propagation check, as checked (dns-settings.ts). */
  dns: DnsPlan;
  /** The contacts an account registered by this run gets. */
  contacts: string[];
  /** The account's contacts when already known (a renewal config's); else they are asked for. */
  accountContacts?: string[];
  certKey: CertKeyPlan;
  /** The certificate's files, locked for this run; close it when the run ends. */
  set: CertificateSet;
  existingAccountKey?: PrivateKey;
  accountUrl?: string;
  /** `eab_kid` for the renewal config (kept even when its key was not given this time). */
  eabKidForConfig?: string;
  /** The deploy and failure hooks (checked) and their timeout. */
  hooks: HookPlan;
}

interface CertKeyPlan {
  path: string;
  key: Promise<PrivateKey>;
  /** True when the key is new and must be written together with the chain. */
  isNew: boolean;
  /** Recorded in the renewal config (`reuse_key`), so renewals keep the pin. */
  pinned: boolean;
}

async function planCertKey(path: string, rule: CertKeyRule, rt: Runtime): Promise<CertKeyPlan> {
  const { pinned } = rule;
  if (pinned) {
    // the link rules hold for the key read as much as for the key written
    await resolveWriteTarget(path);
    const existing = await loadKeyFile(path, 'certificate key');
    if (existing) {
      if (rule.requested !== undefined && rule.requested !== existing.keyType) {
        rt.emit({ type: 'cert-key-type-ignored', path, keyType: existing.keyType, requested: rule.requested });
      }
      return { path, key: Promise.resolve(existing), isNew: false, pinned };
    }
  }
  const keyType = rule.requested ?? rule.fallbackType;
  rt.log.info(`a new ${keyType} certificate key is generated; it is written to ${path} together with the certificate`);
  const key = PrivateKey.generate(keyType);
  key.catch(() => {}); // awaited later; avoid an unhandled rejection in between
  return { path, key, isNew: true, pinned };
}

/**
 * Fail before ordering when an output cannot be written, so no certificate is issued in vain: a
 * link that may not be followed, something that is not a regular file, a directory we may not write.
 */
async function checkWritable(path: string): Promise<void> {
  const dir = dirname(resolve(path));
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw cannotWrite(dir, err);
  }
  const { file } = await resolveWriteTarget(path);
  try {
    const probe = await prepareWrite(file, '');
    await probe.abort();
  } catch (err) {
    throw cannotWrite(dirname(file), err);
  }
}

function cannotWrite(dir: string, err: unknown): UsageError {
  const e = err as NodeJS.ErrnoException;
  return new UsageError(`cannot write to ${dir}: ${e.code === 'EACCES' ? 'permission denied' : e.message}`);
}

/** The files of the certificate an issuance writes: chain, key and renewal config. */
export function certificateSetPaths(opts: Pick<IssueSettings, 'out' | 'certKey'>): CertificateSetPaths {
  return { chain: opts.out, key: opts.certKey ?? `${opts.out}.key.pem`, config: renewalConfigPath(opts.out) };
}

/**
 * Validate everything and read local files: no network. Locks the certificate's files (and repairs
 * an interrupted commit) unless the caller has already done so (`extra.set`).
 */
export async function planIssue(
  opts: IssueSettings,
  rt: Runtime,
  extra: { contacts?: string[]; certKeyRule?: CertKeyRule; eabKidForConfig?: string; set?: CertificateSet; shareSolvers?: ShareSolvers } = {},
): Promise<IssuePlan> {
  const challenge = opts.challenge ?? RENEWAL_FIELDS.challenge_type.default;
  const tkauth = await planTkauth({ ...opts, challenge }, rt);
  // tkauth-01 without --jwtcc and without a stored identifier: the Token Authority names it, once
  // the account key is known (executeIssue)
  const given = tkauth ? tkauthIdentifiers(opts.jwtcc, opts.identifiers) : opts.identifiers;
  const identifiers = tkauth && given.length === 0 ? [] : normalizeIdentifiers(given);
  if (opts.preferredChain !== undefined && opts.preferredChain.trim() === '') throw new UsageError('--preferred-chain needs an issuer common name');
  // the defaults are the renewal config's (the reference gives the same ones for the flags)
  const accountKeyType = parseKeyType(opts.keyType ?? RENEWAL_FIELDS.account_key_type.default);
  const eab = await parseEab(opts);
  const pollTimeout = parsePositiveSeconds(String(opts.pollTimeout ?? RENEWAL_FIELDS.poll_timeout.default), '--poll-timeout');
  const httpPort = parsePort(String(opts.httpPort ?? RENEWAL_FIELDS.http_port.default), '--http-port');
  const tlsPort = parsePort(String(opts.tlsPort ?? RENEWAL_FIELDS.tls_port.default), '--tls-port');
  const onionKey = opts.onionKey !== undefined ? await loadOnionKey(opts.onionKey) : undefined;
  const dns = await planDns(opts, challenge, rt);
  const made = makeSolvers({
    challenge, dnsHook: opts.dnsHook, httpPort, tlsPort, onionKey, tkauth, webroot: opts.webroot, webrootMap: opts.webrootMap, dns,
    certbotAuthHook: opts.certbotAuthHook, certbotCleanupHook: opts.certbotCleanupHook,
  }, identifiers, rt);
  const solvers = extra.shareSolvers ? extra.shareSolvers(made, { httpPort, tlsPort }) : made;
  if (opts.dnsHook !== undefined && challenge.startsWith('dns-')) await checkDnsHook(opts.dnsHook);
  const hooks = await planHooks(opts);
  // where the files go is checked before any key is read or generated
  await checkOutputTarget(opts.out, '--out');
  await checkOutputTarget(renewalConfigPath(opts.out), 'renewal config');

  const rule = extra.certKeyRule ?? {
    pinned: opts.certKey !== undefined,
    requested: opts.certKeyType !== undefined ? parseKeyType(opts.certKeyType) : undefined,
    fallbackType: RENEWAL_FIELDS.cert_key_type.default,
  };
  // the account key is not part of the certificate's set: read it before the set is locked, so a
  // bad account key leaves nothing behind (not even the lock's directory)
  const existingAccountKey = await loadKeyFile(opts.accountKey, 'account key');
  if (!existingAccountKey) await checkOutputTarget(opts.accountKey, '--account-key');
  const accountUrl = existingAccountKey ? await readAccountUrl(opts.accountKey) : undefined;
  const paths = certificateSetPaths(opts);
  const set = extra.set ?? (await openCertificateSet(paths, rt.log));
  try {
    const certKey = await planCertKey(paths.key, rule, rt);
    // RFC 9799 §3.2: the certificate key must not be the one that signed the onion-csr-01 CSR
    if (onionKey && !certKey.isNew && (await certKey.key).samePublicKey(onionKey.key)) {
      throw new UsageError(`the certificate key ${certKey.path} is the onion service key; the certificate needs a key of its own`);
    }
    if (certKey.isNew) await checkOutputTarget(certKey.path, 'certificate key');
    for (const path of [paths.chain, paths.config, ...(certKey.isNew ? [paths.key] : [])]) await checkWritable(path);
    return {
      opts, identifiers, accountKeyType, eab, pollTimeout, challenge, httpPort, tlsPort, solvers, tkauth, dns,
      contacts: extra.contacts ?? opts.contact ?? [], certKey, set, existingAccountKey, accountUrl, eabKidForConfig: extra.eabKidForConfig ?? opts.eabKid, hooks,
      ...(extra.contacts ? { accountContacts: extra.contacts } : {}),
    };
  } catch (err) {
    if (!extra.set) await set.close();
    throw err;
  }
}

/**
 * renew --all: one http-01 / tls-alpn-01 listener per port for all the certificates renewed at
 * once (each issuance's own solver would collide on the port).
 */
export type ShareSolvers = (solvers: Solver[], ports: { httpPort: number; tlsPort: number }) => Solver[];

/** The account in use, and its contacts (as registered, or as known) for the renewal config. */
interface UsedAccount {
  account: IssueResult['account'];
  contacts?: string[];
}

/** Log in with the sidecar's account, or register one (writing key and sidecar at once). */
async function useAccount(client: AcmeClient, plan: IssuePlan, rt: Runtime): Promise<UsedAccount> {
  const { opts } = plan;
  const accountKey = plan.existingAccountKey ?? (await PrivateKey.generate(plan.accountKeyType));
  if (plan.accountUrl) {
    client.login(accountKey, plan.accountUrl);
    if (plan.eab) rt.log.debug('an account URL sidecar exists; --eab-kid/--eab-key are not needed and were not used');
    if (opts.gssapiKeytab !== undefined) rt.log.debug('an account URL sidecar exists; the GSSAPI EAB request (--gssapi-keytab) is not needed and was not sent');
    rt.log.info(`account: ${plan.accountUrl} (from ${accountUrlPath(opts.accountKey)})`);
    return { account: { url: plan.accountUrl, registered: false }, contacts: plan.accountContacts };
  }
  const account = await registerAccount(client, accountKey, { agreeTos: true, eab: plan.eab, gssapiKeytab: opts.gssapiKeytab, contact: plan.contacts }, rt).catch((err: unknown) => {
    throw err instanceof Error ? new StepError('register', err) : err;
  });
  const generatedKey = plan.existingAccountKey ? undefined : await saveGeneratedKey(opts.accountKey, accountKey, rt);
  await writeAccountUrl(opts.accountKey, account.url);
  client.login(accountKey, account.url);
  // with --agree-tos the operator agreed knowingly; without it the note names the terms agreed to
  rt.emit({ type: 'account-registered', url: account.url, termsOfService: opts.agreeTos ? undefined : client.directory.meta?.termsOfService });
  rt.log.info(`account: registered ${account.url}`);
  return { account: { url: account.url, registered: true, generatedKey }, contacts: account.contact };
}

/** `*.example.com` for a wildcard authorization. */
const authorizationName = (a: Authorization): string => (a.wildcard && !a.identifier.value.startsWith('*.') ? `*.${a.identifier.value}` : a.identifier.value);

/**
 * The info-level progress lines of an issuance, the start of work that can use the CA's validation
 * time, and whatever else watches the issuance (`watch`: the progress line on a terminal).
 */
function progressEvents(log: Logger, onTriggered: () => void, watch: IssueEvents = {}): IssueEvents {
  return {
    ...watch,
    onOrderPlaced: (o) => {
      log.info(`order placed: ${o.url} (${o.authorizations.length} authorization${o.authorizations.length === 1 ? '' : 's'})`);
      watch.onOrderPlaced?.(o);
    },
    onAuthorizationDone: (a) => {
      log.info(`authorization for ${authorizationName(a)}: ${a.status}`);
      watch.onAuthorizationDone?.(a);
    },
    onChallengeTriggered: (ctx) => {
      onTriggered();
      watch.onChallengeTriggered?.(ctx);
    },
    onOrderReady: (o) => {
      if (o.status === 'ready') log.info('all authorizations valid; finalizing');
      watch.onOrderReady?.(o);
    },
  };
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
function orderCertificate(client: AcmeClient, plan: IssuePlan, replaces: string | undefined, rt: Runtime, onTriggered: () => void) {
  let csr: Promise<Buffer> | undefined;
  const startCsr = (): Promise<Buffer> => {
    csr ??= plan.certKey.key.then((k) => buildCsrFor(k, plan.identifiers));
    csr.catch(() => {}); // awaited through csr(); avoid an unhandled rejection meanwhile
    return csr;
  };
  return issueCertificate(client, {
    identifiers: plan.identifiers,
    profile: plan.opts.profile,
    ...(plan.opts.preferredChain !== undefined ? { preferredChain: plan.opts.preferredChain } : {}),
    replaces,
    solvers: plan.solvers,
    csr: startCsr,
    events: progressEvents(rt.log, () => {
      void startCsr();
      onTriggered();
    }, rt.issueEvents),
    pollTimeoutMs: plan.pollTimeout * 1000,
    log: rt.log.child('akamu_client'),
    signal: rt.signal,
  });
}

/**
 * The account's contacts for the renewal config: known, or asked for once while the CA validates
 * (the event loop is idle then), so the question costs no waiting. A failed question is not fatal.
 */
function contactsOf(client: AcmeClient, used: UsedAccount, rt: Runtime): { start(): void; get(): Promise<string[]> } {
  let asked: Promise<string[]> | undefined;
  const start = (): void => {
    if (used.contacts || asked) return;
    asked = client.getAccount().then((a) => a.contact ?? [], (err: unknown) => {
      rt.log.warn(`cannot read the account's contacts for the renewal config (${(err as Error).message.split('\n')[0]}); writing none`);
      return [];
    });
  };
  return {
    start,
    get: async () => {
      start();
      return used.contacts ?? (await asked) ?? [];
    },
  };
}

/**
 * Binds the challenge listeners (http-01, tls-alpn-01) before anything is ordered and holds them
 * until `work` ends, so a busy or privileged port fails the run at once and orders nothing. The
 * issuance starts them again (a no-op) and stops them when validation is over.
 */
export async function withListeners<T>(plan: IssuePlan, work: () => Promise<T>): Promise<T> {
  const started: Solver[] = [];
  try {
    for (const solver of plan.solvers) {
      await solver.start?.();
      started.push(solver);
    }
    return await work();
  } finally {
    for (const solver of started) await solver.stop?.();
  }
}

/** Order, validate, finalize, download; then write key, chain and renewal config together. */
export async function executeIssue(planned: IssuePlan, client: AcmeClient, rt: Runtime, extra: { replaces?: string } = {}): Promise<IssueResult> {
  const { opts } = planned;
  warnUnknownProfile(client, opts.profile, rt);
  suggestShortlivedProfile(client, planned, rt);
  const used = await useAccount(client, planned, rt);
  const { account } = used;
  const plan = await withAuthorityIdentifier(planned, client);
  const contacts = contactsOf(client, used, rt);

  const result = await orderCertificate(client, plan, extra.replaces, rt, contacts.start);

  const key = await plan.certKey.key;
  const leaf = splitPemCertificates(result.chainPem)[0];
  if (!leaf || !(await publicKeyMatches(leaf, key))) {
    throw new AkamuError('the server returned a certificate that does not match the certificate key; nothing was written');
  }
  const facts = await certificateFacts(leaf);
  const { notAfter } = facts;
  rt.log.info(`certificate downloaded: serial ${facts.serialHex}, not after ${notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
  const configPath = renewalConfigPath(opts.out);
  const profile = result.order.profile ?? opts.profile;
  const config = renewalConfig(plan, key.keyType, profile, await contacts.get());
  // key, chain and renewal config commit as one set: a crash leaves the old set or (completed by
  // the next run) the new one, never the new key with the old chain
  await plan.set.commit({
    chain: result.chainPem,
    config: await renderRenewalConfig(config),
    ...(plan.certKey.isNew ? { key: key.toPem() } : {}),
  });
  rt.log.info(`files written: ${[...(plan.certKey.isNew ? [plan.certKey.path] : []), opts.out, configPath].join(', ')}`);

  return {
    command: 'issue',
    identifiers: plan.identifiers,
    account,
    certificate: { path: opts.out, url: result.order.certificate, profile, serial: facts.serialHex, notAfter },
    certificateKey: { path: plan.certKey.path, keyType: key.keyType, generated: plan.certKey.isNew },
    renewalConfigPath: configPath,
    eabKeyNotStored: opts.eabKey !== undefined,
    ...(result.preferredChain ? { preferredChain: result.preferredChain } : {}),
  };
}

/**
 * tkauth-01 with no identifier yet (no --jwtcc, none stored): the one the Token Authority vouches
 * for this account, asked before ordering (a Token Authority failure orders nothing).
 */
async function withAuthorityIdentifier(plan: IssuePlan, client: AcmeClient): Promise<IssuePlan> {
  if (!plan.tkauth || plan.identifiers.length > 0) return plan;
  const identifier = await plan.tkauth.identifierFromAuthority(client.accountJwk());
  return { ...plan, identifiers: [identifier] };
}

/** What `renew --renewal-config` needs to repeat this issuance; paths are made absolute for cron. */
function renewalConfig(plan: IssuePlan, certKeyType: KeyType, profile: string | undefined, contacts: string[]): RenewalConfig {
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
    // a hook is kept only for the challenge types that call it
    dnsHook: !plan.challenge.startsWith('dns-') ? undefined : hookPath(opts.dnsHook),
    deployHook: hookPath(plan.hooks.deploy),
    failureHook: hookPath(plan.hooks.failure),
    hookTimeout: opts.hookTimeout !== undefined ? plan.hooks.timeoutMs / 1000 : undefined,
    onionKey: opts.onionKey !== undefined ? resolve(opts.onionKey) : undefined,
    // the DNS settings only for the challenge types that use them (dns-settings.ts decides)
    dnsRfc2136: plan.dns.config.dnsRfc2136,
    tsigKey: plan.dns.config.tsigKey !== undefined ? resolve(plan.dns.config.tsigKey) : undefined,
    dnsZone: plan.dns.config.dnsZone,
    dnsResolver: plan.dns.config.dnsResolver,
    dnsPropagationTimeout: plan.dns.config.dnsPropagationTimeout,
    gssapiKeytab: opts.gssapiKeytab !== undefined ? resolve(opts.gssapiKeytab) : undefined,
    // webroots are kept only for http-01, the challenge that uses them
    webroot: plan.challenge === 'http-01' && opts.webroot !== undefined ? resolve(opts.webroot) : undefined,
    webrootMap: plan.challenge === 'http-01' && opts.webrootMap ? resolvedMap(opts.webrootMap) : undefined,
    preferredChain: opts.preferredChain,
    // the Token Authority settings only for tkauth-01 (the identifier itself is in `domains`)
    tkauthUrl: plan.tkauth ? opts.tkauthUrl : undefined,
    tkauthKeytab: plan.tkauth && opts.tkauthKeytab !== undefined ? resolve(opts.tkauthKeytab) : undefined,
    jwtcc: plan.tkauth ? opts.jwtcc : undefined,
    profile,
  }, { contacts, reuse_key: plan.certKey.pinned ? true : undefined });
}

function resolvedMap(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([name, dir]) => [name, resolve(dir)]));
}

/** A hook given as a path is stored absolute (cron runs elsewhere); a bare name is looked up in PATH. */
const hookPath = (cmd: string | undefined): string | undefined => (cmd?.includes('/') ? resolve(cmd) : cmd);

export async function issue(opts: IssueOptions, rt: Runtime): Promise<IssueResult> {
  const { domain, ...rest } = opts;
  const plan = await planIssue({ ...rest, identifiers: identifiersFromFlags(domain) }, rt);
  try {
    const issued = await withListeners(plan, async () => executeIssue(plan, await connect(opts, rt), rt)).catch(async (err: unknown) => {
      await failureHook(plan, 'issue', err, rt);
      throw err;
    });
    const { issued: result, failure } = await deployAfter(plan, issued, 'issued', rt);
    return failure !== undefined ? { ...result, failure } : result;
  } finally {
    await plan.set.close();
  }
}

/**
 * IP address certificates: some CAs (Let's Encrypt) issue them only under a short-lived profile.
 * When none was asked for and the directory offers one named like that, a note suggests it.
 */
function suggestShortlivedProfile(client: AcmeClient, plan: IssuePlan, rt: Runtime): void {
  if (plan.opts.profile !== undefined) return;
  const ips = plan.identifiers.filter((i) => i.type === 'ip').map((i) => i.value);
  if (ips.length === 0) return;
  const profile = Object.keys(client.directory.meta?.profiles ?? {}).find((name) => /short[-_ ]?lived/i.test(name));
  if (profile !== undefined) rt.emit({ type: 'profile-suggested', profile, ipAddresses: ips });
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
