/**
 * Server JSON is checked here, at the boundary: every resource the client hands out has been
 * validated member by member (types, status values), so nothing above needs a cast.
 */
import { TransportError, type Problem } from '../errors.js';
import type { Identifier } from '../identifiers.js';
import type {
  AccountObject, AccountStatus, Authorization, AuthorizationStatus, Challenge, ChallengeStatus, Directory, DirectoryMeta,
  Order, OrderStatus,
} from './types.js';

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const ORDER_STATUSES = ['pending', 'ready', 'processing', 'valid', 'invalid'] as const;
const AUTHZ_STATUSES = ['pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked'] as const;
const CHALLENGE_STATUSES = ['pending', 'processing', 'valid', 'invalid'] as const;
const ACCOUNT_STATUSES = ['valid', 'deactivated', 'revoked'] as const;
const REQUIRED_DIRECTORY_FIELDS = ['newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange'] as const;

function oneOf<S extends string>(allowed: readonly S[], v: unknown): v is S {
  return allowed.some((a) => a === v);
}

/** Member-by-member reading of one JSON object, with errors naming the resource and its URL. */
class Fields {
  constructor(private readonly o: JsonObject, private readonly what: string, private readonly url: string) {}

  fail(why: string): never {
    throw new TransportError(`${this.url}: malformed ${this.what} (${why})`, this.url);
  }
  string(k: string): string {
    const v = this.o[k];
    return typeof v === 'string' ? v : this.fail(`no ${k}`);
  }
  optString(k: string): string | undefined {
    const v = this.o[k];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'string' ? v : this.fail(`${k} is not a string`);
  }
  optBoolean(k: string): boolean | undefined {
    const v = this.o[k];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'boolean' ? v : this.fail(`${k} is not a boolean`);
  }
  stringArray(k: string, optional = false): string[] | undefined {
    const v = this.o[k];
    if (v === undefined && optional) return undefined;
    if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) return this.fail(`${k} is not a list of strings`);
    return v;
  }
  status<S extends string>(allowed: readonly S[], fallback?: S): S {
    const v = this.o.status;
    if (v === undefined && fallback !== undefined) return fallback;
    return oneOf(allowed, v) ? v : this.fail(`unknown status ${JSON.stringify(v)}`);
  }
  identifier(k: string): Identifier {
    const v = this.o[k];
    if (!isObject(v) || typeof v.type !== 'string' || typeof v.value !== 'string') return this.fail(`no ${k}`);
    return { type: v.type, value: v.value };
  }
  problem(k: string): Problem | undefined {
    const v = this.o[k];
    return isObject(v) ? problemOf(v) : undefined;
  }
}

/** A problem document's members, checked (RFC 8555 §6.7). */
export function problemOf(v: JsonObject): Problem {
  const p: Problem = { ...v };
  if (typeof v.type !== 'string') delete p.type;
  if (typeof v.detail !== 'string') delete p.detail;
  if (Array.isArray(v.subproblems)) p.subproblems = v.subproblems.filter(isObject).map(problemOf);
  else delete p.subproblems;
  if (isObject(v.identifier) && typeof v.identifier.type === 'string' && typeof v.identifier.value === 'string') {
    p.identifier = { type: v.identifier.type, value: v.identifier.value };
  } else delete p.identifier;
  return p;
}

/** The problem document in a response body, if it is one. */
export function problemInBody(body: Buffer): Problem | undefined {
  if (body.length === 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (isObject(parsed) && typeof parsed.type === 'string') return problemOf(parsed);
  } catch {
    return undefined;
  }
  return undefined;
}

export function parseDirectory(url: string, body: unknown): Directory {
  if (!isObject(body)) throw new TransportError(`${url} is not an ACME directory (response is not a JSON object)`, url);
  const missing = REQUIRED_DIRECTORY_FIELDS.filter((f) => typeof body[f] !== 'string' || body[f] === '');
  if (missing.length > 0) throw new TransportError(`${url} is not an ACME directory (missing ${missing.join(', ')})`, url);
  const f = new Fields(body, 'directory', url);
  const dir: Directory = {
    newNonce: f.string('newNonce'),
    newAccount: f.string('newAccount'),
    newOrder: f.string('newOrder'),
    revokeCert: f.string('revokeCert'),
    keyChange: f.string('keyChange'),
  };
  const newAuthz = f.optString('newAuthz');
  if (newAuthz) dir.newAuthz = newAuthz;
  const renewalInfo = typeof body.renewalInfo === 'string' ? body.renewalInfo : undefined;
  if (renewalInfo) dir.renewalInfo = renewalInfo;
  if (isObject(body.meta)) dir.meta = parseMeta(body.meta);
  return dir;
}

