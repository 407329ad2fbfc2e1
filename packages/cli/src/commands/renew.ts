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
import type { RenewResult } from '../results.js';
import type { Runtime } from '../runtime.js';
import { connect } from '../server.js';
import { RENEWAL_FIELDS, readRenewalConfig, renewalConfigOptions } from '../files/renewal-config.js';
import { identifiersFromFlags } from '../identifiers.js';
import { eabKeyGiven } from '../eab.js';
import { CHAIN_FILE_LIMIT, InputFileError, describeFsError, readInputText } from '../files/read-input.js';
import { loadKeyFile } from '../files/keys.js';
import { openCertificateSet } from '../files/cert-set.js';
import { planIssue, executeIssue, certificateSetPaths, withListeners, type IssuePlan, type IssueSettings, type CertKeyRule } from './issue.js';

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
  const { domain, renewalConfig, cert, force: _force, ...flags } = opts;
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
async function keyMatches(certPath: string, certText: string, plan: IssuePlan, rt: Runtime): Promise<boolean> {
  if (resolve(certPath) !== resolve(plan.opts.out)) return true;
  const keyPath = plan.certKey.path;
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

export async function renew(opts: RenewOptions, rt: Runtime): Promise<RenewResult> {
  let m = await mergeWithConfig(opts);
  // lock the certificate's files and repair an interrupted commit before anything is read from them
  const set = await openCertificateSet(certificateSetPaths(m.opts), rt.log);
  try {
    if (set.recovered && opts.renewalConfig) m = await mergeWithConfig(opts);
    const plan = await planIssue(m.opts, rt, { contacts: m.contacts, certKeyRule: m.certKeyRule, eabKidForConfig: m.eabKidForConfig, set });
    return await renewPlanned(plan, m, opts.force, rt);
  } finally {
    await set.close();
  }
}

async function renewPlanned(plan: IssuePlan, m: Merged, force: boolean | undefined, rt: Runtime): Promise<RenewResult> {
  // the certificate is read before anything is sent, so a bad --cert fails without a request
  const certPath = m.certForAri;
  const cert = certPath ? await readCertificate(certPath, m.certGiven, rt) : undefined;
  const client = await connect(m.opts, rt);
  let replaces: string | undefined;
  let checked: RenewResult['checked'];
  if (certPath && cert) {
    if (client.supportsAri && cert.facts.akiKeyId) replaces = await client.certId(cert.text);
    // a key that does not match the chain (a damaged set) is renewed whatever the window says
    if (force || (await keyMatches(certPath, cert.text, plan, rt))) {
      const now = new Date();
      const renewalInfo = force ? undefined : await fetchRenewalInfo(client, cert.text, rt);
      const decision = renewalDecision({ force, now, notBefore: cert.facts.notBefore, notAfter: cert.facts.notAfter, ...(renewalInfo ? { renewalInfo } : {}) });
      checked = { path: certPath, notAfter: cert.facts.notAfter, decision };
      rt.emit({ type: 'renewal-decision', certificatePath: checked.path, notAfter: checked.notAfter, decision });
      if (!decision.due) return { command: 'renew', checked };
    }
  }
  return { command: 'renew', checked, issued: await withListeners(plan, () => executeIssue(plan, client, rt, { replaces })) };
}
