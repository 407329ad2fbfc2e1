// Start-up cost of the CLI against a bare Node: medians of fresh processes, run interleaved
// (node -e 0, akamu-cli --version, akamu-cli --help, node -e 0, …) so drift hits all three alike.

import { cliBin } from '../packages/testkit/dist/index.js';
import { median, timed } from './measure.mjs';

export const STARTUP_COMMANDS = [
  { key: 'node', label: 'node -e 0', args: ['-e', '0'] },
  { key: 'version', label: 'akamu-cli --version', args: [cliBin, '--version'] },
  { key: 'help', label: 'akamu-cli --help', args: [cliBin, '--help'] },
];

/** { node, version, help }: median wall seconds over `rounds` fresh processes each. */
export async function measureStartup(rounds) {
  const samples = Object.fromEntries(STARTUP_COMMANDS.map((c) => [c.key, []]));
  // One unmeasured round first, so the first sample does not pay for a cold file cache.
  for (let round = 0; round <= rounds; round++) {
    for (const c of STARTUP_COMMANDS) {
      const r = await timed(process.execPath, c.args);
      if (r.code !== 0) throw new Error(`${c.label} failed (exit ${r.code ?? r.signal}):\n${r.stdout}${r.stderr}`);
      if (round > 0) samples[c.key].push(r.wallS);
    }
  }
  return Object.fromEntries(STARTUP_COMMANDS.map((c) => [c.key, median(samples[c.key])]));
}
