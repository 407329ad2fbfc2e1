// Start a private Pebble (ACME test CA) + pebble-challtestsrv (its DNS) on free loopback ports.

import { spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { findPebble } from './fetch-pebble.js';
import { openssl } from './util.js';

export interface PebbleProfile { description: string; validityPeriod: number }

export interface PebbleOptions {
  /** EAB keys (kid → base64url HMAC key); when given, externalAccountBindingRequired is true. */
  eabKeys?: Record<string, string>;
  /** PEBBLE_WFE_NONCEREJECT: percent of good nonces rejected. Default 0 (tests may ask for 5). */
  nonceReject?: number;
  /** PEBBLE_AUTHZREUSE: percent of valid authorizations reused. Default 0. */
  authzReuse?: number;
  /** Retry-After seconds Pebble sends on authz / order polling. Default 0 / 0. */
  retryAfter?: { authz: number; order: number };
  /** Certificate profiles. Default: `default` (90 days) and `shortlived` (6 days). */
  profiles?: Record<string, PebbleProfile>;
  /** Extra environment for Pebble (e.g. PEBBLE_CHAIN_LENGTH, PEBBLE_VA_ALWAYS_VALID). */
  env?: Record<string, string>;
  /** Additional raw keys merged into Pebble's config object. */
  config?: Record<string, unknown>;
  /**
   * The DNS server Pebble's VA asks (`HOST:PORT`, e.g. a private BIND's); default challtestsrv's.
   * challtestsrv still runs (its management API stays usable) but Pebble no longer resolves through it.
   */
  dnsServer?: string;
  /** Give up waiting for Pebble after this long. Default 30 s. */
  startTimeoutMs?: number;
}

/** Pebble's /cert-status-by-serial answer, e.g. {Status:'Revoked', Serial:'392aeca1362c2cc', Reason:1, RevokedAt:'…'}. */
export interface CertStatus {
  Status: 'Valid' | 'Revoked' | string;
  /** Lowercase hex without leading zeros. */
  Serial: string;
  Reason?: number;
  RevokedAt?: string;
  Certificate?: string;
  [k: string]: unknown;
}

export interface Pebble {
  /** ACME directory URL (https://127.0.0.1:<port>/dir). */
  directoryUrl: string;
  /** PEM of the throwaway CA that signed Pebble's TLS certificate (pass as --server-ca). */
  caPemPath: string;
  caPem: string;
  /** Pebble management API (HTTPS, same TLS CA). */
  managementUrl: string;
  /** challtestsrv management API (HTTP). */
  challtestsrvUrl: string;
  /** Where Pebble's VA connects for http-01 / tls-alpn-01 (nothing listens there until a solver does). */
  httpPort: number;
  tlsPort: number;
  /** challtestsrv DNS port on 127.0.0.1 (UDP and TCP). */
  dnsPort: number;
  /** Private working directory (config, TLS files, logs); removed by stop(). */
  dir: string;
  logPath: string;
  /** Number of ACME requests Pebble has served since startPebble() returned (incl. httpsGet calls). */
  requestCount(): number;
  /** Pebble's log so far. */
  logText(): string;
  /** Pebble's issuing root / intermediate (PEM) from the management API. */
  rootPem(): Promise<string>;
  intermediatePem(): Promise<string>;
  /** Certificate status by serial (hex, any case, leading zeros allowed). */
  certStatus(serialHex: string): Promise<CertStatus>;
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  addA(host: string, ip: string): Promise<void>;
  /** GET any HTTPS URL of this Pebble, trusting its TLS CA. */
  httpsGet(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>;
  stop(): Promise<void>;
}

/** Log marker of each ACME request Pebble serves. */
const REQUEST_MARKER = '-> calling handler()';

function countRequests(text: string): number {
  let n = 0;
  for (let i = text.indexOf(REQUEST_MARKER); i !== -1; i = text.indexOf(REQUEST_MARKER, i + 1)) n++;
  return n;
}

const DEFAULT_PROFILES: Record<string, PebbleProfile> = {
  default: { description: 'The default profile (90 days)', validityPeriod: 7_776_000 },
  shortlived: { description: 'A short-lived profile (6 days)', validityPeriod: 518_400 },
};

// ---- process bookkeeping: kill every child on exit --------------------------------------------

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHooksInstalled = false;

function killAllSync(): void {
  for (const c of liveChildren) {
    try { c.kill('SIGKILL'); } catch { /* already gone */ }
  }
  liveChildren.clear();
  if (!process.env.AKAMU_KEEP_TEMP) {
    for (const d of liveDirs) {
      try { rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
    }
  }
  liveDirs.clear();
}

export function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllSync();
      // Re-raise with the default disposition so the exit status reflects the signal,
      // unless someone else also handles it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

// ---- ports ------------------------------------------------------------------------------------

const handedOut = new Set<number>();

function tcpFree(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}

function udpFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.unref();
    s.once('error', (e) => { s.close(); reject(e); });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve()));
  });
}

