// Accounts (RFC 8555 §7.3): newAccount (with EAB), the account object (update, deactivation,
// orders list) and key rollover (§7.3.5).

import { parseJws, checkAlg, keyHeader, verifySignature } from './jws.js';
import { fromJwk } from './keys.js';
import { verifyEab } from './eab.js';
import { spendGssapiKid } from './routes-eab.js';
import {
  accountOf, json, payloadObject, requireEmptyPayload, verifyPost, type CaContext, type CaRequest, type Reply,
} from './context.js';
import { AcmeProblem, problem } from './problem.js';
import type { Account } from './state.js';

const MAILTO = /^mailto:([^@,?%\s]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+)$/i;

function checkContact(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((c) => typeof c !== 'string')) throw problem('malformed', 'contact must be an array of strings');
  if (value.length > 10) throw problem('invalidContact', 'at most 10 contacts');
  for (const c of value as string[]) {
    if (!c.toLowerCase().startsWith('mailto:')) throw problem('unsupportedContact', `only mailto: contacts are supported, not ${JSON.stringify(c)}`);
    if (!MAILTO.test(c)) throw problem('invalidContact', `${JSON.stringify(c)} is not a single mailto: address without hfields`);
  }
  return value as string[];
}

function accountReply(ctx: CaContext, a: Account, status: number): Reply {
  return json(status, ctx.state.accountJson(a), { location: a.url });
}

export function newAccount(ctx: CaContext, req: CaRequest): Reply {
  const post = verifyPost(ctx, req, 'jwk');
  const body = payloadObject(post);
  const existingId = ctx.state.accountByKey.get(post.key.thumbprint);
  if (existingId) {
    const existing = ctx.state.accounts.get(existingId)!;
    if (existing.status !== 'valid') throw problem('unauthorized', `the account for this key is ${existing.status}`);
    return accountReply(ctx, existing, 200);
  }
  if (body.onlyReturnExisting === true) throw new AcmeProblem('accountDoesNotExist', 'no account exists for this key');
  const contact = checkContact(body.contact);
  if (ctx.config.termsOfService && body.termsOfServiceAgreed !== true) {
    throw problem('malformed', `the terms of service (${ctx.config.termsOfService}) must be agreed to (termsOfServiceAgreed: true)`);
  }
  let eab: unknown;
  let kerberosPrincipal: string | undefined;
  if (ctx.config.eabRequired) {
    if (body.externalAccountBinding === undefined) throw problem('externalAccountRequired', 'this CA requires an externalAccountBinding');
    eab = verifyEab(body.externalAccountBinding, ctx.config.eabKeys, req.url, post.key);
    kerberosPrincipal = spendGssapiKid(ctx, parseJws(eab, 'externalAccountBinding').header.kid);
  }
  const id = ctx.state.id();
  const account: Account = {
    id, url: ctx.state.url('acct', id), key: post.key, status: 'valid', contact,
    termsOfServiceAgreed: body.termsOfServiceAgreed === true, orderIds: [],
    ...(eab ? { externalAccountBinding: eab } : {}),
    ...(kerberosPrincipal !== undefined ? { kerberosPrincipal } : {}),
  };
  ctx.state.accounts.set(id, account);
  ctx.state.accountByKey.set(post.key.thumbprint, id);
  return accountReply(ctx, account, 201);
}

function ownAccount(ctx: CaContext, req: CaRequest, suffix = ''): { account: Account; payload: Buffer; post: ReturnType<typeof verifyPost> } {
  const post = verifyPost(ctx, req, 'kid');
  const account = accountOf(post);
  if (`${account.url}${suffix}` !== req.url) throw problem('unauthorized', 'an account can only be read or changed by its own key');
  return { account, payload: post.payload, post };
}

/** POST to the account URL: POST-as-GET, contact update or {"status":"deactivated"}. */
export function accountResource(ctx: CaContext, req: CaRequest): Reply {
  const { account, payload, post } = ownAccount(ctx, req);
  if (payload.length === 0) return accountReply(ctx, account, 200);
  const body = payloadObject(post);
  if (body.status !== undefined && body.status !== 'deactivated' && body.status !== 'valid') {
    throw problem('malformed', `an account's status can only be changed to "deactivated", not ${JSON.stringify(body.status)}`);
  }
  if (body.contact !== undefined) account.contact = checkContact(body.contact);
  if (body.status === 'deactivated') {
    account.status = 'deactivated';
    for (const o of account.orderIds.map((id) => ctx.state.orders.get(id)!)) {
      for (const a of o.authzIds.map((id) => ctx.state.authzs.get(id)!)) {
        if (a.status === 'pending') a.status = 'deactivated';
      }
      ctx.state.refreshOrder(o);
    }
  }
  return accountReply(ctx, account, 200);
}

export function accountOrders(ctx: CaContext, req: CaRequest): Reply {
  const { account, post } = ownAccount(ctx, req, '/orders');
  requireEmptyPayload(post);
  return json(200, { orders: account.orderIds.map((id) => ctx.state.url('order', id)) });
}

/** RFC 8555 §7.3.5: outer JWS by the old key (kid), inner by the new key (jwk). */
export function keyChange(ctx: CaContext, req: CaRequest): Reply {
  const post = verifyPost(ctx, req, 'kid');
  const account = accountOf(post);
  const inner = parseJws(post.payload, 'key-change inner JWS');
  const alg = checkAlg(inner.header);
  const newKey = keyHeader(inner.header, 'jwk');
  if (typeof newKey === 'string') throw problem('malformed', 'the inner JWS must carry the new key as "jwk"');
  verifySignature(inner, alg, newKey);
  if (inner.header.url !== post.header.url) throw problem('malformed', 'the inner JWS url must equal the outer url');
  const body = payloadObject({ ...post, payload: inner.payload });
  if (body.account !== account.url) throw problem('malformed', 'the inner payload "account" must be the account URL (the outer kid)');
  if (fromJwk(body.oldKey).thumbprint !== account.key.thumbprint) throw problem('malformed', 'the inner payload "oldKey" is not the account\'s current key');
  if (newKey.thumbprint === account.key.thumbprint) throw problem('malformed', 'the new key is the current key');
  const other = ctx.state.accountByKey.get(newKey.thumbprint);
  if (other) {
    throw new AcmeProblem('malformed', 'the new key already belongs to another account', {
      status: 409, headers: { location: ctx.state.url('acct', other) },
    });
  }
  ctx.state.accountByKey.delete(account.key.thumbprint);
  ctx.state.accountByKey.set(newKey.thumbprint, account.id);
  account.key = newKey;
  return accountReply(ctx, account, 200);
}
