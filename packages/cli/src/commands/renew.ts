/**
 * `akamu-cli renew`: ARI-aware renewal (RFC 9773). Settings come from `--renewal-config` (explicit
 * flags override single fields) or from flags alone. Before the renewal is due it prints when it
 * will be and exits 0 without ordering anything, so it is safe to run from cron every day.
 */
import { UsageError, parseKeyType, type AcmeClient } from 'akamu-client';
import { LETS_ENCRYPT_DIRECTORY } from '../defaults.js';
import type { RenewOptions } from '../program.js';
import type { RenewAllResult, RenewResult } from '../results.js';
import type { Runtime } from '../runtime.js';
import { connect } from '../server.js';
import { RENEWAL_FIELDS, readRenewalConfig, renewalConfigOptions } from '../files/renewal-config.js';
import { identifiersFromFlags } from '../identifiers.js';
import { eabKeyGiven } from '../eab.js';
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { journalPath, lockPath, openCertificateSet } from '../files/cert-set.js';
import { chainFileSha256, checkRenewal, type CheckDeps, type RenewalCheck } from './renewal-check.js';
import { planIssue, executeIssue, certificateSetPaths, withListeners, type IssuePlan, type IssueSettings, type CertKeyRule, type ShareSolvers } from './issue.js';
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
    // tkauth-01: the identifier is --jwtcc's or the Token Authority's
    if (!identifiers && opts.challenge !== 'tkauth-01') throw new UsageError('-d DOMAIN is required unless --renewal-config is given');
    return {
      opts: { ...flags, server: opts.server ?? LETS_ENCRYPT_DIRECTORY, accountKey, out, identifiers: identifiers ?? [] },
      certKeyRule: { pinned: opts.certKey !== undefined, requested, fallbackType: RENEWAL_FIELDS.cert_key_type.default },
      certForAri: cert,
      certGiven: cert !== undefined,
    };
  }
  const cfg = await readRenewalConfig(renewalConfig);
  // --server-ca is never stored: it must be given on every run that needs it (it is among the flags)
  const merged: IssueSettings = { ...renewalConfigOptions(cfg), ...given(flags), ...(identifiers ? { identifiers } : {}) };
  // an EAB method on the command line replaces the stored one (they are mutually exclusive)
  if (flags.gssapiKeytab !== undefined) merged.eabKid = undefined;
  else if (flags.eabKid !== undefined || flags.eabKey !== undefined || flags.eabKeyFile !== undefined) merged.gssapiKeytab = undefined;
  // an explicit --webroot replaces the stored webroots, the per-name ones included
  if (flags.webroot !== undefined) merged.webrootMap = undefined;
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
 * What renew --all shares between its certificates; a single renew uses none of it.
 * - `client`: the client of one CA for the ARI check (`purpose: 'ari'`) and of one CA and account
 *   for the issuance, instead of a connection per certificate.
 * - `ariCache`: read `<cert_path>.ari.json` and keep fresh answers there.
 * - `checkFirst`: decide before planning, so a certificate that is not due costs no plan.
 */
export interface RenewDeps extends CheckDeps {
  client?: (opts: IssueSettings, purpose: 'ari' | 'issue', rt: Runtime) => Promise<AcmeClient>;
  checkFirst?: boolean;
  shareSolvers?: ShareSolvers;
  /** Told the merged settings once they are known. */
  onSettings?: (opts: IssueSettings) => void;
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
  deps.onSettings?.(m.opts);
  const paths = certificateSetPaths(m.opts);
  let shared: Promise<AcmeClient> | undefined;
  const client = (purpose: 'ari' | 'issue'): Promise<AcmeClient> => (deps.client ? deps.client(m.opts, purpose, rt) : (shared ??= connect(m.opts, rt)));
  // renew --all: a set that no run is writing (no lock, no journal) is checked without its lock, which
  // only a certificate that is due then takes (the check only reads, and writes the ARI cache atomically)
  let pre: RenewalCheck | undefined;
  if (deps.checkFirst && !opts.force && (await setIsQuiet(paths.chain))) {
    pre = await checkRenewal(m, paths, opts.force, rt, deps, () => client('ari')).catch(async (err: unknown) => {
      await failureHook(hookTargetOf(m.opts), 'renew', err, rt);
      throw err;
    });
    if (pre.checked && !pre.checked.decision.due) return { command: 'renew', checked: pre.checked };
  }
  // lock the certificate's files and repair an interrupted commit before anything is read from them
  const set = await openCertificateSet(paths, rt.log);
  try {
    if (set.recovered && opts.renewalConfig) m = await mergeWithConfig(opts);
    const makePlan = () => planIssue(m.opts, rt, { contacts: m.contacts, certKeyRule: m.certKeyRule, eabKidForConfig: m.eabKidForConfig, set, shareSolvers: deps.shareSolvers });
    let plan: IssuePlan | undefined;
    try {
      // a single renew checks everything before the first request; renew --all only what is due
      if (!deps.checkFirst) plan = await makePlan();
      // the check made before the lock holds while the chain is the file it judged
      const unchanged = pre?.chainSha256 !== undefined && !set.recovered && (await chainFileSha256(m.certForAri)) === pre.chainSha256;
      const check = unchanged && pre ? pre : await checkRenewal(m, paths, opts.force, rt, deps, () => client('ari'));
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

/** No run holds the set's lock and no commit of it was interrupted (both files absent). */
async function setIsQuiet(chain: string): Promise<boolean> {
  // synchronous: two lstat calls per certificate of renew --all, cheaper than two thread-pool trips
  const absent = (p: string): boolean => {
    try {
      return lstatSync(p, { throwIfNoEntry: false }) === undefined;
    } catch {
      return false;
    }
  };
  const c = resolve(chain);
  return absent(lockPath(c)) && absent(journalPath(c));
}
