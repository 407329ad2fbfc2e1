// startTokenAuthority(): a Token Authority for tkauth-01 (RFC 9447, decisions.md). Only clients that
// authenticate with SPNEGO (a real Kerberos ticket for its HTTP/<host> service) get an answer. A
// POST of `{"atc":{"tktype","tkvalue","fingerprint","ca"}}` is answered with `{"token": <JWT>}`: an
// ES256 JWT signed with the TA's own key, `{iss, exp, jti, atc}`. An empty `tkvalue` asks which
// identifier the TA vouches for (its first value); any other must be one of its values. On HTTPS
// (its own root, `caPem`) as `https://localhost:<port>/token`, or on a Unix socket as http+unix://.

import { createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { acceptNegotiate } from './spnego-acceptor.js';
import { Pki } from './test-ca/pki.js';
import { listen, readBody } from './test-ca/server.js';
import { tempDir } from './util.js';

/**
 * EnhancedJWTClaimConstraints (RFC 9118, explicit tags) values for tests, base64url DER:
 * `mustInclude [0] {"confidence"}` and `mustInclude [0] {"priority"}`.
 */
export const EJCC_CONFIDENCE = Buffer.from('3010a00e300c160a636f6e666964656e6365', 'hex').toString('base64url');
export const EJCC_PRIORITY = Buffer.from('300ea00c300a16087072696f72697479', 'hex').toString('base64url');

const AUTHORITY_TOKEN_TYPES = ['TNAuthList', 'JWTClaimConstraints', 'EnhancedJWTClaimConstraints'];
const FINGERPRINT = /^SHA256 (?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/;

export interface TokenAuthorityOptions {
  /** Acceptor keytab with the TA's service keys (`HTTP/localhost`, or `HTTP/<host name>` on a socket): a KDC's `serviceKeytab`. */
  keytab: string;
  /** Listen on this Unix socket (plain HTTP) instead of HTTPS on 127.0.0.1. */
  socketPath?: string;
  /** The identifier values it vouches for (base64url DER); the first is named on an empty tkvalue. Default [EJCC_CONFIDENCE]. */
  values?: string[];
  /** Principals (`name@REALM`) it gives tokens to (default: every authenticated one); others get 403. */
  principals?: string[];
  /** Its token-signing key, EC P-256 (default: a new one). Endpoints of one authority share it. */
  key?: KeyObject;
  /** Token lifetime in seconds (default 300). */
  lifetimeSeconds?: number;
  /** A misbehaving TA for tests: this fingerprint is signed instead of the one asked for (a token for another account). */
  fingerprint?: string;
}

export interface TokenAuthorityRequest {
  /** The authenticated Kerberos principal. */
  principal: string;
  atc: Record<string, unknown>;
  /** The HTTP status answered. */
  status: number;
}

export interface TokenAuthority {
  /** Where to POST (`--tkauth-url`). */
  url: string;
  /** The token-signing public key (PEM): give it to the test CA (`tokenAuthority.publicKeyPem`). */
  publicKeyPem: string;
  /** HTTPS only: the root its TLS certificate chains to, as text and as a file (`--server-ca`). */
  caPem?: string;
  caPemPath?: string;
  values: string[];
  /** The requests that got past authentication, in order. */
  requests(): TokenAuthorityRequest[];
  /** Requests answered by the SPNEGO acceptor itself: 401 (no or a failed Negotiate exchange), 403 (a principal not allowed). */
  unauthenticated(): number;
  /** Every token handed out (for tests that look for them where they must not be). */
  tokens(): string[];
  stop(): Promise<void>;
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The `atc` of a request body, or why it is refused. */
function parseAtc(body: Buffer): Record<string, unknown> | string {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return 'the body is not JSON';
  }
  const atc = (v as { atc?: unknown } | null)?.atc;
  if (typeof atc !== 'object' || atc === null || Array.isArray(atc)) return 'the body has no atc object';
  const { tktype, tkvalue, fingerprint, ca } = atc as Record<string, unknown>;
  if (typeof tktype !== 'string' || !AUTHORITY_TOKEN_TYPES.includes(tktype)) return `atc.tktype ${JSON.stringify(tktype)} is not an authority-token identifier type`;
  if (typeof tkvalue !== 'string') return 'atc.tkvalue must be a string';
  if (typeof fingerprint !== 'string' || !FINGERPRINT.test(fingerprint)) return 'atc.fingerprint must be "SHA256 XX:XX:…" (32 bytes, uppercase hex)';
  if (ca !== undefined && typeof ca !== 'boolean') return 'atc.ca must be a boolean';
  return atc as Record<string, unknown>;
}

/** Start a Token Authority; call stop() when done. */
export async function startTokenAuthority(opts: TokenAuthorityOptions): Promise<TokenAuthority> {
  const values = opts.values ?? [EJCC_CONFIDENCE];
  const lifetime = opts.lifetimeSeconds ?? 300;
  const privateKey = opts.key ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const publicKey = createPublicKey(privateKey);
  const requests: TokenAuthorityRequest[] = [];
  const tokens: string[] = [];
  let unauthenticated = 0;
  let url = '';
  const signJwt = (payload: object): string => {
    const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${enc({ typ: 'JWT', alg: 'ES256' })}.${enc(payload)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };

  const serve = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const body = await readBody(req).catch(() => undefined);
    if (!body) return reply(res, 413, { error: 'the body is too large' });
    if (req.method !== 'POST') return reply(res, 405, { error: 'POST an atc request' });
    const allowed = opts.principals;
    const principal = await acceptNegotiate(req, res, { keytab: opts.keytab, ...(allowed ? { allow: (p: string) => allowed.includes(p) } : {}) });
    if (principal === undefined) {
      unauthenticated++;
      return; // answered 401 (or 403 for a principal not allowed) itself
    }
    const atc = parseAtc(body);
    const record = (status: number, a: Record<string, unknown>): void => {
      requests.push({ principal, atc: a, status });
    };
    if (typeof atc === 'string') {
      record(400, {});
      return reply(res, 400, { error: atc });
    }
    const tkvalue = atc.tkvalue === '' ? values[0]! : (atc.tkvalue as string);
    if (!values.includes(tkvalue)) {
      record(403, atc);
      return reply(res, 403, { error: 'this Token Authority does not vouch for that identifier' });
    }
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt({
      iss: url, exp: now + lifetime, jti: randomBytes(12).toString('base64url'),
      atc: { tktype: atc.tktype, tkvalue, fingerprint: opts.fingerprint ?? atc.fingerprint, ca: false },
    });
    tokens.push(token);
    record(200, atc);
    reply(res, 200, { token });
  };

  const https = opts.socketPath === undefined;
  const pki = https ? new Pki(new Date()) : undefined;
  const server = await listen((req, res) => {
    serve(req, res).catch((e: unknown) => reply(res, 500, { error: String(e) }));
  }, { ...(opts.socketPath ? { socketPath: opts.socketPath } : {}), tls: pki ? pki.tlsServer(new Date()) : { certPem: '', keyPem: '' } });
  // the service principal is HTTP@<host>: a name, not an address
  url = `${server.base.replace('https://127.0.0.1:', 'https://localhost:')}/token`;
  let caPemPath: string | undefined;
  if (pki) {
    caPemPath = path.join(tempDir('akamu-ta-'), 'ta-root.pem');
    writeFileSync(caPemPath, pki.root.pem);
  }
  return {
    url,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    ...(pki ? { caPem: pki.root.pem, caPemPath } : {}),
    values,
    requests: () => [...requests],
    unauthenticated: () => unauthenticated,
    tokens: () => [...tokens],
    stop: () => server.close(),
  };
}
