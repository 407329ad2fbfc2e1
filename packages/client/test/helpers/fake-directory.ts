/** A placeholder ACME directory (`https://ca.test/…`) for unit tests that never talk to a CA. */
import type { Directory, DirectoryMeta } from '../../src/acme/types.js';

export function fakeDirectory(meta?: DirectoryMeta): Directory {
  return {
    newNonce: 'https://ca.test/nonce',
    newAccount: 'https://ca.test/acct',
    newOrder: 'https://ca.test/order',
    revokeCert: 'https://ca.test/revoke',
    keyChange: 'https://ca.test/kc',
    ...(meta ? { meta } : {}),
  };
}
