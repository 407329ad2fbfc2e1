/** `install timer DIR` as text: the units (with `--print-only`) or what was written, then how to enable the timer. */
import type { InstallTimerResult } from '../results.js';
import { escapeControls as safe } from './safe-text.js';
import type { TextOutput } from './text.js';

const VERB = { written: 'Written', replaced: 'Replaced', unchanged: 'Unchanged', printed: '' } as const;

export function renderInstallTimer(r: InstallTimerResult, o: TextOutput): void {
  if (r.noRenewalConfigs) o.err(`Note: no *.renewal.toml below ${safe(r.directory)} yet; the timer renews whatever is issued there later.`);
  const printed = r.units.every((u) => u.action === 'printed');
  for (const u of r.units) {
    if (printed) {
      o.out(`# --- ${safe(u.path)} ---`);
      // the unit text as it would be written (its lines are akamu's own, with escaped paths)
      for (const line of u.content.replace(/\n$/, '').split('\n')) o.out(safe(line));
      o.out('');
    } else {
      o.out(`${VERB[u.action]}: ${safe(u.path)}`);
    }
  }
  o.out(printed ? 'After writing these units, enable the timer with:' : 'To enable automatic renewal, run:');
  for (const c of r.enableCommands) o.out(`  ${c}`);
  if (r.scope === 'user') o.out('  loginctl enable-linger "$USER"   # so that the timer also runs while you are logged out');
}
