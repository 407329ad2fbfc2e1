// Locate (or fetch) Pebble 2.10 and pebble-challtestsrv for the tests.
//
// Order of preference:
//   1. PEBBLE_BIN (path to pebble); challtestsrv from PEBBLE_CHALLTESTSRV_BIN or beside PEBBLE_BIN.
//   2. <repo>/.cache/pebble/usr/bin/{pebble,pebble-challtestsrv} (fetched earlier).
//   3. `pebble` on PATH, unless it is Debian 12's own (too old) pebble package.
//   4. Fetch the `pebble` package from Debian's sid suite into the cache, using a private apt
//      sources list (the system's apt configuration is never changed). The mirror URI is read
//      from the system's apt configuration at run time.
//
// Shell use: `node packages/testkit/dist/fetch-pebble.js` prints the directory holding both
// binaries (exit 1 with an explanation on failure).

import { execFile } from 'node:child_process';
import { constants as fsc, existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PebbleBinaries {
  pebble: string;
  challtestsrv: string;
  /** Where they came from. */
  source: 'env' | 'cache' | 'path' | 'fetched';
}

/** Repository root (this file lives in packages/testkit/{src,dist}/). */
export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url));

/** Minimum Pebble version that has ARI and profiles. */
const MIN_VERSION: [number, number] = [2, 5];

function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}):
  Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        let code = 0;
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: unknown };
          code = typeof e.code === 'number' ? e.code : 127;
          if (typeof e.code === 'string') stderr = `${stderr}${stderr ? '\n' : ''}${err.message}`;
        }
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
  });
}

