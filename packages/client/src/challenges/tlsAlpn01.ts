/**
 * tls-alpn-01 (RFC 8737): a built-in TLS server that negotiates only ALPN `acme-tls/1` and answers
 * with the self-signed acmeIdentifier certificate for the SNI name. IP identifiers (RFC 8738) are
 * matched by their reverse-mapping SNI name (`…in-addr.arpa` / `…ip6.arpa`, with or without a
 * trailing dot). Handshakes without `acme-tls/1`, without SNI or with an unknown SNI name fail.
 */
import { createServer as createNetServer } from 'node:net';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { createSecureContext, createServer } from 'node:tls';
import type { SecureContext, Server as TlsServer, TLSSocket } from 'node:tls';
import { CLIENT_HELLO_MAX, peekClientHello } from './clientHello.js';
import type { Identifier } from '../identifiers.js';
import { type Logger, silentLogger } from '../log.js';
import { normaliseName, refuseWildcards, reverseDnsName } from './common.js';
import { isIpIdentifier } from '../identifiers.js';
import { SolverListener } from './listener.js';
import type { ChallengeContext, Solver } from './types.js';

export const ACME_TLS_ALPN = 'acme-tls/1';

export type TlsAlpnCertificateFactory = (identifier: Identifier, keyAuth: string) => Promise<{ certPem: string; keyPem: string }>;

export interface TlsAlpn01SolverOptions {
  /** TCP port to listen on (the CA connects to 443). 0 = ephemeral. */
  port: number;
  /** Address to bind; default: all interfaces. */
  host?: string;
  log?: Logger;
  /** Certificate factory; default x509.tlsAlpnCertificate. */
  certificate?: TlsAlpnCertificateFactory;
}

async function defaultCertificate(identifier: Identifier, keyAuth: string): Promise<{ certPem: string; keyPem: string }> {
  const { tlsAlpnCertificate } = await import('../x509/tlsAlpn.js');
  return tlsAlpnCertificate(identifier, keyAuth);
}

/** The SNI name a validator sends for an identifier (normalised: lower case, no trailing dot). */
export function tlsAlpnSniName(id: Identifier): string {
  return isIpIdentifier(id) ? reverseDnsName(id.value) : normaliseName(id.value);
}

/** tls-alpn-01 through a built-in TLS listener that answers only `acme-tls/1` (RFC 8737). */
export class TlsAlpn01Solver implements Solver {
  readonly type = 'tls-alpn-01';
  private readonly opts: TlsAlpn01SolverOptions;
  private readonly log: Logger;
  /** SNI name → { challenge url, context } */
  private readonly contexts = new Map<string, { url: string; context: SecureContext }>();
  private readonly sockets = new Set<Socket>();
  private readonly listener: SolverListener;

  constructor(opts: TlsAlpn01SolverOptions) {
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
    this.listener = new SolverListener({
      type: this.type,
      standardPort: 443,
      bind: opts,
      log: this.log,
      dropConnections: () => {
        for (const s of this.sockets) s.destroy();
      },
    });
  }

  get port(): number | undefined {
    return this.listener.port;
  }

  check(identifiers: Identifier[]): void {
    refuseWildcards(this.type, identifiers);
  }

  start(): Promise<void> {
    return this.listener.start(() => {
      const tlsServer = createServer({
        minVersion: 'TLSv1.2',
        ALPNCallback: ({ servername, protocols }) => {
          if (protocols.includes(ACME_TLS_ALPN)) return ACME_TLS_ALPN;
          this.log.debug('tls-alpn-01: refusing handshake without acme-tls/1', { servername, protocols });
          return undefined; // fatal no_application_protocol alert
        },
        SNICallback: (servername, cb) => {
          const entry = this.contexts.get(normaliseName(servername));
          if (!entry) {
            this.log.debug('tls-alpn-01: unknown SNI name', { servername });
            cb(new Error(`tls-alpn-01: no challenge for SNI name '${servername}'`));
            return;
          }
          this.log.debug('tls-alpn-01 validation handshake', { servername });
          cb(null, entry.context);
        },
        handshakeTimeout: 10_000,
      });
      // The TLS server never listens itself: a plain TCP listener reads the ClientHello first and
      // hands only connections offering acme-tls/1 to it (no ALPN at all must fail too, and
      // node:tls does not call ALPNCallback in that case).
      const server = createNetServer((sock: Socket) => {
        this.sockets.add(sock);
        sock.on('close', () => this.sockets.delete(sock));
        sock.on('error', () => undefined);
        this.screen(sock, tlsServer);
      });
      tlsServer.on('secureConnection', (sock: TLSSocket) => {
        this.log.debug('tls-alpn-01 handshake completed', {
          servername: (sock as TLSSocket & { servername?: string | false }).servername,
          alpn: sock.alpnProtocol,
        });
        sock.on('error', () => undefined);
        // RFC 8737 §3: no application data after the handshake; close at once.
        sock.end();
        setTimeout(() => sock.destroy(), 1_000).unref();
      });
      tlsServer.on('tlsClientError', (err: Error, sock: TLSSocket) => {
        sock.destroy();
        this.log.debug('tls-alpn-01 handshake failed', { reason: err.message });
      });
      return server;
    });
  }

