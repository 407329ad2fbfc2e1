/**
 * `akamu-cli import certbot`: move a certbot installation's account and certificates over to akamu.
 * Reads `<certbot-dir>/accounts/…` and `<certbot-dir>/renewal/*.conf` (+ the live/ → archive/ files),
 * writes the account key + URL sidecar and, per certificate, the chain, the key and a renewal config.
 * Everything is checked before the first file is written; `--dry-run` writes nothing at all.
 */
import { lstat, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AkamuError, KEY_TYPES, UsageError, type PrivateKey } from 'akamu-client';
import { DEFAULT_CERTBOT_DIR, LETS_ENCRYPT_DIRECTORY } from '../defaults.js';
import type { ImportCertbotOptions } from '../program.js';
import type {
  CertbotAccountInfo, CertbotImportResult, CertbotLineageInfo, CertbotListResult, ImportedAccount, ImportedCertificate,
} from '../results.js';
import type { Runtime } from '../runtime.js';
import { checkServerUrl } from '../server.js';
import { accountUrlPath } from '../files/account-url.js';
import { writeFilesAtomic } from '../files/atomic.js';
import { describeFsError } from '../files/read-input.js';
import { renderRenewalConfig, renewalConfigFromOptions, renewalConfigPath, type RenewalConfig } from '../files/renewal-config.js';
import { accountMatchesServer, discoverAccounts, type CertbotAccount } from '../certbot/accounts.js';
import { mapChallenge, mapWebroot, type DnsChallenge } from '../certbot/challenge-map.js';
import { discoverLineages, lineageMatchesDomains, type CertbotLineage, type CertbotLineageFiles } from '../certbot/lineages.js';

type ReadableLineage = CertbotLineage & { files: CertbotLineageFiles };

/** One certificate to import: what is reported, and the renewal config to write. */
interface CertificatePlan {
  imported: ImportedCertificate;
  lineage: ReadableLineage;
  config: RenewalConfig;
}

/** The key type string stored in a renewal config; RSA keys keep their real modulus size when akamu knows it. */
export function keyTypeOf(key: PrivateKey): { type: string; note?: string } {
  if (key.rsaBits !== undefined) {
    const exact = `rsa:${key.rsaBits}`;
    if ((KEY_TYPES as readonly string[]).includes(exact)) return { type: exact };
    return { type: key.keyType, note: `RSA key of ${key.rsaBits} bits recorded as ${key.keyType} (the existing key is reused when renewing)` };
  }
  return { type: key.keyType };
}

function parseDnsChallenge(value: string | undefined): DnsChallenge {
  const v = (value ?? 'dns-01').trim().toLowerCase();
  if (v === 'dns-01' || v === 'dns-persist-01') return v;
  throw new UsageError(`--dns-challenge must be dns-01 or dns-persist-01, got '${value}'`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return false;
    throw new UsageError(`cannot check ${path}: ${describeFsError(e)}`);
  }
}

function accountInfo(a: CertbotAccount): CertbotAccountInfo {
  return { id: a.id, server: a.server, url: a.url, createdAt: a.createdAt };
}

function lineageInfo(l: CertbotLineage, dnsChallenge: DnsChallenge): CertbotLineageInfo {
  const info: CertbotLineageInfo = {
    name: l.name,
    server: l.server ?? LETS_ENCRYPT_DIRECTORY,
    authenticator: l.authenticator ?? 'standalone',
    challenge: mapChallenge(l.authenticator, l.prefChalls, dnsChallenge).challenge,
    webroots: l.webrootMap,
  };
  if (l.files) info.certificate = { identifiers: l.files.identifiers, keyType: keyTypeOf(l.files.key).type, notAfter: l.files.notAfter };
  else info.problem = l.problem;
  return info;
}

/** The account key path: required (unless --list), and neither it nor its sidecar may exist yet. */
async function checkAccountKeyPath(given: string | undefined): Promise<string> {
  if (!given) throw new UsageError('--account-key <FILE> is required (unless --list is given)');
  const path = resolve(given);
  if (await exists(path)) throw new UsageError(`${given} already exists; remove it or choose a different --account-key path`);
  if (await exists(accountUrlPath(path))) {
    throw new UsageError(`${accountUrlPath(given)} already exists; remove it or choose a different --account-key path`);
  }
  return path;
}