function parseMeta(m: JsonObject): DirectoryMeta {
  const meta: DirectoryMeta = { ...m };
  for (const k of ['termsOfService', 'website', 'accountHashPrefix'] as const) if (typeof m[k] !== 'string') delete meta[k];
  if (typeof m.externalAccountRequired !== 'boolean') delete meta.externalAccountRequired;
  if (!Array.isArray(m.caaIdentities) || !m.caaIdentities.every((c) => typeof c === 'string')) delete meta.caaIdentities;
  if (isObject(m.profiles)) {
    meta.profiles = Object.fromEntries(Object.entries(m.profiles).map(([k, v]) => [k, typeof v === 'string' ? v : '']));
  } else delete meta.profiles;
  return meta;
}

export function parseOrder(url: string, body: unknown): Order {
  if (!isObject(body)) throw new TransportError(`POST ${url}: the server sent no order object`, url);
  const f = new Fields(body, 'order', url);
  if (typeof body.finalize !== 'string' || !Array.isArray(body.authorizations)) f.fail('no finalize URL or authorizations');
  const ids = body.identifiers;
  const order: Order = {
    url,
    status: f.status<OrderStatus>(ORDER_STATUSES, 'pending'),
    identifiers: Array.isArray(ids) ? ids.map((_, i) => new Fields({ id: ids[i] }, 'order', url).identifier('id')) : [],
    authorizations: f.stringArray('authorizations')!,
    finalize: f.string('finalize'),
  };
  for (const k of ['expires', 'certificate', 'profile', 'replaces', 'notBefore', 'notAfter'] as const) {
    const v = f.optString(k);
    if (v !== undefined) order[k] = v;
  }
  const error = f.problem('error');
  if (error) order.error = error;
  return order;
}

export function parseChallenge(url: string, body: unknown): Challenge {
  if (!isObject(body)) throw new TransportError(`POST ${url}: the server sent no challenge object`, url);
  const f = new Fields(body, 'challenge', url);
  const challenge: Challenge = {
    ...body,
    type: f.string('type'),
    url: f.optString('url') ?? url,
    status: f.status<ChallengeStatus>(CHALLENGE_STATUSES),
  };
  const token = f.optString('token');
  if (token === undefined) delete challenge.token;
  const error = f.problem('error');
  if (error) challenge.error = error;
  else delete challenge.error;
  return challenge;
}

export function parseAuthorization(url: string, body: unknown): Authorization {
  if (!isObject(body)) throw new TransportError(`POST ${url}: the server sent no authorization object`, url);
  const f = new Fields(body, 'authorization', url);
  if (!isObject(body.identifier) || !Array.isArray(body.challenges)) f.fail('no identifier or challenges');
  const authz: Authorization = {
    url,
    status: f.status<AuthorizationStatus>(AUTHZ_STATUSES),
    identifier: f.identifier('identifier'),
    challenges: (body.challenges as unknown[]).map((c) => parseChallenge(isObject(c) && typeof c.url === 'string' ? c.url : url, c)),
  };
  const wildcard = f.optBoolean('wildcard');
  if (wildcard !== undefined) authz.wildcard = wildcard;
  const expires = f.optString('expires');
  if (expires !== undefined) authz.expires = expires;
  return authz;
}

export function parseAccount(url: string, body: unknown): AccountObject {
  if (!isObject(body)) throw new TransportError(`POST ${url}: the server sent no account object`, url);
  const f = new Fields(body, 'account', url);
  const account: AccountObject = { status: f.status<AccountStatus>(ACCOUNT_STATUSES, 'valid') };
  const contact = f.stringArray('contact', true);
  if (contact) account.contact = contact;
  const orders = f.optString('orders');
  if (orders !== undefined) account.orders = orders;
  const tos = f.optBoolean('termsOfServiceAgreed');
  if (tos !== undefined) account.termsOfServiceAgreed = tos;
  if (body.externalAccountBinding !== undefined) account.externalAccountBinding = body.externalAccountBinding;
  return account;
}
