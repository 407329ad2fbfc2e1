// Orders (RFC 8555 §7.4): newOrder (with ARI `replaces` and profiles), the order object and
// finalize, which checks the CSR against the order and issues from the intermediate.

import { randomBytes } from 'node:crypto';
import { b64u, b64uDecode, pem } from './b64.js';
import { checkCsrNames, parseCsr } from './csr.js';
import {
  accountOf, json, payloadObject, requireEmptyPayload, verifyPost, type CaContext, type CaRequest, type Reply,
} from './context.js';
import { checkIdentifiers, isOnion } from './identifiers.js';
import { AcmeProblem, problem, type Identifier } from './problem.js';
import type { Account, Authz, Challenge, IssuedCert, Order } from './state.js';
import { isAuthorityTokenType } from './tkauth.js';

const DAY_MS = 86400_000;

function challengeTypes(id: Identifier, wildcard: boolean): string[] {
  if (id.type === 'ip') return ['http-01', 'tls-alpn-01'];
  if (isAuthorityTokenType(id.type)) return ['tkauth-01'];
  if (isOnion(id.value)) return ['onion-csr-01'];
  return wildcard ? ['dns-01'] : ['http-01', 'dns-01', 'tls-alpn-01'];
}

function newAuthz(ctx: CaContext, account: Account, ident: Identifier): Authz {
  const wildcard = ident.type === 'dns' && ident.value.startsWith('*.');
  const identifier = wildcard ? { type: 'dns', value: ident.value.slice(2) } : ident;
  const authz: Authz = {
    id: ctx.state.id(), accountId: account.id, identifier, wildcard, status: 'pending',
    expires: new Date(ctx.now().getTime() + 7 * DAY_MS), challengeIds: [],
  };
  for (const type of challengeTypes(identifier, wildcard)) {
    const c: Challenge = {
      id: ctx.state.id(), authzId: authz.id, type, status: 'pending',
      // onion-csr-01's nonce is standard base64 with padding (RFC 9799); tokens are base64url.
      token: type === 'onion-csr-01' ? randomBytes(16).toString('base64') : randomBytes(32).toString('base64url'),
      ...(type === 'tkauth-01' && ctx.config.tokenAuthority?.url ? { tokenAuthority: ctx.config.tokenAuthority.url } : {}),
    };
    ctx.state.challenges.set(c.id, c);
    authz.challengeIds.push(c.id);
  }
  ctx.state.authzs.set(authz.id, authz);
  return authz;
}

function checkReplaces(ctx: CaContext, account: Account, value: unknown, identifiers: Identifier[]): IssuedCert | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw problem('malformed', 'replaces must be a string (an ARI certID)');
  const cert = [...ctx.state.certs.values()].find((c) => c.certId === value);
  if (!cert) throw problem('malformed', `replaces: no certificate issued here has the certID ${value}`);
  if (cert.accountId !== account.id) throw problem('unauthorized', 'replaces: that certificate was issued to another account');
  const names = new Set(identifiers.map((i) => `${i.type}:${i.value}`));
  if (!cert.identifiers.some((i) => names.has(`${i.type}:${i.value}`))) {
    throw problem('malformed', 'replaces: the new order shares no identifier with that certificate');
  }
  const by = cert.replacedByOrderId ? ctx.state.orders.get(cert.replacedByOrderId) : undefined;
  if (by && ctx.state.refreshOrder(by).status !== 'invalid') {
    throw new AcmeProblem('alreadyReplaced', `the certificate ${value} is already being replaced by another order`);
  }
  return cert;
}