async function checkCertbotDir(certbotDir: string): Promise<void> {
  let dirStat;
  try {
    dirStat = await stat(certbotDir);
  } catch (err) {
    throw new UsageError(`cannot read certbot directory ${certbotDir}: ${describeFsError(err as NodeJS.ErrnoException)}; check --certbot-dir`);
  }
  if (!dirStat.isDirectory()) throw new UsageError(`--certbot-dir ${certbotDir} is not a directory`);
}

/** The one account to import: `--server` chooses when there are several. */
function chooseAccount(accounts: CertbotAccount[], server: string | undefined, certbotDir: string, rt: Runtime): CertbotAccount {
  const candidates = server !== undefined ? accounts.filter((a) => accountMatchesServer(a, server)) : accounts;
  if (candidates.length === 0) {
    throw new AkamuError('no certbot accounts found; check --certbot-dir and --server', 'not-found');
  }
  if (candidates.length > 1) {
    rt.emit({ type: 'certbot-accounts-ambiguous', server, candidates: candidates.map(accountInfo) });
    throw new UsageError(server === undefined
      ? 'use --server <URL> to select an account'
      : `several certbot accounts are registered with ${server}; import from a copy of ${certbotDir} that keeps only the one you want`);
  }
  return candidates[0]!;
}

/** The lineages to import: those asked for (`-d`), of this account, whose files could be read. */
function selectLineages(lineages: CertbotLineage[], accounts: CertbotAccount[], account: CertbotAccount, domains: string[], rt: Runtime) {
  const usableIds = new Set(accounts.map((a) => a.id));
  const belongs = (l: CertbotLineage): boolean => {
    if (l.account === account.id) return true;
    if (l.account !== undefined && usableIds.has(l.account)) return false;
    return accountMatchesServer(account, l.server ?? LETS_ENCRYPT_DIRECTORY);
  };
  const unmatchedDomains = domains.filter((d) => !lineages.some((l) => lineageMatchesDomains(l, [d])));
  for (const domain of unmatchedDomains) rt.emit({ type: 'certbot-domain-unmatched', domain });
  const selected: ReadableLineage[] = [];
  const skipped: CertbotImportResult['skipped'] = [];
  for (const l of lineages.filter((x) => lineageMatchesDomains(x, domains))) {
    if (!belongs(l)) {
      const s = { name: l.name, account: l.account, server: l.server ?? LETS_ENCRYPT_DIRECTORY };
      rt.emit({ type: 'certbot-lineage-skipped', ...s });
      skipped.push(s);
      continue;
    }
    if (!l.files) continue; // already reported while reading
    selected.push(l as ReadableLineage);
  }
  return { selected, skipped, unmatchedDomains };
}

async function checkCertDir(given: string | undefined): Promise<string> {
  if (!given) throw new UsageError('--cert-dir <DIR> is required when importing certificates');
  const certDir = resolve(given);
  if (await exists(certDir)) {
    const s = await stat(certDir).catch(() => undefined);
    if (!s?.isDirectory()) throw new UsageError(`--cert-dir ${given} is not a directory`);
  }
  return certDir;
}

async function planCertificate(
  l: ReadableLineage, certDir: string, account: ImportedAccount, contacts: string[], opts: { dnsChallenge: DnsChallenge; dnsHook?: string },
): Promise<CertificatePlan> {
  const chainPath = join(certDir, `${l.name}.pem`);
  const keyPath = `${chainPath}.key.pem`;
  const configPath = renewalConfigPath(chainPath);
  for (const p of [chainPath, keyPath, configPath]) {
    if (await exists(p)) throw new UsageError(`${p} already exists; remove it or choose a different --cert-dir`);
  }
  const mapping = mapChallenge(l.authenticator, l.prefChalls, opts.dnsChallenge);
  const webroots = mapWebroot(l.authenticator, l, l.files.identifiers.map((i) => i.value));
  const certKeyType = keyTypeOf(l.files.key);
  const notes = [...mapping.notes, ...webroots.notes];
  if (certKeyType.note) notes.push(certKeyType.note);
  let server = l.server;
  if (!server) {
    server = LETS_ENCRYPT_DIRECTORY;
    notes.push(`renewal config ${l.confPath} has no 'server'; using Let's Encrypt production`);
  }
  const config = renewalConfigFromOptions({
    server,
    identifiers: l.files.identifiers,
    accountKey: account.keyPath,
    keyType: account.keyType,
    out: chainPath,
    certKey: keyPath,
    certKeyType: certKeyType.type,
    challenge: mapping.challenge,
    httpPort: l.http01Port,
    dnsHook: mapping.dns && opts.dnsHook ? opts.dnsHook : undefined,
    webroot: webroots.webroot,
    webrootMap: webroots.webrootMap,
  }, { contacts });
  const imported: ImportedCertificate = {
    name: l.name,
    identifiers: l.files.identifiers,
    challenge: mapping.challenge,
    dnsHookMissing: mapping.dns && !opts.dnsHook,
    source: { chainPath: l.files.fullchainPath, keyPath: l.files.privkeyPath },
    chainPath,
    keyPath,
    renewalConfigPath: configPath,
    notes,
  };
  return { imported, lineage: l, config };
}

