/**
 * HTTP(S) transport over node:http / node:https (cheap to import, unlike undici).
 *
 * - Keep-alive agents: one CLI run reuses one TLS connection (plus TLS session resumption for any
 *   further connection), which is most of the wall-clock time of a short issuance.
 * - `extraCaPem` is ADDED to Node's bundled roots.
 * - Connect timeout (TCP + TLS handshake, default 10 s) and whole-request timeout (default 60 s).
 * - GET/HEAD are retried on connection resets, 500/502/503/504 and 429 after the answer's
 *   `Retry-After` or a jittered exponential backoff (see retry.ts), up to 6 more tries and never
 *   past the request's budget (`budgetMs`, what is left of the caller's deadline). A wait that does
 *   not fit is not started: the answer is returned so the caller can report when the limit lifts.
 * - POSTs are sent once. A failure says whether the request may have reached the server
 *   (`HttpAttemptError.reachedServer`): the ACME layer re-signs what surely did not, and re-reads
 *   the resource for what may have (an ACME POST is not blindly repeated).
 * - `signal` ends the request and any wait at once.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { TransportError } from '../errors.js';
import { childLogger, type Logger } from '../log.js';
import { attempt, type AttemptContext } from './attempt.js';
import { abortedError, HttpAttemptError } from './errors.js';
import { backoffMs, DEFAULT_RETRY_POLICY, fits, RETRY_STATUSES, retryOnStatus, sleepUnlessAborted, type RetryPolicy } from './retry.js';
import { ProxyConfig, ProxyTunnelAgent } from './proxy.js';
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
  /** Extra attempts for idempotent requests; default 6 (7 tries in all). */
  maxRetries?: number;
  /** First backoff step; default 250 ms (doubled per attempt up to 8 s, ±50 % jitter). */
  retryBaseMs?: number;
  /** Longest `Retry-After` waited for when the request has no budget; default 30 000 ms. */
  maxRetryAfterMs?: number;
  /** Jitter source; default Math.random. */
  random?: () => number;
  /** Largest response body accepted; default 16 MiB. */
  maxBodyBytes?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Environment to take proxies from (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, lower case first;
   * see proxy.ts), e.g. `process.env`. Default: none, every request connects directly.
   */
  proxyEnv?: Readonly<Record<string, string | undefined>>;
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
      maxBackoffMs: DEFAULT_RETRY_POLICY.maxBackoffMs,
      ...(opts.random ? { random: opts.random } : {}),
    };
    this.sleep = opts.sleep ?? defaultSleep;
    this.log = childLogger(opts.log, 'http');
    const trust = opts.extraCaPem ? { secureContext: trustContext(opts.extraCaPem) } : {};
    const proxy = opts.proxyEnv ? ProxyConfig.fromEnv(opts.proxyEnv) : undefined;
    const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.ctx = {
      userAgent: opts.userAgent,
      httpAgent: new http.Agent({ keepAlive: true }),
      httpsAgent: new https.Agent({ keepAlive: true, ...trust }),
      ...(proxy ? { proxy: { config: proxy, httpsAgent: new ProxyTunnelAgent({ keepAlive: true, ...trust }, proxy, connectTimeoutMs, this.log) } } : {}),
      connectTimeoutMs,
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
    this.ctx.proxy?.httpsAgent.destroy();
  }

  /** Sends one request, with the retries described above. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const url = parseUrl(req.url);
    const idempotent = req.method === 'GET' || req.method === 'HEAD';
    const started = performance.now();
    const left = (): number | undefined => (req.budgetMs === undefined ? undefined : req.budgetMs - (performance.now() - started));
    const what = `${req.method} ${url.href}`;
    const pause = (ms: number): Promise<void> => sleepUnlessAborted(this.sleep, ms, req.signal, () => abortedError(what, req.signal));
    const note = req.onRetry ?? ((line: string): void => this.log.debug(line));
    for (let n = 1; ; n++) {
      const budget = left();
      if (budget !== undefined && budget <= 0) {
        throw new HttpAttemptError(`no answer from ${url.href} before the deadline`, url.href, { deadlineExceeded: true });
      }
      let res: HttpResponse;
      this.sent++;
      try {
        res = await attempt(this.ctx, req, url, budget);
      } catch (err) {
        if (!(err instanceof HttpAttemptError) || !err.transient || !idempotent || n > this.policy.maxRetries) throw err;
        // a keep-alive socket the server had closed: at once on a fresh connection
        const wait = err.reusedSocket && n === 1 ? 0 : backoffMs(this.policy, n);
        if (!fits(wait, left())) throw err;
        note(`${what}: ${err.message}; retrying in ${wait} ms`);
        if (wait > 0) await pause(wait);
        continue;
      }
      const verdict = idempotent && RETRY_STATUSES.has(res.status) ? retryOnStatus(this.policy, res, n, left()) : { retry: false as const };
      if (verdict.retry) {
        note(`${what}: HTTP ${res.status}; retrying in ${verdict.waitMs} ms`);
        await pause(verdict.waitMs);
        continue;
      }
      if (verdict.reason) this.log.debug(`${what}: HTTP ${res.status}, ${verdict.reason}`);
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
