// startTestCa(): the project's own strict ACME server (RFC 8555 + EAB, ARI, profiles, tls-alpn-01,
// onion-csr-01, tkauth-01, ML-DSA and EdDSA JWS), on loopback HTTPS or a Unix socket.

import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../pebble.js';
import { startChalltestsrv, type Challtestsrv } from './challtestsrv.js';
import type { CaConfig, CaContext, Profile } from './context.js';
import { NoncePool } from './nonces.js';
import { fromSpki } from './keys.js';
import { Pki } from './pki.js';
import { listen, listener, PATHS } from './server.js';
import { CaState } from './state.js';

export interface TestCaOptions {
  /** HTTPS port on 127.0.0.1 (default: any free one). Ignored with `socketPath`. */
  port?: number;
  /** Listen on this Unix socket instead (plain HTTP; every URL is http+unix://). */
  socketPath?: string;
  /** EAB keys (kid → base64url HMAC key); when given, an EAB is required (HS256/384/512). */
  eabKeys?: Record<string, string>;
  /**
   * GSSAPI-authenticated EAB: GET /acme/eab behind an SPNEGO acceptor with this keytab (the
   * HTTP/<host> service keys). It hands out a single-use kid + HMAC key bound to the principal and
   * then requires an EAB; with `issueEab: false` it answers just {"principal"} and requires none.
   */
  gssapi?: { keytab: string; issueEab?: boolean };
  /** Where http-01 and tls-alpn-01 validation connect (default: free ports on `validationAddress`). */
  httpPort?: number;
  tlsPort?: number;
  /** Every name "resolves" to this address for http-01 / tls-alpn-01. Default 127.0.0.1. */
  validationAddress?: string;
  /** dns-01 resolver "host:port" (e.g. a Pebble's challtestsrv); default: start our own challtestsrv; false: none. */
  dnsServer?: string | false;
  /** Advertise terms of service and require agreement (default true). */
  termsOfService?: boolean;
  profiles?: Record<string, Profile>;
  /** Keep finalized orders `processing` this long (default 0: the certificate is there at once). */
  finalizeDelayMs?: number;
  /** The CA's clock (default: the wall clock). */
  now?: () => Date;
  /**
   * Trust this Token Authority (its token-signing public key, PEM): authority-token identifiers
   * (TNAuthList, JWTClaimConstraints, EnhancedJWTClaimConstraints) are then ordered with tkauth-01.
   * `url` is given to clients as the challenge's `token-authority`.
   */
  tokenAuthority?: { publicKeyPem: string; url?: string };
}

export interface CertState { status: 'valid' | 'revoked'; reason?: number; revokedAt?: Date; certId: string; accountUrl: string }

export interface TestCa {
  directoryUrl: string;
  /** Root certificate (PEM file): trust it for the listener (--server-ca) and for the issued chains. */
  caPemPath: string;
  caPem: string;
  intermediatePem: string;
  /** Private working directory (root PEM, logs); removed by stop(). */
  dir: string;
  httpPort: number;
  tlsPort: number;
  /** dns-01 resolver in use ("host:port"), if any. */
  dnsServer?: string;
  /** Management API of the challtestsrv we started, if we started one. */
  challtestsrvUrl?: string;
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  /** Status of a certificate issued here, by serial (hex, any case, leading zeros allowed). */
  certStatus(serialHex: string): CertState | undefined;
  /** Fix the ARI window of a certificate (by serial hex). */
  setRenewalWindow(serialHex: string, window: { start: Date; end: Date }): void;
  /** Reject the next `count` good nonces with badNonce. */
  rejectGoodNonces(count: number): void;
  /** Requests served so far, by "METHOD path"-kind counters and the list of problem types sent. */
  requestCount(): number;
  problemsSent(): string[];
  /** The Kerberos principal bound to an account by GSSAPI EAB (undefined: none, or no such account). */
  accountPrincipal(accountUrl: string): string | undefined;
  /** Principals that GET /acme/eab authenticated, in order. */
  gssapiAuthenticated(): string[];
  /** The SPNEGO tokens and HMAC keys of GET /acme/eab (base64url, base64 and hex), to prove none was printed. */
  gssapiSecrets(): string[];
  stop(): Promise<void>;
}

const DEFAULT_PROFILES: Record<string, Profile> = {
  default: { description: 'The default profile (90 days)', validitySeconds: 90 * 86400 },
  shortlived: { description: 'A short-lived profile (6 days)', validitySeconds: 6 * 86400 },
};

function tokenAuthorityTrust(ta: { publicKeyPem: string; url?: string }): CaConfig['tokenAuthority'] {
  const spki = createPublicKey(ta.publicKeyPem).export({ type: 'spki', format: 'der' });
  return { key: fromSpki(spki, 'serverInternal'), ...(ta.url ? { url: ta.url } : {}) };
}