/** A loopback port that is free now (TCP, and UDP too when `udp`), never handed out before by this process. */
export async function freePort(udp = false): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tcpFree(0);
    if (handedOut.has(p)) continue;
    if (udp) {
      try { await udpFree(p); } catch { continue; }
    }
    handedOut.add(p);
    return p;
  }
  throw new Error('could not find a free loopback port');
}

// ---- HTTP helpers -----------------------------------------------------------------------------

function request(url: string, opts: { method?: string; body?: string; ca?: string; timeoutMs?: number } = {}):
  Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { 'user-agent': 'akamu-testkit' };
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(opts.body));
    }
    const req = mod.request(u, {
      method: opts.method ?? 'GET', headers, agent: false,
      ...(u.protocol === 'https:' ? { ca: opts.ca } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

// ---- TLS material -----------------------------------------------------------------------------

async function makeTls(dir: string): Promise<{ caPemPath: string; certPath: string; keyPath: string }> {
  const caKey = path.join(dir, 'tls-ca.key');
  const caPemPath = path.join(dir, 'ca.pem');
  const keyPath = path.join(dir, 'tls-key.pem');
  const csrPath = path.join(dir, 'tls.csr');
  const certPath = path.join(dir, 'tls-cert.pem');
  const extPath = path.join(dir, 'tls-ext.cnf');
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', caKey, '-out', caPemPath, '-days', '30', '-subj', '/CN=akamu testkit Pebble TLS CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyPath, '-out', csrPath, '-subj', '/CN=localhost']);
  await fs.writeFile(extPath, [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '',
  ].join('\n'));
  await openssl(['x509', '-req', '-in', csrPath, '-CA', caPemPath, '-CAkey', caKey, '-CAcreateserial',
    '-days', '30', '-sha256', '-extfile', extPath, '-out', certPath]);
  return { caPemPath, certPath, keyPath };
}

// ---- start ------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Spawned { child: ChildProcess; exited: Promise<void>; exitInfo: () => string | undefined }

export function spawnLogged(file: string, args: string[], env: NodeJS.ProcessEnv, logPath: string, cwd: string): Spawned {
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(file, args, { cwd, env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  liveChildren.add(child);
  child.unref();
  let info: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      info = signal ? `signal ${signal}` : `exit code ${code}`;
      liveChildren.delete(child);
      resolve();
    });
    child.once('error', (e) => {
      info = `spawn error: ${e.message}`;
      liveChildren.delete(child);
      resolve();
    });
  });
  return { child, exited, exitInfo: () => info };
}

export async function killAndWait(s: Spawned): Promise<void> {
  if (s.exitInfo() !== undefined) return;
  s.child.kill('SIGTERM');
  const t = setTimeout(() => s.child.kill('SIGKILL'), 3000);
  await s.exited;
  clearTimeout(t);
}

class BindRace extends Error {}

