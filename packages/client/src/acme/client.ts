/** AcmeClient: RFC 8555 requests (directory, nonces, JWS-signed POSTs, accounts, orders, revocation). */
import { AkamuError, TransportError, type Problem } from '../errors.js';
import { b64u } from '../jose/base64url.js';
import { keyAuthorization, publicJwk, signJws, thumbprint, eabJws, type EabAlgorithm, type Jwk } from '../jose/index.js';
import type { PrivateKey } from '../keys/privateKey.js';
import { childLogger, type Logger } from '../log.js';
import { parseRetryAfter } from '../transport/retryAfter.js';
import { headerValue, type HttpRequest, type HttpResponse, type Transport } from '../transport/types.js';
import { checkPemChain } from '../x509/chain.js';
import { ariCertId } from '../x509/facts.js';
import { fetchRenewalInfo, type RenewalInfo } from './ari.js';
import { authorizationName, authorizationsFailed, PollTimeoutError, problemError } from './errors.js';
import { NoncePool, isValidNonce } from './nonces.js';
import type { AccountObject, Authorization, Challenge, Directory, Identifier, Order } from './types.js';

const REQUIRED_DIRECTORY_FIELDS = ['newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange'] as const;
const BAD_NONCE = 'urn:ietf:params:acme:error:badNonce';
const MAX_NONCE_ATTEMPTS = 5;
/** POST-as-GET is a read: re-signed and retried on 429/5xx like a GET. */
const MAX_READ_RETRIES = 2;
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 30_000;
/** Polling backoff when the server sends no Retry-After: 50 ms doubling to 1 s. */
const POLL_FIRST_MS = 50;
const POLL_MAX_MS = 1_000;
/** Pause after a finalize answered `processing` (issuance by a local CA takes a few ms). */
const FINALIZE_FIRST_WAIT_MS = 20;
const DEFAULT_FINALIZE_WAIT_MS = 120_000;

export interface NewAccountOptions {
  contact?: string[];
  termsOfServiceAgreed?: boolean;
  onlyReturnExisting?: boolean;
  eab?: { kid: string; hmacKey: Buffer; alg: EabAlgorithm };
}

export interface AcmeClientOptions {
  transport: Transport;
  log?: Logger;
  /** Attempts of one signed request when the server answers badNonce; default 5. */
  maxNonceAttempts?: number;
  /** Injected for tests; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

/** A response to a signed POST, with the JSON body parsed when there is one. */
export interface AcmeResponse {
  status: number;
  headers: HttpResponse['headers'];
  body: Buffer;
  json?: unknown;
  location?: string;
}

interface PostOptions {
  /** Sign with this key and embed its `jwk` (newAccount, revocation by certificate key). */
  jwkKey?: PrivateKey;
  accept?: string;
  /** Parse the body as JSON (default true). */
  parseJson?: boolean;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function problemOf(body: Buffer): Problem | undefined {
  if (body.length === 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (isObject(parsed) && typeof parsed.type === 'string') return parsed as Problem;
  } catch {
    return undefined;
  }
  return undefined;
}

export class AcmeClient {
  readonly directory: Directory;
  readonly directoryUrl: string;
  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly nonces: NoncePool;
  private readonly maxNonceAttempts: number;
  private requests = 0;
  private key?: PrivateKey;
  private jwk?: Jwk;
  private kid?: string;

  private constructor(directoryUrl: string, directory: Directory, opts: AcmeClientOptions) {
    this.directoryUrl = directoryUrl;
    this.directory = directory;
    this.transport = opts.transport;
    this.log = childLogger(opts.log, 'akamu_client');
    this.sleep = opts.sleep ?? defaultSleep;
    this.maxNonceAttempts = opts.maxNonceAttempts ?? MAX_NONCE_ATTEMPTS;
    this.nonces = new NoncePool(() => this.headNonce());
  }

