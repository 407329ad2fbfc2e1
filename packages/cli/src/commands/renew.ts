/**
 * `akamu-cli renew`: ARI-aware renewal (RFC 9773). Settings come from `--renewal-config` (explicit
 * flags override single fields) or from flags alone. Before the renewal is due it prints when it
 * will be and exits 0 without ordering anything, so it is safe to run from cron every day.
 */
import { resolve } from 'node:path';
import {
  UsageError, parseKeyType, certificateFacts, renewalDecision, publicKeyMatches, splitPemCertificates,
  type AcmeClient, type CertificateFacts, type RenewalInfo,
} from 'akamu-client';
import { LETS_ENCRYPT_DIRECTORY } from '../defaults.js';
import type { RenewOptions } from '../program.js';
import type { RenewAllResult, RenewResult } from '../results.js';
import type { Runtime } from '../runtime.js';
import { connect } from '../server.js';
import { RENEWAL_FIELDS, readRenewalConfig, renewalConfigOptions } from '../files/renewal-config.js';
import { identifiersFromFlags } from '../identifiers.js';
import { eabKeyGiven } from '../eab.js';
import { CHAIN_FILE_LIMIT, InputFileError, describeFsError, readInputText } from '../files/read-input.js';
import { loadKeyFile } from '../files/keys.js';
import { openCertificateSet, type CertificateSetPaths } from '../files/cert-set.js';
import { readAriCache, writeAriCache } from '../files/ari-cache.js';
import { planIssue, executeIssue, certificateSetPaths, withListeners, type IssueSettings, type CertKeyRule, type ShareSolvers } from './issue.js';
import { deployAfter, failureHook, hookTargetOf } from './hook-steps.js';

interface Merged {
  opts: IssueSettings;
  /** The renewal config's contacts (undefined without one). */
  contacts?: string[];
  certKeyRule: CertKeyRule;
  certForAri?: string;
  /** `--cert` named it: it must exist (a renewal config's cert_path may not exist yet). */
  certGiven: boolean;
  eabKidForConfig?: string;
}

/** `renew --renewal-config F`: explicit flags > the file > defaults (the table's, applied when it was read). */
async function mergeWithConfig(opts: RenewOptions): Promise<Merged> {
  const requested = opts.certKeyType !== undefined ? parseKeyType(opts.certKeyType) : undefined;
  const { domain, renewalConfig, cert, force: _force, all: _all, concurrency: _c, randomDelay: _r, ...flags } = opts;
  const identifiers = domain?.length ? identifiersFromFlags(domain) : undefined;
  if (!renewalConfig) {
    const { accountKey, out } = opts;
    if (accountKey === undefined) throw new UsageError('--account-key is required unless --renewal-config is given');
    if (out === undefined) throw new UsageError('--out is required unless --renewal-config is given');
    if (!identifiers) throw new UsageError('-d DOMAIN is required unless --renewal-config is given');
    return {
      opts: { ...flags, server: opts.server ?? LETS_ENCRYPT_DIRECTORY, accountKey, out, identifiers },
      certKeyRule: { pinned: opts.certKey !== undefined, requested, fallbackType: RENEWAL_FIELDS.cert_key_type.default },
      certForAri: cert,
      certGiven: cert !== undefined,
    };
  }
  const cfg = await readRenewalConfig(renewalConfig);
  // --server-ca is never stored: it must be given on every run that needs it (it is among the flags)
  const merged: IssueSettings = { ...renewalConfigOptions(cfg), ...given(flags), ...(identifiers ? { identifiers } : {}) };
  // a stored kid without its key is only needed to register anew; keep it for the next config
  const eabKid = merged.eabKid;
  if (!eabKeyGiven(merged)) merged.eabKid = undefined;
  return {
    opts: merged,
    contacts: cfg.contacts,
    // a new key of the stored type (or the one asked for), unless the key is pinned
    certKeyRule: { pinned: opts.certKey !== undefined || cfg.reuse_key === true, requested, fallbackType: parseKeyType(cfg.cert_key_type) },
    certForAri: cert ?? cfg.cert_path,
    certGiven: cert !== undefined,
    eabKidForConfig: eabKid,
  };
}