async function startOnce(opts: PebbleOptions, bins: { pebble: string; challtestsrv: string }, dir: string,
  tls: { caPemPath: string; certPath: string; keyPath: string }): Promise<Pebble> {
  const [acmePort, mgmtPort, dnsPort, ctMgmtPort, httpPort, tlsPort] = [
    await freePort(), await freePort(), await freePort(true), await freePort(), await freePort(), await freePort(),
  ] as [number, number, number, number, number, number];

  const cfg = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: tls.certPath,
      privateKey: tls.keyPath,
      httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: opts.eabKeys !== undefined,
      ...(opts.eabKeys ? { externalAccountMACKeys: opts.eabKeys } : {}),
      retryAfter: opts.retryAfter ?? { authz: 0, order: 0 },
      profiles: opts.profiles ?? DEFAULT_PROFILES,
      ...(opts.config ?? {}),
    },
  };
  const cfgPath = path.join(dir, 'pebble-config.json');
  await fs.writeFile(cfgPath, JSON.stringify(cfg, null, 2));
  const logPath = path.join(dir, 'pebble.log');
  const ctLogPath = path.join(dir, 'challtestsrv.log');
  await fs.writeFile(logPath, '');
  await fs.writeFile(ctLogPath, '');

  const ct = spawnLogged(bins.challtestsrv, [
    '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '',
    '-dnsserver', `127.0.0.1:${dnsPort}`,
    '-http01', '', '-https01', '', '-tlsalpn01', '', '-doh', '',
    '-management', `127.0.0.1:${ctMgmtPort}`,
  ], { ...process.env }, ctLogPath, dir);

  const pebbleEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_WFE_NONCEREJECT: String(opts.nonceReject ?? 0),
    PEBBLE_AUTHZREUSE: String(opts.authzReuse ?? 0),
    ...(opts.env ?? {}),
  };
  const pb = spawnLogged(bins.pebble, ['-config', cfgPath, '-dnsserver', opts.dnsServer ?? `127.0.0.1:${dnsPort}`], pebbleEnv, logPath, dir);

  const caPem = readFileSync(tls.caPemPath, 'utf8');
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  const managementUrl = `https://127.0.0.1:${mgmtPort}`;
  const challtestsrvUrl = `http://127.0.0.1:${ctMgmtPort}`;

  const stopBoth = async () => { await Promise.all([killAndWait(pb), killAndWait(ct)]); };

  // Wait for both to answer.
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  let dirOk = false, ctOk = false;
  for (;;) {
    for (const [s, name, lp] of [[pb, 'pebble', logPath], [ct, 'pebble-challtestsrv', ctLogPath]] as const) {
      const info = s.exitInfo();
      if (info !== undefined) {
        const log = readFileSync(lp, 'utf8');
        await stopBoth();
        if (/address already in use/i.test(log)) throw new BindRace(`${name}: ${log.trim().split('\n').pop()}`);
        throw new Error(`${name} exited during start-up (${info}):\n${log}`);
      }
    }
    if (!dirOk) {
      try {
        const r = await request(directoryUrl, { ca: caPem, timeoutMs: 2000 });
        dirOk = r.status === 200 && r.body.includes('newNonce');
      } catch { /* not yet */ }
    }
    if (!ctOk) {
      try {
        await request(`${challtestsrvUrl}/`, { timeoutMs: 2000 });
        ctOk = true;
      } catch { /* not yet */ }
    }
    if (dirOk && ctOk) break;
    if (Date.now() > deadline) {
      const log = readFileSync(logPath, 'utf8');
      await stopBoth();
      throw new Error(`Pebble did not come up within ${opts.startTimeoutMs ?? 30_000} ms; log:\n${log}`);
    }
    await sleep(25);
  }

  const ctPost = async (endpoint: string, body: object) => {
    const r = await request(`${challtestsrvUrl}/${endpoint}`, { method: 'POST', body: JSON.stringify(body) });
    if (r.status !== 200) throw new Error(`challtestsrv ${endpoint}: HTTP ${r.status} ${r.body}`);
  };
  const fqdn = (h: string) => (h.endsWith('.') ? h : `${h}.`);
  const mgmtGet = async (p: string) => {
    const r = await request(`${managementUrl}${p}`, { ca: caPem });
    if (r.status !== 200) throw new Error(`Pebble management ${p}: HTTP ${r.status} ${r.body}`);
    return r.body;
  };

  // The readiness probes above were served too; count only what comes after start-up.
  const baseline = countRequests(readFileSync(logPath, 'utf8'));
  let stopped: Promise<void> | undefined;
  return {
    directoryUrl, caPemPath: tls.caPemPath, caPem, managementUrl, challtestsrvUrl, httpPort, tlsPort, dnsPort, dir, logPath,
    requestCount: () => countRequests(readFileSync(logPath, 'utf8')) - baseline,
    logText: () => readFileSync(logPath, 'utf8'),
    rootPem: () => mgmtGet('/roots/0'),
    intermediatePem: () => mgmtGet('/intermediates/0'),
    certStatus: async (serialHex: string) => {
      const hex = serialHex.replace(/[:\s]/g, '').toLowerCase().replace(/^0+(?=.)/, '');
      return JSON.parse(await mgmtGet(`/cert-status-by-serial/${hex}`)) as CertStatus;
    },
    setTxt: (host, value) => ctPost('set-txt', { host: fqdn(host), value }),
    clearTxt: (host) => ctPost('clear-txt', { host: fqdn(host) }),
    addA: (host, ip) => ctPost('add-a', { host: fqdn(host), addresses: [ip] }),
    httpsGet: (url) => request(url, { ca: caPem }),
    stop: () => {
      stopped ??= (async () => {
        await stopBoth();
        liveDirs.delete(dir);
        if (!process.env.AKAMU_KEEP_TEMP) await fs.rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** Start Pebble + challtestsrv. Call stop() when done (they are also killed when this process exits). */
export async function startPebble(opts: PebbleOptions = {}): Promise<Pebble> {
  installExitHooks();
  const bins = await findPebble();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'akamu-pebble-'));
  liveDirs.add(dir);
  try {
    const tls = await makeTls(dir);
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce(opts, bins, dir, tls);
      } catch (e) {
        if (!(e instanceof BindRace) || attempt >= 5) throw e;
      }
    }
  } catch (e) {
    liveDirs.delete(dir);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
