// Authorizations and challenges (RFC 8555 §7.5): read, deactivate, trigger. http-01, dns-01 and
// tls-alpn-01 are validated in the background; onion-csr-01 and tkauth-01 at once, from the CSR or
// the Token Authority's token in the request.

import { b64uDecode } from './b64.js';
import {
  accountOf, json, payloadObject, verifyPost, type CaContext, type CaRequest, type Reply,
} from './context.js';
import { validateOnionCsr } from './onion.js';
import { AcmeProblem, problem } from './problem.js';
import type { Account, Authz, Challenge } from './state.js';
import { validateTkauth } from './tkauth.js';
import { validateDns01 } from './validate-dns.js';
import { validateHttp01 } from './validate-http.js';
import { validateTlsAlpn01 } from './validate-tls-alpn.js';

function ownAuthz(ctx: CaContext, account: Account, id: string): Authz {
  const authz = ctx.state.authzs.get(id);
  if (!authz) throw problem('malformed', `no authorization ${id}`, 404);
  if (authz.accountId !== account.id) throw problem('unauthorized', 'that authorization belongs to another account');
  return ctx.state.refreshAuthz(authz);
}

export function authzResource(ctx: CaContext, req: CaRequest, id: string): Reply {
  const post = verifyPost(ctx, req, 'kid');
  const authz = ownAuthz(ctx, accountOf(post), id);
  if (post.payload.length > 0) {
    const body = payloadObject(post);
    if (body.status !== 'deactivated' || Object.keys(body).length !== 1) {
      throw problem('malformed', 'an authorization can only be updated with {"status":"deactivated"}');
    }
    if (authz.status !== 'pending' && authz.status !== 'valid') throw problem('malformed', `a ${authz.status} authorization cannot be deactivated`);
    authz.status = 'deactivated';
  }
  return json(200, ctx.state.authzJson(authz, ctx.authKey));
}

function settle(ctx: CaContext, authz: Authz, chall: Challenge, outcome: AcmeProblem | undefined): void {
  if (outcome) {
    chall.status = 'invalid';
    chall.error = outcome.document();
    if (authz.status === 'pending') authz.status = 'invalid';
  } else {
    chall.status = 'valid';
    chall.validated = ctx.now();
    if (authz.status === 'pending') {
      authz.status = 'valid';
      authz.expires = new Date(ctx.now().getTime() + 30 * 86400_000);
    }
  }
}

async function validate(ctx: CaContext, authz: Authz, chall: Challenge, keyAuth: string): Promise<void> {
  const id = authz.identifier;
  if (chall.type === 'http-01') await validateHttp01(id, chall.token, keyAuth, ctx.config.http01);
  else if (chall.type === 'tls-alpn-01') await validateTlsAlpn01(id, keyAuth, ctx.config.tlsAlpn01);
  else if (chall.type === 'dns-01') {
    if (!ctx.config.dnsServer) throw new AcmeProblem('dns', 'this test CA has no DNS server configured');
    await validateDns01(id, keyAuth, ctx.config.dnsServer);
  } else throw new AcmeProblem('serverInternal', `no validator for ${chall.type}`);
}

function tkauthCheck(ctx: CaContext, authz: Authz, account: Account, token: unknown): void {
  const ta = ctx.config.tokenAuthority;
  if (!ta) throw new AcmeProblem('serverInternal', 'this test CA trusts no Token Authority');
  validateTkauth({ ta, identifier: authz.identifier, accountThumbprint: account.key.thumbprint, token, usedJtis: ctx.state.tkauthJtis, now: ctx.now() });
}

export async function challengeResource(ctx: CaContext, req: CaRequest, id: string): Promise<Reply> {
  const post = verifyPost(ctx, req, 'kid');
  const account = accountOf(post);
  const chall = ctx.state.challenges.get(id);
  if (!chall) throw problem('malformed', `no challenge ${id}`, 404);
  const authz = ownAuthz(ctx, account, chall.authzId);
  const reply = () => json(200, ctx.state.challengeJson(chall, ctx.authKey), { link: `<${ctx.state.url('authz', authz.id)}>;rel="up"` });
  if (post.payload.length === 0) return reply();
  const body = payloadObject(post);
  const onion = chall.type === 'onion-csr-01';
  const tkauth = chall.type === 'tkauth-01';
  if (onion && Object.keys(body).some((k) => k !== 'csr')) throw problem('malformed', 'an onion-csr-01 response is {"csr": <base64url DER>}');
  if (tkauth && (Object.keys(body).length !== 1 || typeof body.tkauth !== 'string')) {
    throw problem('malformed', 'a tkauth-01 response is {"tkauth": "<compact JWT from the Token Authority>"}');
  }
  if (!onion && !tkauth && Object.keys(body).length !== 0) throw problem('malformed', `a ${chall.type} response is the empty object {}`);
  const der = onion ? b64uDecode(body.csr, 'csr') : undefined;
  if (chall.status !== 'pending') return reply();
  if (authz.status !== 'pending') throw problem('malformed', `the authorization is ${authz.status}, not pending`);
  // validated at once, from what the request carries
  const immediate = der ? () => { authz.onionKey = validateOnionCsr(authz.identifier, chall.token, der); }
    : tkauth ? () => tkauthCheck(ctx, authz, account, body.tkauth) : undefined;
  if (immediate) {
    try {
      immediate();
      settle(ctx, authz, chall, undefined);
    } catch (e) {
      if (!(e instanceof AcmeProblem)) throw e;
      settle(ctx, authz, chall, e);
    }
    return reply();
  }
  chall.status = 'processing';
  const keyAuth = `${chall.token}.${account.key.thumbprint}`;
  validate(ctx, authz, chall, keyAuth).then(
    () => settle(ctx, authz, chall, undefined),
    (e: unknown) => settle(ctx, authz, chall, e instanceof AcmeProblem ? e : new AcmeProblem('serverInternal', String(e))),
  );
  return reply();
}
