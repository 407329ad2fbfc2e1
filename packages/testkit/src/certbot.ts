// Run Debian's real certbot (2.1) against a testkit Pebble, to build genuine /etc/letsencrypt trees.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Pebble } from './pebble.js';
import { runProgram, tempDir, type RunResult } from './util.js';

/** The certbot program: `CERTBOT_BIN` or `certbot` on PATH. */
export function certbotBin(): string {
  return process.env.CERTBOT_BIN ?? 'certbot';
}

let versionCache: Promise<string> | undefined;

/**
 * `certbot --version` (e.g. "2.1.0"). Rejects with a clear message when certbot is not installed:
 * tests that need it must fail, not skip (CI installs Debian's `certbot` package).
 */
export function certbotVersion(): Promise<string> {
  versionCache ??= (async () => {
    let r: RunResult;
    try {
      r = await runProgram(certbotBin(), ['--version'], { timeoutMs: 60_000 });
    } catch (e) {
      throw new Error(`certbot is not installed (${(e as Error).message}); install Debian's package: apt-get install -y --no-install-recommends certbot`);
    }
    const m = /certbot\s+(\d+\.\d+(?:\.\d+)?)/.exec(`${r.stdout}\n${r.stderr}`);
    if (r.code !== 0 || !m) {
      throw new Error(`'${certbotBin()} --version' failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
    }
    return m[1]!;
  })();
  return versionCache;
}

export type CertbotAuth =
  /** certbot's own http-01 server on pebble.httpPort. */
  | { kind: 'standalone' }
  /** `--manual --preferred-challenges dns` with hooks that publish the TXT record through challtestsrv. */
  | { kind: 'manual-dns' }
  /** `--webroot -w <dir>`; a small static server serves `dir` on pebble.httpPort while certbot runs. */
  | { kind: 'webroot'; webroot: string };

export interface CertbotTree {
  pebble: Pebble;
  /** certbot's --config-dir: the /etc/letsencrypt equivalent. */
  configDir: string;
  workDir: string;
  logsDir: string;
}

/** A certbot tree (config/work/logs dirs) for a Pebble; several Pebbles may share one configDir. */
export function certbotTree(pebble: Pebble, configDir?: string): CertbotTree {
  const base = configDir ?? path.join(tempDir('akamu-certbot-'), 'letsencrypt');
  const root = path.dirname(base);
  const workDir = path.join(root, 'certbot-work');
  const logsDir = path.join(root, 'certbot-logs');
  mkdirSync(base, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  mkdirSync(logsDir, { recursive: true });
  return { pebble, configDir: base, workDir, logsDir };
}

/** The same tree with another Pebble (a second CA for the same /etc/letsencrypt). */
export function withPebble(tree: CertbotTree, pebble: Pebble): CertbotTree {
  return { ...tree, pebble };
}

export class CertbotError extends Error {
  constructor(message: string, readonly result: RunResult) {
    super(message);
    this.name = 'CertbotError';
  }
}

/**
 * How runCertbot starts certbot for `args`: the program, the full argument list (the tree's
 * directories, non-interactive) and the environment to add (Pebble's TLS CA trusted). For callers
 * that spawn certbot themselves, e.g. the benchmark measuring it.
 */
export function certbotCommand(tree: CertbotTree, args: string[]): { file: string; args: string[]; env: Record<string, string> } {
  return {
    file: certbotBin(),
    args: [
      ...args,
      '--config-dir', tree.configDir, '--work-dir', tree.workDir, '--logs-dir', tree.logsDir,
      '--non-interactive',
    ],
    env: { REQUESTS_CA_BUNDLE: tree.pebble.caPemPath, CHALLTESTSRV: tree.pebble.challtestsrvUrl },
  };
}

/** Run certbot with the tree's directories and Pebble's CA trusted; throws CertbotError on failure. */
export async function runCertbot(tree: CertbotTree, args: string[], opts: { webroot?: string } = {}): Promise<RunResult> {
  await certbotVersion();
  const cmd = certbotCommand(tree, args);
  const server = opts.webroot ? await serveWebroot(opts.webroot, tree.pebble.httpPort) : undefined;
  let r: RunResult;
  try {
    r = await runProgram(cmd.file, cmd.args, { env: cmd.env, timeoutMs: 180_000 });
  } finally {
    await server?.close();
  }
  if (r.code !== 0) {
    let log = '';
    try {
      log = (await readFile(path.join(tree.logsDir, 'letsencrypt.log'), 'utf8')).split('\n').slice(-40).join('\n');
    } catch { /* no log */ }
    throw new CertbotError(`certbot ${args.slice(0, 2).join(' ')} failed (exit ${r.code}):\n${r.stdout}${r.stderr}\n--- letsencrypt.log (tail) ---\n${log}`, r);
  }
  return r;
}

export interface CertonlyOptions {
  domains: string[];
  auth: CertbotAuth;
  certName?: string;
  keyType?: 'rsa' | 'ecdsa';
  rsaKeySize?: number;
  /** Contact e-mail for a new account; false registers without one. Default x@example.com. */
  email?: string | false;
}

function authArgs(tree: CertbotTree, auth: CertbotAuth): string[] {
  switch (auth.kind) {
    case 'standalone':
      return ['--standalone', '--http-01-port', String(tree.pebble.httpPort)];
    case 'manual-dns': {
      const hooks = dnsHookScripts(tree);
      return ['--manual', '--preferred-challenges', 'dns', '--manual-auth-hook', hooks.auth, '--manual-cleanup-hook', hooks.cleanup];
    }
    case 'webroot':
      return ['--webroot', '-w', auth.webroot];
  }
}

/** The arguments of `certbot certonly` for these options (before certbotCommand adds the tree's). */
export function certonlyArgs(tree: CertbotTree, opts: CertonlyOptions): string[] {
  const args = ['certonly', '--server', tree.pebble.directoryUrl, '--agree-tos'];
  if (opts.email === false) args.push('--register-unsafely-without-email');
  else args.push('-m', opts.email ?? 'x@example.com');
  args.push(...authArgs(tree, opts.auth));
  if (opts.certName) args.push('--cert-name', opts.certName);
  if (opts.keyType) args.push('--key-type', opts.keyType);
  if (opts.rsaKeySize) args.push('--rsa-key-size', String(opts.rsaKeySize));
  for (const d of opts.domains) args.push('-d', d);
  return args;
}

/** `certbot certonly` for these domains; registers the account on first use of the Pebble. */
export async function certbotCertonly(tree: CertbotTree, opts: CertonlyOptions): Promise<RunResult> {
  return runCertbot(tree, certonlyArgs(tree, opts), { webroot: opts.auth.kind === 'webroot' ? opts.auth.webroot : undefined });
}

/** `certbot renew --force-renewal --cert-name X` (settings come from the lineage's renewal conf). */
export async function certbotRenew(tree: CertbotTree, certName: string, opts: { webroot?: string } = {}): Promise<RunResult> {
  return runCertbot(tree, ['renew', '--force-renewal', '--no-random-sleep-on-renew', '--cert-name', certName], opts);
}

/** Manual-DNS hooks for this Pebble: certbot's CERTBOT_DOMAIN/CERTBOT_VALIDATION → challtestsrv. */
export function dnsHookScripts(tree: CertbotTree): { auth: string; cleanup: string } {
  const dir = path.join(path.dirname(tree.configDir), 'certbot-hooks');
  mkdirSync(dir, { recursive: true });
  const script = (op: 'set-txt' | 'clear-txt') => `#!${process.execPath}
// certbot manual ${op === 'set-txt' ? 'auth' : 'cleanup'} hook written by @akamu/testkit
const host = '_acme-challenge.' + process.env.CERTBOT_DOMAIN + '.';
const body = ${op === 'set-txt' ? '{ host, value: process.env.CERTBOT_VALIDATION }' : '{ host }'};
const res = await fetch(${JSON.stringify(tree.pebble.challtestsrvUrl)} + '/${op}', { method: 'POST', body: JSON.stringify(body) });
if (!res.ok) { console.error('challtestsrv ${op}: HTTP ' + res.status); process.exit(1); }
`;
  const auth = path.join(dir, `auth-${tree.pebble.dnsPort}.mjs`);
  const cleanup = path.join(dir, `cleanup-${tree.pebble.dnsPort}.mjs`);
  writeFileSync(auth, script('set-txt'));
  writeFileSync(cleanup, script('clear-txt'));
  chmodSync(auth, 0o755);
  chmodSync(cleanup, 0o755);
  return { auth, cleanup };
}

/**
 * A tiny static file server for a webroot (only GET of files below it); `root` may also choose the
 * webroot by the request's Host (as a web server with one site per name does). `host` is where it
 * listens (default 127.0.0.1).
 */
export function serveWebroot(
  root: string | ((host: string) => string | undefined), port: number, host = '127.0.0.1',
): Promise<{ close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const dir = typeof root === 'string' ? root : root((req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1'));
    if (dir === undefined) {
      res.writeHead(404).end();
      return;
    }
    const base = path.resolve(dir);
    const url = new URL(req.url ?? '/', 'http://x');
    const file = path.resolve(base, `.${decodeURIComponent(url.pathname)}`);
    if (req.method !== 'GET' || !file.startsWith(`${base}${path.sep}`)) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (data) => res.writeHead(200, { 'content-type': 'text/plain' }).end(data),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve({
        close: () => new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}
