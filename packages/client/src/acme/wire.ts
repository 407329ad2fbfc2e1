/**
 * The ACME wire layer: JWS-signed POSTs (RFC 8555 §6.2), POST-as-GET (§6.3), the nonce pool and
 * badNonce handling (§6.5), and unauthenticated GETs. It knows nothing about resources.
 *
 * Retries of a signed request, each re-signed (a nonce is good for one request):
 * - badNonce: with the nonce from the error response, until the deadline or `maxNonceAttempts`.
 * - 503 and 429 (the server refused without acting), and for a read also 500/502/504: after the
 *   answer's Retry-After or a jittered backoff, when the wait ends before the deadline. A rate
 *   limit that cannot be waited out is thrown with the time it lifts.
 * - A connection that failed before the request could reach the server: after a backoff.
 * - A read (POST-as-GET) is also sent again when its answer was lost or cannot be parsed.
 * A POST that changes something and whose fate is unknown (the connection failed after the
 * request may have reached the server, a 500 without a problem document, a 502/504 from a
 * gateway, or a 2xx answer that cannot be read) is NOT sent again blindly: it throws
 * OutcomeUnknownError, and `post()` hands that to the caller's `recover`, which re-reads the
 * resource and says whether the request took effect (see recover.ts).
 */
import { TransportError } from '../errors.js';
import type { Jwk } from '../jose/jwk.js';
import { signJws } from '../jose/jws.js';
import type { PrivateKey } from '../keys/privateKey.js';
import type { Logger } from '../log.js';
import { HttpAttemptError } from '../transport/errors.js';
import {
  backoffMs, DEFAULT_RETRY_POLICY, fits, REFUSED_STATUSES, RETRY_STATUSES, retryOnStatus, sleepUnlessAborted, type RetryPolicy,
} from '../transport/retry.js';
import { parseRetryAfter } from '../transport/retryAfter.js';
import { headerValue, type HttpRequest, type HttpResponse, type Transport } from '../transport/types.js';
import { abortError, checkBound, deadlineError, remainingMs, type Bound } from './bound.js';
import { problemError } from './errors.js';
import { NoncePool, isValidNonce } from './nonces.js';
import { problemInBody } from './parse.js';
import type { Clock, Sleep } from './poll.js';

const BAD_NONCE = 'urn:ietf:params:acme:error:badNonce';
/** Attempts of one signed request answered badNonce (decisions.md: at least 20). */
export const DEFAULT_NONCE_ATTEMPTS = 25;
/** Times a read is sent again because its answer was lost or unreadable. */
const MAX_REREADS = 2;
/** Times one POST's unknown outcome is handed to `recover`. */
const MAX_RECOVERIES = 3;
/** HEAD newNonce tries when the answer has no usable Replay-Nonce. */
const NONCE_FETCH_TRIES = 3;
const NO_BOUND: Bound = { startedAt: 0 };

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

/**
 * A signed POST that may or may not have taken effect: the request may have reached the server,
 * but no usable answer came back. The message is the underlying failure's.
 */
export class OutcomeUnknownError extends TransportError {
  /** The answer's status and Location, when one arrived but could not be used. */
  readonly location?: string;
  constructor(message: string, url: string, opts: { cause?: unknown; status?: number; location?: string }) {
    super(message, url, { cause: opts.cause, ...(opts.status !== undefined ? { status: opts.status } : {}) });
    if (opts.location !== undefined) this.location = opts.location;
  }
}

/**
 * Decides, after an unknown outcome, whether the POST took effect: the resource as the POST would
 * have answered it, or undefined when it did not take effect (the POST is then sent again).
 */
export type Recover = (lost: OutcomeUnknownError) => Promise<AcmeResponse | undefined>;

export interface WireOptions {
  transport: Transport;
  log: Logger;
  sleep: Sleep;
  now?: Clock;
  /** Attempts of one signed request when the server answers badNonce; default 25. */
  maxNonceAttempts?: number;
  /** Where `HEAD` fetches a fresh nonce; set once the directory is known. */
  newNonceUrl?: string;
  retryPolicy?: RetryPolicy;
}

export interface RequestOptions {
  accept?: string;
  /** Parse the body as JSON (default true). */
  json?: boolean;
  bound?: Bound;
  /** For a POST that changes something: what to do when its outcome is unknown. */
  recover?: Recover;
}

export class AcmeWire {
  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly sleep: Sleep;
  private readonly now: Clock;
  private readonly maxNonceAttempts: number;
  private readonly policy: RetryPolicy;
  private readonly nonces: NoncePool;
  newNonceUrl: string | undefined;
  private sent = 0;

