// A small HTTP proxy for the proxy tests: CONNECT tunnels (counted) and absolute-form requests,
// optionally requiring Basic credentials (407 otherwise).

import * as http from 'node:http';
import * as net from 'node:net';

export interface ConnectProxy {
  /** `http://127.0.0.1:<port>` (without credentials). */
  url: string;
  port: number;
  /** CONNECT tunnels opened so far (refused ones not counted). */
  tunnels(): number;
  /** `host:port` of each tunnel, in order. */
  targets: string[];
  /** Absolute-form (plain http) requests forwarded so far. */
  forwarded(): number;
  /** Requests refused with 407 (missing or wrong credentials). */
  refused(): number;
  /** The Proxy-Authorization headers seen. */
  authorizations: string[];
  stop(): Promise<void>;
}

export interface ConnectProxyOptions {
  /** Require `Proxy-Authorization: Basic base64(user:password)`. */
  credentials?: { user: string; password: string };
}

export async function startConnectProxy(opts: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  let tunnels = 0;
  let forwarded = 0;
  let refused = 0;
  const targets: string[] = [];
  const authorizations: string[] = [];
  const sockets = new Set<net.Socket>();
  const expected = opts.credentials
    ? `Basic ${Buffer.from(`${opts.credentials.user}:${opts.credentials.password}`).toString('base64')}`
    : undefined;
  const allowed = (req: http.IncomingMessage): boolean => {
    const auth = req.headers['proxy-authorization'];
    if (auth) authorizations.push(auth);
    return expected === undefined || auth === expected;
  };

  const server = http.createServer((req, res) => {
    if (!allowed(req)) {
      refused++;
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', 'content-length': '0' }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    forwarded++;
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = http.request({ host: target.hostname, port: target.port || 80, path: `${target.pathname}${target.search}`, method: req.method, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (!allowed(req)) {
      refused++;
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = splitAuthority(req.url ?? '');
    const upstream = net.connect(Number(port), host, () => {
      tunnels++;
      targets.push(req.url ?? '');
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tunnels: () => tunnels,
    targets,
    forwarded: () => forwarded,
    refused: () => refused,
    authorizations,
    stop: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** `host:port` / `[v6]:port` → [host, port]. */
function splitAuthority(a: string): [string, string] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(a) ?? /^([^:]+):(\d+)$/.exec(a);
  return m ? [m[1]!, m[2]!] : [a, '443'];
}