  /** GET the directory and check it is one. */
  static async connect(directoryUrl: string, opts: AcmeClientOptions): Promise<AcmeClient> {
    const res = await opts.transport.request({ method: 'GET', url: directoryUrl, headers: { accept: 'application/json' } });
    if (res.status !== 200) {
      throw new TransportError(`GET ${directoryUrl}: HTTP ${res.status}`, directoryUrl, { status: res.status });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body.toString('utf8'));
    } catch (err) {
      throw new TransportError(`${directoryUrl} is not an ACME directory (response is not JSON)`, directoryUrl, { cause: err });
    }
    if (!isObject(parsed)) {
      throw new TransportError(`${directoryUrl} is not an ACME directory (response is not a JSON object)`, directoryUrl);
    }
    const missing = REQUIRED_DIRECTORY_FIELDS.filter((f) => typeof parsed[f] !== 'string' || parsed[f] === '');
    if (missing.length > 0) {
      throw new TransportError(`${directoryUrl} is not an ACME directory (missing ${missing.join(', ')})`, directoryUrl);
    }
    const client = new AcmeClient(directoryUrl, parsed as unknown as Directory, opts);
    client.requests += res.attempts ?? 1;
    client.nonces.offer(headerValue(res, 'replay-nonce'));
    client.log.debug(`directory ${directoryUrl}`, { directory: parsed });
    return client;
  }

  /** HTTP requests sent so far (directory, HEAD newNonce, POSTs, transport retries). */
  get requestCount(): number {
    return this.requests;
  }

  /** The account URL (`kid`) after newAccount() or login(). */
  get accountUrl(): string | undefined {
    return this.kid;
  }

  get accountKey(): PrivateKey | undefined {
    return this.key;
  }

  /** The account's public JWK. */
  accountJwk(): Jwk {
    if (!this.key) throw new AkamuError('no account key: call newAccount() or login() first', 'no-account');
    this.jwk ??= publicJwk(this.key);
    return this.jwk;
  }

  /** RFC 7638 thumbprint of the account key. */
  accountThumbprint(): string {
    return thumbprint(this.accountJwk());
  }

  /** `token.thumbprint` for the current account key. */
  keyAuthorization(token: string): string {
    return keyAuthorization(token, this.accountThumbprint());
  }

  // ---------------------------------------------------------------- plumbing

  private async send(req: HttpRequest): Promise<HttpResponse> {
    try {
      const res = await this.transport.request(req);
      this.requests += res.attempts ?? 1;
      return res;
    } catch (err) {
      this.requests++;
      throw err;
    }
  }

  private async headNonce(): Promise<string> {
    const url = this.directory.newNonce;
    const res = await this.send({ method: 'HEAD', url });
    const nonce = headerValue(res, 'replay-nonce');
    if (!isValidNonce(nonce)) {
      throw new TransportError(
        `HEAD ${url} returned HTTP ${res.status} without a usable Replay-Nonce header`,
        url,
        { status: res.status },
      );
    }
    return nonce;
  }

  private requireAccount(): { key: PrivateKey; kid: string } {
    if (!this.key || !this.kid) throw new AkamuError('no account: call newAccount() or login() first', 'no-account');
    return { key: this.key, kid: this.kid };
  }

