/**
 * One HTTP attempt over node:http / node:https: connect timeout, request timeout (or the caller's
 * smaller budget), abort signal, body cap, TLS peer facts. A failure says whether the request may
 * have reached the server: true once a connection was up (a reused one, or TCP/TLS established).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import { formatDuration } from '../command.js';
import { AkamuError, TransportError } from '../errors.js';
import type { Logger } from '../log.js';
import { abortedError, hostPort, HttpAttemptError } from './errors.js';
import { proxyError, proxyRefusal, type ProxyConfig } from './proxy.js';
import { peerInfo } from './trust.js';
import type { HttpRequest, HttpResponse, TlsPeerInfo } from './types.js';
import { connectTarget, describeAttemptFailure, unixTarget } from './unix.js';

/** What every attempt of one transport shares. */
export interface AttemptContext {
  userAgent: string;
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  /** Proxy settings (proxy.ts) and the agent tunnelling https requests through the proxy. */
  proxy?: { config: ProxyConfig; httpsAgent: https.Agent };
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  log: Logger;
  /** TLS peer facts per socket (logged once per connection). */
  peers: WeakMap<Socket, TlsPeerInfo>;
  seenSockets: WeakSet<Socket>;
}

/** Sends `req` once; `budgetMs` (what is left of the caller's deadline) caps the request timeout. */
export function attempt(ctx: AttemptContext, req: HttpRequest, url: URL, budgetMs?: number): Promise<HttpResponse> {
  const isHttps = url.protocol === 'https:';
  const unix = unixTarget(url);
  const route = unix ? undefined : ctx.proxy?.config.routeFor(url);
  const headers: Record<string, string> = { 'user-agent': ctx.userAgent };
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
  if (body) headers['content-length'] = String(body.length);
  const started = performance.now();

  const { signal } = req;
  if (signal?.aborted) return Promise.reject(abortedError(`${req.method} ${url.href}`, signal));
  const byBudget = budgetMs !== undefined && budgetMs < ctx.requestTimeoutMs;
  const limitMs = byBudget ? Math.max(0, budgetMs) : ctx.requestTimeoutMs;

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    /** A connection was up: the server may have the request. */
    let connected = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => fail(abortedError(`${req.method} ${url.href}`, signal));
    const clearTimers = (): void => {
      clearTimeout(requestTimer);
      if (connectTimer) clearTimeout(connectTimer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimers();
      r.destroy();
      let e = err instanceof AkamuError ? err
        // absolute-form through a proxy: a failure before the connection was up is the proxy's
        : route && !isHttps && !connected && !r.reusedSocket ? proxyError(route, url.origin, err)
          : describeAttemptFailure(err, url, r.reusedSocket);
      if (e instanceof HttpAttemptError && (connected || r.reusedSocket)) e = e.reached();
      reject(e);
    };

    const agent = isHttps ? (route && ctx.proxy ? ctx.proxy.httpsAgent : ctx.httpsAgent) : ctx.httpAgent;
    const options: https.RequestOptions = { method: req.method, headers, agent };
    if (unix) options.socketPath = unix.socketPath;
    let target: URL | string = unix?.url ?? url;
    if (route && !isHttps) {
      // plain http through the proxy: the absolute URL as the request target (RFC 9112 §3.2.2)
      Object.assign(options, { host: route.host, port: route.port, path: url.href });
      headers.host = url.host;
      if (route.authorization) headers['proxy-authorization'] = route.authorization;
      target = `http://${route.host.includes(':') ? `[${route.host}]` : route.host}:${route.port}`;
    }
    const r = (isHttps ? https : http).request(target, options, (res) => {
      if (route && res.statusCode === 407) {
        res.resume();
        fail(proxyRefusal(route, url.origin, 407, res.statusMessage));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const socket = res.socket as Socket | null;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > ctx.maxBodyBytes) {
          fail(new TransportError(`response from ${url.href} is larger than ${ctx.maxBodyBytes} bytes`, url.href));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('close', () => {
        // the connection ended before the whole body arrived (no 'end'): the answer is lost
        if (!res.complete) fail(new HttpAttemptError(`request to ${url.href} failed: the connection closed before the whole answer arrived`, url.href, { transient: true, reachedServer: true }));
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimers();
        const status = res.statusCode ?? 0;
        let peer: TlsPeerInfo | undefined;
        if (socket) {
          peer = ctx.peers.get(socket);
          if (!peer && socket instanceof tls.TLSSocket) {
            peer = peerInfo(socket);
            if (peer) ctx.peers.set(socket, peer);
          }
        }
        ctx.log.debug(`${req.method} ${url.href} -> ${status} (${Math.round(performance.now() - started)} ms)`);
        resolve({ status, headers: res.headers, body: Buffer.concat(chunks), ...(peer ? { peer } : {}) });
      });
    });

    r.on('socket', (socket: Socket) => {
      if (ctx.seenSockets.has(socket)) return;
      ctx.seenSockets.add(socket);
      const alreadyUp = isHttps
        ? (socket as tls.TLSSocket).encrypted && !socket.connecting && (socket as tls.TLSSocket).getProtocol?.() != null
        : !socket.connecting;
      if (alreadyUp) {
        connected = true;
        return;
      }
      connectTimer = setTimeout(() => {
        fail(new HttpAttemptError(`connect to ${connectTarget(url)} timed out`, url.href, {}));
      }, ctx.connectTimeoutMs);
      socket.once(isHttps ? 'secureConnect' : 'connect', () => {
        connected = true;
        if (connectTimer) clearTimeout(connectTimer);
        connectTimer = undefined;
        if (!(socket instanceof tls.TLSSocket)) {
          ctx.log.debug(`connected to ${connectTarget(url)}`);
          return;
        }
        const info = peerInfo(socket);
        if (!info) return;
        ctx.peers.set(socket, info);
        ctx.log.debug(
          `TLS connection to ${hostPort(url)}: ${info.protocol ?? 'TLS'}; subject ${info.subject}; issuer ${info.issuer}; ` +
            `valid ${info.validFrom} to ${info.validTo}; SHA-256 ${info.fingerprint256}`,
        );
      });
    });
    r.on('error', fail);
    signal?.addEventListener('abort', onAbort, { once: true });

    const requestTimer = setTimeout(() => {
      fail(byBudget
        ? new HttpAttemptError(`no answer from ${url.href} before the deadline`, url.href, { deadlineExceeded: true })
        : new HttpAttemptError(`request to ${url.href} timed out after ${formatDuration(ctx.requestTimeoutMs)}`, url.href, {}));
    }, limitMs);

    r.end(body);
  });
}
