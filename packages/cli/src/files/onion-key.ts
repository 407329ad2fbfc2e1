/**
 * `--onion-key`: the onion service's Ed25519 identity key, as a PKCS#8 PEM or as Tor's own
 * `hs_ed25519_secret_key` (its expanded key, which the library signs with directly). Read
 * bounded like every key file; it is only ever read, never written.
 */
import { PrivateKey, KeyFormatError } from 'akamu-client';
import { SMALL_FILE_LIMIT, describeFsError, readInputFile } from './read-input.js';

export interface OnionKey {
  path: string;
  key: PrivateKey;
}

/** Reads the onion service key; KeyFormatError naming the file when it cannot be read or is not Ed25519. */
export async function loadOnionKey(path: string): Promise<OnionKey> {
  let data: Buffer;
  try {
    data = await readInputFile(path, SMALL_FILE_LIMIT);
  } catch (err) {
    throw new KeyFormatError(`cannot read onion key ${path}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
  let key: PrivateKey;
  try {
    key = await PrivateKey.fromFileContent(data);
  } catch (err) {
    throw new KeyFormatError(`onion key ${path} is not a usable private key: ${(err as Error).message}`);
  }
  if (key.keyType !== 'ed25519') throw new KeyFormatError(`onion key ${path} is a ${key.keyType} key; an onion service key is Ed25519`);
  return { path, key };
}
