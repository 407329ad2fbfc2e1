/**
 * Is a certificate due? `renew` reads the certificate (ARI needs it), checks that its key file
 * still holds the leaf's key (a damaged set is renewed whatever the window says) and asks the CA's
 * renewal window (RFC 9773), or falls back to the expiry rule.
 *
 * With the ARI cache (renew --all), `<cert>.ari.json` answers instead of the CA until its
 * Retry-After; while the chain and key files are the ones the entry recorded (same SHA-256), their
 * facts come from it too, so an unchanged certificate is neither parsed nor compared again.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { PrivateKey, UsageError, b64u, certificateFacts, renewalDecision, type AcmeClient, type RenewalInfo } from 'akamu-client';
import type { RenewResult } from '../results.js';
import type { Runtime } from '../runtime.js';
import { CHAIN_FILE_LIMIT, SMALL_FILE_LIMIT, InputFileError, describeFsError, readInputFile, readInputText } from '../files/read-input.js';
import type { CertificateSetPaths } from '../files/cert-set.js';
import { ariCacheEntry, ariCacheFresh, cachedRenewalInfo, readAriCacheEntry, writeAriCacheEntry, type AriCacheEntry } from '../files/ari-cache.js';

export interface CheckDeps {
  /** Use and keep `<cert>.ari.json` (renew --all). */
  ariCache?: boolean;
  now?: () => Date;
  /** Told whether the ARI answer came from the cache. */
  onAri?: (cached: boolean) => void;
}

/** The certificate to check: `--cert` (must exist), else the renewal config's cert_path (may not exist yet). */
export interface CheckTarget {
  certForAri?: string;
  certGiven: boolean;
}

export interface RenewalCheck {
  /** The certificate checked and the decision; absent when there is none to check (issue). */
  checked?: RenewResult['checked'];
  /** The certID a renewal replaces. */
  replaces?: string;
  /** With the ARI cache: the SHA-256 of the chain file judged (a later check of the same file may reuse this one). */
  chainSha256?: string;
}

/** The SHA-256 of a chain file as checkRenewal hashes it; undefined when it cannot be read. */
export async function chainFileSha256(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  return readInputText(path, CHAIN_FILE_LIMIT).then(sha256, () => undefined);
}

/** The leaf's facts the decision needs, and its certID when the CA has ARI. */
interface Leaf {
  notBefore: Date;
  notAfter: Date;
  certId?: string;
  /** Its public key (absent when the facts came from the cache). */
  spkiDer?: Buffer;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * The certificate's text. `--cert` must exist (a typo in a cron line must not renew on every
 * run); the renewal config's cert_path may not exist yet: then it is issued.
 */
async function readCertificateText(path: string, explicit: boolean, rt: Runtime): Promise<string | undefined> {
  try {
    return await readInputText(path, CHAIN_FILE_LIMIT);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // a FIFO, a device or a huge file at the certificate's place is not "no certificate": refuse
    if (e instanceof InputFileError) throw new UsageError(`cannot read certificate ${path}: ${describeFsError(e)}`);
    if (e.code === 'ENOENT' && explicit) throw new UsageError(`cannot read --cert ${path}: no such file`);
    if (e.code === 'ENOENT') rt.log.info(`no certificate at ${path} yet; issuing one`);
    else rt.log.warn(`cannot read certificate ${path} (${describeFsError(e)}); renewing`);
    return undefined;
  }
}

/** The leaf's facts, parsed once; undefined (renew) when the file is not a certificate. */
async function parseLeaf(path: string, text: string, client: AcmeClient, rt: Runtime): Promise<Leaf | undefined> {
  try {
    const facts = await certificateFacts(text);
    const leaf: Leaf = { notBefore: facts.notBefore, notAfter: facts.notAfter, spkiDer: facts.spkiDer };
    // RFC 9773 certID from the facts at hand (what client.certId() computes, without parsing again)
    if (client.supportsAri && facts.akiKeyId) leaf.certId = `${b64u(facts.akiKeyId)}.${b64u(facts.serialBytes)}`;
    return leaf;
  } catch (err) {
    rt.log.warn(`cannot parse certificate ${path} (${(err as Error).message}); renewing`);
    return undefined;
  }
}

/** The server's renewal window for the certificate; undefined when ARI is not to be had (a warning when its request failed). */
async function fetchRenewalInfo(client: AcmeClient, cert: string | { certId: string }, rt: Runtime): Promise<RenewalInfo | undefined> {
  if (!client.supportsAri) {
    // the CA's normal state, not a problem: at info, so a daily cron job stays silent
    rt.log.info('the server does not support ARI (no renewalInfo in its directory); using the expiry rule');
    return undefined;
  }
  try {
    return await client.getRenewalInfo(cert);
  } catch (err) {
    rt.log.warn(`ARI unavailable (${(err as Error).message.split('\n')[0]}); using the expiry rule`);
    return undefined;
  }
}

