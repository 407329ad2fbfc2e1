/**
 * `akamu-cli list DIR` (in the spirit of `certbot certificates`): every `*.renewal.toml` below DIR
 * with its certificate's names, serial, expiry, key type and profile, the challenge type, whether
 * the key matches the chain (and the chain is in order), the ARI window and when akamu will renew.
 * A broken entry (a missing file, an unparsable certificate or config) is listed with what is
 * wrong; it never stops the list. A fresh answer in the ARI cache beside the certificate (which
 * `renew` writes, files/ari-cache.ts) is used as it is; the other certificates' windows are asked
 * with one client (one transport) per CA, a few at a time. `--offline` asks nothing: the cache
 * where fresh, else the expiry rule. `list` writes nothing, the cache included.
 */
import { createPublicKey } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  UsageError, ariCertId, certificateFacts, publicKeyMatches, renewalDecision, splitPemCertificates,
  type AcmeClient, type CertificateFacts, type PrivateKey, type RenewalInfo,
} from 'akamu-client';
import type { ListOptions } from '../program.js';
import type { ListAriSource, ListedCertificate, ListResult } from '../results.js';
import type { Runtime } from '../runtime.js';
import { connect } from '../server.js';
import { parseRenewalConfig, type RenewalConfig } from '../files/renewal-config.js';
import { CHAIN_FILE_LIMIT, SMALL_FILE_LIMIT, describeFsError, readInputText } from '../files/read-input.js';
import { loadKeyFile } from '../files/keys.js';
import { ariCacheFresh, cachedRenewalInfo, readAriCacheEntry } from '../files/ari-cache.js';
import { findRenewalConfigs } from '../files/find-configs.js';

/** ARI requests in flight at once, per CA. */
const ARI_CONCURRENCY = 8;

/**
 * The renewal configs below `dir` (renew --all's walk), after checking `dir` here so that the
 * command's own name is in the error.
 */
