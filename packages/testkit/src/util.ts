// Small helpers shared by the testkit and the e2e tests.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './fetch-pebble.js';

export { repoRoot };

/** Path of the CLI launcher (packages/cli/bin/akamu-cli.js); run with `node`. */
export const cliBin: string = path.join(repoRoot, 'packages', 'cli', 'bin', 'akamu-cli.js');

export interface RunResult {
  /** Exit code; null when the process was ended by a signal (e.g. the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  /** Written to stdin, then stdin is closed. Without it stdin is closed immediately. */
  input?: string | Buffer;
  /** Added to (and overriding) the inherited environment; a value of undefined removes a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Kill the child (SIGKILL) after this long. Default 120 s. */
  timeoutMs?: number;
}

const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY', 'all_proxy', 'ALL_PROXY'];

/** Run a program without a shell and collect its output. Never rejects for a non-zero exit. */
export function runProgram(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // every peer is on loopback: a proxy of the machine's (for the npm registry) must not be used,
    // unless a test sets one itself
    for (const k of PROXY_VARIABLES) delete env[k];
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const child = spawn(file, args, { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => { /* child may exit before reading its input */ });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code, signal, timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** Run the real CLI: `node packages/cli/bin/akamu-cli.js <args>` (no shell). */
export function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runProgram(process.execPath, [cliBin, ...args], opts);
}

const tempDirs = new Set<string>();
let cleanupInstalled = false;

/** A fresh private temporary directory, removed when the process exits. */
export function tempDir(prefix = 'akamu-test-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    process.on('exit', () => {
      if (process.env.AKAMU_KEEP_TEMP) return;
      for (const t of tempDirs) {
        try { rmSync(t, { recursive: true, force: true }); } catch { /* best effort */ }
      }
    });
  }
  return d;
}

/** Permission bits of a file (e.g. 0o600). */
export function fileMode(p: string): number {
  return statSync(p).mode & 0o777;
}

export class OpensslError extends Error {
  constructor(readonly args: string[], readonly code: number | null, readonly stderr: string) {
    super(`openssl ${args.join(' ')} failed (exit ${code}): ${stderr.trim()}`);
    this.name = 'OpensslError';
  }
}

export interface OpensslResult { code: number | null; stdout: string; stdoutBytes: Buffer; stderr: string }

/** Run the openssl CLI; never rejects for a non-zero exit. */
export function runOpenssl(args: string[], input?: string | Buffer, cwd?: string): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => { /* ignore EPIPE */ });
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(input ?? '');
  });
}

/** Run the openssl CLI and return its stdout; rejects with OpensslError on a non-zero exit. */
export async function openssl(args: string[], input?: string | Buffer, cwd?: string): Promise<string> {
  const r = await runOpenssl(args, input, cwd);
  if (r.code !== 0) throw new OpensslError(args, r.code, r.stderr);
  return r.stdout;
}