/**
 * Does the certificate's key file hold the key of the chain's leaf? Only asked when the certificate
 * checked is the chain this renewal writes (a mismatch means a damaged set: renew whatever ARI says).
 * `matched`: the SHA-256 of a key file known to match this chain (the cache's).
 * Returns whether it matches, and the key file's SHA-256 when it does.
 */
async function keyMatches(
  certPath: string, certText: string, leafSpki: Buffer | undefined, paths: CertificateSetPaths, matched: string | undefined, rt: Runtime,
): Promise<{ ok: boolean; keySha256?: string }> {
  if (resolve(certPath) !== resolve(paths.chain)) return { ok: true };
  const keyPath = paths.key;
  let why: string;
  try {
    // read once: hashed, and parsed only when the hash is not the one known to match
    const bytes = await readInputFile(keyPath, SMALL_FILE_LIMIT).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new Error(describeFsError(err));
    });
    const keySha256 = bytes ? sha256(bytes) : undefined;
    if (keySha256 !== undefined && keySha256 === matched) return { ok: true, keySha256 };
    const key = bytes ? await PrivateKey.fromPemAsync(bytes) : undefined;
    const spki = leafSpki ?? (await certificateFacts(certText)).spkiDer;
    if (key && spki.equals(key.publicKeyDer())) return { ok: true, ...(keySha256 !== undefined ? { keySha256 } : {}) };
    why = key ? 'does not match the certificate' : 'is missing';
  } catch (err) {
    why = `cannot be used (${(err as Error).message})`;
  }
  rt.log.warn(`the certificate key ${keyPath} ${why} ${certPath}; renewing`);
  return { ok: false };
}

/** The renewal decision for the certificate to check (none: issue), and the certID a renewal replaces. */
export async function checkRenewal(
  target: CheckTarget, paths: CertificateSetPaths, force: boolean | undefined, rt: Runtime, deps: CheckDeps, ariClient: () => Promise<AcmeClient>,
): Promise<RenewalCheck> {
  // the certificate is read before anything is sent, so a bad --cert fails without a request
  const certPath = target.certForAri;
  const text = certPath ? await readCertificateText(certPath, target.certGiven, rt) : undefined;
  const client = await ariClient();
  if (!certPath || text === undefined) return {};
  const chainSha256 = deps.ariCache ? sha256(text) : undefined;
  const entry = deps.ariCache ? await readAriCacheEntry(certPath) : undefined;
  // an entry about exactly this chain file, from this CA
  const known = entry && entry.server === client.directoryUrl && entry.chainSha256 === chainSha256 && entry.notBefore && entry.notAfter ? entry : undefined;
  const leaf: Leaf | undefined = known
    ? { notBefore: new Date(known.notBefore!), notAfter: new Date(known.notAfter!), ...(client.supportsAri ? { certId: known.certId } : {}) }
    : await parseLeaf(certPath, text, client, rt);
  const judged = chainSha256 !== undefined ? { chainSha256 } : {};
  if (!leaf) return judged;
  const replaces = leaf.certId;
  // a key that does not match the chain (a damaged set) is renewed whatever the window says
  let keySha256: string | undefined;
  if (!force) {
    const key = await keyMatches(certPath, text, leaf.spkiDer, paths, known?.keySha256, rt);
    if (!key.ok) return { replaces, ...judged };
    keySha256 = key.keySha256;
  }
  const now = deps.now?.() ?? new Date();
  let renewalInfo: RenewalInfo | undefined;
  if (!force) {
    const fresh = known && known.certId === leaf.certId && ariCacheFresh(known, now) ? known : undefined;
    if (deps.ariCache && leaf.certId !== undefined) deps.onAri?.(fresh !== undefined);
    renewalInfo = fresh ? cachedRenewalInfo(fresh) : await fetchRenewalInfo(client, leaf.certId !== undefined ? { certId: leaf.certId } : text, rt);
    const facts = { chainSha256: chainSha256!, notBefore: leaf.notBefore, notAfter: leaf.notAfter, ...(keySha256 !== undefined ? { keySha256 } : {}) };
    let update: AriCacheEntry | undefined;
    if (deps.ariCache && renewalInfo && !fresh) update = ariCacheEntry(client.directoryUrl, renewalInfo, now, facts);
    else if (fresh && keySha256 !== undefined && fresh.keySha256 !== keySha256) update = { ...fresh, keySha256 };
    if (update) {
      await writeAriCacheEntry(certPath, update).catch((err: unknown) => {
        rt.log.warn(`cannot keep the ARI answer for ${certPath} (${(err as Error).message}); it is asked for again next time`);
      });
    }
  }
  const decision = renewalDecision({ force, now, notBefore: leaf.notBefore, notAfter: leaf.notAfter, ...(renewalInfo ? { renewalInfo } : {}) });
  const checked = { path: certPath, notAfter: leaf.notAfter, decision };
  rt.emit({ type: 'renewal-decision', certificatePath: checked.path, notAfter: checked.notAfter, decision });
  return { checked, replaces, ...judged };
}
