/** Reaching the ACME server: `--server` checks, `--server-ca` trust, transport and client. */
import { AcmeClient, HttpTransport, UsageError, CLIENT_VERSION, splitPemCertificates, unixSocketPath, type Logger } from 'akamu-client';
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

export async function readServerCa(path: string, log?: Logger): Promise<string> {
  let pem: string;
  try {
    pem = await readInputText(path, CHAIN_FILE_LIMIT);
  } catch (err) {
    throw new UsageError(`cannot read --server-ca ${path}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new UsageError(`--server-ca ${path} contains no PEM certificate`);
  if (log) {
    const { X509Certificate } = await import('node:crypto');
    splitPemCertificates(pem).forEach((der, i) => {
      try {
        const c = new X509Certificate(der);
        log.debug(`CA certificate [${i}] from ${path}: subject=${c.subject.replace(/\n/g, ', ')} issuer=${c.issuer.replace(/\n/g, ', ')} not_before=${c.validFrom} not_after=${c.validTo}`);
      } catch (err) {
        log.warn(`--server-ca ${path}: certificate [${i}] cannot be parsed: ${(err as Error).message}`);
      }
    });
  }
  return pem;
}

/** Checks `--server`; true for an http+unix:// URL (a Unix socket: no TLS). */
export function checkServerUrl(server: string): boolean {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server '${server}' is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:' && url.protocol !== 'http+unix:') {
    throw new UsageError(`--server '${server}' must be an https://, http:// or http+unix:// URL`);
  }
  if (url.protocol !== 'http+unix:') return false;
  try {
    unixSocketPath(url);
  } catch (err) {
    throw new UsageError(`--server ${(err as Error).message}`);
  }
  return true;
}

/**
 * The client for `--server`. Every request, retry and wait of the run ends by one deadline:
 * `--poll-timeout` seconds (default 120, also for commands without the flag) from here on.
 */
export async function connect(opts: ServerOptions, rt: Runtime): Promise<AcmeClient> {
  const unix = checkServerUrl(opts.server);
  if (unix && opts.serverCa) rt.log.debug(`--server-ca ${opts.serverCa} is not used: an http+unix:// server is reached over a Unix socket, without TLS`);
  const extraCaPem = opts.serverCa && !unix ? await readServerCa(opts.serverCa, rt.log) : undefined;
  const transport = new HttpTransport({ extraCaPem, userAgent: USER_AGENT, log: rt.log.child?.('http') ?? rt.log });
  const seconds = Number(opts.pollTimeout ?? RENEWAL_FIELDS.poll_timeout.default);
  return AcmeClient.connect(opts.server, { transport, log: rt.log.child?.('akamu_client') ?? rt.log, deadline: Date.now() + seconds * 1000 });
}
