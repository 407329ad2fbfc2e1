/** External Account Binding flags (`--eab-kid`, `--eab-key`, `--eab-alg`, `--gssapi-keytab`). */
import { UsageError, b64uDecode } from 'akamu-client';

export type EabAlg = 'HS256' | 'HS384' | 'HS512';

export interface EabFlags {
  eabKid?: string;
  eabKey?: string;
  eabAlg?: string;
  gssapiKeytab?: string;
}

export interface EabCredentials {
  kid: string;
  hmacKey: Buffer;
  alg: EabAlg;
}

/** Validate the EAB flags before any network call. */
export function parseEab(flags: EabFlags): EabCredentials | undefined {
  if (flags.gssapiKeytab !== undefined) {
    if (flags.eabKid !== undefined || flags.eabKey !== undefined) {
      throw new UsageError('--gssapi-keytab cannot be combined with --eab-kid / --eab-key');
    }
    throw new UsageError('--gssapi-keytab (GSSAPI-authenticated EAB) is not supported yet; use --eab-kid and --eab-key');
  }
  const alg = (flags.eabAlg ?? 'HS256').toUpperCase();
  if (alg !== 'HS256' && alg !== 'HS384' && alg !== 'HS512') {
    throw new UsageError(`unsupported --eab-alg '${flags.eabAlg}'; use HS256, HS384 or HS512`);
  }
  if (flags.eabKid === undefined && flags.eabKey === undefined) return undefined;
  if (flags.eabKid === undefined || flags.eabKey === undefined) throw new UsageError('--eab-kid and --eab-key must both be provided');
  if (!flags.eabKid) throw new UsageError('--eab-kid must not be empty');
  let hmacKey: Buffer;
  try {
    hmacKey = b64uDecode(flags.eabKey.trim());
  } catch (err) {
    throw new UsageError(`--eab-key is not base64url without padding: ${(err as Error).message}`);
  }
  if (hmacKey.length === 0) throw new UsageError('--eab-key must not be empty');
  return { kid: flags.eabKid, hmacKey, alg };
}
