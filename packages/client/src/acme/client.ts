/**
 * AcmeClient: the RFC 8555 resources (directory, accounts, orders, authorizations, challenges,
 * finalize, certificate, revocation, key change, ARI) on top of the wire layer and the poller.
 * A client may be bound to a deadline and an abort signal (`deadline`, `signal`, `bounded()`):
 * every request, retry and wait of it then ends by the deadline. Each POST that changes something
 * names how its outcome is recovered when the answer is lost (recover.ts).
 */
import { AkamuError, PollTimeoutError, TransportError } from '../errors.js';
import type { Identifier } from '../identifiers.js';
import { b64u } from '../jose/base64url.js';
import { keyAuthorization } from '../jose/challenge.js';
import { thumbprint, type Jwk } from '../jose/jwk.js';
import { eabJws, signJws, type EabAlgorithm } from '../jose/jws.js';
import type { PrivateKey } from '../keys/privateKey.js';
import { childLogger, type Logger } from '../log.js';
import type { Transport } from '../transport/types.js';
import { checkPemChain, topIssuerName } from '../x509/chain.js';
import { ariCertId } from '../x509/facts.js';
import { fetchRenewalInfo, type RenewalInfo } from './ari.js';
import { narrowBound, type Bound } from './bound.js';
import { linkTargets } from './links.js';
import { AuthorizationFailedError, authorizationName, getError, orderInvalidError } from './errors.js';
import { parseAccount, parseAuthorization, parseChallenge, parseDirectory, parseOrder } from './parse.js';
import { defaultSleep, poll, wholeSeconds, type Clock, type Sleep } from './poll.js';
import {
  recoverAccount, recoverAccountUpdate, recoverChallenge, recoverDeactivation, recoverFinalize, recoverKeyChange, recoverOrder,
  recoverRevocation, type Reader,
} from './recover.js';
import type { AccountObject, Authorization, Challenge, Directory, Order, OrderStatus } from './types.js';
import { AcmeWire, type AcmeResponse, type Signer } from './wire.js';

/** Pause after a finalize answered `processing` (issuance by a local CA takes a few ms). */
const FINALIZE_FIRST_WAIT_MS = 20;
const DEFAULT_FINALIZE_WAIT_MS = 120_000;
/** Tries of the directory GET when its answer is not JSON (a cut or garbled answer). */
const DIRECTORY_TRIES = 3;
/** Tries of the certificate download when the chain fails its checks (a cut answer). */
const DOWNLOAD_TRIES = 2;

/** What `downloadPreferredChain` found. */
export interface PreferredChain {
  chainPem: string;
  /** A chain whose top certificate is issued by the name asked for was found (else: the default chain). */
  matched: boolean;
  /** The top issuer names of the chains looked at, the default chain's first. */
  offered: string[];
}

export interface NewAccountOptions {
  contact?: string[];
  termsOfServiceAgreed?: boolean;
  onlyReturnExisting?: boolean;
  eab?: { kid: string; hmacKey: Buffer; alg: EabAlgorithm };
}

export interface AcmeClientOptions {
  transport: Transport;
  log?: Logger;
  /** Attempts of one signed request when the server answers badNonce; default 25 (the deadline also ends them). */
  maxNonceAttempts?: number;
  /**
   * Epoch milliseconds (by `now`) by which every request, retry and wait of this client ends; past
   * it a request fails with PollTimeoutError. Default: none (the transport's timeouts only).
   */
  deadline?: number;
  /** Aborts every request and wait of this client (AkamuError, code 'aborted'). */
  signal?: AbortSignal;
  /** Injected for tests; default setTimeout. */
  sleep?: Sleep;
  /** Injected for tests; default Date.now. */
  now?: Clock;
}

type Account = { key: PrivateKey; kid: string; jwk: Jwk };

/** An ACME client bound to one directory and (after newAccount() or login()) one account. */
export class AcmeClient {
  readonly directory: Directory;
  readonly directoryUrl: string;
  private readonly wire: AcmeWire;
  private readonly log: Logger;
  private readonly sleep: Sleep;
  private readonly now: Clock;
  private readonly bound: Bound;
  /** Shared with every bounded() view of this client. */
  private readonly state: { account?: Account };
  private readonly opts: AcmeClientOptions;

