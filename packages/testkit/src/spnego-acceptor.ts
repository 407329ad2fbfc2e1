/**
 * The server side of HTTP Negotiate (RFC 4559) for test peers: accepts an SPNEGO token against a
 * keytab with the real `kerberos` binding (MIT krb5), answers 401 itself when the request is not
 * authenticated, and sends the mutual-authentication token on the response it lets through.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';

interface GssServer {
  step(challenge: string): Promise<string | null>;
  readonly contextComplete: boolean;
  readonly username: string;
}
interface Binding {
  initializeServer(service: string): Promise<GssServer>;
}

export interface AcceptOptions {
  /** Keytab with the `HTTP/<host>` service keys (any of its entries may accept). */
  keytab: string;
  /** Only these client principals are let through (default: any the KDC vouches for); others get 403. */
  allow?: (principal: string) => boolean;
}

const MODULE = 'kerberos';
let binding: Promise<Binding> | undefined;
/** The `kerberos` package, imported on first use (the test kit runs without it too). */
function loadBinding(): Promise<Binding> {
  binding ??= import(MODULE).then((m: { default?: Binding } & Binding) => m.default ?? m);
  return binding;
}

/** KRB5_KTNAME is process-wide: one acceptance at a time, the variable restored after it. */
let queue: Promise<unknown> = Promise.resolve();
function withKeytab<T>(keytab: string, fn: () => Promise<T>): Promise<T> {
  const run = async (): Promise<T> => {
    const saved = process.env.KRB5_KTNAME;
    process.env.KRB5_KTNAME = `FILE:${resolve(keytab)}`;
    try {
      return await fn();
    } finally {
      if (saved === undefined) delete process.env.KRB5_KTNAME;
      else process.env.KRB5_KTNAME = saved;
    }
  };
  const result = queue.then(run, run);
  queue = result.catch(() => {});
  return result;
}

function refuse(res: ServerResponse, status: number, detail: string): undefined {
  res.statusCode = status;
  if (status === 401) res.setHeader('WWW-Authenticate', 'Negotiate');
  res.setHeader('Content-Type', 'application/problem+json');
  res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:unauthorized', detail, status }));
  return undefined;
}

/**
 * The authenticated client principal (`name@REALM`), with `WWW-Authenticate: Negotiate <token>`
 * set on `res` for the client's mutual authentication; or undefined once `res` has been answered
 * (401 with `WWW-Authenticate: Negotiate`, or 403 for a principal `allow` refuses).
 */
export async function acceptNegotiate(req: IncomingMessage, res: ServerResponse, opts: AcceptOptions): Promise<string | undefined> {
  const m = /^Negotiate\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) return refuse(res, 401, 'Kerberos (HTTP Negotiate) authentication required');
  const krb = await loadBinding();
  let server: GssServer;
  let answer: string | null;
  try {
    // no service name: any key of the keytab may accept (the client names HTTP/<its idea of the host>)
    ({ server, answer } = await withKeytab(opts.keytab, async () => {
      const s = await krb.initializeServer('');
      return { server: s, answer: await s.step(m[1]!) };
    }));
  } catch (err) {
    return refuse(res, 401, `Kerberos authentication failed: ${(err as Error).message}`);
  }
  if (!server.contextComplete) return refuse(res, 401, 'Kerberos authentication needs more than one round; this acceptor takes one');
  if (opts.allow && !opts.allow(server.username)) return refuse(res, 403, `principal ${server.username} is not allowed here`);
  if (answer) res.setHeader('WWW-Authenticate', `Negotiate ${answer}`);
  return server.username;
}