function isExecutable(p: string): boolean {
  try {
    const st = statSync(p);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function whichSync(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function versionTooOld(v: string): boolean {
  // Debian versions look like "2.4.0-3" or "2.10.0-1"; an epoch "1:" may precede.
  const m = /^(?:\d+:)?(\d+)\.(\d+)/.exec(v.trim());
  if (!m) return false;
  const major = Number(m[1]), minor = Number(m[2]);
  return major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1]);
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

function cacheDir(root: string): string {
  return path.join(root, '.cache', 'pebble');
}

function cachedBinaries(root: string): PebbleBinaries | undefined {
  const bin = path.join(cacheDir(root), 'usr', 'bin');
  const pebble = path.join(bin, 'pebble');
  const challtestsrv = path.join(bin, 'pebble-challtestsrv');
  if (isExecutable(pebble) && isExecutable(challtestsrv)) return { pebble, challtestsrv, source: 'cache' };
  return undefined;
}

/**
 * The mirror URI of the system's main (non-security) Debian archive, read from
 * /etc/apt/sources.list.d/*.sources (deb822) or /etc/apt/sources.list (one-line format).
 */
export function systemMirrorUri(): string {
  const candidates: string[] = [];
  const d = '/etc/apt/sources.list.d';
  const files: string[] = [];
  try {
    for (const f of readdirSync(d)) if (f.endsWith('.sources')) files.push(path.join(d, f));
  } catch { /* no such dir */ }
  files.sort((a, b) => (path.basename(a) === 'debian.sources' ? -1 : path.basename(b) === 'debian.sources' ? 1 : a.localeCompare(b)));
  for (const f of files) {
    let text: string;
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    for (const stanza of text.split(/\n\s*\n/)) {
      const fields = new Map<string, string>();
      for (const line of stanza.split('\n')) {
        if (/^\s*#/.test(line)) continue;
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
      }
      const types = (fields.get('types') ?? '').split(/\s+/);
      if (!types.includes('deb')) continue;
      if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
      const suites = (fields.get('suites') ?? '').split(/\s+/).filter(Boolean);
      if (suites.length === 0 || suites.every((s) => /-security$|\/updates$/.test(s))) continue;
      for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) {
        if (!/security/.test(uri)) candidates.push(uri);
      }
    }
  }
  const listFiles = ['/etc/apt/sources.list'];
  try {
    for (const f of readdirSync(d)) if (f.endsWith('.list')) listFiles.push(path.join(d, f));
  } catch { /* no such dir */ }
  for (const f of listFiles) {
    let text: string;
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (!m) continue;
      const uri = m[1]!, suite = m[2]!;
      if (/-security$|\/updates$/.test(suite) || /security/.test(uri)) continue;
      candidates.push(uri);
    }
  }
  const uri = candidates.find((u) => /^https?:\/\//.test(u)) ?? candidates[0];
  if (!uri) {
    throw new Error('cannot find a Debian mirror URI in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; '
      + 'set PEBBLE_BIN to a Pebble >= 2.10 binary instead');
  }
  return uri.replace(/\/+$/, '');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Take an exclusive lock file (pid inside); stale locks (dead pid or > 10 min old) are broken. */
async function withLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      const fh = await fs.open(lockPath, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o644);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let stale = false;
      try {
        const [txt, st] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
        const pid = Number(txt.trim());
        if ((Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) || Date.now() - st.mtimeMs > 10 * 60_000) stale = true;
      } catch { /* lock vanished or half-written; loop again */ }
      if (stale) {
        await fs.rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockPath}`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}

/** Download the `pebble` package from Debian sid and extract it to <root>/.cache/pebble. */
async function fetchFromDebianSid(root: string, log: (s: string) => void): Promise<PebbleBinaries> {
  const cache = path.join(root, '.cache');
  await fs.mkdir(cache, { recursive: true });
  return withLock(path.join(cache, 'pebble.lock'), async () => {
    const already = cachedBinaries(root);
    if (already) return already;
    for (const tool of ['apt-get', 'dpkg']) {
      if (!whichSync(tool)) {
        throw new Error(`cannot fetch Pebble: '${tool}' not found (not a Debian system?); set PEBBLE_BIN to a Pebble >= 2.10 binary`);
      }
    }
    const mirror = systemMirrorUri();
    const work = await fs.mkdtemp(path.join(cache, 'pebble-fetch-'));
    try {
      const lists = path.join(work, 'lists');
      const apcache = path.join(work, 'apt-cache');
      await fs.mkdir(path.join(lists, 'partial'), { recursive: true });
      await fs.mkdir(path.join(apcache, 'archives', 'partial'), { recursive: true });
      const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
      const signedBy = existsSync(keyring) ? `[signed-by=${keyring}] ` : '';
      const listFile = path.join(work, 'sid.list');
      await fs.writeFile(listFile, `deb ${signedBy}${mirror} sid main\n`);
      const aptOpts = [
        '-o', `Dir::Etc::SourceList=${listFile}`,
        '-o', 'Dir::Etc::SourceParts=/dev/null',
        '-o', `Dir::State::Lists=${lists}`,
        '-o', `Dir::Cache=${apcache}`,
        '-o', 'Dir::Cache::pkgcache=',
        '-o', 'Dir::Cache::srcpkgcache=',
        '-o', 'Debug::NoLocking=1',
        '-o', 'APT::Sandbox::User=root',
        '-o', 'Acquire::Languages=none',
        '-q',
      ];
      if (process.getuid?.() !== 0) aptOpts.splice(aptOpts.indexOf('APT::Sandbox::User=root') - 1, 2);
      log(`fetching pebble from Debian sid (${mirror})`);
      const upd = await run('apt-get', [...aptOpts, 'update'], { cwd: work, timeoutMs: 600_000 });
      if (upd.code !== 0 || /^(E:|Err:)/m.test(upd.stdout + upd.stderr)) {
        throw new Error(`apt-get update (private sid list) failed (exit ${upd.code}):\n${upd.stdout}${upd.stderr}`);
      }
      const dl = await run('apt-get', [...aptOpts, 'download', 'pebble'], { cwd: work, timeoutMs: 600_000 });
      const debs = (await fs.readdir(work)).filter((f) => /^pebble_.*\.deb$/.test(f));
      if (dl.code !== 0 || debs.length !== 1) {
        throw new Error(`apt-get download pebble failed (exit ${dl.code}):\n${dl.stdout}${dl.stderr}`);
      }
      const extracted = path.join(work, 'root');
      const x = await run('dpkg', ['-x', path.join(work, debs[0]!), extracted]);
      if (x.code !== 0) throw new Error(`dpkg -x ${debs[0]} failed (exit ${x.code}):\n${x.stdout}${x.stderr}`);
      for (const b of ['pebble', 'pebble-challtestsrv']) {
        if (!isExecutable(path.join(extracted, 'usr', 'bin', b))) {
          throw new Error(`${debs[0]} does not contain usr/bin/${b}`);
        }
      }
      await fs.writeFile(path.join(extracted, 'SOURCE'), `${debs[0]}\n`);
      // Atomic publish: a concurrent process without the lock (e.g. another checkout sharing
      // the cache) either sees the full tree or none.
      try {
        await fs.rename(extracted, cacheDir(root));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
        // An incomplete tree without both binaries is replaced.
        if (!cachedBinaries(root)) {
          const old = `${cacheDir(root)}.old-${process.pid}`;
          await fs.rename(cacheDir(root), old);
          await fs.rename(extracted, cacheDir(root));
          await fs.rm(old, { recursive: true, force: true });
        }
      }
      log(`pebble extracted from ${debs[0]} to ${cacheDir(root)}`);
      const got = cachedBinaries(root);
      if (!got) throw new Error(`pebble binaries missing in ${cacheDir(root)} after extraction`);
      return { ...got, source: 'fetched' };
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  });
}

let memo: Promise<PebbleBinaries> | undefined;

/** Find Pebble and challtestsrv; fetch them into the repo cache if needed. Safe to call concurrently. */
export function findPebble(opts: { root?: string; log?: (s: string) => void } = {}): Promise<PebbleBinaries> {
  if (!opts.root && memo) return memo;
  const p = findPebbleUncached(opts.root ?? repoRoot, opts.log ?? (() => {}));
  if (!opts.root) {
    memo = p;
    p.catch(() => { if (memo === p) memo = undefined; });
  }
  return p;
}

async function findPebbleUncached(root: string, log: (s: string) => void): Promise<PebbleBinaries> {
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
  return fetchFromDebianSid(root, log);
}

// CLI entry: print the directory holding the binaries.
function isMain(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  findPebble({ log: (s) => process.stderr.write(`fetch-pebble: ${s}\n`) }).then(
    (b) => {
      process.stderr.write(`fetch-pebble: pebble=${b.pebble} challtestsrv=${b.challtestsrv} (${b.source})\n`);
      process.stdout.write(`${path.dirname(b.pebble)}${os.EOL}`);
    },
    (e: unknown) => {
      process.stderr.write(`fetch-pebble: error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