  constructor(opts: WireOptions) {
    this.transport = opts.transport;
    this.log = opts.log;
    this.sleep = opts.sleep;
    this.now = opts.now ?? Date.now;
    this.maxNonceAttempts = opts.maxNonceAttempts ?? DEFAULT_NONCE_ATTEMPTS;
    this.policy = opts.retryPolicy ?? DEFAULT_RETRY_POLICY;
    this.newNonceUrl = opts.newNonceUrl;
    this.nonces = new NoncePool((bound) => this.headNonce(bound));
  }

  /** HTTP requests sent so far (GET, HEAD newNonce, POSTs, transport retries). */
  get requestCount(): number {
    return this.sent;
  }

  /** One request through the transport within `bound`, counted. */
  async send(req: HttpRequest, bound: Bound = NO_BOUND): Promise<HttpResponse> {
    const what = `${req.method} ${req.url}`;
    checkBound(bound, this.now, what, req.url);
    const budgetMs = remainingMs(bound, this.now);
    try {
      const res = await this.transport.request({
        ...req, ...(budgetMs !== undefined ? { budgetMs } : {}), ...(bound.signal ? { signal: bound.signal } : {}),
        onRetry: (line) => this.log.debug(line),
      });
      this.sent += res.attempts ?? 1;
      return res;
    } catch (err) {
      this.sent++;
      if (err instanceof HttpAttemptError && err.deadlineExceeded) throw deadlineError(bound, what, req.url);
      throw err;
    }
  }

  /** Unauthenticated GET (directory, renewalInfo); the nonce in the answer is kept. */
  async get(url: string, bound?: Bound): Promise<HttpResponse> {
    const res = await this.send({ method: 'GET', url, headers: { accept: 'application/json' } }, bound);
    this.nonces.offer(headerValue(res, 'replay-nonce'));
    return res;
  }

  /**
   * A signed POST with a JSON payload. When its outcome is unknown, `opts.recover` (if given)
   * decides from the resource whether it took effect; if it did not, it is sent again.
   */
  async post(url: string, payload: object, signer: Signer, opts: RequestOptions = {}): Promise<AcmeResponse> {
    for (let recoveries = 0; ; recoveries++) {
      try {
        return await this.signed(url, payload, signer, opts);
      } catch (err) {
        if (!(err instanceof OutcomeUnknownError) || !opts.recover || recoveries >= MAX_RECOVERIES) throw err;
        this.log.debug(`POST ${url}: ${err.message}; the request may have taken effect: re-reading the resource`);
        const found = await opts.recover(err);
        if (found) {
          this.log.debug(`POST ${url} had taken effect; going on with the resource as re-read`);
          return found;
        }
        this.log.debug(`POST ${url} had not taken effect; sending it again`);
      }
    }
  }

  /** A POST-as-GET (empty payload): a read, retried on 429/5xx and on a lost or unreadable answer. */
  postAsGet(url: string, signer: Signer, opts: RequestOptions = {}): Promise<AcmeResponse> {
    return this.signed(url, undefined, signer, opts);
  }

  private async headNonce(bound: Bound = NO_BOUND): Promise<string> {
    const url = this.newNonceUrl;
    if (!url) throw new TransportError('no newNonce URL (the directory was not read)', '');
    for (let n = 1; ; n++) {
      const res = await this.send({ method: 'HEAD', url }, bound);
      const nonce = headerValue(res, 'replay-nonce');
      if (isValidNonce(nonce)) return nonce;
      if (n >= NONCE_FETCH_TRIES) {
        throw new TransportError(`HEAD ${url} returned HTTP ${res.status} without a usable Replay-Nonce header`, url, { status: res.status });
      }
      this.log.debug(`HEAD ${url}: HTTP ${res.status} without a usable Replay-Nonce; asking again`);
    }
  }

