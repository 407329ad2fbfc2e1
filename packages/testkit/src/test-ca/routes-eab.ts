// GSSAPI-authenticated EAB: GET /acme/eab behind the SPNEGO acceptor. Each authenticated request
// gets a fresh kid and HMAC key bound to the Kerberos principal (single use: the account that
// uses the kid records the principal, and the kid is gone). In principal-only mode the reply is
// just {"principal"}, as a CA without an EAB secret answers.

import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import { acceptNegotiate } from '../spnego-acceptor.js';
import type { CaContext } from './context.js';

export const GSSAPI_EAB_PATH = '/acme/eab';

export interface GssapiEabConfig {
  /** Keytab with the HTTP/<host> service keys the acceptor uses. */
  keytab: string;
  /** Hand out kid + HMAC key (default); false: reply with the principal only. */
  issueEab: boolean;
  /** kid → principal for the kids handed out and not used yet. */
  pending: Map<string, string>;
  /** Principals authenticated, in order (for tests). */
  authenticated: string[];
  /** Every SPNEGO token seen or sent and every HMAC key handed out (tests check that none is printed). */
  secrets: string[];
}

export async function serveGssapiEab(ctx: CaContext, gssapi: GssapiEabConfig, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method !== 'GET') {
    res.writeHead(405, { allow: 'GET', 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:malformed', detail: `method ${req.method} not allowed on ${GSSAPI_EAB_PATH}`, status: 405 }));
    return;
  }
  const principal = await acceptNegotiate(req, res, { keytab: gssapi.keytab });
  const tokens = [req.headers.authorization, res.getHeader('www-authenticate')].map((h) => /^Negotiate\s+(\S+)/i.exec(String(h ?? ''))?.[1]);
  gssapi.secrets.push(...tokens.filter((t): t is string => t !== undefined));
  if (principal === undefined) return;
  gssapi.authenticated.push(principal);
  let reply: Record<string, string> = { principal };
  if (gssapi.issueEab) {
    const kid = `krb-${randomBytes(9).toString('base64url')}`;
    const key = randomBytes(32);
    ctx.config.eabKeys.set(kid, key);
    gssapi.pending.set(kid, principal);
    reply = { principal, kid, hmac_key: key.toString('base64url'), alg: 'HS256' };
    gssapi.secrets.push(reply.hmac_key!, key.toString('base64'), key.toString('hex'));
  }
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(reply));
}

/** After an account used `kid`: the principal it was bound to (and the kid is spent), if it was a GSSAPI kid. */
export function spendGssapiKid(ctx: CaContext, kid: unknown): string | undefined {
  const gssapi = ctx.config.gssapi;
  if (!gssapi || typeof kid !== 'string') return undefined;
  const principal = gssapi.pending.get(kid);
  if (principal === undefined) return undefined;
  gssapi.pending.delete(kid);
  ctx.config.eabKeys.delete(kid);
  return principal;
}
