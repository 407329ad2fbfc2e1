/**
 * A fault-injecting HTTPS proxy in front of Pebble, on loopback, with Pebble's own TLS certificate
 * (so `--server-ca <pebble.caPemPath>` trusts it). Every request goes through it: the client's
 * `Host` header is passed on, and Pebble builds every URL it hands out from that header, so all
 * later requests (nonces, orders, authorizations, certificates) come back through the proxy too.
 *
 * Faults are scripted per request class and count, deterministically: a rule hits the first
 * `count` requests of its classes after `skip`; a rule with `probability` hits each request of its
 * classes with that chance from a PRNG seeded with `seed` (same seed, same requests hit). Choices
 * inside a fault (where a body is cut, which garbage replaces it) come from the same PRNG.
 */
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import type { Pebble } from './pebble.js';

/** What a request is, by Pebble's paths. */
export type RequestClass =
  | 'directory' | 'nonce' | 'newAccount' | 'account' | 'newOrder' | 'authz' | 'challenge' | 'finalize' | 'order'
  | 'certificate' | 'revoke' | 'keyChange' | 'orders' | 'renewalInfo' | 'other';

/** The classes every issuance goes through (a fresh account, one name). */
export const ISSUANCE_CLASSES: readonly RequestClass[] = [
  'directory', 'nonce', 'newAccount', 'newOrder', 'authz', 'challenge', 'finalize', 'order', 'certificate',
];

export type Fault =
  /** Answered by the proxy without forwarding: 500/502/503/504 (plain text unless `problem`), 429 (a rateLimited problem). */
  | { kind: 'status'; status: 429 | 500 | 502 | 503 | 504; retryAfter?: { seconds: number; form: 'delta' | 'date' }; problem?: boolean }
  /** The connection is reset as soon as the request head arrived, before its body is read: nothing reaches Pebble. */
  | { kind: 'reset-before-body' }
  /** The request is forwarded and Pebble acts on it; then the connection is reset instead of answering. */
  | { kind: 'reset-after-body' }
  /** No answer (for `ms`, then Pebble's answer; default: never, until the client gives up). */
  | { kind: 'stall'; ms?: number }
  /** Forwarded; the answer's body is cut short (an honest Content-Length for the cut body). */
  | { kind: 'truncate' }
  /** Forwarded; the answer's body is replaced by something that is not JSON. */
  | { kind: 'malformed' }
  /** Not forwarded; a 200 whose body is `bytes` long (default 17 MiB, above the client's 16 MiB cap). */
  | { kind: 'oversize'; bytes?: number }
  /** Forwarded; the Replay-Nonce header is removed. */
  | { kind: 'drop-nonce' }
  /** Forwarded; a PEM block that is not a CERTIFICATE is appended to the chain. */
  | { kind: 'chain-extra-block' }
  /** Forwarded; required fields are removed from the directory (default newOrder and keyChange). */
  | { kind: 'directory-missing'; fields?: string[] };

export interface FaultRule {
  on: RequestClass | readonly RequestClass[] | '*';
  fault: Fault;
  /** Requests hit (default 1; Infinity for all). Ignored with `probability`. */
  count?: number;
  /** Matching requests let through before the first hit (default 0). */
  skip?: number;
  /** Hit each matching request with this chance instead (seeded). */
  probability?: number;
  /** Only requests with this method (e.g. 'POST'). */
  method?: string;
}

export interface FaultProxyOptions {
  rules?: FaultRule[];
  /** PRNG seed (default 1). */
  seed?: number;
}

/** One request seen by the proxy, and the fault it got. */
export interface ProxiedRequest {
  n: number;
  cls: RequestClass;
  method: string;
  path: string;
  /** GET, HEAD or a POST-as-GET (a JWS with an empty payload): changes nothing. */
  read: boolean;
  /** When it arrived (epoch milliseconds). */
  at: number;
  /** When the client gave up on the request before its answer was complete (closed the connection). */
  abandonedAt?: number;
  fault?: Fault['kind'];
}

