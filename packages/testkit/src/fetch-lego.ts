// Locate (or fetch) lego 4.35, an independent ACME client (used by the benchmark, and to check
// the test CA from another client's side).
//
// Order of preference:
//   1. LEGO_BIN (path to lego).
//   2. <repo>/.cache/lego/usr/bin/lego (fetched earlier).
//   3. `lego` on PATH when `lego --version` reports >= 4.35 (Debian 12's own package is 4.9).
//   4. Fetch the `lego` package from Debian's sid suite into the cache, exactly as Pebble is
//      fetched (private apt sources list, mirror read from the system's apt config; see debian-sid.ts).
//
// Shell use: `node packages/testkit/dist/fetch-lego.js` prints the lego binary's path (exit 1
// with an explanation on failure).

import * as path from 'node:path';
import {
  belowVersion, cachedSidBinaries, fetchFromDebianSid, isExecutable, memoizedFinder, run, runAsScript,
  whichSync, type Log, type SidPackage,
} from './debian-sid.js';

export interface LegoBinary {
  lego: string;
  /** Where it came from. */
  source: 'env' | 'cache' | 'path' | 'fetched';
}

/** Minimum lego version accepted from PATH. */
const MIN_VERSION: [number, number] = [4, 35];

const LEGO_PACKAGE: SidPackage = {
  pkg: 'lego',
  label: 'lego',
  binaries: ['lego'],
  hint: 'set LEGO_BIN to a lego >= 4.35 binary',
};

/** The version `lego --version` reports ("lego version 4.35.2 linux/amd64" → "4.35.2"), or undefined. */
export async function legoVersion(lego: string): Promise<string | undefined> {
  const r = await run(lego, ['--version'], { timeoutMs: 20_000 });
  const m = /version\s+v?(\d+\.\d+(?:\.\d+)?)/.exec(`${r.stdout}\n${r.stderr}`);
  return r.code === 0 && m ? m[1] : undefined;
}

async function acceptPathLego(p: string): Promise<boolean> {
  const v = await legoVersion(p);
  const [major, minor] = (v ?? '').split('.').map(Number);
  return major !== undefined && minor !== undefined && !Number.isNaN(minor) && !belowVersion(major, minor, MIN_VERSION);
}

/** Find lego; fetch it into the repo cache if needed. Safe to call concurrently. */
export const findLego: (opts?: { root?: string; log?: Log }) => Promise<LegoBinary> = memoizedFinder(findLegoUncached);

async function findLegoUncached(root: string, log: Log): Promise<LegoBinary> {
  const env = process.env.LEGO_BIN;
  if (env) {
    const lego = path.resolve(env);
    if (!isExecutable(lego)) throw new Error(`LEGO_BIN=${env} is not an executable file`);
    return { lego, source: 'env' };
  }
  const cached = cachedSidBinaries(root, LEGO_PACKAGE);
  if (cached) return { lego: cached[0]!, source: 'cache' };
  const onPath = whichSync('lego');
  if (onPath) {
    if (await acceptPathLego(onPath)) return { lego: onPath, source: 'path' };
    log(`ignoring ${onPath}: too old (need lego >= ${MIN_VERSION.join('.')})`);
  }
  const { paths, fetched } = await fetchFromDebianSid(root, LEGO_PACKAGE, log);
  return { lego: paths[0]!, source: fetched ? 'fetched' : 'cache' };
}

// Shell entry: print the lego binary's path.
runAsScript(import.meta.url, 'fetch-lego', async (log) => {
  const b = await findLego({ log });
  return { stdout: b.lego, detail: `lego=${b.lego} (${b.source})` };
});
