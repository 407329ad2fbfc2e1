/** The account URL sidecar: `<account-key>.account-url`, the URL with no trailing newline. */
import { unlink } from 'node:fs/promises';
import { writeFileAtomic } from './atomic.js';
import { SMALL_FILE_LIMIT, readInputText } from './read-input.js';

export function accountUrlPath(accountKeyPath: string): string {
  return `${accountKeyPath}.account-url`;
}

/** The stored account URL, or undefined when there is no sidecar. Other read errors are thrown. */
export async function readAccountUrl(accountKeyPath: string): Promise<string | undefined> {
  const path = accountUrlPath(accountKeyPath);
  let text: string;
  try {
    text = await readInputText(path, SMALL_FILE_LIMIT);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  const url = text.trim();
  if (!url) throw new Error(`${path} is empty; remove it or restore the account URL`);
  return url;
}

export async function writeAccountUrl(accountKeyPath: string, url: string): Promise<string> {
  const path = accountUrlPath(accountKeyPath);
  await writeFileAtomic(path, url, { mkdir: true });
  return path;
}

export async function removeAccountUrl(accountKeyPath: string): Promise<void> {
  await unlink(accountUrlPath(accountKeyPath));
}