  /** One signed request and its retries (see the top of this file). */
  private async signed(url: string, payload: object | undefined, signer: Signer, opts: RequestOptions): Promise<AcmeResponse> {
    const isRead = payload === undefined;
    const bound = opts.bound ?? NO_BOUND;
    const what = `POST ${url}`;
    let nonce = await this.nonces.acquire(bound);
    let held = true;
    let responseNonce: string | undefined;
    let nonceAttempts = 1;
    let retries = 0;
    let rereads = 0;
    /** Gives the nonce slot back while waiting (others may sign meanwhile), then takes a new one. */
    const pause = async (ms: number): Promise<void> => {
      this.nonces.release(responseNonce);
      held = false;
      responseNonce = undefined;
      await sleepUnlessAborted(this.sleep, ms, bound.signal, () => abortError(bound, what));
      nonce = await this.nonces.acquire(bound);
      held = true;
    };
    const nextNonce = async (): Promise<void> => {
      nonce = responseNonce ?? (await this.nonces.takeForRetry(bound));
      responseNonce = undefined;
    };
    try {
      for (;;) {
        const header = 'kid' in signer ? { kid: signer.kid, nonce, url } : { jwk: signer.jwk, nonce, url };
        const jws = signJws(signer.key, header, payload);
        this.log.trace(`JWS for POST ${url}`, { protected: header, payload: loggablePayload(payload) });
        const headers: Record<string, string> = { 'content-type': 'application/jose+json' };
        if (opts.accept) headers.accept = opts.accept;
        let res: HttpResponse;
        try {
          res = await this.send({ method: 'POST', url, headers, body: JSON.stringify(jws) }, bound);
        } catch (err) {
          responseNonce = undefined;
          if (!(err instanceof HttpAttemptError)) throw err;
          if (!isRead && err.reachedServer) throw new OutcomeUnknownError(err.message, url, { cause: err });
          if (!err.transient) throw err;
          const wait = backoffMs(this.policy, ++retries);
          if (retries > this.policy.maxRetries || !fits(wait, remainingMs(bound, this.now))) throw err;
          this.log.debug(`${what}: ${err.message}; ${isRead ? 'reading again' : 'it did not reach the server; sending it again'} in ${wait} ms`);
          await pause(wait);
          continue;
        }
        const fresh = headerValue(res, 'replay-nonce');
        responseNonce = isValidNonce(fresh) ? fresh : undefined;
        if (res.status >= 200 && res.status < 300) {
          try {
            return toAcmeResponse(url, res, opts.json ?? true);
          } catch (err) {
            if (!isRead) throw new OutcomeUnknownError((err as Error).message, url, { cause: err, status: res.status, ...locationOf(res) });
            if (rereads++ >= MAX_REREADS) throw err;
            this.log.debug(`${what}: ${(err as Error).message}; reading again`);
            await nextNonce();
            continue;
          }
        }

        const problem = problemInBody(res.body);
        const retryAfter = parseRetryAfter(res.headers['retry-after']);
        if (problem?.type === BAD_NONCE) {
          const left = remainingMs(bound, this.now);
          if (nonceAttempts < this.maxNonceAttempts && (left === undefined || left > 0)) {
            nonceAttempts++;
            this.log.debug(`badNonce from ${url}; re-signing with the nonce from the error (attempt ${nonceAttempts} of ${this.maxNonceAttempts})`);
            await nextNonce();
            continue;
          }
        } else if ((isRead ? RETRY_STATUSES : REFUSED_STATUSES).has(res.status)) {
          const verdict = retryOnStatus(this.policy, res, ++retries, remainingMs(bound, this.now));
          if (verdict.retry) {
            this.log.debug(`${what}: HTTP ${res.status}; re-signing and retrying in ${verdict.waitMs} ms`);
            await pause(verdict.waitMs);
            continue;
          }
          if (verdict.reason) this.log.debug(`${what}: HTTP ${res.status}, ${verdict.reason}`);
        } else if (!isRead && (res.status === 502 || res.status === 504 || (res.status === 500 && !problem))) {
          throw new OutcomeUnknownError(`${what}: HTTP ${res.status}`, url, { status: res.status });
        }
        if (problem) throw problemError(problem, res.status, retryAfter);
        throw new TransportError(`${what}: HTTP ${res.status}`, url, { status: res.status });
      }
    } finally {
      if (held) this.nonces.release(responseNonce);
    }
  }
}

function locationOf(res: HttpResponse): { location?: string } {
  const location = headerValue(res, 'location');
  return location ? { location } : {};
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

/** Payload members that are bearer secrets (a tkauth-01 token): never logged, not even at trace. */
const SECRET_MEMBERS = ['tkauth'];

/** A payload as it may be logged: secret members replaced by a note. */
function loggablePayload(payload: object | undefined): object | string {
  if (!payload) return '';
  const secret = SECRET_MEMBERS.filter((m) => Object.hasOwn(payload, m));
  return secret.length === 0 ? payload : { ...payload, ...Object.fromEntries(secret.map((m) => [m, '(secret, not logged)'])) };
}
