// The HTTP side of the test CA: routing (RFC 8555 §7.1 resources), the headers every response
// carries (Replay-Nonce, Link rel="index"), problem documents, and the two listeners.

import { unlinkSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { CaContext, CaRequest, Reply } from './context.js';
import { AcmeProblem, problem } from './problem.js';
import { accountOrders, accountResource, keyChange, newAccount } from './routes-account.js';
import { authzResource, challengeResource } from './routes-authz.js';
import { certificateResource, renewalInfo, revokeCert } from './routes-cert.js';
import { finalize, newOrder, orderResource } from './routes-order.js';
import { GSSAPI_EAB_PATH, serveGssapiEab } from './routes-eab.js';

const MAX_BODY = 512 * 1024;

export const PATHS = {
  directory: '/dir', newNonce: '/nonce', newAccount: '/new-acct', newOrder: '/new-order',
  revokeCert: '/revoke-cert', keyChange: '/key-change', renewalInfo: '/renewal-info', terms: '/terms',
} as const;

export function directory(ctx: CaContext): Record<string, unknown> {
  const u = (p: string) => ctx.state.base + p;
  return {
    newNonce: u(PATHS.newNonce), newAccount: u(PATHS.newAccount), newOrder: u(PATHS.newOrder),
    revokeCert: u(PATHS.revokeCert), keyChange: u(PATHS.keyChange), renewalInfo: u(PATHS.renewalInfo),
    meta: {
      ...(ctx.config.termsOfService ? { termsOfService: ctx.config.termsOfService } : {}),
      website: 'https://akamu.invalid/test-ca',
      caaIdentities: ['akamu-test-ca.invalid'],
      externalAccountRequired: ctx.config.eabRequired,
      profiles: Object.fromEntries(Object.entries(ctx.config.profiles).map(([k, p]) => [k, p.description])),
    },
  };
}

type Route = { methods: string[]; run: (ctx: CaContext, req: CaRequest, id: string) => Reply | Promise<Reply> };

function route(path: string): { r: Route; id: string } | undefined {
  const fixed: Record<string, Route> = {
    [PATHS.directory]: { methods: ['GET'], run: (ctx) => ({ status: 200, json: directory(ctx) }) },
    [PATHS.newNonce]: { methods: ['HEAD', 'GET'], run: (_c, req) => ({ status: req.method === 'GET' ? 204 : 200, headers: { 'cache-control': 'no-store' } }) },
    [PATHS.newAccount]: { methods: ['POST'], run: newAccount },
    [PATHS.newOrder]: { methods: ['POST'], run: newOrder },
    [PATHS.revokeCert]: { methods: ['POST'], run: revokeCert },
    [PATHS.keyChange]: { methods: ['POST'], run: keyChange },
    [PATHS.terms]: { methods: ['GET'], run: () => ({ status: 200, text: 'akamu test CA: no terms; nothing issued here is trusted anywhere.\n', contentType: 'text/plain' }) },
  };
  if (fixed[path]) return { r: fixed[path], id: '' };
  const m = /^\/(acct|order|authz|chall|cert|renewal-info)\/([A-Za-z0-9_.-]+)(\/orders|\/finalize)?$/.exec(path);
  if (!m) return undefined;
  const [, kind, id, sub] = m as unknown as [string, string, string, string | undefined];
  const post = (run: Route['run']): Route => ({ methods: ['POST'], run });
  const table: Record<string, Route | undefined> = {
    acct: post(accountResource), 'acct/orders': post(accountOrders),
    order: post((c, q, i) => orderResource(c, q, i)), 'order/finalize': post((c, q, i) => finalize(c, q, i)),
    authz: post((c, q, i) => authzResource(c, q, i)), chall: post((c, q, i) => challengeResource(c, q, i)),
    cert: post((c, q, i) => certificateResource(c, q, i)),
    'renewal-info': { methods: ['GET'], run: (c, _q, i) => renewalInfo(c, i) },
  };
  const r = table[sub ? `${kind}${sub}` : kind];
  return r ? { r, id } : undefined;
}

export async function handle(ctx: CaContext, req: CaRequest): Promise<Reply> {
  const found = route(req.path);
  if (!found) throw problem('malformed', `no resource at ${req.path}`, 404);
  if (!found.r.methods.includes(req.method)) {
    const asGet = found.r.methods.includes('POST') && req.method === 'GET';
    throw new AcmeProblem('malformed', asGet ? `${req.path} must be fetched with POST-as-GET` : `method ${req.method} not allowed on ${req.path}`,
      { status: 405, headers: { allow: found.r.methods.join(', ') } });
  }
  return found.r.run(ctx, req, found.id);
}

/** The request body; an AcmeProblem (413) past MAX_BODY. */
export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size <= MAX_BODY) chunks.push(b);
    });
    req.on('end', () => (size > MAX_BODY ? reject(problem('malformed', `request body larger than ${MAX_BODY} bytes`, 413)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

export interface Served { reply: Reply; path: string; method: string }

/** The Node request listener: build the CaRequest, run the route, write the reply. */
export function listener(getCtx: () => CaContext, onServed: (s: Served) => void): http.RequestListener {
  return (req, res) => {
    const ctx = getCtx();
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const gssapi = ctx.config.gssapi;
    if (gssapi && path === GSSAPI_EAB_PATH) {
      // the SPNEGO acceptor answers on the response itself (401 challenges, the mutual token)
      serveGssapiEab(ctx, gssapi, req, res).then(() => onServed({ reply: { status: res.statusCode }, path, method }), (e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${(e as Error).message}`);
      });
      return;
    }
    readBody(req)
      .then((body) => handle(ctx, { method, path, url: ctx.state.base + (req.url ?? '/'), headers: req.headers, body }))
      .catch((e: unknown): Reply => {
        const p = e instanceof AcmeProblem ? e : new AcmeProblem('serverInternal', `internal error: ${(e as Error).stack ?? String(e)}`);
        const doc = { ...p.document(), status: p.status };
        return { status: p.status, json: doc, contentType: 'application/problem+json', headers: p.headers };
      })
      .then((reply) => {
        onServed({ reply, path, method });
        const headers: Record<string, string | string[]> = { 'replay-nonce': ctx.nonces.issue(), ...(reply.headers ?? {}) };
        if (path !== PATHS.directory) {
          const index = `<${ctx.state.base}${PATHS.directory}>;rel="index"`;
          const link = headers.link;
          headers.link = link === undefined ? index : [...(Array.isArray(link) ? link : [link]), index];
        }
        let body: string | undefined;
        if (reply.json !== undefined) {
          body = JSON.stringify(reply.json, null, 2);
          headers['content-type'] = reply.contentType ?? 'application/json';
        } else if (reply.text !== undefined) {
          body = reply.text;
          if (reply.contentType) headers['content-type'] = reply.contentType;
        }
        res.writeHead(reply.status, headers);
        res.end(method === 'HEAD' ? undefined : body);
      });
  };
}

export interface Listening { base: string; close(): Promise<void> }

/** Listen on loopback HTTPS (`port`, 0 for any) or on a Unix socket (`socketPath`). */
export async function listen(onRequest: http.RequestListener,
  opts: { port?: number; socketPath?: string; tls: { certPem: string; keyPem: string } }): Promise<Listening> {
  const server = opts.socketPath
    ? http.createServer(onRequest)
    : https.createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, onRequest);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (opts.socketPath) server.listen(opts.socketPath, resolve);
    else server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const base = opts.socketPath
    ? `http+unix://${encodeURIComponent(opts.socketPath)}`
    : `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        if (opts.socketPath) {
          try { unlinkSync(opts.socketPath); } catch { /* already gone */ }
        }
        resolve();
      });
    }),
  };
}
