/**
 * tkauth-01 (RFC 9447; decisions.md, standards.md §9): control of an authority-token identifier
 * (TNAuthList, JWTClaimConstraints, EnhancedJWTClaimConstraints) is proven with a token from a
 * Token Authority (TA). For each authorization the TA is sent
 * `{"atc":{"tktype":<type>,"tkvalue":<identifier value>,"fingerprint":"SHA256 XX:…","ca":false}}`
 * (POST, SPNEGO-authenticated from a keytab); its JSON reply's `token` (a compact JWT signed by
 * the TA) is POSTed to the challenge as `{"tkauth": <token>}`. The CA checks the TA's signature,
 * `exp`, `jti`, the identifier and the fingerprint — the binding to this ACME account.
 * `identifierFromAuthority` asks the TA with an empty `tkvalue` which identifier it vouches for.
 * Tokens are bearer secrets: they are never logged.
 */
import { ChallengeError, UsageError } from '../errors.js';
import type { Identifier } from '../identifiers.js';
import { b64uDecode } from '../jose/base64url.js';
import { fingerprintOfThumbprint, rfc9447Fingerprint, type Jwk } from '../jose/jwk.js';
import { loadKerberos } from '../kerberos/binding.js';
import { negotiateRequest } from '../kerberos/negotiate.js';
import { type Logger, silentLogger } from '../log.js';
import type { HttpResponse, Transport } from '../transport/types.js';
import type { ChallengeContext, Solver } from './types.js';

/** The `tktype` of a TA request that asks which identifier the TA vouches for (decisions.md). */
const DEFAULT_TKTYPE = 'EnhancedJWTClaimConstraints';
/** Identifier types tkauth-01 validates, in their registered spelling. */
const AUTHORITY_TOKEN_TYPES = ['TNAuthList', 'JWTClaimConstraints', 'EnhancedJWTClaimConstraints'] as const;
const EXCERPT = 200;

export interface TkAuth01SolverOptions {
  /** The Token Authority: an https://, http:// (loopback) or http+unix:// URL, POSTed to as given. */
  url: string;
  /** How requests reach the TA (the trust for its TLS certificate; http+unix:// URLs). */
  transport: Transport;
  /** Keytab with the client's Kerberos credentials, for SPNEGO to the TA. */
  keytab: string;
  /** GSSAPI service; default `HTTP@<the URL's host>` (`HTTP@<local host name>` for http+unix://). */
  servicePrincipal?: string;
  log?: Logger;
}

/** The registered spelling of an authority-token identifier type (compared case-insensitively), or undefined. */
function authorityTokenType(type: string): string | undefined {
  return AUTHORITY_TOKEN_TYPES.find((t) => t.toLowerCase() === type.toLowerCase());
}

/** One printable line of at most EXCERPT characters. */
function excerpt(text: string): string {
  const line = text.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ').trim();
  return line.length > EXCERPT ? `${line.slice(0, EXCERPT)}…` : line;
}

/** A short form of a (long, base64url DER) identifier value for messages. */
function shortValue(value: string): string {
  return value.length > 24 ? `${value.slice(0, 24)}…` : value;
}

/** The `atc` claim of a TA token (the payload is read, not verified: the CA verifies it). */
function atcClaim(token: string, where: string): Record<string, unknown> {
  const parts = token.split('.');
  let payload: unknown;
  try {
    if (parts.length !== 3) throw new Error('not three parts');
    payload = JSON.parse(b64uDecode(parts[1]!).toString('utf8'));
  } catch {
    throw new ChallengeError(`${where}: its token is not a compact JWT`);
  }
  const atc = (payload as { atc?: unknown } | null)?.atc;
  if (typeof atc !== 'object' || atc === null || Array.isArray(atc)) throw new ChallengeError(`${where}: its token has no atc claim`);
  return atc as Record<string, unknown>;
}

/**
 * Answers tkauth-01 with tokens from one Token Authority; `check` refuses identifiers other than
 * authority-token ones (dns, ip), so a solver list can give those to another solver.
 */
export class TkAuth01Solver implements Solver {
  readonly type = 'tkauth-01';
  private readonly opts: TkAuth01SolverOptions;
  private readonly log: Logger;
  private readonly tokens = new Map<string, Promise<string>>();

  constructor(opts: TkAuth01SolverOptions) {
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
  }

