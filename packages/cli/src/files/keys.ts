/** Reading and creating key files for the CLI. */
import { PrivateKey, KeyFormatError } from 'akamu-client';
import { SMALL_FILE_LIMIT, describeFsError, readInputFile } from './read-input.js';

export { describeFsError };

/** Load a PEM private key; undefined when the file does not exist. */
export async function loadKeyFile(path: string, what: string): Promise<PrivateKey | undefined> {
  let pem: Buffer;
  try {
    pem = await readInputFile(path, SMALL_FILE_LIMIT);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return undefined;
    throw new KeyFormatError(`cannot read ${what} ${path}: ${describeFsError(e)}`);
  }
  try {
    return await PrivateKey.fromPemAsync(pem);
  } catch (err) {
    throw new KeyFormatError(`${what} ${path} is not a usable private key: ${(err as Error).message}`);
  }
}

/** Load a key that must exist. */
export async function requireKeyFile(path: string, what: string): Promise<PrivateKey> {
  const key = await loadKeyFile(path, what);
  if (!key) throw new KeyFormatError(`${what} ${path} does not exist`);
  return key;
}
