/**
 * The ACME wire layer: JWS-signed POSTs (RFC 8555 §6.2), POST-as-GET (§6.3), the nonce pool and
 * badNonce handling (§6.5), and unauthenticated GETs. It knows nothing about resources.
 */
import { TransportError } from '../errors.js';
import type { Jwk } from '../jose/jwk.js';
import { signJws } from '../jose/jws.js';
import type { PrivateKey } from '../keys/privateKey.js';
import type { Logger } from '../log.js';
import { parseRetryAfter } from '../transport/retryAfter.js';
import { headerValue, type HttpRequest, type HttpResponse, type Transport } from '../transport/types.js';
import { problemError } from './errors.js';
import { NoncePool, isValidNonce } from './nonces.js';
import { problemInBody } from './parse.js';

const BAD_NONCE = 'urn:ietf:params:acme:error:badNonce';
const DEFAULT_NONCE_ATTEMPTS = 5;
/** POST-as-GET is a read: re-signed and retried on 429/5xx like a GET. */
const MAX_READ_RETRIES = 2;
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 30_000;

/** Who signs a request: an account (`kid`), or a key that shows its `jwk` (newAccount, revocation by certificate key). */
export type Signer = { key: PrivateKey; kid: string } | { key: PrivateKey; jwk: Jwk };

/** A 2xx response to a signed request. */
export interface AcmeResponse {
  status: number;
  headers: HttpResponse['headers'];
  body: Buffer;
  /** The parsed JSON body (undefined for an empty or non-JSON request). */
  json?: unknown;
  location?: string;
  /** The response's Retry-After, in milliseconds. */
  retryAfterMs?: number;
}

export interface WireOptions {
  transport: Transport;
  log: Logger;
  sleep: (ms: number) => Promise<void>;
  /** Attempts of one signed request when the server answers badNonce; default 5. */
  maxNonceAttempts?: number;
  /** Where `HEAD` fetches a fresh nonce; set once the directory is known. */
  newNonceUrl?: string;
}

interface RequestOptions {
  accept?: string;
  /** Parse the body as JSON (default true). */
  json?: boolean;
}

export class AcmeWire {
  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxNonceAttempts: number;
  private readonly nonces: NoncePool;
  newNonceUrl: string | undefined;
  private sent = 0;

  constructor(opts: WireOptions) {
    this.transport = opts.transport;
    this.log = opts.log;
    this.sleep = opts.sleep;
    this.maxNonceAttempts = opts.maxNonceAttempts ?? DEFAULT_NONCE_ATTEMPTS;
    this.newNonceUrl = opts.newNonceUrl;
    this.nonces = new NoncePool(() => this.headNonce());
  }

  /** HTTP requests sent so far (GET, HEAD newNonce, POSTs, transport retries). */
  get requestCount(): number {
    return this.sent;
  }

  /** One request through the transport, counted; any Replay-Nonce goes into the pool. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    try {
      const res = await this.transport.request(req);
      this.sent += res.attempts ?? 1;
      return res;
    } catch (err) {
      this.sent++;
      throw err;
    }
  }

  /** Unauthenticated GET (directory, renewalInfo); the nonce in the answer is kept. */
  async get(url: string): Promise<HttpResponse> {
    const res = await this.send({ method: 'GET', url, headers: { accept: 'application/json' } });
    this.nonces.offer(headerValue(res, 'replay-nonce'));
    return res;
  }

  /** A signed POST with a JSON payload. */
  post(url: string, payload: object, signer: Signer, opts: RequestOptions = {}): Promise<AcmeResponse> {
    return this.signed(url, payload, signer, opts);
  }

  /** A POST-as-GET (empty payload): a read, retried on 429/5xx. */
  postAsGet(url: string, signer: Signer, opts: RequestOptions = {}): Promise<AcmeResponse> {
    return this.signed(url, undefined, signer, opts);
  }

  private async headNonce(): Promise<string> {
    const url = this.newNonceUrl;
    if (!url) throw new TransportError('no newNonce URL (the directory was not read)', '');
    const res = await this.send({ method: 'HEAD', url });
    const nonce = headerValue(res, 'replay-nonce');
    if (!isValidNonce(nonce)) {
      throw new TransportError(`HEAD ${url} returned HTTP ${res.status} without a usable Replay-Nonce header`, url, { status: res.status });
    }
    return nonce;
  }

  /**
   * badNonce → re-sign with the nonce from the error response (up to `maxNonceAttempts` in all).
   * A read answered 429/5xx → re-signed and retried. Problem documents → AcmeProblemError; any
   * other non-2xx → TransportError.
   */
  private async signed(url: string, payload: object | undefined, signer: Signer, opts: RequestOptions): Promise<AcmeResponse> {
    const isRead = payload === undefined;
    let nonce = await this.nonces.acquire();
    let responseNonce: string | undefined;
    let readRetries = 0;
    try {
      for (let attempt = 1; ; attempt++) {
        const header = 'kid' in signer ? { kid: signer.kid, nonce, url } : { jwk: signer.jwk, nonce, url };
        const jws = signJws(signer.key, header, payload);
        this.log.trace(`JWS for POST ${url}`, { protected: header, payload: payload ?? '' });
        const headers: Record<string, string> = { 'content-type': 'application/jose+json' };
        if (opts.accept) headers.accept = opts.accept;
        const res = await this.send({ method: 'POST', url, headers, body: JSON.stringify(jws) });
        const fresh = headerValue(res, 'replay-nonce');
        responseNonce = isValidNonce(fresh) ? fresh : undefined;
        if (res.status >= 200 && res.status < 300) return toAcmeResponse(url, res, opts.json ?? true);

        const problem = problemInBody(res.body);
        if (problem?.type === BAD_NONCE && attempt < this.maxNonceAttempts) {
          this.log.debug(`badNonce from ${url}; re-signing (attempt ${attempt + 1} of ${this.maxNonceAttempts})`);
          nonce = responseNonce ?? (await this.nonces.takeForRetry());
          responseNonce = undefined;
          continue;
        }
        const retryAfter = parseRetryAfter(res.headers['retry-after']);
        if (isRead && RETRY_STATUSES.has(res.status) && readRetries < MAX_READ_RETRIES && (retryAfter ?? 0) <= MAX_RETRY_AFTER_MS) {
          readRetries++;
          const wait = retryAfter ?? Math.round(250 * 2 ** (readRetries - 1) * (0.5 + Math.random()));
          this.log.debug(`POST-as-GET ${url}: HTTP ${res.status}; retrying in ${wait} ms`);
          await this.sleep(wait);
          nonce = responseNonce ?? (await this.nonces.takeForRetry());
          responseNonce = undefined;
          continue;
        }
        if (problem) throw problemError(problem, res.status, retryAfter);
        throw new TransportError(`POST ${url}: HTTP ${res.status}`, url, { status: res.status });
      }
    } finally {
      this.nonces.release(responseNonce);
    }
  }
}

function toAcmeResponse(url: string, res: HttpResponse, parseJson: boolean): AcmeResponse {
  const location = headerValue(res, 'location');
  const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
  const out: AcmeResponse = { status: res.status, headers: res.headers, body: res.body };
  if (location) out.location = location;
  if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs;
  if (parseJson && res.body.length > 0) {
    try {
      out.json = JSON.parse(res.body.toString('utf8'));
    } catch (err) {
      throw new TransportError(`POST ${url}: response is not JSON`, url, { cause: err, status: res.status });
    }
  }
  return out;
}
