/**
 * ACME Renewal Information (RFC 9773): the server's suggested renewal window for a certificate, and
 * the renewal policy built on it. The decision point inside the window is chosen uniformly but
 * deterministically from the certID, so every run (e.g. a daily cron job) reaches the same answer
 * without keeping state, while many certificates still spread over the window.
 */
import { createHash } from 'node:crypto';
import { AkamuError, TransportError } from '../errors.js';
import { parseRetryAfter } from '../transport/retryAfter.js';
import { headerValue, type Transport } from '../transport/types.js';
import type { Directory } from './types.js';
import { problemError } from './errors.js';

export interface RenewalInfo {
  certId: string;
  /** When the server suggests renewing. */
  window: { start: Date; end: Date };
  explanationURL?: string;
  /** The server's Retry-After for the next ARI check, in milliseconds. */
  retryAfterMs?: number;
}

/** `renewalInfo/<certID>` (a trailing `/` on the directory's URL is not doubled). */
export function renewalInfoUrl(directory: Directory, certId: string): string {
  if (!directory.renewalInfo) throw new AkamuError('the server does not support ARI (no renewalInfo in its directory)', 'no-ari');
  return `${directory.renewalInfo.replace(/\/+$/, '')}/${certId}`;
}

/** Parse a renewalInfo response body; an invalid window is an error (RFC 9773 §4.2). */
export function parseRenewalInfo(certId: string, body: unknown, retryAfterMs?: number): RenewalInfo {
  const o = body as { suggestedWindow?: { start?: unknown; end?: unknown }; explanationURL?: unknown } | null;
  const start = typeof o?.suggestedWindow?.start === 'string' ? new Date(o.suggestedWindow.start) : undefined;
  const end = typeof o?.suggestedWindow?.end === 'string' ? new Date(o.suggestedWindow.end) : undefined;
  if (!start || !end || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
    throw new AkamuError('the renewalInfo response has no valid suggestedWindow', 'bad-ari');
  }
  if (end.getTime() <= start.getTime()) throw new AkamuError('the renewalInfo window ends before it starts', 'bad-ari');
  const info: RenewalInfo = { certId, window: { start, end } };
  if (typeof o?.explanationURL === 'string') info.explanationURL = o.explanationURL;
  if (retryAfterMs !== undefined) info.retryAfterMs = retryAfterMs;
  return info;
}

/** Unauthenticated GET of the renewal information for `certId`. */
export async function fetchRenewalInfo(transport: Transport, directory: Directory, certId: string): Promise<RenewalInfo> {
  const url = renewalInfoUrl(directory, certId);
  const res = await transport.request({ method: 'GET', url, headers: { accept: 'application/json' } });
  let body: unknown;
  try {
    body = res.body.length ? JSON.parse(res.body.toString('utf8')) : null;
  } catch {
    body = null;
  }
  if (res.status !== 200) {
    const problem = body as { type?: unknown } | null;
    if (problem && typeof problem.type === 'string') throw problemError(problem as never, res.status);
    throw new TransportError(`GET ${url}: HTTP ${res.status}`, url, { status: res.status });
  }
  return parseRenewalInfo(certId, body, parseRetryAfter(headerValue(res, 'retry-after')));
}

/** A point in [start, end) derived from the certID: the same on every run. */
export function ariDecisionTime(info: RenewalInfo): Date {
  const digest = createHash('sha256').update(info.certId).digest();
  const fraction = Number(digest.readBigUInt64BE(0) >> 11n) / 2 ** 53;
  const { start, end } = info.window;
  return new Date(start.getTime() + Math.floor(fraction * (end.getTime() - start.getTime())));
}

/**
 * Without ARI: renew once less than a third of the lifetime remains (half, for lifetimes under
 * ten days), so a daily job does not re-issue every day.
 */
export function expiryRenewalTime(notBefore: Date, notAfter: Date): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  const share = lifetime < 10 * 24 * 3600 * 1000 ? 1 / 2 : 1 / 3;
  return new Date(notAfter.getTime() - Math.floor(lifetime * share));
}