/** The flags that were given (an undefined one does not override the file). */
function given<T extends object>(flags: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/**
 * The certificate to check. `--cert` must exist (a typo in a cron line must not renew on every
 * run); the renewal config's cert_path may not exist yet: then it is issued.
 */
async function readCertificate(path: string, explicit: boolean, rt: Runtime): Promise<{ text: string; facts: CertificateFacts } | undefined> {
  let text: string;
  try {
    text = await readInputText(path, CHAIN_FILE_LIMIT);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // a FIFO, a device or a huge file at the certificate's place is not "no certificate": refuse
    if (e instanceof InputFileError) throw new UsageError(`cannot read certificate ${path}: ${describeFsError(e)}`);
    if (e.code === 'ENOENT' && explicit) throw new UsageError(`cannot read --cert ${path}: no such file`);
    if (e.code === 'ENOENT') rt.log.info(`no certificate at ${path} yet; issuing one`);
    else rt.log.warn(`cannot read certificate ${path} (${describeFsError(e)}); renewing`);
    return undefined;
  }
  try {
    return { text, facts: await certificateFacts(text) };
  } catch (err) {
    rt.log.warn(`cannot parse certificate ${path} (${(err as Error).message}); renewing`);
    return undefined;
  }
}

/** The server's renewal window for the certificate; undefined when ARI is not to be had (a warning when its request failed). */
async function fetchRenewalInfo(client: AcmeClient, certText: string, rt: Runtime): Promise<RenewalInfo | undefined> {
  if (!client.supportsAri) {
    // the CA's normal state, not a problem: at info, so a daily cron job stays silent
    rt.log.info('the server does not support ARI (no renewalInfo in its directory); using the expiry rule');
    return undefined;
  }
  try {
    return await client.getRenewalInfo(certText);
  } catch (err) {
    rt.log.warn(`ARI unavailable (${(err as Error).message.split('\n')[0]}); using the expiry rule`);
    return undefined;
  }
}

/**
 * Does the certificate's key file hold the key of the chain's leaf? Only asked when the certificate
 * checked is the chain this renewal writes (a mismatch means a damaged set: renew whatever ARI says).
 */
async function keyMatches(certPath: string, certText: string, paths: CertificateSetPaths, rt: Runtime): Promise<boolean> {
  if (resolve(certPath) !== resolve(paths.chain)) return true;
  const keyPath = paths.key;
  let why: string;
  try {
    const key = await loadKeyFile(keyPath, 'certificate key');
    const leaf = splitPemCertificates(certText)[0];
    if (key && leaf && (await publicKeyMatches(leaf, key))) return true;
    why = key ? 'does not match the certificate' : 'is missing';
  } catch (err) {
    why = `cannot be used (${(err as Error).message})`;
  }
  rt.log.warn(`the certificate key ${keyPath} ${why} ${certPath}; renewing`);
  return false;
}

/**
 * What renew --all shares between its certificates; a single renew uses none of it.
 * - `client`: the client of one CA for the ARI check (`purpose: 'ari'`) and of one CA and account
 *   for the issuance, instead of a connection per certificate.
 * - `ariCache`: read `<cert_path>.ari.json` and keep fresh answers there.
 * - `checkFirst`: decide before planning, so a certificate that is not due costs no plan.
 */
export interface RenewDeps {
  client?: (opts: IssueSettings, purpose: 'ari' | 'issue', rt: Runtime) => Promise<AcmeClient>;
  ariCache?: boolean;
  checkFirst?: boolean;
  shareSolvers?: ShareSolvers;
  now?: () => Date;
  /** Told whether the ARI answer came from the cache. */
  onAri?: (cached: boolean) => void;
}

export async function renew(opts: RenewOptions, rt: Runtime): Promise<RenewResult | RenewAllResult> {
  if (opts.all !== undefined) return (await import('./renew-all.js')).renewAll(opts, rt);
  for (const [flag, name] of [[opts.concurrency, '--concurrency'], [opts.randomDelay, '--random-delay']] as const) {
    if (flag !== undefined) throw new UsageError(`${name} is only used with --all`);
  }
  return renewOne(opts, rt);
}

/** One certificate: check, and renew when due (or forced); the hooks after. */
export async function renewOne(opts: RenewOptions, rt: Runtime, deps: RenewDeps = {}): Promise<RenewResult> {
  let m = await mergeWithConfig(opts);
  // lock the certificate's files and repair an interrupted commit before anything is read from them
  const paths = certificateSetPaths(m.opts);
  const set = await openCertificateSet(paths, rt.log);
  try {
    if (set.recovered && opts.renewalConfig) m = await mergeWithConfig(opts);
    const makePlan = () => planIssue(m.opts, rt, { contacts: m.contacts, certKeyRule: m.certKeyRule, eabKidForConfig: m.eabKidForConfig, set, shareSolvers: deps.shareSolvers });
    let shared: Promise<AcmeClient> | undefined;
    const client = (purpose: 'ari' | 'issue'): Promise<AcmeClient> => (deps.client ? deps.client(m.opts, purpose, rt) : (shared ??= connect(m.opts, rt)));
    let plan = deps.checkFirst ? undefined : await makePlan();
    try {
      const check = await checkRenewal(m, paths, opts.force, rt, deps, () => client('ari'));
      if (check.checked && !check.checked.decision.due) return { command: 'renew', checked: check.checked };
      plan ??= await makePlan();
      const p = plan;
      const issued = await withListeners(p, async () => executeIssue(p, await client('issue'), rt, { replaces: check.replaces }));
      const reason = check.checked?.decision.reason ?? 'issued';
      const after = await deployAfter(p, issued, reason, rt);
      return { command: 'renew', checked: check.checked, issued: after.issued, ...(after.failure !== undefined ? { failure: after.failure } : {}) };
    } catch (err) {
      await failureHook(plan ?? hookTargetOf(m.opts), 'renew', err, rt);
      throw err;
    }
  } finally {
    await set.close();
  }
}

/** The renewal decision for the certificate to check (none: issue), and the certID a renewal replaces. */
async function checkRenewal(
  m: Merged, paths: CertificateSetPaths, force: boolean | undefined, rt: Runtime, deps: RenewDeps, ariClient: () => Promise<AcmeClient>,
): Promise<{ checked?: RenewResult['checked']; replaces?: string }> {
  // the certificate is read before anything is sent, so a bad --cert fails without a request
  const certPath = m.certForAri;
  const cert = certPath ? await readCertificate(certPath, m.certGiven, rt) : undefined;
  const client = await ariClient();
  if (!certPath || !cert) return {};
  const replaces = client.supportsAri && cert.facts.akiKeyId ? await client.certId(cert.text) : undefined;
  // a key that does not match the chain (a damaged set) is renewed whatever the window says
  if (!force && !(await keyMatches(certPath, cert.text, paths, rt))) return { replaces };
  const now = deps.now?.() ?? new Date();
  const renewalInfo = force ? undefined : await renewalInfoFor(client, certPath, cert.text, replaces, now, rt, deps);
  const decision = renewalDecision({ force, now, notBefore: cert.facts.notBefore, notAfter: cert.facts.notAfter, ...(renewalInfo ? { renewalInfo } : {}) });
  const checked = { path: certPath, notAfter: cert.facts.notAfter, decision };
  rt.emit({ type: 'renewal-decision', certificatePath: checked.path, notAfter: checked.notAfter, decision });
  return { checked, replaces };
}

/** The ARI answer: from `<cert>.ari.json` while it is valid (renew --all), else asked for (and kept). */
async function renewalInfoFor(
  client: AcmeClient, certPath: string, certText: string, certId: string | undefined, now: Date, rt: Runtime, deps: RenewDeps,
): Promise<RenewalInfo | undefined> {
  const useCache = deps.ariCache && certId !== undefined;
  if (useCache) {
    const cached = await readAriCache(certPath, { server: client.directoryUrl, certId, now });
    deps.onAri?.(cached !== undefined);
    if (cached) return cached;
  }
  const info = await fetchRenewalInfo(client, certText, rt);
  if (useCache && info) {
    await writeAriCache(certPath, client.directoryUrl, info, now).catch((err: unknown) => {
      rt.log.warn(`cannot keep the ARI answer for ${certPath} (${(err as Error).message}); it is asked for again next time`);
    });
  }
  return info;
}
