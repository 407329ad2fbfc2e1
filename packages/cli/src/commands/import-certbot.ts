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
import type { Runtime } from '../runtime.js';
import { checkServerUrl } from '../server.js';
import { accountUrlPath } from '../files/account-url.js';
import { writeFilesAtomic } from '../files/atomic.js';
import { describeFsError } from '../files/keys.js';
import { renderRenewalConfig, renewalConfigFromOptions, renewalConfigPath, type RenewalConfig } from '../files/renewal-config.js';
import { accountMatchesServer, discoverAccounts, type CertbotAccount } from '../certbot/accounts.js';
import { mapChallenge, type DnsChallenge } from '../certbot/challenge-map.js';
import { discoverLineages, lineageMatchesDomains, type CertbotLineage, type CertbotLineageFiles } from '../certbot/lineages.js';


interface CertificatePlan {
  lineage: CertbotLineage & { files: CertbotLineageFiles };
  chainPath: string;
  keyPath: string;
  configPath: string;
  config: RenewalConfig;
  dns: boolean;
  notes: string[];
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

function accountLine(a: { id: string; server: string; url?: string; createdAt?: string }): string {
  return `  CA: ${a.server}  ID: ${a.id}  URL: ${a.url ?? '(no URL)'}  created: ${a.createdAt ?? 'unknown date'}`;
}

function lineageLine(l: CertbotLineage, dnsChallenge: DnsChallenge): string {
  const auth = l.authenticator ?? 'standalone';
  const mapped = mapChallenge(l.authenticator, l.prefChalls, dnsChallenge).challenge;
  let line = `  domain: ${l.name}  server: ${l.server ?? LETS_ENCRYPT_DIRECTORY}  challenge: ${auth} (→ ${mapped})`;
  if (l.files) {
    line += `  names: ${l.files.identifiers.map((i) => i.value).join(', ')}  key: ${keyTypeOf(l.files.key).type}`;
    line += `  expires: ${l.files.notAfter.toISOString()}`;
  } else {
    line += `  (not importable: ${l.problem ?? 'unknown problem'})`;
  }
  const roots = Object.entries(l.webrootMap);
  if (roots.length > 0) line += `  webroot: ${roots.map(([d, p]) => `${d}=${p}`).join(', ')}`;
  return line;
}

export async function importCertbot(opts: ImportCertbotOptions, rt: Runtime): Promise<void> {
  const certbotDir = resolve(opts.certbotDir ?? DEFAULT_CERTBOT_DIR);
  const dnsChallenge = parseDnsChallenge(opts.dnsChallenge);
  const domains = opts.domain ?? [];
  if (opts.server !== undefined) checkServerUrl(opts.server);

  // ---- usage checks that need no certbot data: before anything is read or written ------------
  let accountKeyPath: string | undefined;
  if (!opts.list) {
    if (!opts.accountKey) throw new UsageError('--account-key <FILE> is required (unless --list is given)');
    accountKeyPath = resolve(opts.accountKey);
    if (await exists(accountKeyPath)) {
      throw new UsageError(`${opts.accountKey} already exists; remove it or choose a different --account-key path`);
    }
    if (await exists(accountUrlPath(accountKeyPath))) {
      throw new UsageError(`${accountUrlPath(opts.accountKey)} already exists; remove it or choose a different --account-key path`);
    }
  }

  let dirStat;
  try {
    dirStat = await stat(certbotDir);
  } catch (err) {
    throw new UsageError(`cannot read certbot directory ${certbotDir}: ${describeFsError(err as NodeJS.ErrnoException)}; check --certbot-dir`);
  }
  if (!dirStat.isDirectory()) throw new UsageError(`--certbot-dir ${certbotDir} is not a directory`);

  const found = await discoverAccounts(certbotDir);
  const lineages = await discoverLineages(certbotDir);
  for (const w of [...found.warnings, ...lineages.warnings]) rt.note(w);

  if (opts.list) {
    rt.out(`Accounts found in ${certbotDir}:`);
    if (found.accounts.length === 0) rt.out('  (none)');
    for (const a of found.accounts) rt.out(accountLine(a));
    rt.out('');
    rt.out('Renewals found:');
    if (lineages.lineages.length === 0) rt.out('  (none)');
    for (const l of lineages.lineages) rt.out(lineageLine(l, dnsChallenge));
    return;
  }

  // ---- the account ---------------------------------------------------------------------------
  const candidates = opts.server !== undefined ? found.accounts.filter((a) => accountMatchesServer(a, opts.server!)) : found.accounts;
  if (candidates.length === 0) {
    throw new AkamuError('no certbot accounts found; check --certbot-dir and --server', 'not-found');
  }
  if (candidates.length > 1) {
    rt.note(opts.server === undefined
      ? 'Multiple certbot accounts found. Specify --server to select one:'
      : `Multiple certbot accounts found for ${opts.server}:`);
    for (const a of candidates) rt.note(accountLine(a));
    throw new UsageError(opts.server === undefined
      ? 'use --server <URL> to select an account'
      : `several certbot accounts are registered with ${opts.server}; import from a copy of ${certbotDir} that keeps only the one you want`);
  }
  const account = candidates[0]!;
  const accountKeyType = keyTypeOf(account.key);

  // ---- the certificates ----------------------------------------------------------------------
  const usableIds = new Set(found.accounts.map((a) => a.id));
  const belongs = (l: CertbotLineage): boolean => {
    if (l.account === account.id) return true;
    if (l.account !== undefined && usableIds.has(l.account)) return false;
    return accountMatchesServer(account, l.server ?? LETS_ENCRYPT_DIRECTORY);
  };
  const wanted = lineages.lineages.filter((l) => lineageMatchesDomains(l, domains));
  for (const d of domains) {
    if (!lineages.lineages.some((l) => lineageMatchesDomains(l, [d]))) rt.note(`Warning: no certbot certificate found for ${d}`);
  }
  const selected: (CertbotLineage & { files: CertbotLineageFiles })[] = [];
  for (const l of wanted) {
    if (!belongs(l)) {
      rt.note(`Note: skipping ${l.name}: it belongs to another certbot account (${l.account ?? 'unknown'} at ${l.server ?? LETS_ENCRYPT_DIRECTORY})`);
      continue;
    }
    if (!l.files) continue; // already reported while reading
    selected.push(l as CertbotLineage & { files: CertbotLineageFiles });
  }

  let certDir: string | undefined;
  if (selected.length > 0) {
    if (!opts.certDir) throw new UsageError('--cert-dir <DIR> is required when importing certificates');
    certDir = resolve(opts.certDir);
    if (await exists(certDir)) {
      const s = await stat(certDir).catch(() => undefined);
      if (!s?.isDirectory()) throw new UsageError(`--cert-dir ${opts.certDir} is not a directory`);
    }
  }

  const plans: CertificatePlan[] = [];
  for (const l of selected) {
    const chainPath = join(certDir!, `${l.name}.pem`);
    const keyPath = `${chainPath}.key.pem`;
    const configPath = renewalConfigPath(chainPath);
    for (const p of [chainPath, keyPath, configPath]) {
      if (await exists(p)) throw new UsageError(`${p} already exists; remove it or choose a different --cert-dir`);
    }
    const mapping = mapChallenge(l.authenticator, l.prefChalls, dnsChallenge);
    const certKeyType = keyTypeOf(l.files.key);
    const notes = [...mapping.notes];
    if (certKeyType.note) notes.push(certKeyType.note);
    let server = l.server;
    if (!server) {
      server = LETS_ENCRYPT_DIRECTORY;
      notes.push(`renewal config ${l.confPath} has no 'server'; using Let's Encrypt production`);
    }
    const config = renewalConfigFromOptions({
      server,
      identifiers: l.files.identifiers,
      accountKey: accountKeyPath!,
      keyType: accountKeyType.type,
      out: chainPath,
      certKey: keyPath,
      certKeyType: certKeyType.type,
      challenge: mapping.challenge,
      httpPort: l.http01Port,
      dnsHook: mapping.dns && opts.dnsHook ? opts.dnsHook : undefined,
    }, { contacts: [...account.contacts] });
    plans.push({ lineage: l, chainPath, keyPath, configPath, config, dns: mapping.dns, notes });
  }

  if (accountKeyType.note) rt.note(`Note for the account key: ${accountKeyType.note}`);
  for (const p of plans) {
    for (const n of p.notes) rt.note(`Note for ${p.lineage.name}: ${n}`);
  }

  // ---- dry run: say what would happen, touch nothing ----------------------------------------
  if (opts.dryRun) {
    rt.out(`[dry-run] Would write account key to ${accountKeyPath}`);
    if (account.url) rt.out(`[dry-run] Would write account URL to ${accountUrlPath(accountKeyPath!)}`);
    else rt.note(noUrlWarning(account));
    if (plans.length === 0) rt.out('No renewal configurations found to import.');
    for (const p of plans) {
      rt.out(`[dry-run] Would copy ${p.lineage.files.fullchainPath} → ${p.chainPath}`);
      rt.out(`[dry-run] Would copy ${p.lineage.files.privkeyPath} → ${p.keyPath}`);
      rt.out(`[dry-run] Would write renewal config to ${p.configPath}`);
    }
    return;
  }

  // ---- write ---------------------------------------------------------------------------------
  const accountFiles = [{ path: accountKeyPath!, data: account.key.toPem() }];
  if (account.url) accountFiles.push({ path: accountUrlPath(accountKeyPath!), data: account.url });
  await writeFilesAtomic(accountFiles, { mkdir: true });
  rt.out(`Account key written to ${accountKeyPath}`);
  if (account.url) rt.out(`Account URL written to ${accountUrlPath(accountKeyPath!)}`);
  else rt.note(noUrlWarning(account));

  if (plans.length === 0) rt.out('No renewal configurations found to import.');
  for (const p of plans) {
    await writeFilesAtomic([
      { path: p.chainPath, data: p.lineage.files.fullchainPem },
      { path: p.keyPath, data: p.lineage.files.key.toPem() },
      { path: p.configPath, data: await renderRenewalConfig(p.config) },
    ], { mkdir: true });
    if (p.dns && !opts.dnsHook) {
      rt.note(`Warning for ${p.lineage.name}: challenge type '${p.config.challenge_type}' requires a DNS hook script. Re-import with --dns-hook <CMD> or add dns_hook to the renewal config before renewing.`);
    }
    rt.out(`  ${p.lineage.name}  →  ${p.configPath}`);
    rt.out(`    To renew: akamu-cli renew --renewal-config ${p.configPath}`);
  }
  rt.out('');
  rt.out(`Import complete: 1 account, ${plans.length} certificate(s).`);
}

function noUrlWarning(account: CertbotAccount): string {
  return `Warning: no account URL found in regr.json for account ${account.id}; you may need to re-register with the CA.`;
}