export function newOrder(ctx: CaContext, req: CaRequest): Reply {
  const post = verifyPost(ctx, req, 'kid');
  const account = accountOf(post);
  const body = payloadObject(post);
  const identifiers = checkIdentifiers(body.identifiers, { authorityTokens: ctx.config.tokenAuthority !== undefined });
  if (body.notBefore !== undefined || body.notAfter !== undefined) {
    throw problem('malformed', 'this CA does not accept notBefore / notAfter in orders');
  }
  const profile = body.profile === undefined ? ctx.config.defaultProfile : body.profile;
  if (typeof profile !== 'string' || !(profile in ctx.config.profiles)) {
    throw problem('invalidProfile', `unknown profile ${JSON.stringify(profile)}; offered: ${Object.keys(ctx.config.profiles).join(', ')}`);
  }
  const replaced = checkReplaces(ctx, account, body.replaces, identifiers);
  const order: Order = {
    id: ctx.state.id(), accountId: account.id, status: 'pending', profile,
    expires: new Date(ctx.now().getTime() + 7 * DAY_MS), identifiers,
    authzIds: identifiers.map((i) => newAuthz(ctx, account, i).id),
    ...(replaced ? { replaces: replaced.certId } : {}),
  };
  if (replaced) replaced.replacedByOrderId = order.id;
  ctx.state.orders.set(order.id, order);
  account.orderIds.push(order.id);
  const url = ctx.state.url('order', order.id);
  return json(201, ctx.state.orderJson(order), { location: url });
}

/** The order named by the path, if it belongs to the signing account. */
export function ownOrder(ctx: CaContext, account: Account, id: string): Order {
  const order = ctx.state.orders.get(id);
  if (!order) throw problem('malformed', `no order ${id}`, 404);
  if (order.accountId !== account.id) throw problem('unauthorized', 'that order belongs to another account');
  return order;
}

export function orderResource(ctx: CaContext, req: CaRequest, id: string): Reply {
  const post = verifyPost(ctx, req, 'kid');
  const order = ownOrder(ctx, accountOf(post), id);
  requireEmptyPayload(post);
  const s = ctx.state.refreshOrder(order).status;
  return json(200, ctx.state.orderJson(order), s === 'processing' ? { 'retry-after': '1' } : {});
}

function issue(ctx: CaContext, order: Order, spki: Buffer, family: string): void {
  const profile = ctx.config.profiles[order.profile]!;
  const notBefore = ctx.now();
  const notAfter = new Date(notBefore.getTime() + profile.validitySeconds * 1000);
  const leaf = ctx.pki.issue(spki, order.identifiers, family, notBefore, notAfter);
  const cert: IssuedCert = {
    id: ctx.state.id(), accountId: order.accountId, orderId: order.id, der: leaf.der,
    chainPem: pem('CERTIFICATE', leaf.der) + ctx.pki.intermediate.pem,
    serial: leaf.serial, certId: `${b64u(ctx.pki.intermediate.ski)}.${b64u(leaf.serial)}`,
    notBefore, notAfter, identifiers: order.identifiers, spki,
  };
  ctx.state.certs.set(cert.id, cert);
  order.certId = cert.id;
  order.status = 'valid';
}

export function finalize(ctx: CaContext, req: CaRequest, id: string): Reply {
  const post = verifyPost(ctx, req, 'kid');
  const account = accountOf(post);
  const order = ownOrder(ctx, account, id);
  const status = ctx.state.refreshOrder(order).status;
  if (status !== 'ready') throw problem('orderNotReady', `the order is ${status}, not ready`);
  const body = payloadObject(post);
  const csr = parseCsr(b64uDecode(body.csr, 'csr'));
  checkCsrNames(csr, order.identifiers);
  if (csr.key.thumbprint === account.key.thumbprint) throw problem('badCSR', 'the certificate key must not be the account key');
  const onionKeys = order.authzIds.map((a) => ctx.state.authzs.get(a)!.onionKey).filter((k) => k !== undefined);
  if (csr.key.raw && onionKeys.some((k) => k.equals(csr.key.raw!))) {
    throw problem('badCSR', 'the certificate key must not be the hidden service key used for onion-csr-01');
  }
  order.status = 'processing';
  const headers: Record<string, string> = { location: ctx.state.url('order', order.id) };
  if (ctx.config.finalizeDelayMs > 0) {
    setTimeout(() => issue(ctx, order, csr.spki, csr.key.family), ctx.config.finalizeDelayMs).unref();
    headers['retry-after'] = String(Math.max(1, Math.ceil(ctx.config.finalizeDelayMs / 1000)));
  } else {
    issue(ctx, order, csr.spki, csr.key.family);
  }
  return json(200, ctx.state.orderJson(order), headers);
}