/** Start the test CA. Call stop() when done. */
export async function startTestCa(opts: TestCaOptions = {}): Promise<TestCa> {
  const now = opts.now ?? (() => new Date());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'akamu-test-ca-'));
  let dns: Challtestsrv | undefined;
  try {
    const pki = new Pki(now());
    const caPemPath = path.join(dir, 'root.pem');
    writeFileSync(caPemPath, pki.root.pem);
    writeFileSync(path.join(dir, 'intermediate.pem'), pki.intermediate.pem);
    if (opts.dnsServer === undefined) dns = await startChalltestsrv(dir);
    const dnsServer = opts.dnsServer === false ? undefined : (opts.dnsServer ?? dns?.dnsServer);
    const address = opts.validationAddress ?? '127.0.0.1';
    const httpPort = opts.httpPort ?? await freePort();
    const tlsPort = opts.tlsPort ?? await freePort();
    const nonces = new NoncePool();
    let ctx: CaContext | undefined;
    let served = 0;
    const problems: string[] = [];
    const onRequest = listener(() => {
      if (!ctx) throw new Error('test CA not ready');
      return ctx;
    }, (s) => {
      served++;
      const t = (s.reply.json as { type?: unknown } | undefined)?.type;
      if (s.reply.status >= 400 && typeof t === 'string') problems.push(t);
    });
    const server = await listen(onRequest, { port: opts.port, socketPath: opts.socketPath, tls: pki.tlsServer(now()) });
    const state = new CaState(server.base, now);
    const gssapi = opts.gssapi
      ? { keytab: opts.gssapi.keytab, issueEab: opts.gssapi.issueEab !== false, pending: new Map<string, string>(), authenticated: [], secrets: [] }
      : undefined;
    const config: CaConfig = {
      eabKeys: new Map(Object.entries(opts.eabKeys ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64url')])),
      eabRequired: Object.keys(opts.eabKeys ?? {}).length > 0 || gssapi?.issueEab === true,
      ...(gssapi ? { gssapi } : {}),
      http01: { address, port: httpPort },
      tlsAlpn01: { address, port: tlsPort },
      dnsServer,
      termsOfService: opts.termsOfService === false ? undefined : server.base + PATHS.terms,
      profiles: opts.profiles ?? DEFAULT_PROFILES,
      defaultProfile: Object.keys(opts.profiles ?? DEFAULT_PROFILES)[0]!,
      finalizeDelayMs: opts.finalizeDelayMs ?? 0,
      ...(opts.tokenAuthority ? { tokenAuthority: tokenAuthorityTrust(opts.tokenAuthority) } : {}),
    };
    const authKey = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as Record<string, string>;
    ctx = { state, nonces, pki, now, config, authKey: { kty: 'OKP', crv: 'Ed25519', x: authKey.x! } };
    const noDns = async () => { throw new Error('this test CA has no challtestsrv of its own (dnsServer was given)'); };
    let stopped: Promise<void> | undefined;
    return {
      directoryUrl: server.base + PATHS.directory, caPemPath, caPem: pki.root.pem, intermediatePem: pki.intermediate.pem,
      dir, httpPort, tlsPort,
      ...(dnsServer ? { dnsServer } : {}), ...(dns ? { challtestsrvUrl: dns.managementUrl } : {}),
      setTxt: dns ? dns.setTxt : noDns,
      clearTxt: dns ? dns.clearTxt : noDns,
      certStatus: (serialHex) => {
        const c = state.certBySerial(serialHex);
        if (!c) return undefined;
        return {
          status: c.revoked ? 'revoked' : 'valid', certId: c.certId, accountUrl: state.url('acct', c.accountId),
          ...(c.revoked ? { reason: c.revoked.reason, revokedAt: c.revoked.at } : {}),
        };
      },
      setRenewalWindow: (serialHex, window) => {
        const c = state.certBySerial(serialHex);
        if (!c) throw new Error(`no certificate with serial ${serialHex}`);
        c.window = window;
      },
      rejectGoodNonces: (count) => nonces.rejectGoodNonces(count),
      requestCount: () => served,
      problemsSent: () => [...problems],
      accountPrincipal: (accountUrl) => state.accountByUrl(accountUrl)?.kerberosPrincipal,
      gssapiAuthenticated: () => [...(gssapi?.authenticated ?? [])],
      gssapiSecrets: () => [...(gssapi?.secrets ?? [])],
      stop: () => {
        stopped ??= (async () => {
          await server.close();
          await dns?.stop();
          if (!process.env.AKAMU_KEEP_TEMP) rmSync(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (e) {
    await dns?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
