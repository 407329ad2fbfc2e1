/**
 * Reading the operator's input files (keys, sidecars, renewal configs, --server-ca, --cert, the
 * EAB key file, certbot's files) with a bound: anything that is not a regular file (a FIFO, a
 * device, a directory) or is larger than its limit is refused at once, before a byte is read.
 * The file is opened non-blocking (a FIFO never blocks the open) and checked again on the open
 * descriptor, and at most `limit + 1` bytes are ever read, so a file that grows meanwhile (or a
 * /proc file that claims size 0) is still bounded.
 */
import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';

/** Keys, account URL sidecars, renewal configs, EAB key files, certbot JSON and confs. */
export const SMALL_FILE_LIMIT = 1024 * 1024;
/** Certificate chains and CA bundles. */
export const CHAIN_FILE_LIMIT = 16 * 1024 * 1024;

/** An input file refused for what it is (not a regular file) or its size; `message` is the reason. */
export class InputFileError extends Error {
  constructor(readonly code: 'not-regular-file' | 'too-large', reason: string) {
    super(reason);
    this.name = 'InputFileError';
  }
}

function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'is a directory';
  if (s.isFIFO()) return 'is not a regular file (a FIFO)';
  if (s.isCharacterDevice()) return 'is not a regular file (a character device)';
  if (s.isBlockDevice()) return 'is not a regular file (a block device)';
  if (s.isSocket()) return 'is not a regular file (a socket)';
  return 'is not a regular file';
}

function formatLimit(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

function refuse(s: Stats, limit: number): void {
  if (!s.isFile()) throw new InputFileError('not-regular-file', kindOf(s));
  if (s.size > limit) throw new InputFileError('too-large', `is larger than ${formatLimit(limit)}`);
}

/**
 * The whole file, if it is a regular file of at most `limit` bytes. Errors: an InputFileError for
 * a refused file, else the file system's own (ENOENT, EACCES, …), for describeFsError.
 */
export async function readInputFile(path: string, limit: number): Promise<Buffer> {
  // refused before it is even opened: opening some devices has effects of its own
  refuse(await stat(path), limit);
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    refuse(await handle.stat(), limit); // the path may have been swapped since stat()
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limit + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > limit) throw new InputFileError('too-large', `is larger than ${formatLimit(limit)}`);
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

/** readInputFile as UTF-8 text. */
export async function readInputText(path: string, limit: number): Promise<string> {
  return (await readInputFile(path, limit)).toString('utf8');
}

/** A short reason for a failed read, for `cannot read <what> <path>: <reason>`. */
export function describeFsError(e: NodeJS.ErrnoException): string {
  if (e instanceof InputFileError) return e.message;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return e.message;
  }
}
