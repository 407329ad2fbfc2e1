/**
 * `http+unix://` servers: plain HTTP/1.1 over a Unix domain socket, no TLS.
 *
 * The URL form is `http+unix://<socket path, each / as %2F>/<request path>`, e.g.
 * `http+unix://%2Frun%2Fakamu%2Fakamu.sock/acme/directory`: the host is the percent-encoded
 * absolute socket path, the rest is the HTTP request target. Requests carry `Host: localhost`.
 * Connections go through the transport's keep-alive `http.Agent`, which pools them per socket path,
 * so every request of a run to one socket reuses one connection; timeouts and retries are the
 * transport's own. Failures name the socket: missing, permission denied, not a socket, nobody
 * listening, listen queue full (the last is worth another try, like a reset).
 */
import { statSync } from 'node:fs';
import { TransportError, UsageError } from '../errors.js';
import { describeNetworkError, hostPort, HttpAttemptError } from './errors.js';

const UNIX_PROTOCOL = 'http+unix:';
/** `sun_path` holds 108 bytes on Linux (104 on macOS), NUL included; Node truncates longer paths silently. */
const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;
const EXAMPLE = 'http+unix://%2Frun%2Fakamu.sock/directory';

/** Where one http+unix request goes: the socket, and the same request as an `http://localhost` URL. */
export interface UnixTarget {
  socketPath: string;
  url: URL;
}

/** The socket path of an `http+unix://` URL (its percent-decoded host); UsageError if the URL names no usable socket. */
export function unixSocketPath(raw: string | URL): string {
  const href = String(raw);
  const bad = (why: string): UsageError => new UsageError(`'${href}' is not a valid http+unix:// URL: ${why}`);
  let url: URL;
  try {
    url = typeof raw === 'string' ? new URL(raw) : raw;
  } catch {
    throw bad(`write it as ${EXAMPLE}`);
  }
  if (url.protocol !== UNIX_PROTOCOL) throw bad(`the scheme is ${url.protocol.slice(0, -1)}`);
  if (!url.hostname) throw bad(`the socket path goes in the host part, each / written as %2F (${EXAMPLE})`);
  if (url.port || url.username || url.password) throw bad('a socket path takes no port or user name');
  let socketPath: string;
  try {
    socketPath = decodeURIComponent(url.hostname);
  } catch {
    throw bad('bad percent-encoding in the socket path');
  }
  if (!socketPath.startsWith('/')) throw bad(`the socket path '${socketPath}' is not absolute (${EXAMPLE})`);
  if (socketPath.includes('\0')) throw bad('the socket path contains a NUL byte');
  const bytes = Buffer.byteLength(socketPath);
  if (bytes > MAX_SOCKET_PATH_BYTES) throw bad(`the socket path is ${bytes} bytes long; Unix sockets take at most ${MAX_SOCKET_PATH_BYTES}`);
  return socketPath;
}

/** A checked `http+unix://` URL; TransportError naming it if it is malformed. */
export function parseUnixUrl(raw: string): URL {
  try {
    const url = new URL(raw);
    unixSocketPath(url);
    return url;
  } catch (err) {
    const message = err instanceof UsageError ? err.message : `'${raw}' is not a valid http+unix:// URL (${EXAMPLE})`;
    throw new TransportError(message, raw, { cause: err });
  }
}

/** The socket and `http://localhost` request for an http+unix URL; undefined for any other URL. */
export function unixTarget(url: URL): UnixTarget | undefined {
  if (url.protocol !== UNIX_PROTOCOL) return undefined;
  return { socketPath: decodeURIComponent(url.hostname), url: new URL(`${url.pathname}${url.search}`, 'http://localhost') };
}

/** What a connection goes to, for messages: `Unix socket /run/akamu.sock` or `host:port`. */
export function connectTarget(url: URL): string {
  const unix = unixTarget(url);
  return unix ? `Unix socket ${unix.socketPath}` : hostPort(url);
}

function isSocket(path: string): boolean | undefined {
  try {
    return statSync(path).isSocket();
  } catch {
    return undefined;
  }
}

/** One-line error for a failed attempt: the socket taxonomy for http+unix URLs, the network one otherwise. */
export function describeAttemptFailure(err: unknown, url: URL, reusedSocket = false): HttpAttemptError {
  const unix = unixTarget(url);
  if (!unix) return describeNetworkError(err, url, reusedSocket);
  const code = err && typeof err === 'object' && 'code' in err ? err.code : undefined;
  const make = (why: string, transient = false): HttpAttemptError =>
    new HttpAttemptError(`cannot connect to Unix socket ${unix.socketPath}: ${why}`, url.href, { cause: err, transient, reusedSocket });
  switch (code) {
    case 'ENOENT':
      return make('no such file or directory');
    case 'EACCES':
    case 'EPERM':
      return make('permission denied');
    case 'ENOTSOCK':
      return make('not a socket');
    case 'ENOTDIR':
      return make('a component of the path is not a directory');
    case 'ECONNREFUSED':
      // Linux answers ECONNREFUSED both for a socket nobody listens on and for a file that is no socket
      return make(isSocket(unix.socketPath) === false ? 'not a socket' : 'connection refused (nothing is listening on it)');
    case 'EAGAIN':
      return make('the server is not accepting connections (its listen queue is full)', true);
    default:
      return describeNetworkError(err, url, reusedSocket);
  }
}
