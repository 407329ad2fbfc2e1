/**
 * The hook steps of issue and renew: the deploy hook after the new set is committed, the failure
 * hook after a run failed. A failing deploy hook does not undo anything: the new certificate stays
 * in place, the result says what failed (the run exits 1) and the failure hook is told.
 */
import { resolve } from 'node:path';
import type { Identifier } from 'akamu-client';
import { LockedError } from '../files/lock.js';
import { DEFAULT_HOOK_TIMEOUT_S, deployVariables, failureVariables, runHook, type DeployReason, type FailedStep, type HookPlan, type HookReport } from '../hooks.js';
import type { IssueResult } from '../results.js';
import type { Runtime } from '../runtime.js';

/** What the hooks need of an issuance (an IssuePlan has it; renew builds one before its plan). */
export interface HookTarget {
  hooks: HookPlan;
  opts: { out: string };
  identifiers: readonly Identifier[];
}

/** The failure hook of settings not yet planned: an unusable `--hook-timeout` falls back to the default. */
export function hookTargetOf(opts: { out: string; identifiers: readonly Identifier[]; failureHook?: string; hookTimeout?: string | number }): HookTarget {
  const t = Number(opts.hookTimeout ?? DEFAULT_HOOK_TIMEOUT_S);
  const timeoutMs = (Number.isInteger(t) && t > 0 ? t : DEFAULT_HOOK_TIMEOUT_S) * 1000;
  return { hooks: { timeoutMs, ...(opts.failureHook !== undefined ? { failure: opts.failureHook } : {}) }, opts, identifiers: opts.identifiers };
}

/**
 * Runs the deploy hook (when there is one) for a committed issuance. Returns the result with the
 * hook's report, and `failure` (the line to print, exit 1) when the hook failed.
 */
export async function deployAfter(target: HookTarget, issued: IssueResult, reason: DeployReason, rt: Runtime): Promise<{ issued: IssueResult; failure?: string }> {
  const command = target.hooks.deploy;
  if (command === undefined) return { issued };
  const { certificate } = issued;
  const vars = deployVariables({
    certPath: resolve(certificate.path), keyPath: resolve(issued.certificateKey.path), identifiers: issued.identifiers,
    serialHex: certificate.serial, notAfter: certificate.notAfter, profile: certificate.profile, reason,
  });
  rt.log.info(`running deploy hook '${command}' (${reason})`);
  const report = await runHook({ hook: 'deploy', command, vars, timeoutMs: target.hooks.timeoutMs, signal: rt.signal });
  logOutcome(report, rt);
  const result = { ...issued, deployHook: report };
  if (report.ok) return { issued: result };
  const error = report.error ?? `deploy hook '${command}' failed`;
  await failureHook(target, 'deploy-hook', new Error(error), rt);
  return { issued: result, failure: `${error} (the new certificate is in place: ${certificate.path})` };
}

/**
 * Runs the failure hook (when there is one) after `err`. Not for a run another run had locked
 * out, nor for an interrupted one (the operator is there). Its own failure is only a warning.
 */
export async function failureHook(target: HookTarget, failed: FailedStep, err: unknown, rt: Runtime): Promise<HookReport | undefined> {
  const command = target.hooks.failure;
  if (command === undefined || err instanceof LockedError || rt.signal.aborted) return undefined;
  const error = err instanceof Error ? err.message : String(err);
  const vars = failureVariables({ certPath: resolve(target.opts.out), identifiers: target.identifiers, failed, error });
  rt.log.info(`running failure hook '${command}' (${failed} failed)`);
  const report = await runHook({ hook: 'failure', command, vars, timeoutMs: target.hooks.timeoutMs });
  logOutcome(report, rt);
  if (!report.ok) rt.log.warn(report.error ?? `failure hook '${command}' failed`);
  return report;
}

function logOutcome(r: HookReport, rt: Runtime): void {
  if (r.stderr) rt.log.debug(`${r.hook} hook '${r.command}' stderr: ${r.stderr}`);
  if (r.ok) rt.log.info(`${r.hook} hook '${r.command}' succeeded (${r.durationMs} ms)`);
}