  stop(): Promise<void> {
    return this.listener.stop();
  }

  /** Reads the ClientHello; passes the connection to the TLS server only when it offers acme-tls/1. */
  private screen(sock: Socket, tlsServer: TlsServer): void {
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.off('data', onData);
      this.log.debug('tls-alpn-01: no ClientHello in time', { remote: sock.remoteAddress });
      sock.destroy();
    }, 10_000);
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const peek = peekClientHello(buf);
      if (peek.kind === 'incomplete' && buf.length < CLIENT_HELLO_MAX * 4) return;
      clearTimeout(timer);
      sock.off('data', onData);
      sock.pause();
      if (peek.kind !== 'hello') {
        this.log.debug('tls-alpn-01: not a usable ClientHello', {
          remote: sock.remoteAddress,
          reason: peek.kind === 'invalid' ? peek.reason : 'ClientHello too large',
        });
        sock.destroy();
        return;
      }
      if (!peek.alpn?.includes(ACME_TLS_ALPN)) {
        this.log.debug('tls-alpn-01: refusing handshake without acme-tls/1', {
          remote: sock.remoteAddress,
          servername: peek.serverName,
          protocols: peek.alpn ?? [],
        });
        // fatal alert no_application_protocol (RFC 7301 §3.2)
        sock.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x78]));
        setTimeout(() => sock.destroy(), 1_000).unref();
        return;
      }
      if (peek.serverName === undefined || !this.contexts.has(normaliseName(peek.serverName))) {
        this.log.debug('tls-alpn-01: unknown or missing SNI name', {
          remote: sock.remoteAddress,
          servername: peek.serverName ?? null,
        });
        // fatal alert unrecognized_name (RFC 6066 §3)
        sock.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70]));
        setTimeout(() => sock.destroy(), 1_000).unref();
        return;
      }
      this.log.debug('tls-alpn-01: ClientHello offers acme-tls/1', {
        remote: sock.remoteAddress,
        servername: peek.serverName,
      });
      // node:tls reads a net.Socket's handle directly (bytes already read would be lost), so hand
      // it a plain Duplex that replays the buffered ClientHello and then relays the socket.
      const relay = new Duplex({
        read() {
          sock.resume();
        },
        write(chunk: Buffer, _enc, cb) {
          sock.write(chunk, cb);
        },
        final(cb) {
          sock.end();
          cb();
        },
        destroy(err, cb) {
          sock.destroy();
          cb(err);
        },
      });
      relay.on('error', () => undefined);
      relay.push(buf);
      sock.on('data', (d: Buffer) => {
        if (!relay.push(d)) sock.pause();
      });
      sock.on('end', () => relay.push(null));
      sock.on('close', () => relay.destroy());
      tlsServer.emit('connection', relay);
    };
    sock.on('data', onData);
  }

  async prepare(ctx: ChallengeContext): Promise<void> {
    const sni = tlsAlpnSniName(ctx.identifier);
    const identifier: Identifier = isIpIdentifier(ctx.identifier)
      ? { type: 'ip', value: ctx.identifier.value }
      : { type: 'dns', value: normaliseName(ctx.identifier.value) };
    const make = this.opts.certificate ?? defaultCertificate;
    const { certPem, keyPem } = await make(identifier, ctx.keyAuthorization);
    const context = createSecureContext({ cert: certPem, key: keyPem, minVersion: 'TLSv1.2' });
    this.contexts.set(sni, { url: ctx.challenge.url, context });
    await this.start();
  }

  async cleanup(ctx: ChallengeContext): Promise<void> {
    const sni = tlsAlpnSniName(ctx.identifier);
    const entry = this.contexts.get(sni);
    if (entry && entry.url === ctx.challenge.url) this.contexts.delete(sni);
  }
}
