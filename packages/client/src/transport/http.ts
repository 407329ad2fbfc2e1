/**
 * HTTP(S) transport over node:http / node:https (cheap to import, unlike undici).
 *
 * - Keep-alive agents: one CLI run reuses one TLS connection (plus TLS session resumption for any
 *   further connection), which is most of the wall-clock time of a short issuance.
 * - `extraCaPem` is ADDED to Node's bundled roots (`--server-ca`).
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
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { AkamuError, TransportError, UnsupportedError, UsageError } from '../errors.js';
import { childLogger, type Logger } from '../log.js';
import { parseRetryAfter } from './retryAfter.js';
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

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
const TLS_CERT_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** A failed attempt; `transient` marks failures worth another try. */
export class HttpAttemptError extends TransportError {
  readonly transient: boolean;
  readonly reusedSocket: boolean;
  constructor(message: string, url: string, opts: { cause?: unknown; transient?: boolean; reusedSocket?: boolean }) {
    super(message, url, { cause: opts.cause });
    this.transient = opts.transient ?? false;
    this.reusedSocket = opts.reusedSocket ?? false;
  }
}

/** `60 s`, or `250 ms` below a second. */
function duration(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function hostPort(u: URL): string {
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return `${u.hostname}:${port}`;
}

function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

/** One-line message for a socket / DNS / TLS failure. */
function describeNetworkError(err: unknown, url: URL, reusedSocket = false): HttpAttemptError {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const target = url.href;
  const make = (msg: string, transient = false): HttpAttemptError =>
    new HttpAttemptError(msg, target, { cause: err, transient, reusedSocket });
  switch (code) {
    case 'ECONNREFUSED':
      return make(`cannot connect to ${target}: connection refused`);
    case 'ENOTFOUND':
      return make(`cannot connect to ${target}: cannot resolve host '${url.hostname}'`);
    case 'EAI_AGAIN':
      return make(`cannot connect to ${target}: DNS lookup of '${url.hostname}' failed (temporary failure)`);
    case 'ETIMEDOUT':
      return make(`connect to ${hostPort(url)} timed out`);
    case 'EHOSTUNREACH':
      return make(`cannot connect to ${target}: host unreachable`);
    case 'ENETUNREACH':
      return make(`cannot connect to ${target}: network unreachable`);
    default:
      break;
  }
  if (code && TRANSIENT_CODES.has(code)) {
    return make(`request to ${target} failed: connection reset by the server`, true);
  }
  if (code && TLS_TRUST_CODES.has(code)) {
    // newer Node versions append their own advice (`; if the root CA is installed locally, …`)
    const reason = message.split(';')[0];
    return make(`cannot connect to ${target}: TLS: ${reason} — pass --server-ca with the CA that issued the server certificate`);
  }
  if (code && TLS_CERT_CODES.has(code)) {
    return make(`cannot connect to ${target}: TLS: ${message}`);
  }
  if (code === 'EPROTO' || (code && code.startsWith('ERR_SSL')) || /SSL routines|tls/i.test(message)) {
    const reason = message.replace(/^.*SSL routines:[^:]*:/s, '').split('\n')[0]?.trim() ?? message;
    return make(`cannot connect to ${target}: TLS handshake failed: ${reason}`);
  }
  return make(`request to ${target} failed: ${message.split('\n')[0] ?? message}`);
}

function peerInfo(socket: tls.TLSSocket): TlsPeerInfo | undefined {
  const cert = socket.getPeerX509Certificate?.();
  if (!cert) return undefined;
  const protocol = socket.getProtocol() ?? undefined;
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    validFrom: cert.validFrom,
    validTo: cert.validTo,
    fingerprint256: cert.fingerprint256,
    ...(protocol ? { protocol } : {}),
  };
}

interface CaCapableContext {
  addCACert?(pem: string): void;
}

/**
 * A TLS context trusting the default roots PLUS `extraCaPem`, built once per transport.
 * `ca: [...tls.rootCertificates, extra]` re-parses all ~145 bundled roots (~25 ms) and ignores
 * NODE_EXTRA_CA_CERTS / --use-openssl-ca; adding the extra CA to a default context copies the
 * already-parsed root store instead (~2 ms). The documented form is the fallback.
 */
