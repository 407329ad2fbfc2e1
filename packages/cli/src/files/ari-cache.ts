/**
 * `<cert_path>.ari.json`: the CA's last ARI answer (RFC 9773) for a certificate, kept beside the
 * chain until its Retry-After, so an hourly `renew --all` asks the CA only when the answer may have
 * changed. It is a cache, not state: a missing, unreadable, corrupt or foreign entry (another
 * certificate's certID, another CA) is ignored and the answer fetched again. Written atomically
 * (0600, like every file akamu writes; it holds nothing secret). `list` reads it too.
 *
 * How long an answer is used (standards.md §5 "Polling"): its Retry-After clamped to [1 min, 1 day];
 * 6 hours when the CA sent none.
 *
 * The entry also records the SHA-256 of the chain file it was made for, with the leaf's validity
 * and certID, and of the key file found to match that leaf: while both files are unchanged, a run
 * needs neither to parse the certificate nor to compare the key (most of a fleet check's CPU).
 */
import type { RenewalInfo } from 'akamu-client';
import { writeFileAtomic } from './atomic.js';
import { SMALL_FILE_LIMIT, readInputText } from './read-input.js';

/** The file's content (version 1). Times are ISO 8601 strings. */
export interface AriCacheEntry {
  version: 1;
  /** The directory URL the answer came from. */
  server: string;
  /** The certificate's ARI certID (a renewed certificate has another: its entry is ignored). */
  certId: string;
  fetchedAt: string;
  /** Until then the answer is used instead of asking the CA again. */
  validUntil: string;
  suggestedWindow: { start: string; end: string };
  explanationURL?: string;
  /** SHA-256 (hex) of the chain file the entry is about; its leaf's validity. */
  chainSha256?: string;
  notBefore?: string;
  notAfter?: string;
  /** SHA-256 (hex) of the certificate key file that was checked to match the leaf. */
  keySha256?: string;
}

/** What the entry knows of the chain file, beside the ARI answer. */
export interface AriCacheFacts {
  chainSha256: string;
  notBefore: Date;
  notAfter: Date;
  keySha256?: string;
}

export const ARI_CACHE_MIN_MS = 60_000;
export const ARI_CACHE_MAX_MS = 24 * 3600_000;
/** Without a Retry-After. */
export const ARI_CACHE_DEFAULT_MS = 6 * 3600_000;

export function ariCachePath(certPath: string): string {
  return `${certPath}.ari.json`;
}

/** How long an answer with this Retry-After (milliseconds, or none) is used. */
export function ariCacheLifetimeMs(retryAfterMs: number | undefined): number {
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return ARI_CACHE_DEFAULT_MS;
  return Math.min(ARI_CACHE_MAX_MS, Math.max(ARI_CACHE_MIN_MS, retryAfterMs));
}

const isDate = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/** The entry in `text`, or undefined when it is not a well-formed version 1 entry. */
export function parseAriCache(text: string): AriCacheEntry | undefined {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null) return undefined;
  const e = o as Record<string, unknown>;
  const w = e.suggestedWindow as Record<string, unknown> | undefined;
  if (e.version !== 1 || typeof e.server !== 'string' || typeof e.certId !== 'string' || !isDate(e.fetchedAt) || !isDate(e.validUntil)) return undefined;
  if (typeof w !== 'object' || w === null || !isDate(w.start) || !isDate(w.end) || Date.parse(w.end) <= Date.parse(w.start)) return undefined;
  if (e.explanationURL !== undefined && typeof e.explanationURL !== 'string') return undefined;
  for (const k of ['chainSha256', 'keySha256'] as const) if (e[k] !== undefined && typeof e[k] !== 'string') return undefined;
  for (const k of ['notBefore', 'notAfter'] as const) if (e[k] !== undefined && !isDate(e[k])) return undefined;
  return e as unknown as AriCacheEntry;
}

/** The entry as the library's RenewalInfo (what the renewal decision takes). */
export function cachedRenewalInfo(e: AriCacheEntry): RenewalInfo {
  const info: RenewalInfo = { certId: e.certId, window: { start: new Date(e.suggestedWindow.start), end: new Date(e.suggestedWindow.end) } };
  if (e.explanationURL !== undefined) info.explanationURL = e.explanationURL;
  return info;
}

/** The entry beside `certPath`, whatever its age; undefined when there is none or it cannot be used. */
export async function readAriCacheEntry(certPath: string): Promise<AriCacheEntry | undefined> {
  try {
    return parseAriCache(await readInputText(ariCachePath(certPath), SMALL_FILE_LIMIT));
  } catch {
    return undefined;
  }
}

/** The entry's answer may still be used at `now` (before its Retry-After; not from the future: a clock set back). */
export function ariCacheFresh(e: AriCacheEntry, now: Date): boolean {
  const t = now.getTime();
  return t < Date.parse(e.validUntil) && t >= Date.parse(e.fetchedAt) - ARI_CACHE_MIN_MS;
}

/**
 * The cached answer for this certificate and CA while it is still valid at `now`; undefined when
 * it must be fetched (none, corrupt, another certificate or CA, past its Retry-After).
 */
export async function readAriCache(certPath: string, want: { server: string; certId: string; now: Date }): Promise<RenewalInfo | undefined> {
  const e = await readAriCacheEntry(certPath);
  if (!e || e.server !== want.server || e.certId !== want.certId || !ariCacheFresh(e, want.now)) return undefined;
  return cachedRenewalInfo(e);
}

/** The entry for a fresh answer fetched at `now` (with what is known of the chain file). */
export function ariCacheEntry(server: string, info: RenewalInfo, now: Date, facts?: AriCacheFacts): AriCacheEntry {
  const e: AriCacheEntry = {
    version: 1,
    server,
    certId: info.certId,
    fetchedAt: now.toISOString(),
    validUntil: new Date(now.getTime() + ariCacheLifetimeMs(info.retryAfterMs)).toISOString(),
    suggestedWindow: { start: info.window.start.toISOString(), end: info.window.end.toISOString() },
  };
  if (info.explanationURL !== undefined) e.explanationURL = info.explanationURL;
  if (facts) {
    e.chainSha256 = facts.chainSha256;
    e.notBefore = facts.notBefore.toISOString();
    e.notAfter = facts.notAfter.toISOString();
    if (facts.keySha256 !== undefined) e.keySha256 = facts.keySha256;
  }
  return e;
}

/** Keep an entry beside the certificate (atomically). */
export async function writeAriCacheEntry(certPath: string, e: AriCacheEntry): Promise<void> {
  await writeFileAtomic(ariCachePath(certPath), `${JSON.stringify(e, null, 2)}\n`);
}

/** Keep a fresh answer beside the certificate (atomically). */
export async function writeAriCache(certPath: string, server: string, info: RenewalInfo, now: Date, facts?: AriCacheFacts): Promise<void> {
  await writeAriCacheEntry(certPath, ariCacheEntry(server, info, now, facts));
}
