/**
 * The text renderer: results and events as the lines the command reference promises. Results go
 * to stdout, notes and warnings to stderr. Facts that were printed as events while the command ran
 * (see results.ts) are not printed again from the result.
 */
import { renderCaInfo } from './ca-info.js';
import { renderInstallTimer } from './install-timer.js';
import { renderList } from './list.js';
import type {
  CertbotAccountInfo, CertbotImportResult, CertbotLineageInfo, CertbotListResult, CommandEvent, CommandResult,
  ImportedAccount, ImportedCertificate, IssueResult, RenewalDecision,
} from '../results.js';
import { describeCarryOver } from './carry-over.js';
import { renderRenewAll } from './renew-all.js';
import { renderCompletion } from './completion.js';

/** Where lines go (without their newline). */
export interface TextOutput {
  out(line: string): void;
  err(line: string): void;
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function renderEvent(e: CommandEvent, o: TextOutput): void {
  switch (e.type) {
    case 'key-generated':
      return o.out(`Generated new ${e.key.keyType} key → ${e.key.path}`);
    case 'account-registered':
      o.out(`Registered new account: ${e.url}`);
      if (e.termsOfService) o.err(`Note: the new account agreed to the terms of service at ${e.termsOfService}`);
      return;
    case 'cert-key-type-ignored':
      return o.err(`Note: --cert-key ${e.path} is a ${e.keyType} key; --cert-key-type ${e.requested} is ignored`);
    case 'new-key-type-ignored':
      return o.err(`Note: --new-key ${e.path} is a ${e.keyType} key; --new-key-type ${e.requested} is ignored`);
    case 'renewal-decision':
      return renderDecision(e.certificatePath, e.notAfter, e.decision, o);
    case 'certbot-accounts-ambiguous':
      o.err(e.server === undefined ? 'Multiple certbot accounts found. Specify --server to select one:' : `Multiple certbot accounts found for ${e.server}:`);
      for (const a of e.candidates) o.err(accountLine(a));
      return;
    case 'certbot-domain-unmatched':
      return o.err(`Warning: no certbot certificate found for ${e.domain}`);
    case 'certbot-lineage-skipped':
      return o.err(`Note: skipping ${e.name}: it belongs to another certbot account (${e.account ?? 'unknown'} at ${e.server})`);
    case 'certbot-note':
      return o.err(`Note for ${e.lineage ?? 'the account key'}: ${e.note}`);
    case 'certbot-account-written':
      o.out(`Account key written to ${e.account.keyPath}`);
      if (e.account.urlPath) o.out(`Account URL written to ${e.account.urlPath}`);
      else o.err(noUrlWarning(e.account));
      return;
    case 'certbot-certificate-written':
      return renderImportedCertificate(e.certificate, o);
    case 'gssapi-authenticated':
      o.err(`GSSAPI authenticated as: ${e.principal}`);
      if (!e.eab) o.err('Note: the server did not return EAB credentials; proceeding without EAB.');
      return;
    case 'profile-suggested':
      return o.err(`Note: the server offers the profile '${e.profile}'; CAs such as Let's Encrypt issue certificates for IP addresses (${e.ipAddresses.join(', ')}) only with it: pass --profile ${e.profile}`);
  }
}

export function renderResult(r: CommandResult, o: TextOutput): void {
  switch (r.command) {
    case 'account register':
      if (r.created) return o.out(`Registered: ${r.account.url}`);
      o.err(`Note: the server already had an account for this key; its URL was saved to ${r.accountUrlPath}`);
      if (r.contactsDiffer) {
        o.err(`Note: the account's contacts (${contactList(r.account.contacts)}) differ from --contact (${contactList(r.requestedContacts)}); use 'akamu-cli account update' to change them`);
      }
      return o.out(`Account already registered: ${r.account.url}`);
    case 'account show':
      // exactly the reference's lines: `sed 's/^URL: //'` gets the URL
      o.out(`URL: ${r.account.url}`);
      o.out(`Status: ${r.account.status}`);
      for (const c of r.account.contacts) o.out(`Contact: ${c}`);
      return;
    case 'account update':
      o.out(`Updated account: ${r.account.url}`);
      if (r.account.contacts.length === 0) o.out('  Contact: (none)');
      for (const c of r.account.contacts) o.out(`  Contact: ${c}`);
      return;
    case 'account deregister':
      if (r.sidecarError !== undefined) {
        o.err(`Warning: account deactivated but could not remove sidecar ${r.accountUrlPath}: ${r.sidecarError}. Future commands may attempt to use the deactivated account.`);
      }
      return o.out(`Deactivated: ${r.account.url}`);
    case 'account key-change':
      o.out(`Key changed. New key written to ${r.accountKeyPath}`);
      return o.out(`Account URL unchanged: ${r.accountUrl}`);
    case 'issue':
      return renderIssue(r, o);
    case 'renew':
      // the decision was printed when it was made
      if (r.issued) renderIssue(r.issued, o);
      return;
    case 'revoke':
      return o.out(`Revoked: ${r.certificatePath}`);
    case 'import certbot':
      return r.mode === 'list' ? renderCertbotList(r, o) : renderCertbotImport(r, o);
    case 'list':
      return renderList(r, o);
    case 'ca info':
      return renderCaInfo(r, o);
    case 'install timer':
      return renderInstallTimer(r, o);
    case 'renew --all':
      return renderRenewAll(r, o);
    case 'completion':
      return renderCompletion(r, o);
  }
}

const contactList = (contacts: string[]): string => (contacts.length > 0 ? contacts.join(', ') : 'none');

function renderIssue(r: IssueResult, o: TextOutput): void {
  if (r.certificateKey.generated) o.out(`Certificate key saved to ${r.certificateKey.path}`);
  o.out(`Certificate written to ${r.certificate.path}`);
  if (r.certificate.url) o.out(`Certificate URL:  ${r.certificate.url}`);
  o.out(`Certificate key:  ${r.certificateKey.path}`);
  o.out(`Renewal config:   ${r.renewalConfigPath}`);
  o.out(`To renew: akamu-cli renew --renewal-config ${r.renewalConfigPath}`);
  if (r.preferredChain && !r.preferredChain.matched) {
    const offered = r.preferredChain.offered.map((n) => `'${n}'`).join(', ');
    o.err(`Note: no chain offered by the server has a top certificate issued by '${r.preferredChain.requested}' (offered: ${offered}); the default chain was written`);
  }
  if (r.deployHook?.ok) o.out(`Deploy hook:      ${r.deployHook.command} succeeded`);
  if (r.eabKeyNotStored) {
    o.err('Note: the EAB HMAC key is NOT saved in the renewal config; supply --eab-key again if the account ever has to be registered anew.');
  }
}

function renderDecision(path: string, notAfter: Date, d: RenewalDecision, o: TextOutput): void {
  const later = 'Use --force to renew now.';
  if (d.reason === 'ari' && d.window) {
    const window = `${iso(d.window.start)} – ${iso(d.window.end)}`;
    if (d.explanationUrl) o.out(`ARI explanation: ${d.explanationUrl}`);
    if (!d.due) o.out(`Renewal not yet due for ${path}: due at ${iso(d.at)} (ARI window ${window}). ${later}`);
    else o.out(`ARI: renewal suggested (window ${window}); renewing ${path}`);
  } else if (d.reason === 'expiry') {
    if (!d.due) o.out(`Renewal not yet due for ${path}: it expires ${iso(notAfter)}; due at ${iso(d.at)}. ${later}`);
    else o.out(`Renewal due: ${path} expires ${iso(notAfter)}; renewing`);
  }
  // forced: nothing to say
}

// ---- import certbot ------------------------------------------------------------------------------
function accountLine(a: CertbotAccountInfo): string {
  return `  CA: ${a.server}  ID: ${a.id}  URL: ${a.url ?? '(no URL)'}  created: ${a.createdAt ?? 'unknown date'}`;
}

function lineageLine(l: CertbotLineageInfo): string {
  let line = `  domain: ${l.name}  server: ${l.server}  challenge: ${l.authenticator} (→ ${l.challenge})`;
  if (l.certificate) {
    line += `  names: ${l.certificate.identifiers.map((i) => i.value).join(', ')}  key: ${l.certificate.keyType}`;
    line += `  expires: ${l.certificate.notAfter.toISOString()}`;
  } else {
    line += `  (not importable: ${l.problem ?? 'unknown problem'})`;
  }
  const roots = Object.entries(l.webroots);
  if (roots.length > 0) line += `  webroot: ${roots.map(([d, p]) => `${d}=${p}`).join(', ')}`;
  const carried = describeCarryOver(l.carriedOver);
  if (carried) line += `\n    carried over: ${carried}`;
  return line;
}

function noUrlWarning(account: ImportedAccount): string {
  return `Warning: no account URL found in regr.json for account ${account.id}; you may need to re-register with the CA.`;
}

function renderCertbotList(r: CertbotListResult, o: TextOutput): void {
  o.out(`Accounts found in ${r.certbotDir}:`);
  if (r.accounts.length === 0) o.out('  (none)');
  for (const a of r.accounts) o.out(accountLine(a));
  o.out('');
  o.out('Renewals found:');
  if (r.lineages.length === 0) o.out('  (none)');
  for (const l of r.lineages) o.out(lineageLine(l));
}

function renderImportedCertificate(c: ImportedCertificate, o: TextOutput): void {
  if (c.dnsHookMissing) {
    o.err(`Warning for ${c.name}: challenge type '${c.challenge}' requires a DNS hook script. Re-import with --dns-hook <CMD> or add dns_hook to the renewal config before renewing.`);
  }
  o.out(`  ${c.name}  →  ${c.renewalConfigPath}`);
  o.out(`    To renew: akamu-cli renew --renewal-config ${c.renewalConfigPath}`);
  const carried = describeCarryOver(c.carriedOver);
  if (carried) o.out(`    Carried over: ${carried}`);
}

function renderCertbotImport(r: CertbotImportResult, o: TextOutput): void {
  if (r.mode === 'dry-run') {
    o.out(`[dry-run] Would write account key to ${r.account.keyPath}`);
    if (r.account.urlPath) o.out(`[dry-run] Would write account URL to ${r.account.urlPath}`);
    else o.err(noUrlWarning(r.account));
  }
  // in a real import the account and each certificate were printed as they were written
  if (r.certificates.length === 0) o.out('No renewal configurations found to import.');
  if (r.mode === 'dry-run') {
    for (const c of r.certificates) {
      o.out(`[dry-run] Would copy ${c.source.chainPath} → ${c.chainPath}`);
      o.out(`[dry-run] Would copy ${c.source.keyPath} → ${c.keyPath}`);
      o.out(`[dry-run] Would write renewal config to ${c.renewalConfigPath}`);
      const carried = describeCarryOver(c.carriedOver);
      if (carried) o.out(`[dry-run] Would carry over for ${c.name}: ${carried}`);
    }
    return;
  }
  o.out('');
  o.out(`Import complete: 1 account, ${r.certificates.length} certificate(s).`);
}
