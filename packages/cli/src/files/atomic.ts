/**
 * Every file akamu writes goes through here: a temporary file in the same directory created with
 * mode 0600, written, fsynced, then renamed over the target. The result is 0600 even when it
 * replaced a file with wider permissions, and a crash leaves either the old file or the new one.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

export interface PreparedWrite {
  /** Path of the fully written temporary file. */
  readonly tempPath: string;
  readonly target: string;
  /** Move the temporary file into place. */
  commit(): Promise<void>;
  /** Remove the temporary file (when the write is abandoned). */
  abort(): Promise<void>;
}

/** Write `data` to a 0600 temporary file beside `target`, fsynced, without touching `target` yet. */
export async function prepareWrite(target: string, data: string | Uint8Array, opts: { mkdir?: boolean } = {}): Promise<PreparedWrite> {
  const dir = dirname(target);
  if (opts.mkdir) await mkdir(dir, { recursive: true, mode: 0o700 });
  const tempPath = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tempPath, 'wx', 0o600);
  try {
    await fh.chmod(0o600); // umask cannot widen it, but be explicit
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tempPath).catch(() => {});
    throw err;
  }
  await fh.close();
  let done = false;
  return {
    tempPath,
    target,
    async commit() {
      if (done) return;
      await rename(tempPath, target);
      done = true;
      await syncDir(dir);
    },
    async abort() {
      if (done) return;
      done = true;
      await unlink(tempPath).catch(() => {});
    },
  };
}

/** Atomically write one file (mode 0600). */
export async function writeFileAtomic(target: string, data: string | Uint8Array, opts: { mkdir?: boolean } = {}): Promise<void> {
  const w = await prepareWrite(target, data, opts);
  try {
    await w.commit();
  } catch (err) {
    await w.abort();
    throw err;
  }
}

/**
 * Prepare every file first, then move them into place one after another, so that a failure while
 * writing leaves all old files untouched.
 */
export async function writeFilesAtomic(files: { path: string; data: string | Uint8Array }[], opts: { mkdir?: boolean } = {}): Promise<void> {
  const prepared: PreparedWrite[] = [];
  try {
    for (const f of files) prepared.push(await prepareWrite(f.path, f.data, opts));
    for (const p of prepared) await p.commit();
  } catch (err) {
    for (const p of prepared) await p.abort();
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
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
