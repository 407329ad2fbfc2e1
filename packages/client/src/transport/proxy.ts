/**
 * HTTP proxies from the environment, as curl reads them:
 * - `https_proxy` / `HTTPS_PROXY` for https:// targets, `http_proxy` / `HTTP_PROXY` for http://
 *   ones (the lower-case name wins; an empty value is unset). A proxy is an `http://` URL (a bare
 *   `host:port` means http://; the port defaults to 1080, as in curl), optionally with
 *   `user:password@` — sent as `Proxy-Authorization: Basic`, never shown: messages and logs name
 *   the proxy as `http://host:port`.
 * - https targets go through an HTTP CONNECT tunnel (TLS end to end with the ACME server); plain
 *   http targets are sent to the proxy in absolute form (`GET http://host/path`), as curl does and
 *   as proxies that only tunnel to port 443 still accept.
 * - `no_proxy` / `NO_PROXY`: entries separated by commas or spaces; `*` alone bypasses every host;
 *   a name matches itself and its subdomains (`example.com`, `.example.com` and `*.example.com`
 *   all match `a.example.com`); an IP address matches that address, a CIDR block (`10.0.0.0/8`,
 *   `fd00::/8`) the addresses in it; `host:port` (`[v6]:port`) only that port.
 * - `http+unix://` URLs are never proxied.
 */
import * as https from 'node:https';
import * as http from 'node:http';
import { isIP, type Socket } from 'node:net';
import type * as tls from 'node:tls';
import { UsageError } from '../errors.js';
import { parseIp } from '../x509/ip.js';
import type { Logger } from '../log.js';
import { HttpAttemptError } from './errors.js';

/** Environment variables (e.g. `process.env`); only the proxy ones are read. */
export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/** Where a request goes through: the proxy (no credentials in it) and how it is shown. */
export interface ProxyRoute {
  host: string;
  port: number;
  /** `http://host:port`: the proxy as named in messages (never with credentials). */
  shown: string;
  /** `Basic …` when the proxy URL carried credentials. */
  authorization?: string;
}

interface NoProxyEntry {
  /** Lower-case name (no leading dot), or an IP network. */
  name?: string;
  net?: { bytes: Buffer; bits: number };
  port?: number;
}

const DEFAULT_PROXY_PORT = 1080;

function envValue(env: ProxyEnv, name: string): { name: string; value: string } | undefined {
  for (const n of [name.toLowerCase(), name.toUpperCase()]) {
    const v = env[n]?.trim();
    if (v) return { name: n, value: v };
  }
  return undefined;
}

/** A proxy URL as it may be shown: scheme, host and port, without user and password. */
function redact(raw: string): string {
  return raw.replace(/\/\/[^@/]*@/, '//***@');
}