export async function importCertbot(opts: ImportCertbotOptions, rt: Runtime): Promise<CertbotListResult | CertbotImportResult> {
  const certbotDir = resolve(opts.certbotDir ?? DEFAULT_CERTBOT_DIR);
  const dnsChallenge = parseDnsChallenge(opts.dnsChallenge);
  const domains = opts.domain ?? [];
  if (opts.server !== undefined) checkServerUrl(opts.server);
  // usage checks that need no certbot data: before anything is read or written
  const accountKeyPath = opts.list ? undefined : await checkAccountKeyPath(opts.accountKey);
  await checkCertbotDir(certbotDir);

  const found = await discoverAccounts(certbotDir);
  const lineages = await discoverLineages(certbotDir);
  for (const w of [...found.warnings, ...lineages.warnings]) rt.note(w);

  if (accountKeyPath === undefined) {
    return {
      command: 'import certbot', mode: 'list', certbotDir,
      accounts: found.accounts.map(accountInfo),
      lineages: lineages.lineages.map((l) => lineageInfo(l, dnsChallenge)),
    };
  }

  const chosen = chooseAccount(found.accounts, opts.server, certbotDir, rt);
  const accountKeyType = keyTypeOf(chosen.key);
  const account: ImportedAccount = {
    ...accountInfo(chosen), keyPath: accountKeyPath, keyType: accountKeyType.type, urlPath: chosen.url ? accountUrlPath(accountKeyPath) : undefined,
  };
  const { selected, skipped, unmatchedDomains } = selectLineages(lineages.lineages, found.accounts, chosen, domains, rt);
  const plans: CertificatePlan[] = [];
  if (selected.length > 0) {
    const certDir = await checkCertDir(opts.certDir);
    for (const l of selected) plans.push(await planCertificate(l, certDir, account, [...chosen.contacts], { dnsChallenge, dnsHook: opts.dnsHook }));
  }

  if (accountKeyType.note) rt.emit({ type: 'certbot-note', note: accountKeyType.note });
  for (const p of plans) {
    for (const note of p.imported.notes) rt.emit({ type: 'certbot-note', lineage: p.imported.name, note });
  }
  const result: CertbotImportResult = {
    command: 'import certbot', mode: opts.dryRun ? 'dry-run' : 'import', certbotDir, account,
    accountKeyNote: accountKeyType.note, certificates: plans.map((p) => p.imported), skipped, unmatchedDomains,
  };
  if (opts.dryRun) return result;

  const accountFiles = [{ path: accountKeyPath, data: chosen.key.toPem() }];
  if (chosen.url && account.urlPath) accountFiles.push({ path: account.urlPath, data: chosen.url });
  await writeFilesAtomic(accountFiles, { mkdir: true });
  rt.emit({ type: 'certbot-account-written', account });
  for (const p of plans) {
    await writeFilesAtomic([
      { path: p.imported.chainPath, data: p.lineage.files.fullchainPem },
      { path: p.imported.keyPath, data: p.lineage.files.key.toPem() },
      { path: p.imported.renewalConfigPath, data: await renderRenewalConfig(p.config) },
    ], { mkdir: true });
    rt.emit({ type: 'certbot-certificate-written', certificate: p.imported });
  }
  return result;
}
