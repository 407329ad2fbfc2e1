/**
 * GSSAPI-authenticated External Account Binding: `GET <scheme>://<host[:port]>/acme/eab` of the
 * directory's origin, authenticated with HTTP Negotiate from a keytab; the CA answers
 * `{"principal","kid","hmac_key","alg"}` and the kid + HMAC key bind the new account (RFC 8555
 * §7.3.4) to the Kerberos principal. A CA that only authenticates answers `{"principal"}`.
 */
import { AkamuError, TransportError, UsageError } from '../errors.js';
import { b64uDecode } from '../jose/base64url.js';
import type { EabAlgorithm } from '../jose/jws.js';
import type { Transport } from '../transport/types.js';
import { negotiateRequest, type NegotiateOptions } from './negotiate.js';

export interface GssapiEabOptions extends NegotiateOptions {
  /** Milliseconds the whole exchange may take (the caller's deadline). */
  budgetMs?: number;
  signal?: AbortSignal;
}

export interface GssapiEabResult {
  /** The Kerberos principal the CA authenticated. */
  principal: string;
  /** The EAB credentials the CA bound to it; absent when the CA issued none. */
  eab?: { kid: string; hmacKey: Buffer; alg: EabAlgorithm };
}

const ALGS: readonly string[] = ['HS256', 'HS384', 'HS512'];

/** `<scheme>://<host[:port]>/acme/eab` of a directory URL (an http+unix URL keeps its socket). */
export function gssapiEabUrl(directoryUrl: string): string {
  const u = new URL(directoryUrl);
  if (!u.host) throw new UsageError(`cannot extract host from server URL '${directoryUrl}'`);
  return `${u.protocol}//${u.host}/acme/eab`;
}

function badReply(url: string, why: string): AkamuError {
  return new AkamuError(`GET ${url}: the GSSAPI EAB reply ${why}`, 'bad-response');
}

/** Asks the CA for EAB credentials bound to the keytab's Kerberos principal. */
export async function fetchGssapiEab(transport: Transport, directoryUrl: string, opts: GssapiEabOptions): Promise<GssapiEabResult> {
  const url = gssapiEabUrl(directoryUrl);
  const res = await negotiateRequest(transport, {
    method: 'GET', url, headers: { accept: 'application/json' },
    ...(opts.budgetMs !== undefined ? { budgetMs: opts.budgetMs } : {}), ...(opts.signal ? { signal: opts.signal } : {}),
  }, opts);
  if (res.status !== 200) {
    const text = res.body.subarray(0, 2048).toString('utf8');
    let detail = text.trim().replace(/[\r\n]+/g, ' ').slice(0, 200);
    try {
      const d = (JSON.parse(text) as { detail?: unknown }).detail;
      if (typeof d === 'string') detail = d.replace(/[\r\n]+/g, ' ');
    } catch { /* not a problem document */ }
    throw new TransportError(`GET ${url}: HTTP ${res.status}${detail ? `: ${detail}` : ''}`, url, { status: res.status });
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw badReply(url, 'is not JSON');
  }
  if (!body || typeof body !== 'object' || typeof body.principal !== 'string' || !body.principal) throw badReply(url, "has no 'principal'");
  const { principal, kid, hmac_key: key, alg } = body;
  if (kid === undefined && key === undefined) return { principal };
  if (typeof kid !== 'string' || !kid || typeof key !== 'string' || !key) throw badReply(url, "must carry both 'kid' and 'hmac_key', as strings");
  const algorithm = alg ?? 'HS256';
  if (typeof algorithm !== 'string' || !ALGS.includes(algorithm)) throw badReply(url, `names an unsupported 'alg' (${String(algorithm)})`);
  let hmacKey: Buffer;
  try {
    hmacKey = b64uDecode(key);
  } catch {
    throw badReply(url, "has an 'hmac_key' that is not base64url");
  }
  if (hmacKey.length === 0) throw badReply(url, "has an empty 'hmac_key'");
  return { principal, eab: { kid, hmacKey, alg: algorithm as EabAlgorithm } };
}
