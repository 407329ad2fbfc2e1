/**
 * Reaching the ACME server: `--server` checks, `--server-ca` trust, transport and client. With
 * `--server-ca` and -v (debug on akamu_cli), the TLS certificate details (subject, issuer, validity,
 * signature algorithm) of every CA loaded from the file and of the server are logged.
 */
import {
  AcmeClient, HttpTransport, UsageError, CLIENT_VERSION, certificateFacts, splitPemCertificates, unixSocketPath,
  type HttpRequest, type HttpResponse, type Transport,
} from 'akamu-client';
import type { X509Certificate } from 'node:crypto';
import type { CliLogger } from './log.js';
import { CLI_VERSION } from './version.js';
import { CHAIN_FILE_LIMIT, describeFsError, readInputText } from './files/read-input.js';
import { RENEWAL_FIELDS } from './files/renewal-config.js';
import type { Runtime } from './runtime.js';

export interface ServerOptions {
  server: string;
  serverCa?: string;
  /** `--poll-timeout` (already checked): the run's deadline, from connecting on. */
  pollTimeout?: string | number;
}

export const USER_AGENT = `akamu-cli/${CLI_VERSION} akamu-client/${CLIENT_VERSION} node/${process.versions.node}`;

/** `subject=… issuer=… not_before=… not_after=… signature_algorithm=…` of a certificate. */
async function certificateDetails(c: X509Certificate): Promise<string> {
  // Node 20's X509Certificate does not tell the signature algorithm; the ASN.1 reader (lazy) does
  const { signatureAlgorithm } = await certificateFacts(c.raw);
  return `subject=${c.subject.replace(/\n/g, ', ')} issuer=${c.issuer.replace(/\n/g, ', ')} not_before=${c.validFrom} not_after=${c.validTo} signature_algorithm=${signatureAlgorithm}`;
}

export async function readServerCa(path: string, log?: CliLogger): Promise<string> {
  let pem: string;
  try {
    pem = await readInputText(path, CHAIN_FILE_LIMIT);
  } catch (err) {
    throw new UsageError(`cannot read --server-ca ${path}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new UsageError(`--server-ca ${path} contains no PEM certificate`);
  if (log) {
    const { X509Certificate } = await import('node:crypto');
    for (const [i, der] of splitPemCertificates(pem).entries()) {
      try {
        const c = new X509Certificate(der);
        if (log.enabled('debug')) log.debug(`CA certificate [${i}] from ${path}: ${await certificateDetails(c)}`);
      } catch (err) {
        log.warn(`--server-ca ${path}: certificate [${i}] cannot be parsed: ${(err as Error).message}`);
      }
    }
  }
  return pem;
}

/**
 * A transport that logs the TLS certificate of each server it meets (once per certificate) before
 * handing the response on; the HTTP and TLS internals stay with the `http` target (-vv).
 */
class ServerCertificateLog implements Transport {
  private readonly seen = new Set<string>();
  constructor(private readonly inner: Transport, private readonly log: CliLogger) {}

  async request(req: HttpRequest): Promise<HttpResponse> {
    const res = await this.inner.request(req);
    const peer = res.peer;
    if (peer?.der && !this.seen.has(peer.fingerprint256)) {
      this.seen.add(peer.fingerprint256);
      const host = new URL(req.url).host;
      try {
        const { X509Certificate } = await import('node:crypto');
        this.log.debug(`TLS certificate of ${host}: ${await certificateDetails(new X509Certificate(peer.der))}`);
      } catch (err) {
        this.log.debug(`TLS certificate of ${host} cannot be parsed: ${(err as Error).message}`);
      }
    }
    return res;
  }
}

/** Checks `--server` (or another server URL flag); true for an http+unix:// URL (a Unix socket: no TLS). */
export function checkServerUrl(server: string, flag = '--server'): boolean {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`${flag} '${server}' is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:' && url.protocol !== 'http+unix:') {
    throw new UsageError(`${flag} '${server}' must be an https://, http:// or http+unix:// URL`);
  }
  if (url.protocol !== 'http+unix:') return false;
  try {
    unixSocketPath(url);
  } catch (err) {
    throw new UsageError(`${flag} ${(err as Error).message}`);
  }
  return true;
}

/** The transport to `--server`: checks the URL, trusts `--server-ca`; one keep-alive agent per transport. */
export async function serverTransport(opts: ServerOptions, rt: Runtime): Promise<{ transport: Transport; http: HttpTransport }> {
  const unix = checkServerUrl(opts.server);
  if (unix && opts.serverCa) rt.log.debug(`--server-ca ${opts.serverCa} is not used: an http+unix:// server is reached over a Unix socket, without TLS`);
  const extraCaPem = opts.serverCa && !unix ? await readServerCa(opts.serverCa, rt.log) : undefined;
  // HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured (never for an http+unix:// server)
  const http = new HttpTransport({ extraCaPem, userAgent: USER_AGENT, log: rt.log.child('http'), proxyEnv: process.env });
  return { http, transport: extraCaPem && rt.log.enabled('debug') ? new ServerCertificateLog(http, rt.log) : http };
}

/**
 * The client for `--server`. Every request, retry and wait of the run ends by one deadline:
 * `--poll-timeout` seconds (default 120, also for commands without the flag) from here on.
 */
export async function connect(opts: ServerOptions, rt: Runtime): Promise<AcmeClient> {
  const { transport } = await serverTransport(opts, rt);
  const client = await AcmeClient.connect(opts.server, { transport, log: rt.log.child('akamu_client'), deadline: Date.now() + pollTimeoutMs(opts) });
  rt.log.info(`directory: ${opts.server}`);
  return client;
}

/** `--poll-timeout` (checked before) in milliseconds. */
export function pollTimeoutMs(opts: Pick<ServerOptions, 'pollTimeout'>): number {
  return Number(opts.pollTimeout ?? RENEWAL_FIELDS.poll_timeout.default) * 1000;
}
