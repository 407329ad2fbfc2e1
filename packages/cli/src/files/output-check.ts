/**
 * Checks on the paths a command will write, made before anything is ordered: an empty path, or one
 * where a directory (or a FIFO, a device…) stands, can never take the file, so a run that would
 * write there is refused at once instead of failing after the CA has issued.
 */
import { stat } from 'node:fs/promises';
import { UsageError } from 'akamu-client';

/** UsageError unless `path` is non-empty and is (or links to) a regular file or nothing yet. */
export async function checkOutputTarget(path: string, what: string): Promise<void> {
  if (path.trim() === '') throw new UsageError(`${what} must not be empty`);
  if (path.endsWith('/')) throw new UsageError(`${what} ${path} names a directory; give a file name`);
  const s = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined; // nothing there yet (or a dangling link): fine
    throw new UsageError(`cannot check ${what} ${path}: ${err.code === 'EACCES' ? 'permission denied' : err.message}`);
  });
  if (s === undefined || s.isFile()) return;
  throw new UsageError(`${what} ${path} ${s.isDirectory() ? 'is a directory; give a file name' : 'is not a regular file'}`);
}
