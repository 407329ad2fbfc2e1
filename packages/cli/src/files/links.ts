/**
 * Where a write really goes. A target that is a symbolic link owned by root or by the running user,
 * in a directory that is not world-writable, is followed: the file it points to is replaced (in that
 * file's own directory) and the link stays. Any other link is refused, as is a target that exists but
 * is not a regular file. Nothing is written here.
 */
import type { Stats } from 'node:fs';
import { lstat, readlink, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from 'akamu-client';

export interface WriteTarget {
  /** The path as given (made absolute). */
  readonly path: string;
  /** The file to replace: `path`, or where its links lead. */
  readonly file: string;
  /** The file being replaced, when there is one (lstat of `file`, a regular file). */
  readonly existing?: Stats;
}

const MAX_LINKS = 8;

/** Follow `path` through trusted links to the regular file (or free name) to write. */
export async function resolveWriteTarget(path: string, opts: { follow?: boolean } = {}): Promise<WriteTarget> {
  const given = resolve(path);
  let p = given;
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    let st: Stats;
    try {
      st = await lstat(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path: given, file: p };
      throw err;
    }
    if (st.isSymbolicLink()) {
      // a link that is not followed is replaced by the new file (rename never writes through a link)
      if (opts.follow === false) return { path: given, file: p };
      await checkLink(p, st);
      p = resolve(dirname(p), await readlink(p));
      continue;
    }
    if (!st.isFile()) throw new UsageError(`${p} is ${describeType(st)}, not a regular file; refusing to replace it`);
    return { path: given, file: p, existing: st };
  }
  throw new UsageError(`${given}: more than ${MAX_LINKS} symbolic links in a row; refusing to follow them`);
}

async function checkLink(link: string, st: Stats): Promise<void> {
  const uid = process.geteuid?.() ?? 0;
  if (st.uid !== 0 && st.uid !== uid) {
    throw new UsageError(`refusing to follow the symbolic link ${link}: it is owned by uid ${st.uid}, not by root or the running user`);
  }
  const dir = dirname(link);
  if (((await stat(dir)).mode & 0o002) !== 0) {
    throw new UsageError(`refusing to follow the symbolic link ${link}: its directory ${dir} is world-writable`);
  }
}

function describeType(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'a special file';
}