export async function renewalConfigsBelow(dir: string, rt: Runtime): Promise<string[]> {
  let s;
  try {
    s = await stat(dir);
  } catch (err) {
    throw new UsageError(`cannot read directory ${dir}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
  if (!s.isDirectory()) throw new UsageError(`${dir} is not a directory`);
  return findRenewalConfigs(dir, (line) => rt.log.warn(line));
}

/** Run `work` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const EC_CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** The key type of a certificate's public key, as akamu names it; `unknown` when node:crypto cannot tell. */
function spkiKeyType(spkiDer: Buffer): string {
  try {
    const key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
    const details = key.asymmetricKeyDetails ?? {};
    switch (key.asymmetricKeyType) {
      case 'ec':
        return `ec:${EC_CURVES[details.namedCurve ?? ''] ?? details.namedCurve ?? 'unknown'}`;
      case 'rsa':
        return `rsa:${details.modulusLength ?? 'unknown'}`;
      case undefined:
        return 'unknown';
      default:
        return key.asymmetricKeyType; // ed25519, ml-dsa-65 (Node 24)…
    }
  } catch {
    return 'unknown';
  }
}

/** One entry as read from disk, with what the ARI step needs. */
interface Inspected {
  entry: ListedCertificate;
  config?: RenewalConfig;
  /** The chain's text and its leaf's facts, when the leaf could be parsed. */
  leaf?: { text: string; facts: CertificateFacts };
  renewalInfo?: RenewalInfo;
}

async function readConfig(path: string, entry: ListedCertificate): Promise<RenewalConfig | undefined> {
  try {
    const text = await readInputText(path, SMALL_FILE_LIMIT);
    const toml = await import('smol-toml');
    return parseRenewalConfig(text, path, toml);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    entry.problems.push(e instanceof UsageError ? e.message : `cannot read ${path}: ${describeFsError(e)}`);
    return undefined;
  }
}

async function readChain(path: string, entry: ListedCertificate): Promise<Inspected['leaf']> {
  let text: string;
  try {
    text = await readInputText(path, CHAIN_FILE_LIMIT);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    entry.problems.push(e.code === 'ENOENT' ? `the certificate ${path} does not exist (renew will issue one)` : `cannot read the certificate ${path}: ${describeFsError(e)}`);
    return undefined;
  }
  let ders: Buffer[];
  try {
    ders = splitPemCertificates(text);
  } catch (err) {
    entry.problems.push(`the certificate ${path} cannot be parsed: ${(err as Error).message}`);
    return undefined;
  }
  if (ders.length === 0) {
    entry.problems.push(`the certificate ${path} holds no PEM certificate`);
    return undefined;
  }
  const facts: CertificateFacts[] = [];
  for (const [i, der] of ders.entries()) {
    try {
      facts.push(await certificateFacts(der));
    } catch (err) {
      entry.problems.push(`certificate [${i}] of ${path} cannot be parsed: ${(err as Error).message}`);
      if (i === 0) return undefined;
    }
  }
  const leaf = facts[0]!;
  const inOrder = facts.length === ders.length && facts.every((f, i) => i === facts.length - 1 || f.issuer === facts[i + 1]!.subject);
  entry.chain = { length: ders.length, inOrder };
  if (!inOrder) entry.problems.push(`the chain in ${path} is not in order (each certificate must be followed by its issuer)`);
  return { text, facts: leaf };
}

async function checkKey(path: string, leaf: NonNullable<Inspected['leaf']>, entry: ListedCertificate): Promise<PrivateKey | undefined> {
  let key: PrivateKey | undefined;
  try {
    key = await loadKeyFile(path, 'certificate key');
  } catch (err) {
    entry.problems.push((err as Error).message);
    return undefined;
  }
  if (!key) {
    entry.problems.push(`the certificate key ${path} does not exist`);
    return undefined;
  }
  entry.keyMatches = await publicKeyMatches(leaf.text, key);
  if (!entry.keyMatches) entry.problems.push(`the certificate key ${path} does not match the certificate (renew will replace both)`);
  return key;
}

async function inspect(path: string): Promise<Inspected> {
  const entry: ListedCertificate = { renewalConfigPath: path, ok: false, problems: [], renewsNow: false };
  const config = await readConfig(path, entry);
  if (!config) return { entry };
  Object.assign(entry, {
    server: config.server, identifiers: config.domains, challenge: config.challenge_type,
    ...(config.profile !== undefined ? { profile: config.profile } : {}),
    certificatePath: config.cert_path, certificateKeyPath: config.cert_key_path,
  });
  const leaf = await readChain(config.cert_path, entry);
  if (!leaf) return { entry, config };
  const key = await checkKey(config.cert_key_path, leaf, entry);
  const f = leaf.facts;
  entry.certificate = {
    names: [...f.dnsNames, ...f.ipAddresses], serial: f.serialHex, notBefore: f.notBefore, notAfter: f.notAfter,
    issuer: f.issuer, keyType: entry.keyMatches && key ? key.keyType : spkiKeyType(f.spkiDer), expired: false,
  };
  return { entry, config, leaf };
}

/** The renewal windows of the entries of one CA, through one client; failures are noted per entry. */
async function askCa(server: string, items: Inspected[], opts: ListOptions, rt: Runtime): Promise<void> {
  const note = (it: Inspected, source: ListAriSource, error?: string): void => {
    it.entry.ari = error === undefined ? { source } : { source, error };
  };
  let client: AcmeClient;
  try {
    client = await connect({ server, serverCa: opts.serverCa }, rt);
  } catch (err) {
    const why = (err as Error).message.split('\n')[0]!;
    rt.log.warn(`cannot reach ${server} (${why}); showing the expiry rule's times for its certificates`);
    for (const it of items) note(it, 'error', why);
    return;
  }
  if (!client.supportsAri) {
    for (const it of items) note(it, 'unsupported');
    return;
  }
  await eachLimited(items, ARI_CONCURRENCY, async (it) => {
    if (!it.leaf!.facts.akiKeyId) return note(it, 'no-cert-id');
    try {
      it.renewalInfo = await client.getRenewalInfo(it.leaf!.text);
      note(it, 'fetched');
    } catch (err) {
      note(it, 'error', (err as Error).message.split('\n')[0]!);
    }
  });
}

function decide(it: Inspected, now: Date): void {
  const { entry, leaf } = it;
  if (leaf && entry.certificate) {
    const f = leaf.facts;
    entry.decision = renewalDecision({ now, notBefore: f.notBefore, notAfter: f.notAfter, ...(it.renewalInfo ? { renewalInfo: it.renewalInfo } : {}) });
    entry.certificate.expired = now.getTime() >= f.notAfter.getTime();
  }
  entry.ok = entry.problems.length === 0;
  // what `renew --renewal-config` does with it: a set that is not whole is renewed at once
  entry.renewsNow = it.config !== undefined && (!leaf || entry.keyMatches !== true);
}

/** Code-point order (the same on every machine, whatever its locale). */
const compare = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
const sortKey = (e: ListedCertificate): string => e.identifiers?.[0]?.value ?? e.certificate?.names[0] ?? '\uffff';

/** The cached ARI answer for the entry while it is fresh (and says so in the entry); false otherwise. */
async function fromCache(it: Inspected, now: Date): Promise<boolean> {
  const { config, leaf } = it;
  if (!config || !leaf?.facts.akiKeyId) return false;
  const e = await readAriCacheEntry(config.cert_path);
  if (!e || e.server !== config.server || e.certId !== (await ariCertId(leaf.text)) || !ariCacheFresh(e, now)) return false;
  it.renewalInfo = cachedRenewalInfo(e);
  it.entry.ari = { source: 'cached', freshUntil: new Date(e.validUntil) };
  return true;
}

export async function list(dir: string, opts: ListOptions, rt: Runtime): Promise<ListResult> {
  const directory = resolve(dir);
  const paths = await renewalConfigsBelow(directory, rt);
  const inspected: Inspected[] = [];
  await eachLimited(paths, 8, async (p) => {
    inspected.push(await inspect(p));
  });
  const byCa = new Map<string, Inspected[]>();
  for (const it of inspected) {
    if (!it.config || !it.leaf || (await fromCache(it, new Date()))) continue;
    if (opts.offline) it.entry.ari = { source: 'offline' };
    else byCa.set(it.config.server, [...(byCa.get(it.config.server) ?? []), it]);
  }
  await Promise.all([...byCa].map(([server, items]) => askCa(server, items, opts, rt)));
  const now = new Date();
  for (const it of inspected) decide(it, now);
  const certificates = inspected.map((it) => it.entry)
    .sort((a, b) => compare(sortKey(a), sortKey(b)) || compare(a.renewalConfigPath, b.renewalConfigPath));
  return { command: 'list', directory, offline: opts.offline, checkedAt: now, certificates };
}
