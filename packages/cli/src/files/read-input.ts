/**
 * Reading the operator's input files (keys, sidecars, renewal configs, --server-ca, --cert, the
 * EAB key file, certbot's files) with a bound: anything that is not a regular file (a FIFO, a
 * device, a directory) or is larger than its limit is refused at once, before a byte is read.
 * The file is opened non-blocking (a FIFO never blocks the open) and checked again on the open
 * descriptor, and at most `limit + 1` bytes are ever read, so a file that grows meanwhile (or a
 * /proc file that claims size 0) is still bounded.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

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
  return readInputFileNow(path, limit);
}

/**
 * The reads are synchronous: the files are small and local, and `renew --all` reads four per
 * certificate, where a thread-pool round trip per stat/open/read/close cost more than the reads.
 * The buffer is sized from the descriptor's size (one more byte shows a file that grew).
 */
function readInputFileNow(path: string, limit: number): Buffer {
  // refused before it is even opened: opening some devices has effects of its own
  refuse(statSync(path), limit);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const s = fstatSync(fd);
    refuse(s, limit); // the path may have been swapped since statSync()
    const chunks: Buffer[] = [];
    let total = 0;
    // a /proc file claims size 0: then read in 64 KiB chunks
    let size = Math.min(s.size > 0 ? s.size + 1 : 64 * 1024, limit + 1);
    for (;;) {
      // never from the shared pool: keys are read through here
      const chunk = Buffer.allocUnsafeSlow(Math.min(size, limit + 1 - total));
      const bytesRead = readSync(fd, chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > limit) throw new InputFileError('too-large', `is larger than ${formatLimit(limit)}`);
      size = 64 * 1024;
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
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
