/** http-01 (RFC 8555 §8.3): a built-in HTTP server that serves only the known tokens. */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Identifier } from '../identifiers.js';
import { ChallengeError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { refuseWildcards } from './common.js';
import { SolverListener } from './listener.js';
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
  private readonly listener: SolverListener<Server>;

  constructor(opts: Http01SolverOptions) {
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
    this.listener = new SolverListener<Server>({
      type: this.type,
      standardPort: 80,
      bind: opts,
      log: this.log,
      dropConnections: (server) => server.closeAllConnections(),
    });
  }

  /** The port actually bound (useful with port 0); undefined when not listening. */
  get port(): number | undefined {
    return this.listener.port;
  }

  check(identifiers: Identifier[]): void {
    refuseWildcards(this.type, identifiers);
  }

  start(): Promise<void> {
    return this.listener.start(() => {
      const server = createServer((req, res) => this.handle(req, res));
      server.keepAliveTimeout = 5_000;
      server.headersTimeout = 10_000;
      server.requestTimeout = 30_000;
      return server;
    });
  }

  stop(): Promise<void> {
    return this.listener.stop();
  }

  async prepare(ctx: ChallengeContext): Promise<void> {
    const token = ctx.challenge.token;
    if (typeof token !== 'string' || token === '') {
      throw new ChallengeError(`http-01 challenge ${ctx.challenge.url} has no token`);
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
