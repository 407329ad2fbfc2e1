/**
 * HTTP(S) transport over node:http / node:https (cheap to import, unlike undici).
 *
 * - Keep-alive agents: one CLI run reuses one TLS connection (plus TLS session resumption for any
 *   further connection), which is most of the wall-clock time of a short issuance.
 * - `extraCaPem` is ADDED to Node's bundled roots.
 * - Connect timeout (TCP + TLS handshake, default 10 s) and whole-request timeout (default 60 s).
 * - GET/HEAD are retried on connection resets, 500/502/503/504 and 429 with jittered exponential
 *   backoff, honouring `Retry-After` up to a cap; a longer `Retry-After` is not waited for: the
 *   response is returned so the caller can report when the limit lifts.
 * - POSTs are never blindly retried (ACME nonces make a replay fail anyway) — with one exception:
 *   a keep-alive socket that the server closed while we were reusing it (`ECONNRESET` on a reused
 *   socket, the classic idle-connection race) is retried once on a fresh connection for every
 *   method, because the server may not have seen the request, and if it did, the replayed JWS is
 *   refused as a reused nonce instead of acting twice.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { TransportError } from '../errors.js';
import { childLogger, type Logger } from '../log.js';
import { attempt, type AttemptContext } from './attempt.js';
import { HttpAttemptError } from './errors.js';
import { backoffMs, DEFAULT_RETRY_POLICY, retryOnStatus, type RetryPolicy } from './retry.js';
import { trustContext } from './trust.js';
import { parseUnixUrl } from './unix.js';
import type { HttpRequest, HttpResponse, TlsPeerInfo, Transport } from './types.js';

export interface HttpTransportOptions {
  /** PEM CA certificate(s) trusted in addition to the default roots. */
  extraCaPem?: string;
  /** Sent as `User-Agent` on every request. */
  userAgent: string;
  /** TCP connect + TLS handshake; default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Whole request, from sending to the last body byte; default 60 000 ms. */
  requestTimeoutMs?: number;
  log?: Logger;
  /** Extra attempts for idempotent requests; default 2 (3 tries in all). */
  maxRetries?: number;
  /** First backoff step; default 250 ms (doubled per attempt, ±50 % jitter). */
  retryBaseMs?: number;
  /** Longest `Retry-After` waited for; default 30 000 ms. */
  maxRetryAfterMs?: number;
  /** Largest response body accepted; default 16 MiB. */
  maxBodyBytes?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The real Transport: node:http(s) with keep-alive, extra trust, timeouts and retries. */
export class HttpTransport implements Transport {
  readonly userAgent: string;
  private readonly ctx: AttemptContext;
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: Logger;
  private sent = 0;

  constructor(opts: HttpTransportOptions) {
    this.userAgent = opts.userAgent;
    this.policy = {
      maxRetries: opts.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries,
      baseMs: opts.retryBaseMs ?? DEFAULT_RETRY_POLICY.baseMs,
      maxRetryAfterMs: opts.maxRetryAfterMs ?? DEFAULT_RETRY_POLICY.maxRetryAfterMs,
    };
    this.sleep = opts.sleep ?? defaultSleep;
    this.log = childLogger(opts.log, 'http');
    this.ctx = {
      userAgent: opts.userAgent,
      httpAgent: new http.Agent({ keepAlive: true }),
      httpsAgent: new https.Agent({ keepAlive: true, ...(opts.extraCaPem ? { secureContext: trustContext(opts.extraCaPem) } : {}) }),
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 60_000,
      maxBodyBytes: opts.maxBodyBytes ?? 16 * 1024 * 1024,
      log: this.log,
      peers: new WeakMap<Socket, TlsPeerInfo>(),
      seenSockets: new WeakSet<Socket>(),
    };
  }

  /** HTTP requests put on the wire so far (retries included). */
  get requestsSent(): number {
    return this.sent;
  }

  /** Closes idle keep-alive connections (they never keep the process alive anyway). */
  close(): void {
    this.ctx.httpAgent.destroy();
    this.ctx.httpsAgent.destroy();
  }

  /** Sends one request, with the retries described above. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const url = parseUrl(req.url);
    const idempotent = req.method === 'GET' || req.method === 'HEAD';
    for (let n = 1; ; n++) {
      let res: HttpResponse;
      this.sent++;
      try {
        res = await attempt(this.ctx, req, url);
      } catch (err) {
        const staleSocket = err instanceof HttpAttemptError && err.reusedSocket && n === 1;
        const retryable = err instanceof HttpAttemptError && err.transient && n <= this.policy.maxRetries && (idempotent || staleSocket);
        if (!retryable) throw err;
        const wait = staleSocket ? 0 : backoffMs(this.policy, n);
        this.log.debug(`${req.method} ${url.href}: ${err.message}; retrying in ${wait} ms`);
        if (wait > 0) await this.sleep(wait);
        continue;
      }
      const verdict = idempotent ? retryOnStatus(this.policy, res, n) : { retry: false as const };
      if (verdict.retry) {
        this.log.debug(`${req.method} ${url.href}: HTTP ${res.status}; retrying in ${verdict.waitMs} ms`);
        await this.sleep(verdict.waitMs);
        continue;
      }
      if (verdict.reason) this.log.debug(`${req.method} ${url.href}: HTTP ${res.status}, ${verdict.reason}`);
      res.attempts = n;
      return res;
    }
  }
}

function parseUrl(raw: string): URL {
  if (/^http\+unix:/i.test(raw)) return parseUnixUrl(raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new TransportError(`invalid URL '${raw}'`, raw, { cause: err });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TransportError(`unsupported URL scheme '${url.protocol}' in ${raw} (use https://, http:// or http+unix://)`, raw);
  }
  return url;
}
