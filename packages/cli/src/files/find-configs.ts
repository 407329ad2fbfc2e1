/**
 * `renew --all DIR`: every `*.renewal.toml` below DIR, in path order. Links to directories are
 * followed once each: a directory already walked (by device and inode) is not walked again, so a
 * link loop ends. Unreadable subdirectories are reported, not fatal.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from 'akamu-client';
import { describeFsError } from './read-input.js';

export const RENEWAL_CONFIG_SUFFIX = '.renewal.toml';

export async function findRenewalConfigs(dir: string, warn: (line: string) => void): Promise<string[]> {
  let top;
  try {
    top = await stat(dir);
  } catch (err) {
    throw new UsageError(`renew --all ${dir}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
  if (!top.isDirectory()) throw new UsageError(`renew --all ${dir}: not a directory`);
  const seen = new Set<string>([`${top.dev}:${top.ino}`]);
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (err) {
      warn(`cannot read the directory ${d} (${describeFsError(err as NodeJS.ErrnoException)}); its certificates are skipped`);
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink() || isDir) {
        const st = await stat(p).catch(() => undefined);
        if (!st) continue; // a dangling link, or gone meanwhile
        isDir = st.isDirectory();
        isFile = st.isFile();
        if (isDir) {
          // walked already (through a link, or a link back up the tree): not again
          const id = `${st.dev}:${st.ino}`;
          if (seen.has(id)) continue;
          seen.add(id);
        }
      }
      if (isDir) await walk(p);
      else if (isFile && e.name.endsWith(RENEWAL_CONFIG_SUFFIX)) found.push(p);
    }
  };
  await walk(dir);
  return found.sort();
}
