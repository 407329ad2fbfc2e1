/** The text of what `import certbot` carries over (for --list, --dry-run and the import itself). */
import type { CertbotCarriedOver } from '../results.js';

/** `auth hook '…', cleanup hook '…', reuse_key`: one line of what is carried over ('' for nothing). */
export function describeCarryOver(c: CertbotCarriedOver | undefined): string {
  if (!c) return '';
  const parts: string[] = [];
  if (c.authHook) parts.push(`auth hook '${c.authHook}'`);
  if (c.cleanupHook) parts.push(`cleanup hook '${c.cleanupHook}'`);
  if (c.deployHook) parts.push(`deploy hook '${c.deployHook}'${c.deployHookScript ? ` (via ${c.deployHookScript})` : ''}`);
  if (c.rfc2136) {
    const r = c.rfc2136;
    parts.push(r.problem
      ? `rfc2136: not carried over (${r.problem})`
      : `rfc2136 ${r.server} (key "${r.keyName}", ${r.algorithm}${r.keyFile ? `, key file ${r.keyFile}` : ''})`);
  }
  if (c.reuseKey) parts.push('reuse_key');
  return parts.join(', ');
}
