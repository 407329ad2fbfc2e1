// Fetch a binary package from Debian's sid suite into <repo>/.cache/<package>/, without touching
// the system's apt configuration, plus the few helpers the fetchers (fetch-pebble, fetch-lego) share.
//
// The fetch writes a private sources list (`deb <mirror> sid main`, mirror URI read from the
// system's apt configuration at run time), runs `apt-get update` / `apt-get download` with
// private state and cache directories, extracts the .deb with `dpkg -x`, and publishes the tree
// with an atomic rename, under a lock file so concurrent tests fetch once.

import { execFile } from 'node:child_process';
import { constants as fsc, existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in packages/testkit/{src,dist}/). */
export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url));

export type Log = (s: string) => void;

export function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}):
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

export function isExecutable(p: string): boolean {
  try {
    const st = statSync(p);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

export function whichSync(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/** True when major.minor is below min (e.g. 2.4 < [2, 5]). */
export function belowVersion(major: number, minor: number, min: readonly [number, number]): boolean {
  return major < min[0] || (major === min[0] && minor < min[1]);
}

/**
 * The mirror URI of the system's main (non-security) Debian archive, read from
 * /etc/apt/sources.list.d/*.sources (deb822) or /etc/apt/sources.list (one-line format).
 * `hint` ends the error message when none is found.
 */
export function systemMirrorUri(hint = 'set PEBBLE_BIN to a Pebble >= 2.10 binary instead'): string {
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
    throw new Error(`cannot find a Debian mirror URI in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; ${hint}`);
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

/** A Debian binary package to fetch from sid. */
export interface SidPackage {
  /** Package name, e.g. 'pebble'; also the name of its cache directory `<root>/.cache/<pkg>`. */
  pkg: string;
  /** Name used in messages, e.g. 'Pebble'. */
  label: string;
  /** Programs the package must contain under usr/bin/. */
  binaries: readonly string[];
  /** What to do instead when fetching is impossible, e.g. 'set PEBBLE_BIN to a Pebble >= 2.10 binary'. */
  hint: string;
}

export function sidCacheDir(root: string, spec: SidPackage): string {
  return path.join(root, '.cache', spec.pkg);
}

/** Paths of spec.binaries (same order) in the cache, when all of them are there. */
export function cachedSidBinaries(root: string, spec: SidPackage): string[] | undefined {
  const bin = path.join(sidCacheDir(root, spec), 'usr', 'bin');
  const paths = spec.binaries.map((b) => path.join(bin, b));
  return paths.every(isExecutable) ? paths : undefined;
}

/**
 * Download spec.pkg from Debian sid and extract it to <root>/.cache/<pkg>. Returns the binaries'
 * paths (spec.binaries order); `fetched` is false when another process fetched them meanwhile.
 */
export async function fetchFromDebianSid(root: string, spec: SidPackage, log: Log):
  Promise<{ paths: string[]; fetched: boolean }> {
  const cache = path.join(root, '.cache');
  const { pkg } = spec;
  const dest = sidCacheDir(root, spec);
  await fs.mkdir(cache, { recursive: true });
  return withLock(path.join(cache, `${pkg}.lock`), async () => {
    const already = cachedSidBinaries(root, spec);
    if (already) return { paths: already, fetched: false };
    for (const tool of ['apt-get', 'dpkg']) {
      if (!whichSync(tool)) {
        throw new Error(`cannot fetch ${spec.label}: '${tool}' not found (not a Debian system?); ${spec.hint}`);
      }
    }
    const mirror = systemMirrorUri(`${spec.hint} instead`);
    const work = await fs.mkdtemp(path.join(cache, `${pkg}-fetch-`));
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
      log(`fetching ${pkg} from Debian sid (${mirror})`);
      const upd = await run('apt-get', [...aptOpts, 'update'], { cwd: work, timeoutMs: 600_000 });
      if (upd.code !== 0 || /^(E:|Err:)/m.test(upd.stdout + upd.stderr)) {
        throw new Error(`apt-get update (private sid list) failed (exit ${upd.code}):\n${upd.stdout}${upd.stderr}`);
      }
      const dl = await run('apt-get', [...aptOpts, 'download', pkg], { cwd: work, timeoutMs: 600_000 });
      const debs = (await fs.readdir(work)).filter((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
      if (dl.code !== 0 || debs.length !== 1) {
        throw new Error(`apt-get download ${pkg} failed (exit ${dl.code}):\n${dl.stdout}${dl.stderr}`);
      }
      const extracted = path.join(work, 'root');
      const x = await run('dpkg', ['-x', path.join(work, debs[0]!), extracted]);
      if (x.code !== 0) throw new Error(`dpkg -x ${debs[0]} failed (exit ${x.code}):\n${x.stdout}${x.stderr}`);
      for (const b of spec.binaries) {
        if (!isExecutable(path.join(extracted, 'usr', 'bin', b))) {
          throw new Error(`${debs[0]} does not contain usr/bin/${b}`);
        }
      }
      await fs.writeFile(path.join(extracted, 'SOURCE'), `${debs[0]}\n`);
      // Atomic publish: a concurrent process without the lock (e.g. another checkout sharing
      // the cache) either sees the full tree or none.
      try {
        await fs.rename(extracted, dest);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
        // An incomplete tree without all binaries is replaced.
        if (!cachedSidBinaries(root, spec)) {
          const old = `${dest}.old-${process.pid}`;
          await fs.rename(dest, old);
          await fs.rename(extracted, dest);
          await fs.rm(old, { recursive: true, force: true });
        }
      }
      log(`${pkg} extracted from ${debs[0]} to ${dest}`);
      const got = cachedSidBinaries(root, spec);
      if (!got) throw new Error(`${pkg} binaries missing in ${dest} after extraction`);
      return { paths: got, fetched: true };
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  });
}

/**
 * Wrap a finder so that calls without `root` share one promise per process (a failure is not
 * remembered); calls with `root` always run afresh.
 */
export function memoizedFinder<T>(find: (root: string, log: Log) => Promise<T>):
  (opts?: { root?: string; log?: Log }) => Promise<T> {
  let memo: Promise<T> | undefined;
  return (opts = {}) => {
    if (!opts.root && memo) return memo;
    const p = find(opts.root ?? repoRoot, opts.log ?? (() => {}));
    if (!opts.root) {
      memo = p;
      p.catch(() => { if (memo === p) memo = undefined; });
    }
    return p;
  };
}

/**
 * Shell entry of a fetcher module: when `moduleUrl` is the script node runs, call `find`, print
 * its `stdout` line (and `detail` on stderr), or print the error and exit 1.
 */
export function runAsScript(moduleUrl: string, name: string,
  find: (log: Log) => Promise<{ stdout: string; detail: string }>): void {
  const arg = process.argv[1];
  if (!arg) return;
  try {
    if (realpathSync(arg) !== realpathSync(fileURLToPath(moduleUrl))) return;
  } catch {
    return;
  }
  find((s) => process.stderr.write(`${name}: ${s}\n`)).then(
    (r) => {
      process.stderr.write(`${name}: ${r.detail}\n`);
      process.stdout.write(`${r.stdout}\n`);
    },
    (e: unknown) => {
      process.stderr.write(`${name}: error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
