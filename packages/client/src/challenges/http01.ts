/** http-01 (RFC 8555 §8.3): a built-in HTTP server that serves only the known tokens. */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Identifier } from '../acme/types.js';
import { type Logger, silentLogger } from '../log.js';
import { listen, refuseWildcards } from './common.js';
import type { ChallengeContext, Solver } from './types.js';

export const HTTP01_PREFIX = '/.well-known/acme-challenge/';

export interface Http01SolverOptions {
  /** TCP port to listen on (the CA connects to port 80; use a redirect or proxy for another port). 0 = ephemeral. */
  port: number;
  /** Address to bind; default: all interfaces (`::` with dual-stack, or 0.0.0.0 without IPv6). */
  host?: string;
  log?: Logger;
}

/**
 * Serves `GET`/`HEAD /.well-known/acme-challenge/<token>` with `200 text/plain` and the key
 * authorization as the whole body for registered tokens; everything else is 404.
 * `prepare()` starts the listener if `start()` was not called; `stop()` must be called at the end.
 */
export class Http01Solver implements Solver {
  readonly type = 'http-01';
  private readonly opts: Http01SolverOptions;
  private readonly log: Logger;
  private readonly tokens = new Map<string, string>();
  private server: Server | undefined;
  private starting: Promise<void> | undefined;

  constructor(opts: Http01SolverOptions) {
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
  }

  /** The port actually bound (useful with port 0); undefined when not listening. */
  get port(): number | undefined {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? (addr as AddressInfo).port : undefined;
  }

  check(identifiers: Identifier[]): void {
    refuseWildcards(this.type, identifiers);
  }

  start(): Promise<void> {
    if (!this.starting) {
      const server = createServer((req, res) => this.handle(req, res));
      server.keepAliveTimeout = 5_000;
      server.headersTimeout = 10_000;
      server.requestTimeout = 30_000;
      this.starting = listen(server, {
        type: this.type,
        flag: '--http-port',
        standardPort: 80,
        port: this.opts.port,
        host: this.opts.host,
      }).then(
        () => {
          this.server = server;
          this.log.debug('http-01 solver listening', { port: this.port, host: this.opts.host ?? '*' });
        },
        (err: unknown) => {
          this.starting = undefined;
          throw err;
        },
      );
    }
    return this.starting;
  }

  async stop(): Promise<void> {
    const starting = this.starting;
    this.starting = undefined;
    if (starting) await starting.catch(() => undefined);
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    this.log.debug('http-01 solver stopped');
  }

  async prepare(ctx: ChallengeContext): Promise<void> {
    const token = ctx.challenge.token;
    if (typeof token !== 'string' || token === '') {
      throw new TypeError(`http-01 challenge ${ctx.challenge.url} has no token`);
    }
    this.tokens.set(token, ctx.keyAuthorization);
    await this.start();
  }

  async cleanup(ctx: ChallengeContext): Promise<void> {
    const token = ctx.challenge.token;
    if (typeof token === 'string') this.tokens.delete(token);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const token = path.startsWith(HTTP01_PREFIX) ? path.slice(HTTP01_PREFIX.length) : undefined;
    const keyAuth = token !== undefined ? this.tokens.get(token) : undefined;
    this.log.debug('http-01 validation request', {
      remote: req.socket.remoteAddress,
      method: req.method,
      host: req.headers.host,
      token: token ?? null,
      known: keyAuth !== undefined,
    });
    if (keyAuth === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': '0' });
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': '0' });
      res.end();
      return;
    }
    const body = Buffer.from(keyAuth, 'ascii');
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(body.length) });
    if (req.method === 'HEAD') res.end();
    else res.end(body);
  }
}
