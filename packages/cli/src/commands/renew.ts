/**
 * `akamu-cli renew`: ARI-aware renewal (RFC 9773). Settings come from `--renewal-config` (explicit
 * flags override single fields) or from flags alone. Before the renewal is due it prints when it
 * will be and exits 0 without ordering anything, so it is safe to run from cron every day.
 */
import {
  UsageError, parseKeyType, certificateFacts, renewalDecision,
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
import { planIssue, executeIssue, type IssueSettings, type CertKeyRule } from './issue.js';

interface Merged {
  opts: IssueSettings;
  contacts: string[];
  certKeyRule: CertKeyRule;
  certForAri?: string;
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
    if (!identifiers) throw new UsageError('-d DOMAIN is required unless --renewal-config is given');
    return {
      opts: { ...flags, server: opts.server ?? LETS_ENCRYPT_DIRECTORY, accountKey, out, identifiers },
      contacts: [],
      certKeyRule: { pinned: opts.certKey !== undefined, requested, fallbackType: RENEWAL_FIELDS.cert_key_type.default },
      certForAri: cert,
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
    // the stored key is reused unless a different type is asked for on the command line
    certKeyRule: { pinned: opts.certKey !== undefined, requested, fallbackType: parseKeyType(cfg.cert_key_type) },
    certForAri: cert ?? cfg.cert_path,
    eabKidForConfig: eabKid,
  };
}

/** The flags that were given (an undefined one does not override the file). */
function given<T extends object>(flags: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

async function readCertificate(path: string, rt: Runtime): Promise<{ text: string; facts: CertificateFacts } | undefined> {
  let text: string;
  try {
    text = await readInputText(path, CHAIN_FILE_LIMIT);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // a FIFO, a device or a huge file at the certificate's place is not "no certificate": refuse
    if (e instanceof InputFileError) throw new UsageError(`cannot read certificate ${path}: ${describeFsError(e)}`);
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

/** The server's renewal window for the certificate; undefined (with a warning) when ARI is not to be had. */
async function fetchRenewalInfo(client: AcmeClient, certText: string, rt: Runtime): Promise<RenewalInfo | undefined> {
  if (!client.supportsAri) {
    rt.log.warn('the server does not support ARI (no renewalInfo in its directory); using the expiry rule');
    return undefined;
  }
  try {
    return await client.getRenewalInfo(certText);
  } catch (err) {
    rt.log.warn(`ARI unavailable (${(err as Error).message.split('\n')[0]}); using the expiry rule`);
    return undefined;
  }
}

export async function renew(opts: RenewOptions, rt: Runtime): Promise<RenewResult> {
  const m = await mergeWithConfig(opts);
  const plan = await planIssue(m.opts, rt, { contacts: m.contacts, certKeyRule: m.certKeyRule, eabKidForConfig: m.eabKidForConfig });
  const certPath = m.certForAri;
  const cert = certPath ? await readCertificate(certPath, rt) : undefined;
  const client = await connect(m.opts, rt);
  let replaces: string | undefined;
  let checked: RenewResult['checked'];
  if (certPath && cert) {
    if (client.supportsAri && cert.facts.akiKeyId) replaces = await client.certId(cert.text);
    const now = new Date();
    const renewalInfo = opts.force ? undefined : await fetchRenewalInfo(client, cert.text, rt);
    const decision = renewalDecision({ force: opts.force, now, notBefore: cert.facts.notBefore, notAfter: cert.facts.notAfter, ...(renewalInfo ? { renewalInfo } : {}) });
    checked = { path: certPath, notAfter: cert.facts.notAfter, decision };
    rt.emit({ type: 'renewal-decision', certificatePath: checked.path, notAfter: checked.notAfter, decision });
    if (!decision.due) return { command: 'renew', checked };
  }
  return { command: 'renew', checked, issued: await executeIssue(plan, client, rt, { replaces }) };
}
