/**
 * After a signed POST whose outcome is unknown (wire.ts: the connection failed after the request
 * may have reached the server, or the answer could not be read), the resource it acts on is
 * re-read to learn whether it took effect. Each function here builds the `Recover` for one kind of
 * POST: it returns the resource as the POST would have answered (it took effect: carry on), or
 * undefined (it did not: the wire sends it again, re-signed with a fresh nonce).
 *
 * | POST | re-read | took effect when |
 * |---|---|---|
 * | newAccount | the answer's Location (POST-as-GET), else newAccount `onlyReturnExisting` | the key has an account |
 * | newOrder | the answer's Location, else the account's `orders` list (its pages, the newest 10 orders) | a pending/ready order for the same identifiers (and profile) exists |
 * | challenge | the challenge URL | it is no longer `pending` |
 * | finalize | the order URL | the order is `processing`, `valid` or `invalid` |
 * | account update | the account URL | the contacts are the ones sent |
 * | deactivate | the account URL | the account is deactivated (or refused as no longer valid) |
 * | keyChange | the account URL, signed with the NEW key | the server accepts the new key |
 * | revokeCert | (none to read) sent again | the server answers `alreadyRevoked` |
 *
 * A server without an `orders` list (Let's Encrypt has none) gives no way to find an order whose
 * newOrder answer was lost, and a list longer than 20 pages is not read to its end; newOrder is
 * then sent again. That costs at most one unused order, which issues nothing and
 * expires; it cannot issue a certificate twice (only finalize does, and finalize is only sent again
 * for an order seen `ready`).
 */
import { linkTargets } from './links.js';
import { AcmeProblemError } from '../errors.js';
import type { Identifier } from '../identifiers.js';
import type { PrivateKey } from '../keys/privateKey.js';
import type { Bound } from './bound.js';
import { isObject, parseAccount, parseChallenge, parseOrder } from './parse.js';
import type { AcmeResponse, AcmeWire, Recover, Signer } from './wire.js';

/** Orders of the account's list looked at, newest first. */
const MAX_ORDERS_SCANNED = 10;
/** Pages of the account's orders list read; an order beyond them is not found (and ordered again). */
const MAX_ORDER_PAGES = 20;

/** What a recovery reads with. */
export interface Reader {
  wire: AcmeWire;
  bound: Bound;
}

function synthetic(json: unknown, status = 200): AcmeResponse {
  return { status, headers: {}, body: Buffer.from(JSON.stringify(json)), json };
}

/** newAccount: did the key get an account? */
export function recoverAccount(r: Reader, newAccountUrl: string, key: PrivateKey, signer: Signer): Recover {
  return async (lost) => {
    if (lost.location) {
      const res = await r.wire.postAsGet(lost.location, { key, kid: lost.location }, { bound: r.bound });
      return { ...res, status: lost.status ?? 201, location: lost.location };
    }
    try {
      // a lookup that changes nothing: safe to send again when its own answer is lost
      const res = await r.wire.post(newAccountUrl, { onlyReturnExisting: true }, signer, { bound: r.bound, recover: async () => undefined });
      // the account exists now; this request most likely created it
      return { ...res, status: 201 };
    } catch (err) {
      if (err instanceof AcmeProblemError && err.is('accountDoesNotExist')) return undefined;
      throw err;
    }
  };
}

function sameIdentifiers(a: readonly Identifier[], b: readonly Identifier[]): boolean {
  const key = (i: Identifier): string => `${i.type}:${i.value.toLowerCase()}`;
  const sa = new Set(a.map(key));
  return sa.size === new Set(b.map(key)).size && b.every((i) => sa.has(key(i)));
}

