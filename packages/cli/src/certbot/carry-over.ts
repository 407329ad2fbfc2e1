/**
 * What `import certbot` carries over from a lineage's renewal conf besides its files, so that the
 * lineage renews under akamu with nothing edited:
 *   manual_auth_hook / manual_cleanup_hook → certbot_auth_hook / certbot_cleanup_hook
 *   reuse_key = True                        → reuse_key = true
 */
import type { CertbotCarriedOver } from '../results.js';
import type { CertbotLineage } from './lineages.js';

/** Renewal-config values (under their option names) and the extras the carry-over sets. */
export interface CarryOverPlan {
  carriedOver: CertbotCarriedOver;
  options: { certbotAuthHook?: string; certbotCleanupHook?: string };
  extras: { reuse_key?: true };
  notes: string[];
}

export function planCarryOver(l: CertbotLineage): CarryOverPlan {
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
  return { carriedOver, options, extras: l.reuseKey ? { reuse_key: true } : {}, notes };
}
