/**
 * Deploy and failure hooks (`--deploy-hook`, `--failure-hook`): the operator's program, run after a
 * certificate was issued or renewed and committed (deploy), or after an issuance or renewal failed
 * (failure). Like the DNS hook it is executed directly, never through a shell: the command is one
 * program (a path, or a name looked up in PATH), run without arguments; every value travels in the
 * environment, where inherited `AKAMU_*` variables (`AKAMU_EAB_KEY` among them) are removed first.
 * The runner, `runHook`, takes the program, its arguments, the variables and the timeout, so other
 * hook sources (a certbot `deploy_hook` mapped by the importer) can reuse it.
 */
import { runCommand, type Identifier } from 'akamu-client';
import { parsePositiveSeconds } from './flag-values.js';
import { checkHookProgram } from './solvers.js';

/** What a deploy hook is told: why the certificate was (re)issued. */
export type DeployReason = 'issued' | 'ari' | 'expiry' | 'forced';

/** Default `--hook-timeout` (the DNS hook's: 5 minutes). */
export const DEFAULT_HOOK_TIMEOUT_S = 300;

/** How a hook run ended, as plain data (results carry it; `error` is the line to print). */
export interface HookReport {
  hook: 'deploy' | 'failure';
  command: string;
  ok: boolean;
  /** The exit status; null when killed by a signal or not started. */
  exitCode: number | null;
  signal?: string;
  timedOut: boolean;
  durationMs: number;
  /** The last part of its stderr (trimmed). */
  stderr: string;
  /** Why it failed, e.g. `deploy hook '/x' exited with status 1: <stderr>`. */
  error?: string;
}

export interface HookRun {
  hook: 'deploy' | 'failure';
  command: string;
  args?: readonly string[];
  /** The AKAMU_* values (nothing else is added to the environment). */
  vars: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The environment the values are added to; default process.env. */
  baseEnv?: NodeJS.ProcessEnv;
}

const STDERR_TAIL = 500;

function tailOf(text: string, max: number): string {
  const t = text.trim();
  return t.length > max ? `…${t.slice(t.length - max)}` : t;
}

const seconds = (ms: number): string => (ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 1000)} s`);

/** The hook's environment: the base one without any inherited AKAMU_* variable, plus `vars`. */
export function hookEnvironment(vars: Record<string, string>, baseEnv: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(baseEnv)) if (!k.startsWith('AKAMU_')) env[k] = v;
  return { ...env, ...vars };
}

/** Runs a hook to its end (or its timeout) and reports how it went; never throws for the hook's failure. */
export async function runHook(run: HookRun): Promise<HookReport> {
  const what = `${run.hook} hook '${run.command}'`;
  const outcome = await runCommand({
    command: run.command, args: run.args ?? [], env: hookEnvironment(run.vars, run.baseEnv), timeoutMs: run.timeoutMs,
    ...(run.signal ? { signal: run.signal } : {}),
  });
  if (outcome.kind === 'not-started') {
    return { hook: run.hook, command: run.command, ok: false, exitCode: null, timedOut: false, durationMs: 0, stderr: '', error: `${what} could not be run: ${outcome.reason}` };
  }
  const stderr = tailOf(outcome.stderr, STDERR_TAIL);
  const suffix = stderr ? `: ${stderr}` : '';
  const report: HookReport = {
    hook: run.hook, command: run.command, ok: outcome.code === 0 && !outcome.signal && !outcome.timedOut,
    exitCode: outcome.code, timedOut: outcome.timedOut, durationMs: outcome.durationMs, stderr,
  };
  if (outcome.signal) report.signal = outcome.signal;
  if (outcome.timedOut) report.error = `${what} timed out after ${seconds(run.timeoutMs)} and was killed${outcome.signal ? ` by ${outcome.signal}` : ''}${suffix}`;
  else if (outcome.signal) report.error = `${what} was killed by ${outcome.signal}${suffix}`;
  else if (outcome.code !== 0) report.error = `${what} exited with status ${outcome.code}${suffix}`;
  return report;
}

/** The hooks of an issuance, checked before anything is ordered. */
export interface HookPlan {
  deploy?: string;
  failure?: string;
  timeoutMs: number;
}

/** `--deploy-hook`, `--failure-hook` (the programs must exist and be executable) and `--hook-timeout`. */
export async function planHooks(opts: { deployHook?: string; failureHook?: string; hookTimeout?: string | number }): Promise<HookPlan> {
  const timeout = parsePositiveSeconds(String(opts.hookTimeout ?? DEFAULT_HOOK_TIMEOUT_S), '--hook-timeout');
  if (opts.deployHook !== undefined) await checkHookProgram(opts.deployHook, '--deploy-hook');
  if (opts.failureHook !== undefined) await checkHookProgram(opts.failureHook, '--failure-hook');
  return {
    ...(opts.deployHook !== undefined ? { deploy: opts.deployHook } : {}),
    ...(opts.failureHook !== undefined ? { failure: opts.failureHook } : {}),
    timeoutMs: timeout * 1000,
  };
}

const domainsOf = (ids: readonly Identifier[]): string => ids.map((i) => i.value).join(' ');

/** The deploy hook's variables (the reference's names). */
export function deployVariables(v: {
  certPath: string; keyPath: string; identifiers: readonly Identifier[]; serialHex: string; notAfter: Date; profile?: string; reason: DeployReason;
}): Record<string, string> {
  return {
    AKAMU_CERT_PATH: v.certPath,
    AKAMU_KEY_PATH: v.keyPath,
    AKAMU_DOMAINS: domainsOf(v.identifiers),
    // as `openssl x509 -serial` prints it
    AKAMU_SERIAL: v.serialHex.toUpperCase(),
    AKAMU_NOT_AFTER: v.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    AKAMU_PROFILE: v.profile ?? '',
    AKAMU_REASON: v.reason,
  };
}

/** What failed: the command (`issue`, `renew`) or the deploy hook after a successful issuance. */
export type FailedStep = 'issue' | 'renew' | 'deploy-hook';

/** The failure hook's variables. */
export function failureVariables(v: { certPath: string; identifiers: readonly Identifier[]; failed: FailedStep; error: string }): Record<string, string> {
  return {
    AKAMU_CERT_PATH: v.certPath,
    AKAMU_DOMAINS: domainsOf(v.identifiers),
    AKAMU_FAILED: v.failed,
    AKAMU_ERROR: v.error,
  };
}
