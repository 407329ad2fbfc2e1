/**
 * ACME Renewal Information (RFC 9773): the server's suggested renewal window for a certificate.
 * The renewal decision built on it lives in `renewal.ts`.
 */
import { AkamuError } from '../errors.js';
import { parseRetryAfter } from '../transport/retryAfter.js';
import { headerValue, type HttpResponse } from '../transport/types.js';
import { getError } from './errors.js';
import { isObject } from './parse.js';
import type { Directory } from './types.js';

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

function date(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Parse a renewalInfo response body; an invalid window is an error (RFC 9773 §4.2). */
export function parseRenewalInfo(certId: string, body: unknown, retryAfterMs?: number): RenewalInfo {
  const win = isObject(body) && isObject(body.suggestedWindow) ? body.suggestedWindow : undefined;
  const start = date(win?.start);
  const end = date(win?.end);
  if (!start || !end) throw new AkamuError('the renewalInfo response has no valid suggestedWindow', 'bad-ari');
  if (end.getTime() <= start.getTime()) throw new AkamuError('the renewalInfo window ends before it starts', 'bad-ari');
  const info: RenewalInfo = { certId, window: { start, end } };
  if (isObject(body) && typeof body.explanationURL === 'string') info.explanationURL = body.explanationURL;
  if (retryAfterMs !== undefined) info.retryAfterMs = retryAfterMs;
  return info;
}

/** Unauthenticated GET of the renewal information for `certId`, through `get`. */
export async function fetchRenewalInfo(get: (url: string) => Promise<HttpResponse>, directory: Directory, certId: string): Promise<RenewalInfo> {
  const url = renewalInfoUrl(directory, certId);
  const res = await get(url);
  if (res.status !== 200) throw getError(url, res);
  let body: unknown;
  try {
    body = res.body.length ? JSON.parse(res.body.toString('utf8')) : null;
  } catch {
    body = null;
  }
  return parseRenewalInfo(certId, body, parseRetryAfter(headerValue(res, 'retry-after')));
}
