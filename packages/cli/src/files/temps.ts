/**
 * Temporary files of the atomic writer: `.<name>.<hex>.tmp` beside the file they will replace, where
 * `<hex>` is the writing process's pid (8 hex digits) and 8 random ones. A crash leaves one behind;
 * the next run that writes the same file removes it.
 */
import { randomBytes } from 'node:crypto';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Temporary files this process has created and not yet renamed or removed. */
const ours = new Set<string>();

/** A fresh temporary name for `file` (in its directory), marked as this process's own. */
export function newTempPath(file: string): string {
  const pid = (process.pid >>> 0).toString(16).padStart(8, '0');
  const path = join(dirname(file), `.${basename(file)}.${pid}${randomBytes(4).toString('hex')}.tmp`);
  ours.add(path);
  return path;
}

/** The temporary file is gone (renamed into place or removed). */
export function tempDone(path: string): void {
  ours.delete(path);
}

/** Is `name` (a file name) a temporary file of `file`? */
export function isTempOf(file: string, name: string): boolean {
  const base = `.${basename(file)}.`;
  return name.startsWith(base) && /^(?:[0-9a-f]{12}|[0-9a-f]{16})\.tmp$/.test(name.slice(base.length));
}

/** Files older than this with no pid in their name (written by earlier versions) count as stale. */
const LEGACY_STALE_MS = 3600_000;

/**
 * Remove temporary files left beside `file` by crashed runs. With `all` (the caller holds the lock
 * on `file`, so nobody else can be writing it) every one not this process's own goes; otherwise
 * only those whose writing process is gone. Returns the paths removed.
 */
export async function removeStaleTemps(file: string, opts: { all?: boolean } = {}): Promise<string[]> {
  const dir = dirname(file);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!isTempOf(file, name)) continue;
    const path = join(dir, name);
    if (ours.has(path)) continue;
    try {
      const st = await lstat(path);
      if (!st.isFile()) continue;
      if (!opts.all && !(await isStale(name, st.mtimeMs))) continue;
      await unlink(path);
      removed.push(path);
    } catch {
      // gone meanwhile, or not ours to remove: leave it
    }
  }
  return removed;
}

async function isStale(name: string, mtimeMs: number): Promise<boolean> {
  const hex = name.slice(name.lastIndexOf('.', name.length - 5) + 1, -4);
  if (hex.length !== 16) return Date.now() - mtimeMs > LEGACY_STALE_MS;
  const pid = parseInt(hex.slice(0, 8), 16);
  return pid === process.pid || !processAlive(pid);
}

/** Does a process with this pid exist (possibly another user's)? */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
