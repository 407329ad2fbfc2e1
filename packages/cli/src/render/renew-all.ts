/**
 * `renew --all`'s summary: one line per certificate (status, chain, why), then the counts. The
 * error line of a run with failures (exit 1) is printed after it, from the result's `failure`.
 */
import type { RenewAllEntry, RenewAllResult } from '../results.js';
import type { TextOutput } from './text.js';

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const firstLine = (s: string): string => s.split('\n')[0] ?? '';

const LABEL: Record<RenewAllEntry['status'], string> = { renewed: 'renewed', 'not-due': 'not due', failed: 'failed', locked: 'locked' };

export function entryLine(e: RenewAllEntry): string {
  const what = e.certificatePath ?? e.renewalConfigPath;
  let why: string;
  switch (e.status) {
    case 'renewed':
      why = `${e.reason ?? 'issued'}${e.serial ? `; serial ${e.serial.toUpperCase()}` : ''}${e.notAfter ? `, not after ${iso(e.notAfter)}` : ''}`;
      break;
    case 'not-due':
      why = `${e.dueAt ? `due at ${iso(e.dueAt)}` : 'not due'} (${e.reason ?? 'expiry'}${e.ariCached ? ', ARI cached' : ''})`;
      break;
    default:
      why = firstLine(e.error ?? 'unknown error');
  }
  return `${LABEL[e.status].padEnd(8)} ${what}: ${why}`;
}

export function renderRenewAll(r: RenewAllResult, o: TextOutput): void {
  for (const e of r.certificates) o.out(entryLine(e));
  const c = r.counts;
  o.out(`${c.total} certificate${c.total === 1 ? '' : 's'} in ${r.directory}: ${c.renewed} renewed, ${c.notDue} not due, ${c.failed} failed, ${c.locked} locked (${(r.durationMs / 1000).toFixed(1)} s)`);
}
