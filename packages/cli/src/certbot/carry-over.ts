/**
 * What `import certbot` carries over from a lineage's renewal conf besides its files, so that the
 * lineage renews under akamu with nothing edited:
 *   manual_auth_hook / manual_cleanup_hook → certbot_auth_hook / certbot_cleanup_hook
 *   renew_hook (certbot's --deploy-hook)    → deploy_hook (a wrapper script, deploy-wrapper.ts)
 *   reuse_key = True                        → reuse_key = true
 */
import type { CertbotCarriedOver } from '../results.js';
import { planDeployWrapper, type DeployWrapperPlan } from './deploy-wrapper.js';
import type { CertbotLineage } from './lineages.js';

/** Renewal-config values (under their option names) and the extras the carry-over sets. */
export interface CarryOverPlan {
  carriedOver: CertbotCarriedOver;
  options: { certbotAuthHook?: string; certbotCleanupHook?: string; deployHook?: string };
  extras: { reuse_key?: true };
  /** The deploy hook's wrapper script and lineage folder, to be written with the certificate. */
  deployWrapper?: DeployWrapperPlan;
  notes: string[];
}

/** `paths`: where the certificate goes (absent for --list: nothing is planned to be written). */
export function planCarryOver(l: CertbotLineage, paths?: { chainPath: string; keyPath: string }): CarryOverPlan {
  const manual = (l.authenticator ?? '').trim().toLowerCase() === 'manual';
  const carriedOver: CertbotCarriedOver = { reuseKey: l.reuseKey };
  const options: CarryOverPlan['options'] = {};
  const notes: string[] = [];
  if (manual && l.manualAuthHook) {
    carriedOver.authHook = l.manualAuthHook;
    options.certbotAuthHook = l.manualAuthHook;
    if (l.manualCleanupHook) {
      carriedOver.cleanupHook = l.manualCleanupHook;
      options.certbotCleanupHook = l.manualCleanupHook;
    }
  } else if (manual && l.manualCleanupHook) {
    notes.push("certbot's renewal config has a manual_cleanup_hook but no manual_auth_hook; it is not carried over");
  }
  let deployWrapper: DeployWrapperPlan | undefined;
  if (l.deployHook) {
    carriedOver.deployHook = l.deployHook;
    if (paths) {
      deployWrapper = planDeployWrapper(l.deployHook, l.name, paths.chainPath, paths.keyPath);
      carriedOver.deployHookScript = deployWrapper.scriptPath;
      options.deployHook = deployWrapper.scriptPath;
    }
  }
  return { carriedOver, options, extras: l.reuseKey ? { reuse_key: true } : {}, ...(deployWrapper ? { deployWrapper } : {}), notes };
}
