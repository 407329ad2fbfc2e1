/**
 * HTTP Negotiate (RFC 4559) with SPNEGO over Kerberos, the initiator's credentials from a keytab.
 *
 * The service is `HTTP@<host>` of the URL (for an `http+unix://` URL: `HTTP@<local hostname>`).
 * The request goes out with `Authorization: Negotiate <token>`; a 401 carrying a further token is
 * answered (a continuation); the final answer must carry the server's token, which completes the
 * context (mutual authentication) — otherwise the response is not trusted. Tokens never reach a log.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../log.js';
import { headerValue, type HttpRequest, type HttpResponse, type Transport } from '../transport/types.js';
import { loadKerberos, withKrb5Env, type GssClientContext } from './binding.js';
import { KerberosError, gssFailure } from './errors.js';

export interface NegotiateOptions {
  /** Keytab holding the initiator's (client's) keys. */
  keytab: string;
  /** GSSAPI host-based service name; default `HTTP@<host of the URL>` (`HTTP@<local hostname>` for http+unix). */
  servicePrincipal?: string;
  logger?: Logger;
}

/** Rounds of 401 continuations answered before giving up (Kerberos needs none, SPNEGO at most one). */
const MAX_ROUNDS = 4;

/** `HTTP@<host>` for a URL: its host name, or this machine's name for a Unix socket. */
export function serviceForUrl(url: string): string {
  const u = new URL(url);
  const host = u.protocol === 'http+unix:' ? hostname() : u.hostname.replace(/^\[(.*)\]$/, '$1');
  return `HTTP@${host}`;
}

/** The token of a `WWW-Authenticate: Negotiate <token>` challenge; '' for a bare `Negotiate`, undefined for none. */
export function negotiateToken(res: HttpResponse): string | undefined {
  const raw = res.headers['www-authenticate'];
  for (const value of (Array.isArray(raw) ? raw : raw !== undefined ? [raw] : [])) {
    // several challenges may share one header, separated by commas
    for (const m of value.matchAll(/(?:^|,)\s*Negotiate(?:\s+([A-Za-z0-9+/]+=*))?\s*(?=,|$)/gi)) return m[1] ?? '';
  }
  return undefined;
}

/** Fails clearly, before any GSSAPI call, when the keytab is missing, unreadable or no keytab. */
async function checkKeytab(path: string): Promise<void> {
  let head: Buffer;
  try {
    // non-blocking: a FIFO in the keytab's place must not hang the run (it is refused below)
    const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      if (!(await fh.stat()).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
      head = Buffer.alloc(2);
      await fh.read(head, 0, 2, 0);
    } finally {
      await fh.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'ENOTFILE' ? 'not a regular file' : (err as Error).message;
    throw new KerberosError(`cannot read the keytab ${path}: ${why}`, 'kerberos', { cause: err });
  }
  // MIT keytabs start with 0x05 0x01 or 0x05 0x02 (the file format version)
  if (head[0] !== 0x05 || (head[1] !== 0x01 && head[1] !== 0x02)) throw new KerberosError(`${path} is not a Kerberos keytab`, 'kerberos');
}

/** The context and its first token, with the keytab as the initiator's credentials for just this call. */
async function firstStep(keytab: string, service: string): Promise<{ ctx: GssClientContext; token: string }> {
  const krb = await loadKerberos();
  // a private in-memory ccache: the operator's tickets are neither used nor touched
  const env = { KRB5_CLIENT_KTNAME: `FILE:${resolve(keytab)}`, KRB5CCNAME: `MEMORY:akamu-${randomBytes(8).toString('hex')}` };
  return withKrb5Env(env, async () => {
    const ctx = await krb.initializeClient(service, { mechOID: krb.GSS_MECH_OID_SPNEGO, flags: krb.GSS_C_MUTUAL_FLAG | krb.GSS_C_SEQUENCE_FLAG });
    return { ctx, token: await ctx.step('') };
  }).catch((err: unknown) => {
    throw err instanceof KerberosError ? err : gssFailure(err, keytab, service);
  });
}

/**
 * Sends `request` authenticated with SPNEGO (HTTP Negotiate) from the keytab, answers 401
 * continuations and checks the server's mutual-authentication token; KerberosError on failure.
 */
export async function negotiateRequest(transport: Transport, request: HttpRequest, opts: NegotiateOptions): Promise<HttpResponse> {
  const log = opts.logger ?? silentLogger;
  const service = opts.servicePrincipal ?? serviceForUrl(request.url);
  await checkKeytab(opts.keytab);
  log.debug(`${request.method} ${request.url}: Negotiate (SPNEGO) as the principal of keytab ${opts.keytab}, service ${service}`);
  const { ctx, token: first } = await firstStep(opts.keytab, service);
  const step = (token: string): Promise<string> => ctx.step(token).catch((err: unknown) => {
    throw gssFailure(err, opts.keytab, service);
  });
  let token = first;
  for (let round = 1; ; round++) {
    const res = await transport.request({ ...request, headers: { ...request.headers, authorization: `Negotiate ${token}` } });
    const reply = negotiateToken(res);
    if (res.status === 401) {
      if (!reply || ctx.contextComplete) {
        throw new KerberosError(`${request.url} refused the Kerberos authentication of ${ctx.username || 'the keytab\'s principal'} (HTTP 401)${problemDetail(res)}`, 'kerberos');
      }
      if (round >= MAX_ROUNDS) throw new KerberosError(`${request.url}: Kerberos authentication did not complete after ${round} rounds`, 'kerberos');
      token = await step(reply);
      continue;
    }
    if (reply) {
      const answer = await ctx.step(reply).catch((err: unknown) => {
        const gss = String((err as Error)?.message ?? err).replace(/[\r\n]+/g, ' ');
        throw new KerberosError(`${request.url}: the server's Kerberos token does not verify (mutual authentication failed: ${gss})`, 'kerberos', { cause: err });
      });
      if (!ctx.contextComplete || answer) {
        throw new KerberosError(`${request.url}: the server's Kerberos token does not complete the authentication (mutual authentication failed)`, 'kerberos');
      }
    } else if (res.status >= 200 && res.status < 300) {
      throw new KerberosError(`${request.url} answered without proving its identity (no Negotiate token: mutual authentication failed)`, 'kerberos');
    }
    if (ctx.contextComplete) log.debug(`Negotiate: authenticated to ${service} as ${ctx.username}`);
    return res;
  }
}

/** `: <detail>` of a JSON problem body or a short text body, for the refusal's message. */
function problemDetail(res: HttpResponse): string {
  const type = headerValue(res, 'content-type') ?? '';
  const text = res.body.subarray(0, 4096).toString('utf8');
  try {
    if (/json/.test(type)) {
      const detail = (JSON.parse(text) as { detail?: unknown }).detail;
      if (typeof detail === 'string' && detail) return `: ${detail.replace(/[\r\n]+/g, ' ').slice(0, 300)}`;
    }
  } catch { /* not JSON after all */ }
  return /^text\/plain/.test(type) && text.trim() ? `: ${text.trim().replace(/[\r\n]+/g, ' ').slice(0, 300)}` : '';
}
