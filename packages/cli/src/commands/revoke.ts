/** `akamu-cli revoke`: revoke a certificate with the account key or the certificate's own key. */
import { UsageError, splitPemCertificates } from 'akamu-client';
import { login } from '../account-session.js';
import type { RevokeOptions } from '../program.js';
import type { RevokeResult } from '../results.js';
import type { Runtime } from '../runtime.js';
import { connect } from '../server.js';
import { requireKeyFile } from '../files/keys.js';
import { CHAIN_FILE_LIMIT, describeFsError, readInputText } from '../files/read-input.js';

const REASON_TEXT = 'valid values: 0–6, 8–10';

export function parseReason(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`invalid reason code ${value}; ${REASON_TEXT}`);
  const n = Number(value.trim());
  if (n === 7 || n > 10) throw new UsageError(`invalid reason code ${n}; ${REASON_TEXT}`);
  return n;
}

export async function revoke(opts: RevokeOptions, rt: Runtime): Promise<RevokeResult> {
  const reason = parseReason(opts.reason);
  let text: string;
  try {
    text = await readInputText(opts.cert, CHAIN_FILE_LIMIT);
  } catch (err) {
    throw new UsageError(`cannot read --cert ${opts.cert}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
  const leaf = splitPemCertificates(text)[0];
  if (!leaf) throw new UsageError(`no certificate found in ${opts.cert}`);

  if (opts.certKey !== undefined) {
    const certKey = await requireKeyFile(opts.certKey, 'certificate key');
    const client = await connect(opts, rt);
    await client.revoke(leaf, { reason, certKey });
  } else {
    if (opts.accountKey === undefined) throw new UsageError('--account-key is required unless --cert-key is given');
    const { client } = await login({ ...opts, accountKey: opts.accountKey }, rt);
    await client.revoke(leaf, { reason });
  }
  return { command: 'revoke', certificatePath: opts.cert, reason, signedWith: opts.certKey !== undefined ? 'certificate-key' : 'account-key' };
}
