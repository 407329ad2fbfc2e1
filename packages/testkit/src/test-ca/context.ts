// What every route of the test CA works with: the state, the nonces, the PKI, the clock and the
// configuration; plus the verified signed POST (RFC 8555 §6.2–6.4) every POST route starts from.

import type { IncomingHttpHeaders } from 'node:http';
import { checkAlg, keyHeader, parseJws, verifySignature, type ParsedJws } from './jws.js';
import type { PublicKey } from './keys.js';
import type { NoncePool } from './nonces.js';
import type { Pki } from './pki.js';
import { AcmeProblem, problem } from './problem.js';
import { jsonObject } from './b64.js';
import type { Account, CaState } from './state.js';
import type { GssapiEabConfig } from './routes-eab.js';
import type { TokenAuthorityTrust } from './tkauth.js';

export interface Profile { description: string; validitySeconds: number }

export interface CaConfig {
  /** EAB key id → HMAC key (the static ones, and those GSSAPI EAB handed out). */
  eabKeys: Map<string, Buffer>;
  /** externalAccountRequired: static EAB keys were given, or GSSAPI EAB hands out kids. */
  eabRequired: boolean;
  /** GSSAPI-authenticated EAB (GET /acme/eab), when enabled. */
  gssapi?: GssapiEabConfig;
  /** Where http-01 / tls-alpn-01 validation connects (every name resolves to this address). */
  http01: { address: string; port: number };
  tlsAlpn01: { address: string; port: number };
  /** DNS server for dns-01, "host:port". */
  dnsServer: string | undefined;
  termsOfService: string | undefined;
  profiles: Record<string, Profile>;
  defaultProfile: string;
  /** Time between finalize and the certificate (the order is `processing` meanwhile). */
  finalizeDelayMs: number;
  /** The Token Authority whose tokens prove authority-token identifiers (tkauth-01); none: such identifiers are unsupported. */
  tokenAuthority?: TokenAuthorityTrust;
}

export interface CaContext {
  state: CaState;
  nonces: NoncePool;
  pki: Pki;
  now: () => Date;
  config: CaConfig;
  /** The CA's Ed25519 onion-csr-01 authKey (RFC 9799), as a public JWK. */
  authKey: Record<string, string>;
}

export interface CaRequest {
  method: string;
  /** The full URL the request came in on (what the JWS `url` must equal). */
  url: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Reply {
  status: number;
  json?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string | string[]>;
}

export interface SignedPost {
  jws: ParsedJws;
  header: Record<string, unknown>;
  key: PublicKey;
  /** The account named by `kid` (always valid here), when the request used kid. */
  account?: Account;
  payload: Buffer;
}

/** Verify a signed POST: content type, JWS shape, alg, key, signature, nonce, url, account status. */
export function verifyPost(ctx: CaContext, req: CaRequest, want: 'jwk' | 'kid' | 'either'): SignedPost {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/jose+json') {
    throw problem('malformed', `Content-Type must be application/jose+json, not "${type}"`, 415);
  }
  const jws = parseJws(req.body);
  const alg = checkAlg(jws.header);
  const named = keyHeader(jws.header, want);
  let account: Account | undefined;
  let key: PublicKey;
  if (typeof named === 'string') {
    account = ctx.state.accountByUrl(named);
    if (!account) throw new AcmeProblem('accountDoesNotExist', `no account at kid ${named}`);
    key = account.key;
  } else {
    key = named;
  }
  verifySignature(jws, alg, key);
  const nonce = jws.header.nonce;
  if (typeof nonce !== 'string' || !ctx.nonces.consume(nonce)) {
    throw problem('badNonce', nonce === undefined ? 'the protected header has no nonce' : `nonce ${JSON.stringify(nonce)} is unknown or was used before`);
  }
  if (jws.header.url !== req.url) {
    throw problem('unauthorized', `the JWS url ${JSON.stringify(jws.header.url)} is not the request URL ${req.url}`);
  }
  if (account && account.status !== 'valid') throw problem('unauthorized', `the account is ${account.status}`);
  return { jws, header: jws.header, key, ...(account ? { account } : {}), payload: jws.payload };
}

/** A POST-as-GET (RFC 8555 §6.3): the payload must be the empty string. */
export function requireEmptyPayload(post: SignedPost): void {
  if (post.payload.length !== 0) throw problem('malformed', 'a POST-as-GET must have an empty payload ("")');
}

/** The payload as a JSON object (not empty, not an array). */
export function payloadObject(post: SignedPost): Record<string, unknown> {
  if (post.payload.length === 0) throw problem('malformed', 'this request needs a JSON object payload, not an empty one');
  return jsonObject(post.payload, 'JWS payload');
}

/** The account behind a kid-signed request (verifyPost('kid') guarantees it). */
export function accountOf(post: SignedPost): Account {
  if (!post.account) throw problem('malformed', 'this request must be signed with a kid');
  return post.account;
}

export function json(status: number, body: unknown, headers: Record<string, string | string[]> = {}): Reply {
  return { status, json: body, headers };
}