/** newOrder: is there an order for these identifiers now? */
export function recoverOrder(r: Reader, signer: Signer & { kid: string }, want: { identifiers: readonly Identifier[]; profile?: string }): Recover {
  return async (lost) => {
    if (lost.location) {
      const res = await r.wire.postAsGet(lost.location, signer, { bound: r.bound });
      return { ...res, status: lost.status ?? 201, location: lost.location };
    }
    const account = parseAccount(signer.kid, (await r.wire.postAsGet(signer.kid, signer, { bound: r.bound })).json);
    if (!account.orders) return undefined;
    const urls: string[] = [];
    // the list may come in pages (RFC 8555 §7.1.2.1, Link rel="next"; Pebble: oldest first, 3 a page)
    for (let page: string | undefined = account.orders, n = 0; page && n < MAX_ORDER_PAGES; n++) {
      const res = await r.wire.postAsGet(page, signer, { bound: r.bound });
      const list = res.json;
      if (isObject(list) && Array.isArray(list.orders)) urls.push(...list.orders.filter((u): u is string => typeof u === 'string'));
      page = linkTargets(res.headers.link, 'next')[0];
    }
    for (const url of urls.slice(-MAX_ORDERS_SCANNED).reverse()) {
      const res = await r.wire.postAsGet(url, signer, { bound: r.bound });
      let order;
      try {
        order = parseOrder(url, res.json);
      } catch {
        continue;
      }
      const fresh = order.status === 'pending' || order.status === 'ready';
      const sameProfile = want.profile === undefined || order.profile === undefined || order.profile === want.profile;
      if (fresh && sameProfile && sameIdentifiers(order.identifiers, want.identifiers)) return { ...res, status: 201, location: url };
    }
    return undefined;
  };
}

/** A challenge response: has validation started? */
export function recoverChallenge(r: Reader, signer: Signer, challengeUrl: string): Recover {
  return async () => {
    const res = await r.wire.postAsGet(challengeUrl, signer, { bound: r.bound });
    return parseChallenge(challengeUrl, res.json).status === 'pending' ? undefined : res;
  };
}

/** finalize: has the order moved past `ready`? */
export function recoverFinalize(r: Reader, signer: Signer, orderUrl: string): Recover {
  return async () => {
    const res = await r.wire.postAsGet(orderUrl, signer, { bound: r.bound });
    const { status } = parseOrder(orderUrl, res.json);
    return status === 'ready' || status === 'pending' ? undefined : res;
  };
}

/** An account update: are the contacts the ones sent? */
export function recoverAccountUpdate(r: Reader, signer: Signer & { kid: string }, contact: readonly string[]): Recover {
  return async () => {
    const res = await r.wire.postAsGet(signer.kid, signer, { bound: r.bound });
    const now = parseAccount(signer.kid, res.json).contact ?? [];
    return now.length === contact.length && contact.every((c) => now.includes(c)) ? res : undefined;
  };
}

/** Deactivation: is the account still valid? */
export function recoverDeactivation(r: Reader, signer: Signer & { kid: string }): Recover {
  return async () => {
    try {
      const res = await r.wire.postAsGet(signer.kid, signer, { bound: r.bound });
      return parseAccount(signer.kid, res.json).status === 'valid' ? undefined : res;
    } catch (err) {
      // a deactivated account may no longer be read at all (Pebble: unauthorized)
      if (err instanceof AcmeProblemError && err.is('unauthorized')) return synthetic({ status: 'deactivated' });
      throw err;
    }
  };
}

/** Key rollover: does the server know the account by the new key? */
export function recoverKeyChange(r: Reader, accountUrl: string, newKey: PrivateKey): Recover {
  return async () => {
    try {
      return await r.wire.postAsGet(accountUrl, { key: newKey, kid: accountUrl }, { bound: r.bound });
    } catch (err) {
      if (err instanceof AcmeProblemError) return undefined;
      throw err;
    }
  };
}

/** Revocation: sent again; `alreadyRevoked` then means the first one took effect. */
export function recoverRevocation(r: Reader, url: string, payload: object, signer: Signer): Recover {
  return async () => {
    try {
      return await r.wire.post(url, payload, signer, { json: false, bound: r.bound });
    } catch (err) {
      if (err instanceof AcmeProblemError && err.is('alreadyRevoked')) return { status: 200, headers: {}, body: Buffer.alloc(0) };
      throw err;
    }
  };
}
