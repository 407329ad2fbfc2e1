/**
 * Every file akamu writes goes through here: a temporary file in the same directory created with
 * mode 0600, written, fsynced, then renamed over the target, so a crash leaves either the old file
 * or the new one (and a temporary file, which the next write of the same target removes).
 *
 * Modes and owners: a new file is 0600. A replaced file keeps its owner and group (chown when
 * running as root; otherwise the group, where the user may set it). Keys and sidecars are 0600 again
 * after every write, even when the old file had wider permissions; a file written with
 * `mode: 'keep'` (a certificate chain) keeps the mode it had.
 *
 * Links: a target that is a symbolic link owned by root or the running user is followed, and the file
 * it points to is replaced in that file's directory; other links are refused (see links.ts).
 */
import type { Stats } from 'node:fs';
import { open, rename, unlink, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { failpoint } from './failpoint.js';
import { resolveWriteTarget } from './links.js';
import { newTempPath, removeStaleTemps, tempDone } from './temps.js';

export interface PreparedWrite {
  /** Path of the fully written temporary file. */
  readonly tempPath: string;
  /** The path as given. */
  readonly target: string;
  /** The file the rename replaces: `target`, or where its links lead. */
  readonly file: string;
  /** Move the temporary file into place. */
  commit(): Promise<void>;
  /** Remove the temporary file (when the write is abandoned). */
  abort(): Promise<void>;
}

export interface WriteOptions {
  /** Create the target's directory (0700) when it is missing. */
  mkdir?: boolean;
  /** `private` (the default): 0600 always. `keep`: the replaced file's mode, 0600 for a new file. */
  mode?: 'private' | 'keep';
  /** `false`: a symbolic link at the target is replaced itself, never followed (journals, locks). */
  follow?: boolean;
  /** Kill-point names for the crash tests: `<failpoints>-open`, `-written`, `-synced`. */
  failpoints?: string;
}

/** Write `data` to a 0600 temporary file beside `target`, fsynced, without touching `target` yet. */
export async function prepareWrite(target: string, data: string | Uint8Array, opts: WriteOptions = {}): Promise<PreparedWrite> {
  if (opts.mkdir) await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  const { file, existing } = await resolveWriteTarget(target, { follow: opts.follow });
  const dir = dirname(file);
  const tempPath = newTempPath(file);
  const step = (name: string) => opts.failpoints !== undefined && failpoint(`${opts.failpoints}-${name}`);
  let fh: FileHandle;
  try {
    fh = await open(tempPath, 'wx', 0o600);
  } catch (err) {
    tempDone(tempPath);
    throw err;
  }
  try {
    await fh.chmod(0o600); // umask cannot widen it, but be explicit
    step('open');
    await fh.writeFile(data);
    step('written');
    if (existing) await keepOwner(fh, existing);
    await fh.chmod(opts.mode === 'keep' && existing ? existing.mode & 0o777 : 0o600);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tempPath).catch(() => {});
    tempDone(tempPath);
    throw err;
  }
  await fh.close();
  step('synced');
  let done = false;
  return {
    tempPath,
    target,
    file,
    async commit() {
      if (done) return;
      await rename(tempPath, file);
      done = true;
      tempDone(tempPath);
      await syncDir(dir);
    },
    async abort() {
      if (done) return;
      done = true;
      await unlink(tempPath).catch(() => {});
      tempDone(tempPath);
    },
  };
}

/** Give the new file the owner and group of the one it replaces, as far as this user may. */
async function keepOwner(fh: FileHandle, old: Stats): Promise<void> {
  const uid = process.geteuid?.();
  const gid = process.getegid?.();
  if (uid === undefined || gid === undefined) return;
  if (uid === 0) {
    if (old.uid !== uid || old.gid !== gid) await fh.chown(old.uid, old.gid);
  } else if (old.gid !== gid) {
    // an ordinary user may hand the file to a group it belongs to; otherwise it stays the user's
    await fh.chown(uid, old.gid).catch(() => {});
  }
}

/** Atomically write one file (mode 0600 unless `opts.mode` says otherwise). */
export async function writeFileAtomic(target: string, data: string | Uint8Array, opts: WriteOptions = {}): Promise<void> {
  const w = await prepareWrite(target, data, opts);
  try {
    await w.commit();
  } catch (err) {
    await w.abort();
    throw err;
  }
  await removeStaleTemps(w.file);
}

/**
 * Prepare every file first, then move them into place one after another, so that a failure while
 * writing leaves all old files untouched. For files that must change together even across a crash
 * (a certificate's key, chain and renewal config) use set-commit.ts.
 */
export async function writeFilesAtomic(files: { path: string; data: string | Uint8Array }[], opts: WriteOptions = {}): Promise<void> {
  const prepared: PreparedWrite[] = [];
  try {
    for (const f of files) prepared.push(await prepareWrite(f.path, f.data, opts));
    for (const p of prepared) await p.commit();
  } catch (err) {
    for (const p of prepared) await p.abort();
    throw err;
  }
  for (const p of prepared) await removeStaleTemps(p.file);
}

/** fsync a directory, so that renames and removals in it survive a power cut. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // some file systems refuse to fsync directories; the rename itself is still atomic
  }
}
