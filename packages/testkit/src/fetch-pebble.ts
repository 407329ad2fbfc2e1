// Locate (or fetch) Pebble 2.10 and pebble-challtestsrv for the tests.
//
// Order of preference:
//   1. PEBBLE_BIN (path to pebble); challtestsrv from PEBBLE_CHALLTESTSRV_BIN or beside PEBBLE_BIN.
//   2. <repo>/.cache/pebble/usr/bin/{pebble,pebble-challtestsrv} (fetched earlier).
//   3. `pebble` on PATH, unless it is Debian 12's own (too old) pebble package.
//   4. Fetch the `pebble` package from Debian's sid suite into the cache, using a private apt
//      sources list (the system's apt configuration is never changed). The mirror URI is read
//      from the system's apt configuration at run time. See debian-sid.ts.
//
// Shell use: `node packages/testkit/dist/fetch-pebble.js` prints the directory holding both
// binaries (exit 1 with an explanation on failure).

import { realpathSync } from 'node:fs';
import * as path from 'node:path';
import {
  belowVersion, cachedSidBinaries, fetchFromDebianSid, isExecutable, memoizedFinder, run, runAsScript,
  whichSync, type Log, type SidPackage,
} from './debian-sid.js';

export { repoRoot, systemMirrorUri } from './debian-sid.js';

export interface PebbleBinaries {
  pebble: string;
  challtestsrv: string;
  /** Where they came from. */
  source: 'env' | 'cache' | 'path' | 'fetched';
}

/** Minimum Pebble version that has ARI and profiles. */
const MIN_VERSION: [number, number] = [2, 5];

const PEBBLE_PACKAGE: SidPackage = {
  pkg: 'pebble',
  label: 'Pebble',
  binaries: ['pebble', 'pebble-challtestsrv'],
  hint: 'set PEBBLE_BIN to a Pebble >= 2.10 binary',
};

function versionTooOld(v: string): boolean {
  // Debian versions look like "2.4.0-3" or "2.10.0-1"; an epoch "1:" may precede.
  const m = /^(?:\d+:)?(\d+)\.(\d+)/.exec(v.trim());
  return m !== null && belowVersion(Number(m[1]), Number(m[2]), MIN_VERSION);
}

/** A pebble found on PATH is accepted unless it is a too-old Debian package (bookworm ships 2.4). */
async function acceptPathPebble(p: string): Promise<boolean> {
  let real = p;
  try { real = realpathSync(p); } catch { /* keep p */ }
  const owner = await run('dpkg-query', ['-S', real], { timeoutMs: 20_000 });
  if (owner.code === 0) {
    const pkg = owner.stdout.split(':')[0]?.trim();
    if (pkg) {
      const ver = await run('dpkg-query', ['-W', '-f=${Version}', pkg], { timeoutMs: 20_000 });
      if (ver.code === 0 && versionTooOld(ver.stdout)) return false;
    }
  }
  // Pebble >= 2.5 understands -version; 2.4 does not.
  const v = await run(p, ['-version'], { timeoutMs: 20_000 });
  const text = `${v.stdout}\n${v.stderr}`;
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (m && versionTooOld(`${m[1]}.${m[2]}`)) return false;
  return v.code === 0 || m !== null;
}

function cachedBinaries(root: string): PebbleBinaries | undefined {
  const got = cachedSidBinaries(root, PEBBLE_PACKAGE);
  return got && { pebble: got[0]!, challtestsrv: got[1]!, source: 'cache' };
}

/** Find Pebble and challtestsrv; fetch them into the repo cache if needed. Safe to call concurrently. */
export const findPebble: (opts?: { root?: string; log?: Log }) => Promise<PebbleBinaries> =
  memoizedFinder(findPebbleUncached);

async function findPebbleUncached(root: string, log: Log): Promise<PebbleBinaries> {
  const env = process.env.PEBBLE_BIN;
  if (env) {
    const pebble = path.resolve(env);
    if (!isExecutable(pebble)) throw new Error(`PEBBLE_BIN=${env} is not an executable file`);
    const ctEnv = process.env.PEBBLE_CHALLTESTSRV_BIN;
    const challtestsrv = ctEnv
      ? path.resolve(ctEnv)
      : [path.join(path.dirname(pebble), 'pebble-challtestsrv'), whichSync('pebble-challtestsrv')]
        .find((p): p is string => !!p && isExecutable(p));
    if (!challtestsrv || !isExecutable(challtestsrv)) {
      throw new Error('pebble-challtestsrv not found beside PEBBLE_BIN; set PEBBLE_CHALLTESTSRV_BIN');
    }
    return { pebble, challtestsrv, source: 'env' };
  }
  const cached = cachedBinaries(root);
  if (cached) return cached;
  const onPath = whichSync('pebble');
  if (onPath) {
    const ct = path.join(path.dirname(onPath), 'pebble-challtestsrv');
    const challtestsrv = isExecutable(ct) ? ct : whichSync('pebble-challtestsrv');
    if (challtestsrv && await acceptPathPebble(onPath)) return { pebble: onPath, challtestsrv, source: 'path' };
    log(`ignoring ${onPath}: too old (need Pebble >= ${MIN_VERSION.join('.')}) or no pebble-challtestsrv`);
  }
  const { paths, fetched } = await fetchFromDebianSid(root, PEBBLE_PACKAGE, log);
  return { pebble: paths[0]!, challtestsrv: paths[1]!, source: fetched ? 'fetched' : 'cache' };
}

// Shell entry: print the directory holding the binaries.
runAsScript(import.meta.url, 'fetch-pebble', async (log) => {
  const b = await findPebble({ log });
  return {
    stdout: path.dirname(b.pebble),
    detail: `pebble=${b.pebble} challtestsrv=${b.challtestsrv} (${b.source})`,
  };
});