function parseProxy(variable: string, raw: string): ProxyRoute {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  const bad = (why: string): never => {
    throw new UsageError(`${variable} '${redact(raw)}' is not a usable proxy: ${why}`);
  };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad('not a URL');
  }
  if (url.protocol !== 'http:') bad(`only http:// proxies are supported, not ${url.protocol.slice(0, -1)}://`);
  if (!url.hostname) bad('no host');
  const port = url.port ? Number(url.port) : DEFAULT_PROXY_PORT;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const route: ProxyRoute = { host, port, shown: `http://${url.hostname}:${port}` };
  if (url.username || url.password) {
    let user: string;
    let pass: string;
    try {
      user = decodeURIComponent(url.username);
      pass = decodeURIComponent(url.password);
    } catch {
      return bad('bad percent-encoding in the user name or password');
    }
    route.authorization = `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
  }
  return route;
}

function inNet(addr: Buffer, net: { bytes: Buffer; bits: number }): boolean {
  if (addr.length !== net.bytes.length) return false;
  for (let i = 0; i < net.bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((addr[byte]! & mask) !== (net.bytes[byte]! & mask)) return false;
  }
  return true;
}

function parseNoProxyEntry(raw: string): NoProxyEntry | undefined {
  let text = raw.trim().toLowerCase();
  if (text === '') return undefined;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    text = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if ((text.match(/:/g) ?? []).length === 1) {
    const [h, p] = text.split(':') as [string, string];
    if (/^\d+$/.test(p)) {
      text = h;
      port = Number(p);
    }
  }
  const cidr = /^(.+)\/(\d+)$/.exec(text);
  const addr = parseIp(cidr ? cidr[1]! : text);
  if (addr) {
    const bits = cidr ? Math.min(Number(cidr[2]), addr.length * 8) : addr.length * 8;
    return { net: { bytes: addr, bits }, ...(port !== undefined ? { port } : {}) };
  }
  const name = text.replace(/^\*?\.+/, '').replace(/\.$/, '');
  return name ? { name, ...(port !== undefined ? { port } : {}) } : undefined;
}

/** The proxy settings of one environment, and the route of each target URL. */
export class ProxyConfig {
  private constructor(
    private readonly https: ProxyRoute | undefined,
    private readonly http: ProxyRoute | undefined,
    private readonly all: boolean,
    private readonly bypass: NoProxyEntry[],
  ) {}

  /** Reads the variables; UsageError (naming the variable, never the credentials) for a bad proxy URL. */
  static fromEnv(env: ProxyEnv): ProxyConfig | undefined {
    const httpsVar = envValue(env, 'https_proxy');
    const httpVar = envValue(env, 'http_proxy');
    if (!httpsVar && !httpVar) return undefined;
    const noProxy = envValue(env, 'no_proxy')?.value ?? '';
    const entries = noProxy.split(/[\s,]+/);
    return new ProxyConfig(
      httpsVar && parseProxy(httpsVar.name, httpsVar.value),
      httpVar && parseProxy(httpVar.name, httpVar.value),
      entries.some((e) => e.trim() === '*'),
      entries.map(parseNoProxyEntry).filter((e): e is NoProxyEntry => e !== undefined),
    );
  }

  /** The proxy for a request to `target`, or undefined to connect directly. */
  routeFor(target: URL): ProxyRoute | undefined {
    const route = target.protocol === 'https:' ? this.https : target.protocol === 'http:' ? this.http : undefined;
    if (!route || this.all) return undefined;
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase().replace(/\.$/, '');
    const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
    return this.bypassed(host, port) ? undefined : route;
  }

  private bypassed(host: string, port: number): boolean {
    const addr = parseIp(host);
    return this.bypass.some((e) => {
      if (e.port !== undefined && e.port !== port) return false;
      if (e.net) return addr !== undefined && inNet(addr, e.net);
      return addr === undefined && (host === e.name || host.endsWith(`.${e.name}`));
    });
  }
}

/** `host:port` as a CONNECT request target / Host header (IPv6 in brackets). */
function authority(host: string, port: number | string): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** The one-line error for a proxy that could not be reached or refused. */
export function proxyError(route: ProxyRoute, target: string, err: unknown): HttpAttemptError {
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ECONNREFUSED' ? 'connection refused'
    : e.code === 'ENOTFOUND' ? `cannot resolve host '${route.host}'`
      : e.code === 'ECONNRESET' ? 'connection reset by the proxy'
        : e.code === 'ETIMEDOUT' ? 'timed out' : (e.message ?? String(err)).split('\n')[0];
  return new HttpAttemptError(`cannot connect to proxy ${route.shown} (for ${target}): ${why}`, target, {
    cause: err, transient: e.code === 'ECONNRESET',
  });
}

/** The error for a proxy that answered with something else than a tunnel or a response. */
export function proxyRefusal(route: ProxyRoute, target: string, status: number, statusText: string | undefined): HttpAttemptError {
  const auth = status === 407 ? (route.authorization ? ' (the credentials in the proxy URL were refused)' : ' (put user:password@ in the proxy URL)') : '';
  return new HttpAttemptError(`proxy ${route.shown} refused the request for ${target}: HTTP ${status}${statusText ? ` ${statusText}` : ''}${auth}`, target, {});
}

type ConnectOptions = tls.ConnectionOptions & http.ClientRequestArgs & { host?: string; port?: number | string };
type CreateConnection = (options: ConnectOptions, cb: (err: Error | null, socket?: Socket) => void) => Socket | undefined;

/**
 * An https.Agent whose connections are CONNECT tunnels through the proxy of each target; TLS (the
 * agent's trust, SNI, session reuse) then runs inside the tunnel as on a direct connection.
 */
export class ProxyTunnelAgent extends https.Agent {
  constructor(opts: https.AgentOptions, private readonly proxy: ProxyConfig, private readonly connectTimeoutMs: number, private readonly log: Logger) {
    super(opts);
    const direct = (https.Agent.prototype as unknown as { createConnection: (o: ConnectOptions) => Socket }).createConnection;
    (this as unknown as { createConnection: CreateConnection }).createConnection = (options, cb) => {
      const host = String(options.host ?? 'localhost');
      const port = options.port ?? 443;
      const target = `https://${authority(host, port)}`;
      const route = this.proxy.routeFor(new URL(target));
      if (!route) return direct.call(this, options);
      this.tunnel(route, host, port, target).then((socket) => cb(null, direct.call(this, { ...options, socket })), (err: Error) => cb(err));
      return undefined;
    };
  }

  private tunnel(route: ProxyRoute, host: string, port: number | string, target: string): Promise<Socket> {
    const path = authority(host, port);
    this.log.debug(`CONNECT ${path} through proxy ${route.shown}`);
    return new Promise<Socket>((resolve, reject) => {
      const headers: Record<string, string> = { host: path };
      if (route.authorization) headers['proxy-authorization'] = route.authorization;
      const req = http.request({ host: route.host, port: route.port, method: 'CONNECT', path, headers, agent: false });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new HttpAttemptError(`cannot connect to proxy ${route.shown} (for ${target}): no tunnel after ${this.connectTimeoutMs} ms`, target, {}));
      }, this.connectTimeoutMs);
      req.once('connect', (res, socket: Socket, head: Buffer) => {
        clearTimeout(timer);
        if (res.statusCode !== 200) {
          socket.destroy();
          reject(proxyRefusal(route, target, res.statusCode ?? 0, res.statusMessage));
          return;
        }
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.once('response', (res) => {
        // a proxy that answers CONNECT with an ordinary response refuses the tunnel
        clearTimeout(timer);
        res.resume();
        reject(proxyRefusal(route, target, res.statusCode ?? 0, res.statusMessage));
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(proxyError(route, target, err));
      });
      req.end();
    });
  }
}