  private constructor(directoryUrl: string, directory: Directory, wire: AcmeWire, opts: AcmeClientOptions, bound: Bound, state: { account?: Account }) {
    this.directoryUrl = directoryUrl;
    this.directory = directory;
    this.wire = wire;
    this.log = childLogger(opts.log, 'akamu_client');
    this.sleep = opts.sleep ?? defaultSleep;
    this.now = opts.now ?? Date.now;
    this.bound = bound;
    this.state = state;
    this.opts = opts;
  }

  /** Reads the directory and checks that it is one. */
  static async connect(directoryUrl: string, opts: AcmeClientOptions): Promise<AcmeClient> {
    const log = childLogger(opts.log, 'akamu_client');
    const now = opts.now ?? Date.now;
    const bound: Bound = { startedAt: now(), ...(opts.deadline !== undefined ? { deadline: opts.deadline } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
    const wire = new AcmeWire({ transport: opts.transport, log, sleep: opts.sleep ?? defaultSleep, now, maxNonceAttempts: opts.maxNonceAttempts });
    let body: unknown;
    for (let n = 1; ; n++) {
      const res = await wire.get(directoryUrl, bound);
      if (res.status !== 200) throw getError(directoryUrl, res);
      try {
        body = JSON.parse(res.body.toString('utf8'));
        break;
      } catch (err) {
        if (n >= DIRECTORY_TRIES) throw new TransportError(`${directoryUrl} is not an ACME directory (response is not JSON)`, directoryUrl, { cause: err });
        log.debug(`GET ${directoryUrl}: the answer is not JSON; reading it again`);
      }
    }
    const directory = parseDirectory(directoryUrl, body);
    wire.newNonceUrl = directory.newNonce;
    log.debug(`directory ${directoryUrl}`, { directory });
    return new AcmeClient(directoryUrl, directory, wire, opts, bound, {});
  }

  /**
   * A view of this client whose requests, retries and waits all end by `deadline` (or this
   * client's own, if earlier) and stop when `signal` aborts. It shares the connection, the nonces
   * and the account with this client.
   */
  bounded(more: { deadline?: number; signal?: AbortSignal }): AcmeClient {
    return new AcmeClient(this.directoryUrl, this.directory, this.wire, this.opts, narrowBound(this.bound, more, this.now), this.state);
  }

  /** The transport this client sends through (for requests beside ACME's, e.g. GSSAPI EAB). */
  get transport(): Transport {
    return this.opts.transport;
  }

  /** The epoch milliseconds by which this client's work ends (undefined: no deadline). */
  get deadline(): number | undefined {
    return this.bound.deadline;
  }

  private get reader(): Reader {
    return { wire: this.wire, bound: this.bound };
  }

  /** HTTP requests sent so far (directory, HEAD newNonce, POSTs, transport retries). */
  get requestCount(): number {
    return this.wire.requestCount;
  }

  /** The account URL (`kid`) after newAccount() or login(). */
  get accountUrl(): string | undefined {
    return this.state.account?.kid;
  }

  get accountKey(): PrivateKey | undefined {
    return this.state.account?.key;
  }

  /** The account's public JWK. */
  accountJwk(): Jwk {
    return this.requireAccount().jwk;
  }

  /** RFC 7638 thumbprint of the account key. */
  accountThumbprint(): string {
    return thumbprint(this.accountJwk());
  }

  /** `token.thumbprint` for the current account key. */
  keyAuthorization(token: string): string {
    return keyAuthorization(token, this.accountThumbprint());
  }

  /** True when the directory offers ACME Renewal Information (RFC 9773). */
  get supportsAri(): boolean {
    return typeof this.directory.renewalInfo === 'string' && this.directory.renewalInfo !== '';
  }

  private requireAccount(): Account {
    if (!this.state.account) throw new AkamuError('no account: call newAccount() or login() first', 'no-account');
    return this.state.account;
  }

  private asAccount(): Signer & { kid: string } {
    const { key, kid } = this.requireAccount();
    return { key, kid };
  }

  // ---------------------------------------------------------------- accounts

  /**
   * newAccount (RFC 8555 §7.3), signed with `key` (embedded as `jwk`). 201 → created; 200 → the
   * key already has an account. The client then acts as that account.
   */
  async newAccount(key: PrivateKey, opts: NewAccountOptions = {}): Promise<{ url: string; account: AccountObject; created: boolean }> {
    const url = this.directory.newAccount;
    const jwk = key.publicJwk();
    const payload: Record<string, unknown> = {};
    if (opts.contact) payload.contact = opts.contact;
    if (opts.termsOfServiceAgreed !== undefined) payload.termsOfServiceAgreed = opts.termsOfServiceAgreed;
    if (opts.onlyReturnExisting) payload.onlyReturnExisting = true;
    if (opts.eab) payload.externalAccountBinding = eabJws({ ...opts.eab, url, jwk });
    const signer: Signer = { key, jwk };
    const res = await this.wire.post(url, payload, signer, { bound: this.bound, recover: recoverAccount(this.reader, url, key, signer) });
    if (!res.location) throw new TransportError(`POST ${url}: the server sent no Location header for the account`, url);
    const account = parseAccount(url, res.json);
    this.login(key, res.location);
    const created = res.status === 201;
    this.log.debug(`${created ? 'created' : 'found'} account ${res.location}`);
    return { url: res.location, account, created };
  }

  /** Use an existing account: later requests are signed with `kid` = accountUrl. */
  login(key: PrivateKey, accountUrl: string): void {
    this.state.account = { key, kid: accountUrl, jwk: key.publicJwk() };
  }

  /** POST-as-GET the account URL. */
  async getAccount(): Promise<AccountObject> {
    const { kid } = this.requireAccount();
    return parseAccount(kid, (await this.wire.postAsGet(kid, this.asAccount(), { bound: this.bound })).json);
  }

  /** Replace the account's contacts (an empty list clears them). */
  async updateAccount(contact: string[]): Promise<AccountObject> {
    const { kid } = this.requireAccount();
    const signer = this.asAccount();
    return parseAccount(kid, (await this.wire.post(kid, { contact }, signer, { bound: this.bound, recover: recoverAccountUpdate(this.reader, signer, contact) })).json);
  }

  /** Deactivate the account (irreversible). */
  async deactivateAccount(): Promise<AccountObject> {
    const { kid } = this.requireAccount();
    const signer = this.asAccount();
    const res = await this.wire.post(kid, { status: 'deactivated' }, signer, { bound: this.bound, recover: recoverDeactivation(this.reader, signer) });
    this.log.debug(`deactivated account ${kid}`);
    return parseAccount(kid, res.json);
  }

  /**
   * Key rollover (RFC 8555 §7.3.5): outer JWS by the old key (kid), payload = inner JWS by the new
   * key with `jwk` and `url` and no nonce, over `{account, oldKey}`. Afterwards the new key signs.
   */
  async changeKey(newKey: PrivateKey): Promise<void> {
    const { key: oldKey, kid, jwk } = this.requireAccount();
    const url = this.directory.keyChange;
    const inner = signJws(newKey, { jwk: newKey.publicJwk(), url }, { account: kid, oldKey: jwk });
    await this.wire.post(url, inner, this.asAccount(), { bound: this.bound, recover: recoverKeyChange(this.reader, kid, newKey) });
    this.log.debug(`account key of ${kid} changed (${oldKey.keyType} → ${newKey.keyType})`);
    this.login(newKey, kid);
  }

  // ---------------------------------------------------------------- orders

  /** newOrder (RFC 8555 §7.4), with a profile and ARI's `replaces` when given. */
  async newOrder(opts: { identifiers: readonly Identifier[]; profile?: string; replaces?: string }): Promise<Order> {
    const url = this.directory.newOrder;
    const payload: Record<string, unknown> = { identifiers: opts.identifiers.map((i) => ({ type: i.type, value: i.value })) };
    if (opts.profile !== undefined) payload.profile = opts.profile;
    if (opts.replaces !== undefined) payload.replaces = opts.replaces;
    const signer = this.asAccount();
    const want = { identifiers: opts.identifiers, ...(opts.profile !== undefined ? { profile: opts.profile } : {}) };
    const res = await this.wire.post(url, payload, signer, { bound: this.bound, recover: recoverOrder(this.reader, signer, want) });
    if (!res.location) throw new TransportError(`POST ${url}: the server sent no Location header for the order`, url);
    const order = parseOrder(res.location, res.json);
    this.log.debug(`order ${order.url}: ${order.status}, ${order.authorizations.length} authorization(s)`, {
      ...(order.profile !== undefined ? { profile: order.profile } : {}),
      ...(order.replaces !== undefined ? { replaces: order.replaces } : {}),
    });
    return order;
  }

  /** POST-as-GET an order. */
  async getOrder(url: string): Promise<Order> {
    return (await this.fetchOrder(url)).value;
  }

  /** The order and the response's Retry-After, for the poller. */
  async fetchOrder(url: string): Promise<{ value: Order; retryAfterMs?: number }> {
    const res = await this.wire.postAsGet(url, this.asAccount(), { bound: this.bound });
    return withRetryAfter(parseOrder(url, res.json), res);
  }

  /** POST-as-GET an authorization. */
  async getAuthorization(url: string): Promise<Authorization> {
    return parseAuthorization(url, (await this.wire.postAsGet(url, this.asAccount(), { bound: this.bound })).json);
  }

  /** Tell the server to validate a challenge (POST `{}` or the solver's payload). */
  async respondChallenge(url: string, payload: object = {}): Promise<Challenge> {
    const signer = this.asAccount();
    return parseChallenge(url, (await this.wire.post(url, payload, signer, { bound: this.bound, recover: recoverChallenge(this.reader, signer, url) })).json);
  }

  /** Polls an authorization until `valid`; a final failure → AuthorizationFailedError. */
  async pollAuthorization(url: string, deadline: number): Promise<Authorization> {
    const started = this.now();
    return poll<Authorization>({
      fetch: async () => {
        const res = await this.wire.postAsGet(url, this.asAccount(), { bound: this.bound });
        return withRetryAfter(parseAuthorization(url, res.json), res);
      },
      settle: (a) => {
        if (a.status === 'valid') return true;
        if (a.status !== 'pending') throw new AuthorizationFailedError([a]);
        return false;
      },
      deadline,
      onTimeout: (a) => new PollTimeoutError(
        `timed out after ${wholeSeconds(deadline - started)} s waiting for authorization ${authorizationName(a)} (status ${a.status})`, url),
      sleep: this.sleep,
      now: this.now,
      ...(this.bound.signal ? { signal: this.bound.signal } : {}),
    });
  }

  /** Polls an order until its status is in `until` (or `valid`); `invalid` → the order's error. */
  async pollOrder(url: string, deadline: number, until: readonly OrderStatus[] = ['ready', 'valid'], firstDelayMs = 0): Promise<Order> {
    const started = this.now();
    return poll<Order>({
      fetch: () => this.fetchOrder(url),
      settle: (o) => {
        if (o.status === 'invalid') throw orderInvalidError(o);
        return until.includes(o.status) || o.status === 'valid';
      },
      deadline,
      onTimeout: (o) => new PollTimeoutError(
        `timed out after ${wholeSeconds(deadline - started)} s waiting for order ${url} (status ${o.status})`, url),
      firstDelayMs,
      sleep: this.sleep,
      now: this.now,
      ...(this.bound.signal ? { signal: this.bound.signal } : {}),
    });
  }

  /**
   * Finalize with a DER CSR (`{"csr": b64u(DER)}`); while the server answers `processing`, poll
   * the order until `valid` (by `deadline`, default 120 s from now).
   */
  async finalize(order: Order, csrDer: Buffer, deadline = this.now() + DEFAULT_FINALIZE_WAIT_MS): Promise<Order> {
    const signer = this.asAccount();
    const res = await this.wire.post(order.finalize, { csr: b64u(csrDer) }, signer, { bound: this.bound, recover: recoverFinalize(this.reader, signer, order.url) });
    let result = parseOrder(order.url, res.json);
    this.log.debug(`finalized order ${order.url}: ${result.status}`);
    if (result.status === 'invalid') throw orderInvalidError(result);
    if (result.status !== 'valid') {
      if (deadline - this.now() <= 0) {
        throw new PollTimeoutError(`timed out waiting for order ${order.url} to be issued (status ${result.status})`, order.url);
      }
      const first = Math.max(res.retryAfterMs ?? 0, FINALIZE_FIRST_WAIT_MS);
      result = await this.pollOrder(order.url, deadline, ['valid'], first);
    }
    if (!result.certificate) throw new TransportError(`order ${order.url} is valid but has no certificate URL`, order.url);
    return result;
  }

  /**
   * POST-as-GET the certificate chain (PEM); anything but CERTIFICATE blocks is refused. A chain
   * that fails the checks is downloaded once more first (an answer cut short looks the same).
   */
  async downloadCertificate(url: string): Promise<string> {
    return (await this.fetchChain(url)).pem;
  }

  /**
   * The certificate at `url` with the chain whose top certificate is issued by `issuerName` (its
   * issuer CN): the default chain when it matches, else the first `Link: rel="alternate"` chain
   * (RFC 8555 §7.4.2) that does; the default chain when none does (`matched` false). `offered` lists
   * the top issuer names of the chains looked at, the default first.
   */
  async downloadPreferredChain(url: string, issuerName: string): Promise<PreferredChain> {
    const wanted = issuerName.trim();
    const first = await this.fetchChain(url);
    const offered = [topIssuerName(first.pem)];
    if (offered[0] === wanted) return { chainPem: first.pem, matched: true, offered };
    for (const alt of first.alternates) {
      const chain = await this.fetchChain(alt);
      const name = topIssuerName(chain.pem);
      offered.push(name);
      this.log.debug(`alternate chain ${alt}: top certificate issued by '${name}'`);
      if (name === wanted) return { chainPem: chain.pem, matched: true, offered };
    }
    return { chainPem: first.pem, matched: false, offered };
  }

  /** One certificate download: the checked PEM chain and the alternate chains' URLs. */
  private async fetchChain(url: string): Promise<{ pem: string; alternates: string[] }> {
    for (let n = 1; ; n++) {
      const res = await this.wire.postAsGet(url, this.asAccount(), { accept: 'application/pem-certificate-chain', json: false, bound: this.bound });
      const text = res.body.toString('utf8');
      try {
        checkPemChain(text);
        return { pem: text, alternates: linkTargets(res.headers.link, 'alternate').map((u) => new URL(u, url).href) };
      } catch (err) {
        if (n >= DOWNLOAD_TRIES) throw err;
        this.log.debug(`certificate ${url}: ${(err as Error).message}; downloading it again`);
      }
    }
  }

  /**
   * revokeCert (RFC 8555 §7.6): signed with the certificate's key (`jwk`) when `certKey` is given,
   * else by the account (`kid`).
   */
  async revoke(certDer: Buffer, opts: { reason?: number; certKey?: PrivateKey } = {}): Promise<void> {
    const url = this.directory.revokeCert;
    const payload: Record<string, unknown> = { certificate: b64u(certDer) };
    if (opts.reason !== undefined) payload.reason = opts.reason;
    const signer: Signer = opts.certKey ? { key: opts.certKey, jwk: opts.certKey.publicJwk() } : this.asAccount();
    await this.wire.post(url, payload, signer, { json: false, bound: this.bound, recover: recoverRevocation(this.reader, url, payload, signer) });
    this.log.debug(`revoked certificate (${opts.certKey ? 'certificate key' : 'account key'})`);
  }

  // ---------------------------------------------------------------- ARI

  /** The ARI certID of a certificate (PEM or DER; the first certificate of a chain). */
  async certId(cert: string | Buffer): Promise<string> {
    return ariCertId(cert);
  }

  /**
   * Unauthenticated GET of the suggested renewal window for a certificate (RFC 9773 §4.1): the
   * certificate (PEM or DER), or its certID when the caller has it already (no parsing again).
   */
  async getRenewalInfo(cert: string | Buffer | { certId: string }): Promise<RenewalInfo> {
    const id = typeof cert === 'string' || Buffer.isBuffer(cert) ? await ariCertId(cert) : cert.certId;
    const info = await fetchRenewalInfo((url) => this.wire.get(url, this.bound), this.directory, id);
    this.log.debug(`renewalInfo ${id}: ${info.window.start.toISOString()} – ${info.window.end.toISOString()}`);
    return info;
  }
}

function withRetryAfter<T>(value: T, res: AcmeResponse): { value: T; retryAfterMs?: number } {
  return res.retryAfterMs !== undefined ? { value, retryAfterMs: res.retryAfterMs } : { value };
}
