/** One HTTP attempt over node:http / node:https: connect timeout, request timeout, body cap, TLS peer facts. */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import { formatDuration } from '../command.js';
import { AkamuError, TransportError } from '../errors.js';
import type { Logger } from '../log.js';
import { hostPort, HttpAttemptError } from './errors.js';
import { peerInfo } from './trust.js';
import type { HttpRequest, HttpResponse, TlsPeerInfo } from './types.js';
import { connectTarget, describeAttemptFailure, unixTarget } from './unix.js';

/** What every attempt of one transport shares. */
export interface AttemptContext {
  userAgent: string;
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  log: Logger;
  /** TLS peer facts per socket (logged once per connection). */
  peers: WeakMap<Socket, TlsPeerInfo>;
  seenSockets: WeakSet<Socket>;
}

export function attempt(ctx: AttemptContext, req: HttpRequest, url: URL): Promise<HttpResponse> {
  const isHttps = url.protocol === 'https:';
  const unix = unixTarget(url);
  const headers: Record<string, string> = { 'user-agent': ctx.userAgent };
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
  if (body) headers['content-length'] = String(body.length);
  const started = performance.now();

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const clearTimers = (): void => {
      clearTimeout(requestTimer);
      if (connectTimer) clearTimeout(connectTimer);
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimers();
      r.destroy();
      reject(err instanceof AkamuError ? err : describeAttemptFailure(err, url, r.reusedSocket));
    };

    const options: https.RequestOptions = { method: req.method, headers, agent: isHttps ? ctx.httpsAgent : ctx.httpAgent };
    if (unix) options.socketPath = unix.socketPath;
    const r = (isHttps ? https : http).request(unix?.url ?? url, options, (res) => {
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
      if (alreadyUp) return;
      connectTimer = setTimeout(() => {
        fail(new HttpAttemptError(`connect to ${connectTarget(url)} timed out`, url.href, {}));
      }, ctx.connectTimeoutMs);
      socket.once(isHttps ? 'secureConnect' : 'connect', () => {
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

    const requestTimer = setTimeout(() => {
      fail(new HttpAttemptError(`request to ${url.href} timed out after ${formatDuration(ctx.requestTimeoutMs)}`, url.href, {}));
    }, ctx.requestTimeoutMs);

    r.end(body);
  });
}
