/** Shared set-up for the CLI's end-to-end tests: a real Pebble and the built CLI as a child process. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startPebble, runCli, tempDir, openssl, type Pebble, type PebbleOptions, type RunResult } from '../../testkit/src/index.js';

export { runCli, tempDir, openssl, type Pebble, type RunResult };

export interface Env {
  pebble: Pebble;
  dir: string;
  /** `--server <dir> --server-ca <ca>` */
  server: string[];
}

export async function setup(opts: PebbleOptions = {}): Promise<Env> {
  const pebble = await startPebble(opts);
  const dir = tempDir();
  return { pebble, dir, server: ['--server', pebble.directoryUrl, '--server-ca', pebble.caPemPath] };
}

/** The one EAB key ID and HMAC key that setupWithEab's Pebble accepts. */
export const EAB = { kid: 'kid-1', hmac: 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W' } as const;

/** A Pebble that requires External Account Binding (with the credentials in EAB). */
export function setupWithEab(): Promise<Env> {
  return setup({ eabKeys: { [EAB.kid]: EAB.hmac } });
}

/** A Pebble plus an account registered with the CLI (`<dir>/account.pem`). */
export type AccountEnv = Env & { key: string };

export async function setupWithAccount(opts: PebbleOptions = {}): Promise<AccountEnv> {
  const env = await setup(opts);
  const key = join(env.dir, 'account.pem');
  assertSuccess(await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos']));
  return { ...env, key };
}

/** Assert a failed run: exactly one `error:` line on stderr, no stack trace, the given exit code. */
export function assertFailure(r: RunResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code ${r.code}, stderr: ${r.stderr}`);
  const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.equal(errorLines.length, 1, `one error line expected, stderr: ${r.stderr}`);
  assert.match(errorLines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at .+\(.*:\d+:\d+\)$/m, 'no stack trace');
}

export function assertSuccess(r: RunResult): void {
  assert.equal(r.code, 0, `exit code ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

export function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

/** A snapshot of files (content hash and mode) to prove that a failure left them untouched. */
export function snapshot(paths: string[]): string {
  return paths
    .map((p) => (existsSync(p) ? `${p} ${mode(p).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}` : `${p} absent`))
    .join('\n');
}

/** Verify a chain with openssl against Pebble's root and intermediate; returns the leaf's text dump. */
export async function verifyChain(env: Env, chainPath: string, keyPath: string): Promise<string> {
  const root = join(env.dir, `root-${Date.now()}.pem`);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(root, await env.pebble.rootPem());
  const chain = readFileSync(chainPath, 'utf8');
  const blocks = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  assert.ok(blocks.length >= 2, 'leaf and intermediate expected');
  const leafPath = `${chainPath}.leaf-test.pem`;
  const untrusted = `${chainPath}.untrusted-test.pem`;
  writeFileSync(leafPath, blocks[0]!);
  writeFileSync(untrusted, blocks.slice(1).join(''));
  const out = await openssl(['verify', '-CAfile', root, '-untrusted', untrusted, leafPath]);
  assert.match(out, /: OK/);
  // the key belongs to the certificate
  const certPub = await openssl(['x509', '-in', leafPath, '-noout', '-pubkey']);
  const keyPub = await openssl(['pkey', '-in', keyPath, '-pubout']);
  assert.equal(certPub.trim(), keyPub.trim(), 'certificate key matches the certificate');
  return openssl(['x509', '-in', leafPath, '-noout', '-text', '-serial']);
}

/**
 * The leaf of a chain file (written beside it as `<dir>/leaf-*.pem`), after openssl has verified
 * the chain up to the root in `caPemPath`.
 */
export async function verifiedLeaf(caPemPath: string, dir: string, chainPath: string): Promise<{ path: string; pem: string }> {
  const blocks = readFileSync(chainPath, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  assert.ok(blocks.length >= 2, 'leaf and intermediate');
  const { writeFileSync } = await import('node:fs');
  const leaf = join(dir, `leaf-${Date.now()}.pem`);
  const rest = join(dir, `rest-${Date.now()}.pem`);
  writeFileSync(leaf, blocks[0]!);
  writeFileSync(rest, blocks.slice(1).join(''));
  assert.match(await openssl(['verify', '-CAfile', caPemPath, '-untrusted', rest, leaf]), /: OK/);
  return { path: leaf, pem: blocks[0]! };
}

export function serialOf(text: string): string {
  const m = /serial=([0-9A-Fa-f]+)/.exec(text);
  assert.ok(m, 'serial in openssl output');
  return m[1]!;
}
