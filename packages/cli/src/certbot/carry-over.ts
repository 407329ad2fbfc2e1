/**
 * What `import certbot` carries over from a lineage's renewal conf besides its files, so that the
 * lineage renews under akamu with nothing edited:
 *   manual_auth_hook / manual_cleanup_hook → certbot_auth_hook / certbot_cleanup_hook
 *   renew_hook (certbot's --deploy-hook)    → deploy_hook (a wrapper script, deploy-wrapper.ts)
 *   reuse_key = True                        → reuse_key = true
 *   authenticator = dns-rfc2136             → dns_rfc2136 + tsig_key (a key file written beside the
 *                                             certificate, 0600, from the plugin's credentials: rfc2136.ts)
 */
import type { CertbotCarriedOver } from '../results.js';
import { planDeployWrapper, type DeployWrapperPlan } from './deploy-wrapper.js';
import type { CertbotLineage } from './lineages.js';
import { readRfc2136Credentials, type CertbotTsigKey } from './rfc2136.js';

/** Renewal-config values (under their option names) and the extras the carry-over sets. */
export interface CarryOverPlan {
  carriedOver: CertbotCarriedOver;
  options: { certbotAuthHook?: string; certbotCleanupHook?: string; deployHook?: string; dnsRfc2136?: string; tsigKey?: string };
  extras: { reuse_key?: true };
  /** The deploy hook's wrapper script and lineage folder, to be written with the certificate. */
  deployWrapper?: DeployWrapperPlan;
  /** The TSIG key file to write (0600) for a dns-rfc2136 lineage. */
  tsigKeyFile?: { path: string; key: CertbotTsigKey };
  notes: string[];
}

/** certbot's dns-rfc2136 plugin (also under its old `certbot-dns-rfc2136:dns-rfc2136` name). */
export function isRfc2136(authenticator: string | undefined): boolean {
  const a = (authenticator ?? '').trim().toLowerCase();
  return a === 'dns-rfc2136' || a.endsWith(':dns-rfc2136');
}

/** `paths`: where the certificate goes (absent for --list: nothing is planned to be written). */
export async function planCarryOver(l: CertbotLineage, paths?: { chainPath: string; keyPath: string }): Promise<CarryOverPlan> {
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
  let tsigKeyFile: CarryOverPlan['tsigKeyFile'];
  if (isRfc2136(l.authenticator)) {
    const credentials = l.rfc2136Credentials;
    if (!credentials) {
      carriedOver.rfc2136 = { credentials: '', problem: "certbot's renewal config names no dns_rfc2136_credentials" };
    } else {
      const read = await readRfc2136Credentials(credentials);
      if (read.ok) {
        const keyFile = paths ? `${paths.chainPath}.tsig.key` : undefined;
        carriedOver.rfc2136 = { credentials, server: read.server, keyName: read.key.name, algorithm: read.key.algorithm, ...(keyFile ? { keyFile } : {}) };
        if (keyFile) {
          tsigKeyFile = { path: keyFile, key: read.key };
          options.dnsRfc2136 = read.server;
          options.tsigKey = keyFile;
        }
      } else {
        const { ok: _ok, problem, ...facts } = read;
        carriedOver.rfc2136 = { credentials, ...facts, problem };
        notes.push(`dns-rfc2136 is not carried over: ${problem}`);
      }
    }
  }
  return {
    carriedOver, options, extras: l.reuseKey ? { reuse_key: true } : {},
    ...(deployWrapper ? { deployWrapper } : {}), ...(tsigKeyFile ? { tsigKeyFile } : {}), notes,
  };
}