function trustContext(extraCaPem: string): tls.SecureContext {
  try {
    if (!extraCaPem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM CERTIFICATE block');
    new X509Certificate(extraCaPem);
  } catch (err) {
    throw new UsageError(`the extra CA is not a PEM certificate (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const ctx = tls.createSecureContext();
  const native = (ctx as unknown as { context?: CaCapableContext }).context;
  if (native && typeof native.addCACert === 'function') {
    try {
      native.addCACert(extraCaPem);
      return ctx;
    } catch (err) {
      throw new TransportError(`cannot use the extra CA certificate: ${err instanceof Error ? err.message : String(err)}`, '', { cause: err });
    }
  }
  return tls.createSecureContext({ ca: [...tls.rootCertificates, extraCaPem] });
}

export class HttpTransport implements Transport {
  readonly userAgent: string;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly maxBodyBytes: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: Logger;
  private readonly peers = new WeakMap<Socket, TlsPeerInfo>();
  private readonly seenSockets = new WeakSet<Socket>();
  private sent = 0;

  constructor(opts: HttpTransportOptions) {
    this.userAgent = opts.userAgent;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.maxRetries = opts.maxRetries ?? 2;
    this.retryBaseMs = opts.retryBaseMs ?? 250;
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 30_000;
    this.maxBodyBytes = opts.maxBodyBytes ?? 16 * 1024 * 1024;
    this.sleep = opts.sleep ?? defaultSleep;
    this.log = childLogger(opts.log, 'http');
    this.httpAgent = new http.Agent({ keepAlive: true });
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      ...(opts.extraCaPem ? { secureContext: trustContext(opts.extraCaPem) } : {}),
    });
  }

  /** HTTP requests put on the wire so far (retries included). */
  get requestsSent(): number {
    return this.sent;
  }

  /** Closes idle keep-alive connections (they never keep the process alive anyway). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const url = this.parseUrl(req.url);
    const idempotent = req.method === 'GET' || req.method === 'HEAD';
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.attempt(req, url);
      } catch (err) {
        const retryable =
          err instanceof HttpAttemptError && err.transient && attempt <= this.maxRetries && (idempotent || (err.reusedSocket && attempt === 1));
        if (!retryable) throw err;
        const wait = err.reusedSocket && attempt === 1 ? 0 : this.backoff(attempt);
        this.log.debug(`${req.method} ${url.href}: ${err.message}; retrying in ${wait} ms`);
        if (wait > 0) await this.sleep(wait);
        continue;
      }
      if (idempotent && RETRY_STATUSES.has(res.status) && attempt <= this.maxRetries) {
        const retryAfter = parseRetryAfter(res.headers['retry-after']);
        if (retryAfter !== undefined && retryAfter > this.maxRetryAfterMs) {
          this.log.debug(`${req.method} ${url.href}: HTTP ${res.status}, Retry-After ${Math.round(retryAfter / 1000)} s is beyond the cap; not waiting`);
          res.attempts = attempt;
          return res;
        }
        const wait = retryAfter ?? this.backoff(attempt);
        this.log.debug(`${req.method} ${url.href}: HTTP ${res.status}; retrying in ${wait} ms`);
        await this.sleep(wait);
        continue;
      }
      res.attempts = attempt;
      return res;
    }
  }

  private backoff(attempt: number): number {
    const base = this.retryBaseMs * 2 ** (attempt - 1);
    return Math.round(base * (0.5 + Math.random()));
  }

  private parseUrl(raw: string): URL {
    if (/^http\+unix:/i.test(raw)) throw new UnsupportedError('http+unix:// servers are not supported yet');
    let url: URL;
    try {
      url = new URL(raw);
    } catch (err) {
      throw new TransportError(`invalid URL '${raw}'`, raw, { cause: err });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TransportError(`unsupported URL scheme '${url.protocol}' in ${raw} (use https:// or http://)`, raw);
    }
    return url;
  }

  private attempt(req: HttpRequest, url: URL): Promise<HttpResponse> {
    const isHttps = url.protocol === 'https:';
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
    if (body) headers['content-length'] = String(body.length);
    const started = performance.now();
    this.sent++;

    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      let connectTimer: NodeJS.Timeout | undefined;
      const clearTimers = (): void => {
        clearTimeout(requestTimer);
        if (connectTimer) clearTimeout(connectTimer);
      };
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimers();
        r.destroy();
        reject(err instanceof AkamuError ? err : describeNetworkError(err, url, r.reusedSocket));
      };

      const options: https.RequestOptions = { method: req.method, headers, agent: isHttps ? this.httpsAgent : this.httpAgent };
      const mod = isHttps ? https : http;
      const r = mod.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const socket = res.socket as Socket | null;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxBodyBytes) {
            fail(new TransportError(`response from ${url.href} is larger than ${this.maxBodyBytes} bytes`, url.href));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimers();
          const status = res.statusCode ?? 0;
          let peer: TlsPeerInfo | undefined;
          if (socket) {
            peer = this.peers.get(socket);
            if (!peer && socket instanceof tls.TLSSocket) {
              peer = peerInfo(socket);
              if (peer) this.peers.set(socket, peer);
            }
          }
          this.log.debug(`${req.method} ${url.href} -> ${status} (${Math.round(performance.now() - started)} ms)`);
          resolve({ status, headers: res.headers, body: Buffer.concat(chunks), ...(peer ? { peer } : {}) });
        });
      });

      r.on('socket', (socket: Socket) => {
        if (this.seenSockets.has(socket)) return;
        this.seenSockets.add(socket);
        const connectedEvent = isHttps ? 'secureConnect' : 'connect';
        const alreadyUp = isHttps ? (socket as tls.TLSSocket).encrypted && !socket.connecting && (socket as tls.TLSSocket).getProtocol?.() != null : !socket.connecting;
        if (alreadyUp) return;
        connectTimer = setTimeout(() => {
          fail(new HttpAttemptError(`connect to ${hostPort(url)} timed out`, url.href, {}));
        }, this.connectTimeoutMs);
        socket.once(connectedEvent, () => {
          if (connectTimer) clearTimeout(connectTimer);
          connectTimer = undefined;
          if (socket instanceof tls.TLSSocket) {
            const info = peerInfo(socket);
            if (info) {
              this.peers.set(socket, info);
              this.log.debug(
                `TLS connection to ${hostPort(url)}: ${info.protocol ?? 'TLS'}; subject ${info.subject}; issuer ${info.issuer}; ` +
                  `valid ${info.validFrom} to ${info.validTo}; SHA-256 ${info.fingerprint256}`,
              );
            }
          } else {
            this.log.debug(`connected to ${hostPort(url)}`);
          }
        });
      });
      r.on('error', fail);

      const requestTimer = setTimeout(() => {
        fail(new HttpAttemptError(`request to ${url.href} timed out after ${duration(this.requestTimeoutMs)}`, url.href, {}));
      }, this.requestTimeoutMs);

      r.end(body);
    });
  }
}