export interface FaultProxy {
  /** The directory URL through the proxy. */
  directoryUrl: string;
  /** Every request so far, in order. */
  readonly requests: readonly ProxiedRequest[];
  /** The requests that got a fault. */
  injected(): ProxiedRequest[];
  /** The proxy's own failures (answered 502); a test that sees any did not test what it meant to. */
  readonly errors: readonly string[];
  /** Replaces the rules (counts start afresh). */
  setRules(rules: FaultRule[]): void;
  stop(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PREFIXES: [string, RequestClass][] = [
  ['/my-account/', 'account'], ['/authZ/', 'authz'], ['/chalZ/', 'challenge'], ['/finalize-order/', 'finalize'],
  ['/my-order/', 'order'], ['/certZ/', 'certificate'], ['/list-orderz/', 'orders'],
];

const GARBAGE = ['<html><body>502 Bad Gateway</body></html>', '{"status": "valid",, }', 'null garbage', '\u0000\u0001\u0002'];
const NOT_A_CERTIFICATE = '-----BEGIN PRIVATE KEY-----\nTm90IGEga2V5LCBub3QgYSBjZXJ0aWZpY2F0ZSBlaXRoZXIu\n-----END PRIVATE KEY-----\n';

function isPostAsGet(body: Buffer): boolean {
  try {
    const jws = JSON.parse(body.toString('utf8')) as { payload?: unknown };
    return jws.payload === '';
  } catch {
    return false;
  }
}

interface ActiveRule extends FaultRule {
  seen: number;
  hits: number;
}

/** Starts the proxy in front of `pebble`. */
export async function startFaultProxy(pebble: Pebble, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstream = new URL(pebble.directoryUrl);
  const agent = new https.Agent({ keepAlive: true, ca: pebble.caPem });
  const random = seededRandom(opts.seed ?? 1);
  const requests: ProxiedRequest[] = [];
  let rules: ActiveRule[] = [];
  const setRules = (r: FaultRule[]): void => {
    rules = r.map((x) => ({ ...x, seen: 0, hits: 0 }));
  };
  setRules(opts.rules ?? []);

  // top-level paths from Pebble's own directory
  const dir = JSON.parse((await pebble.httpsGet(pebble.directoryUrl)).body) as Record<string, unknown>;
  const topLevel = new Map<string, RequestClass>([[upstream.pathname, 'directory']]);
  const named: [string, RequestClass][] = [
    ['newNonce', 'nonce'], ['newAccount', 'newAccount'], ['newOrder', 'newOrder'], ['revokeCert', 'revoke'], ['keyChange', 'keyChange'],
  ];
  for (const [field, cls] of named) if (typeof dir[field] === 'string') topLevel.set(new URL(dir[field]).pathname, cls);
  const ariPath = typeof dir.renewalInfo === 'string' ? new URL(dir.renewalInfo).pathname : undefined;

  const classify = (p: string): RequestClass => {
    const top = topLevel.get(p);
    if (top) return top;
    if (ariPath && p.startsWith(ariPath)) return 'renewalInfo';
    return PREFIXES.find(([prefix]) => p.startsWith(prefix))?.[1] ?? 'other';
  };

  const pick = (cls: RequestClass, method: string): Fault | undefined => {
    for (const r of rules) {
      const on = r.on === '*' ? true : typeof r.on === 'string' ? r.on === cls : r.on.includes(cls);
      if (!on || (r.method && r.method !== method)) continue;
      if (r.probability !== undefined) {
        if (random() < r.probability) return r.fault;
        continue;
      }
      r.seen++;
      if (r.seen <= (r.skip ?? 0) || r.hits >= (r.count ?? 1)) continue;
      r.hits++;
      return r.fault;
    }
    return undefined;
  };

  const sockets = new Set<Socket>();
  const errors: string[] = [];
  /** A TCP reset (RST), not a TLS close: on the TCP socket under the TLS one (Node's `_parent`). */
  const reset = (socket: Socket): void => {
    const tcp = (socket as Socket & { _parent?: Socket })._parent;
    try {
      (tcp ?? socket).resetAndDestroy();
    } catch {
      socket.destroy();
    }
  };
  const timers = new Set<NodeJS.Timeout>();

  const readBody = (req: IncomingMessage): Promise<Buffer> => new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: OutgoingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers };
      delete headers.connection;
      const up = https.request({
        host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, agent,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h: OutgoingHttpHeaders = { ...res.headers };
          delete h['transfer-encoding'];
          delete h.connection;
          delete h['keep-alive'];
          resolve({ status: res.statusCode ?? 502, headers: h, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });

  const send = (res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: Buffer, head: boolean): void => {
    const h = { ...headers };
    if (!head) h['content-length'] = String(body.length);
    res.writeHead(status, h);
    res.end(head ? undefined : body);
  };

  const transform = (fault: Fault | undefined, up: { status: number; headers: OutgoingHttpHeaders; body: Buffer }): typeof up => {
    if (!fault) return up;
    const headers = { ...up.headers };
    let body = up.body;
    switch (fault.kind) {
      case 'truncate':
        body = body.subarray(0, Math.max(1, Math.floor(body.length * (0.2 + 0.6 * random()))));
        break;
      case 'malformed':
        body = Buffer.from(GARBAGE[Math.floor(random() * GARBAGE.length)]!);
        break;
      case 'drop-nonce':
        delete headers['replay-nonce'];
        break;
      case 'chain-extra-block':
        body = Buffer.concat([body, Buffer.from(NOT_A_CERTIFICATE)]);
        break;
      case 'directory-missing': {
        const d = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        for (const f of fault.fields ?? ['newOrder', 'keyChange']) delete d[f];
        body = Buffer.from(JSON.stringify(d));
        break;
      }
      default:
        break;
    }
    return { status: up.status, headers, body };
  };

  const answerStatus = (res: ServerResponse, fault: Extract<Fault, { kind: 'status' }>, head: boolean): void => {
    const headers: OutgoingHttpHeaders = {};
    if (fault.retryAfter) {
      headers['retry-after'] = fault.retryAfter.form === 'delta'
        ? String(fault.retryAfter.seconds)
        // an HTTP-date has whole seconds: round up so the wait is not cut short
        : new Date(Math.ceil((Date.now() + fault.retryAfter.seconds * 1000) / 1000) * 1000).toUTCString();
    }
    let body: Buffer;
    if (fault.status === 429 || fault.problem) {
      headers['content-type'] = 'application/problem+json';
      const type = fault.status === 429 ? 'rateLimited' : 'serverInternal';
      body = Buffer.from(JSON.stringify({ type: `urn:ietf:params:acme:error:${type}`, detail: `injected HTTP ${fault.status}`, status: fault.status }));
    } else {
      headers['content-type'] = 'text/plain';
      body = Buffer.from(`injected HTTP ${fault.status}\n`);
    }
    send(res, fault.status, headers, body, head);
  };

  const oversize = (res: ServerResponse, bytes: number): void => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(bytes) });
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let left = bytes;
    const pump = (): void => {
      while (left > 0 && !res.destroyed) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!res.write(chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    res.on('error', () => {});
    pump();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://proxy.invalid');
    const cls = classify(url.pathname);
    const method = req.method ?? 'GET';
    const fault = pick(cls, method);
    const seen: ProxiedRequest = { n: requests.length + 1, cls, method, path: url.pathname, read: method !== 'POST', at: Date.now(), ...(fault ? { fault: fault.kind } : {}) };
    requests.push(seen);
    res.on('close', () => {
      if (!res.writableFinished) seen.abandonedAt ??= Date.now();
    });
    const head = method === 'HEAD';
    if (fault?.kind === 'reset-before-body') {
      reset(req.socket);
      return;
    }
    if (fault?.kind === 'status') {
      req.resume();
      answerStatus(res, fault, head);
      return;
    }
    if (fault?.kind === 'oversize') {
      req.resume();
      oversize(res, fault.bytes ?? 17 * 1024 * 1024);
      return;
    }
    const body = await readBody(req);
    if (method === 'POST') seen.read = isPostAsGet(body);
    if (fault?.kind === 'stall') {
      if (fault.ms === undefined) return; // never answered; the socket is destroyed by stop()
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, fault.ms);
        timers.add(t);
      });
    }
    const up = await forward(req, body);
    if (fault?.kind === 'reset-after-body') {
      reset(req.socket);
      return;
    }
    const out = transform(fault, up);
    send(res, out.status, out.headers, out.body, head);
  };

  const server = https.createServer({
    cert: readFileSync(path.join(pebble.dir, 'tls-cert.pem')),
    key: readFileSync(path.join(pebble.dir, 'tls-key.pem')),
  }, (req, res) => {
    handle(req, res).catch((err: Error) => {
      errors.push(`${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent && !res.destroyed) send(res, 502, { 'content-type': 'text/plain' }, Buffer.from(`fault proxy: ${err.message}\n`), false);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => { /* a client that hung up during the handshake */ });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  let stopped: Promise<void> | undefined;
  return {
    directoryUrl: `https://127.0.0.1:${port}${upstream.pathname}`,
    requests,
    errors,
    injected: () => requests.filter((r) => r.fault !== undefined),
    setRules,
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      });
      return stopped;
    },
  };
}