  /**
   * Loads the Kerberos binding, so that without it the issuance fails (a `kerberos-unavailable`
   * error with its install hint) before anything is ordered.
   */
  async start(): Promise<void> {
    await loadKerberos();
  }

  /** Only TNAuthList, JWTClaimConstraints and EnhancedJWTClaimConstraints identifiers. */
  check(identifiers: Identifier[]): void {
    const other = identifiers.filter((i) => !authorityTokenType(i.type)).map((i) => `${i.type} ${i.value}`);
    if (other.length > 0) {
      throw new UsageError(`tkauth-01 validates only ${AUTHORITY_TOKEN_TYPES.join(', ')} identifiers, not ${other.join(', ')}`);
    }
  }

  /**
   * The identifier the Token Authority vouches for the account of `accountKey` (its public JWK):
   * asked with an empty `tkvalue`, read from the returned token's `atc` (`tktype`, `tkvalue`).
   */
  async identifierFromAuthority(accountKey: Jwk): Promise<Identifier> {
    const fingerprint = rfc9447Fingerprint(accountKey);
    const token = await this.fetchToken(DEFAULT_TKTYPE, '', fingerprint);
    const where = `the Token Authority ${this.opts.url}`;
    const atc = atcClaim(token, where);
    const type = typeof atc.tktype === 'string' ? authorityTokenType(atc.tktype) : undefined;
    if (!type) throw new ChallengeError(`${where}: its token's atc.tktype ${JSON.stringify(atc.tktype)} is not an authority-token identifier type`);
    if (typeof atc.tkvalue !== 'string' || !/^[A-Za-z0-9_-]+$/.test(atc.tkvalue)) {
      throw new ChallengeError(`${where}: its token names no identifier (atc.tkvalue is not base64url)`);
    }
    if (atc.fingerprint !== fingerprint) throw new ChallengeError(`${where}: its token is for another account key (atc.fingerprint ${JSON.stringify(atc.fingerprint)})`);
    this.log.info(`tkauth-01: the Token Authority vouches for ${type} ${shortValue(atc.tkvalue)}`);
    return { type, value: atc.tkvalue };
  }

  /** Fetches the authorization's token (so a TA failure stops the issuance before anything is triggered). */
  async prepare(ctx: ChallengeContext): Promise<void> {
    const type = authorityTokenType(ctx.identifier.type) ?? ctx.identifier.type;
    const token = this.fetchToken(type, ctx.identifier.value, fingerprintOfThumbprint(b64uDecode(ctx.thumbprint)));
    this.tokens.set(ctx.challenge.url, token);
    token.catch(() => {}); // awaited right here; also by responsePayload
    await token;
    this.log.debug(`tkauth-01: token for ${type} ${shortValue(ctx.identifier.value)} from ${this.opts.url}`);
  }

  async responsePayload(ctx: ChallengeContext): Promise<object> {
    const token = this.tokens.get(ctx.challenge.url);
    if (!token) throw new ChallengeError(`tkauth-01: no token was fetched for ${shortValue(ctx.identifier.value)}`);
    return { tkauth: await token };
  }

  async cleanup(ctx: ChallengeContext): Promise<void> {
    this.tokens.delete(ctx.challenge.url);
  }

  /** POSTs one `atc` request to the TA (SPNEGO) and returns the `token` of its JSON reply. */
  private async fetchToken(tktype: string, tkvalue: string, fingerprint: string): Promise<string> {
    const { url, transport, keytab, servicePrincipal } = this.opts;
    const where = `fetch authority token from ${url}`;
    const body = JSON.stringify({ atc: { tktype, tkvalue, fingerprint, ca: false } });
    const res: HttpResponse = await negotiateRequest(transport, {
      method: 'POST', url, body, headers: { 'content-type': 'application/json', accept: 'application/json' },
    }, { keytab, ...(servicePrincipal ? { servicePrincipal } : {}), logger: this.log });
    const text = res.body.toString('utf8');
    if (res.status < 200 || res.status > 299) throw new ChallengeError(`${where}: HTTP ${res.status}${text.trim() ? `: ${excerpt(text)}` : ''}`);
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      throw new ChallengeError(`${where}: the reply is not JSON`);
    }
    const token = (reply as { token?: unknown } | null)?.token;
    if (typeof token !== 'string' || token === '') throw new ChallengeError(`${where}: the reply has no 'token' string`);
    return token;
  }
}