  /**
   * A JWS-signed POST. `payload === ''` is POST-as-GET. badNonce → re-sign with the nonce from the
   * error response (5 attempts in all). POST-as-GET answered 429/5xx → re-signed and retried (it
   * is a read). Problem documents → AcmeProblemError; other non-2xx → TransportError.
   */
  async post(url: string, payload: unknown, opts: PostOptions = {}): Promise<AcmeResponse> {
    const signer = opts.jwkKey ?? this.requireAccount().key;
    const kid = opts.jwkKey ? undefined : this.requireAccount().kid;
    const isRead = payload === '';
    let nonce = await this.nonces.acquire();
    let responseNonce: string | undefined;
    let readRetries = 0;
    try {
      for (let attempt = 1; ; attempt++) {
        const header: Record<string, unknown> = opts.jwkKey
          ? { jwk: this.jwkOf(opts.jwkKey), nonce, url }
          : { kid, nonce, url };
        const jws = signJws(signer, header, payload);
        this.log.trace(`JWS for POST ${url}`, { protected: header, payload: isRead ? '' : payload });
        const headers: Record<string, string> = { 'content-type': 'application/jose+json' };
        if (opts.accept) headers.accept = opts.accept;
        const res = await this.send({ method: 'POST', url, headers, body: JSON.stringify(jws) });
        const fresh = headerValue(res, 'replay-nonce');
        responseNonce = isValidNonce(fresh) ? fresh : undefined;

        if (res.status >= 200 && res.status < 300) {
          return this.parseResponse(url, res, opts.parseJson ?? true);
        }
        const problem = problemOf(res.body);
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

  private jwkOf(key: PrivateKey): Jwk {
    return key === this.key ? this.accountJwk() : publicJwk(key);
  }

  private parseResponse(url: string, res: HttpResponse, parseJson: boolean): AcmeResponse {
    const location = headerValue(res, 'location');
    const out: AcmeResponse = { status: res.status, headers: res.headers, body: res.body, ...(location ? { location } : {}) };
    if (parseJson && res.body.length > 0) {
      try {
        out.json = JSON.parse(res.body.toString('utf8'));
      } catch (err) {
        throw new TransportError(`POST ${url}: response is not JSON`, url, { cause: err, status: res.status });
      }
    }
    return out;
  }

  private objectBody(url: string, res: AcmeResponse, what: string): Record<string, unknown> {
    if (!isObject(res.json)) throw new TransportError(`POST ${url}: the server sent no ${what} object`, url, { status: res.status });
    return res.json;
  }

  private toOrder(url: string, res: AcmeResponse): Order {
    const o = this.objectBody(url, res, 'order');
    if (typeof o.finalize !== 'string' || !Array.isArray(o.authorizations)) {
      throw new TransportError(`${url}: malformed order (no finalize URL or authorizations)`, url);
    }
    return { ...(o as unknown as Order), status: typeof o.status === 'string' ? o.status : 'pending', url };
  }

  private toAuthorization(url: string, res: AcmeResponse): Authorization {
    const a = this.objectBody(url, res, 'authorization');
    if (!isObject(a.identifier) || !Array.isArray(a.challenges)) {
      throw new TransportError(`${url}: malformed authorization (no identifier or challenges)`, url);
    }
    return { ...(a as unknown as Authorization), url };
  }

  // ---------------------------------------------------------------- accounts

  /**
   * newAccount (RFC 8555 §7.3), signed with `jwk`. 201 → created; 200 → the key already has an
   * account (its URL is returned). The client then acts as that account.
   */
  async newAccount(key: PrivateKey, opts: NewAccountOptions = {}): Promise<{ url: string; account: AccountObject; created: boolean }> {
    const url = this.directory.newAccount;
    const jwk = publicJwk(key);
    const payload: Record<string, unknown> = {};
    if (opts.contact) payload.contact = opts.contact;
    if (opts.termsOfServiceAgreed !== undefined) payload.termsOfServiceAgreed = opts.termsOfServiceAgreed;
    if (opts.onlyReturnExisting) payload.onlyReturnExisting = true;
    if (opts.eab) {
      payload.externalAccountBinding = eabJws({ kid: opts.eab.kid, hmacKey: opts.eab.hmacKey, alg: opts.eab.alg, url, jwk });
    }
    const res = await this.post(url, payload, { jwkKey: key });
    if (!res.location) throw new TransportError(`POST ${url}: the server sent no Location header for the account`, url);
    const account = this.objectBody(url, res, 'account') as unknown as AccountObject;
    this.login(key, res.location);
    const created = res.status === 201;
    this.log.debug(`${created ? 'created' : 'found'} account ${res.location}`);
    return { url: res.location, account, created };
  }

  /** Use an existing account: later requests are signed with `kid` = accountUrl. */
  login(key: PrivateKey, accountUrl: string): void {
    this.key = key;
    this.jwk = undefined;
    this.kid = accountUrl;
  }

  /** POST-as-GET the account URL. */
  async getAccount(): Promise<AccountObject> {
    const { kid } = this.requireAccount();
    const res = await this.post(kid, '');
    return this.objectBody(kid, res, 'account') as unknown as AccountObject;
  }

  /** Replace the account's contacts (an empty list clears them). */
  async updateAccount(contact: string[]): Promise<AccountObject> {
    const { kid } = this.requireAccount();
    const res = await this.post(kid, { contact });
    return this.objectBody(kid, res, 'account') as unknown as AccountObject;
  }

  /** Deactivate the account (irreversible). */
  async deactivateAccount(): Promise<AccountObject> {
    const { kid } = this.requireAccount();
    const res = await this.post(kid, { status: 'deactivated' });
    this.log.debug(`deactivated account ${kid}`);
    return this.objectBody(kid, res, 'account') as unknown as AccountObject;
  }

  /**
   * Key rollover (RFC 8555 §7.3.5): outer JWS by the old key (kid), payload = inner JWS by the new
   * key with `jwk` and `url` and no nonce, over `{account, oldKey}`. Afterwards the new key signs.
   */
  async changeKey(newKey: PrivateKey): Promise<void> {
    const { key: oldKey, kid } = this.requireAccount();
    const url = this.directory.keyChange;
    const inner = signJws(newKey, { jwk: publicJwk(newKey), url }, { account: kid, oldKey: this.accountJwk() });
    await this.post(url, inner);
    this.log.debug(`account key of ${kid} changed (${oldKey.keyType} → ${newKey.keyType})`);
    this.login(newKey, kid);
  }

  // ---------------------------------------------------------------- orders

  async newOrder(opts: { identifiers: Identifier[]; profile?: string; replaces?: string }): Promise<Order> {
    const url = this.directory.newOrder;
    const payload: Record<string, unknown> = { identifiers: opts.identifiers.map((i) => ({ type: i.type, value: i.value })) };
    if (opts.profile !== undefined) payload.profile = opts.profile;
    if (opts.replaces !== undefined) payload.replaces = opts.replaces;
    const res = await this.post(url, payload);
    if (!res.location) throw new TransportError(`POST ${url}: the server sent no Location header for the order`, url);
    const order = this.toOrder(res.location, res);
    this.log.debug(`order ${order.url}: ${order.status}, ${order.authorizations.length} authorization(s)`, {
      ...(order.profile !== undefined ? { profile: order.profile } : {}),
      ...(order.replaces !== undefined ? { replaces: order.replaces } : {}),
    });
    return order;
  }

  /** True when the directory offers ACME Renewal Information (RFC 9773). */
  get supportsAri(): boolean {
    return typeof this.directory.renewalInfo === 'string' && this.directory.renewalInfo !== '';
  }

  /** The ARI certID of a certificate (PEM or DER; the first certificate of a chain). */
  async certId(cert: string | Buffer): Promise<string> {
    return ariCertId(cert);
  }

  /** Unauthenticated GET of the suggested renewal window for a certificate (RFC 9773 §4.1). */
  async getRenewalInfo(cert: string | Buffer): Promise<RenewalInfo> {
    const id = await ariCertId(cert);
    const info = await fetchRenewalInfo({ request: (r) => this.send(r) }, this.directory, id);
    this.log.debug(`renewalInfo ${id}: ${info.window.start.toISOString()} – ${info.window.end.toISOString()}`);
    return info;
  }

  async getOrder(url: string): Promise<Order> {
    return this.toOrder(url, await this.post(url, ''));
  }

  /** getOrder() plus the response's Retry-After (ms), for pollers. */
  async getOrderForPoll(url: string): Promise<{ order: Order; retryAfterMs?: number }> {
    const res = await this.post(url, '');
    const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
    return { order: this.toOrder(url, res), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }

  async getAuthorization(url: string): Promise<Authorization> {
    return this.toAuthorization(url, await this.post(url, ''));
  }

  /** Tell the server to validate a challenge (POST `{}` or the solver's payload). */
  async respondChallenge(url: string, payload: object = {}): Promise<Challenge> {
    const res = await this.post(url, payload);
    const c = this.objectBody(url, res, 'challenge');
    return { ...(c as unknown as Challenge), url: typeof c.url === 'string' ? c.url : url };
  }

  /** Wait before the next poll: Retry-After (bounded by the deadline) or the backoff step. */
  private async pollWait(res: AcmeResponse, step: number, deadline: number): Promise<boolean> {
    const retryAfter = parseRetryAfter(res.headers['retry-after']);
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    // Retry-After when given (a `0` does not turn polling into a busy loop), else the backoff step.
    const wait = Math.min(Math.max(retryAfter ?? 0, step), remaining);
    await this.sleep(wait);
    return true;
  }

  /** POST-as-GET an authorization until valid or invalid (→ AuthorizationFailedError). */
  async pollAuthorization(url: string, deadline: number): Promise<Authorization> {
    const started = Date.now();
    for (let step = POLL_FIRST_MS; ; step = Math.min(step * 2, POLL_MAX_MS)) {
      const res = await this.post(url, '');
      const authz = this.toAuthorization(url, res);
      if (authz.status === 'valid') return authz;
      if (authz.status !== 'pending' && authz.status !== 'processing') throw authorizationsFailed([authz]);
      if (!(await this.pollWait(res, step, deadline))) {
        throw new PollTimeoutError(
          `timed out after ${Math.max(1, Math.round((deadline - started) / 1000))} s waiting for authorization ${authorizationName(authz)} (status ${authz.status})`,
          url,
        );
      }
    }
  }

  /** POST-as-GET an order until its status is in `until`; invalid → error with order.error. */
  async pollOrder(url: string, deadline: number, until: ('ready' | 'valid')[] = ['ready', 'valid']): Promise<Order> {
    const started = Date.now();
    for (let step = POLL_FIRST_MS; ; step = Math.min(step * 2, POLL_MAX_MS)) {
      const res = await this.post(url, '');
      const order = this.toOrder(url, res);
      if ((until as string[]).includes(order.status)) return order;
      if (order.status === 'invalid') throw this.orderInvalid(order);
      if (order.status === 'valid') return order; // past every state one could wait for
      if (!(await this.pollWait(res, step, deadline))) {
        throw new PollTimeoutError(
          `timed out after ${Math.max(1, Math.round((deadline - started) / 1000))} s waiting for order ${url} (status ${order.status})`,
          url,
        );
      }
    }
  }

  /** The error for an order that turned invalid. */
  orderInvalid(order: Order): AkamuError {
    if (order.error) return problemError(order.error, 0);
    return new AkamuError(`order ${order.url} is invalid`, 'order-invalid');
  }

  /**
   * Finalize with a DER CSR (`{"csr": b64u(DER)}`); when the server answers `processing`, poll the
   * order until `valid` (by `deadline`, default 120 s from now).
   */
  async finalize(order: Order, csrDer: Buffer, deadline = Date.now() + DEFAULT_FINALIZE_WAIT_MS): Promise<Order> {
    const res = await this.post(order.finalize, { csr: b64u(csrDer) });
    let result = this.toOrder(order.url, res);
    this.log.debug(`finalized order ${order.url}: ${result.status}`);
    if (result.status === 'invalid') throw this.orderInvalid(result);
    if (result.status !== 'valid') {
      if (!(await this.pollWait(res, FINALIZE_FIRST_WAIT_MS, deadline))) {
        throw new PollTimeoutError(`timed out waiting for order ${order.url} to be issued (status ${result.status})`, order.url);
      }
      result = await this.pollOrder(order.url, deadline, ['valid']);
    }
    if (!result.certificate) throw new TransportError(`order ${order.url} is valid but has no certificate URL`, order.url);
    return result;
  }

  /** POST-as-GET the certificate chain (PEM); anything but CERTIFICATE blocks is refused. */
  async downloadCertificate(url: string): Promise<string> {
    const res = await this.post(url, '', { accept: 'application/pem-certificate-chain', parseJson: false });
    const text = res.body.toString('utf8');
    checkPemChain(text);
    return text;
  }

  /**
   * revokeCert: signed with the certificate's key (`jwk`) when `certKey` is given, else with the
   * account (`kid`).
   */
  async revoke(certDer: Buffer, opts: { reason?: number; certKey?: PrivateKey } = {}): Promise<void> {
    const url = this.directory.revokeCert;
    const payload: Record<string, unknown> = { certificate: b64u(certDer) };
    if (opts.reason !== undefined) payload.reason = opts.reason;
    await this.post(url, payload, { parseJson: false, ...(opts.certKey ? { jwkKey: opts.certKey } : {}) });
    this.log.debug(`revoked certificate (${opts.certKey ? 'certificate key' : 'account key'})`);
  }
}
