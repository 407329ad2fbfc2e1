/**
 * External Account Binding flags (`--eab-kid`, `--eab-key`, `--eab-key-file`, `--eab-alg`,
 * `--gssapi-keytab`) and `AKAMU_EAB_KEY`. The HMAC key is best given in a file or the environment:
 * on the command line it is visible to every local user (ps, /proc/<pid>/cmdline).
 */
import { UsageError, b64uDecode, fetchGssapiEab, type AcmeClient } from 'akamu-client';
import { SMALL_FILE_LIMIT, describeFsError, readInputText } from './files/read-input.js';
import type { Runtime } from './runtime.js';

export type EabAlg = 'HS256' | 'HS384' | 'HS512';

/** The environment variable that may hold the EAB HMAC key (used with --eab-kid). */
export const EAB_KEY_ENV = 'AKAMU_EAB_KEY';

export interface EabFlags {
  eabKid?: string;
  eabKey?: string;
  eabKeyFile?: string;
  eabAlg?: string;
  gssapiKeytab?: string;
}

export interface EabCredentials {
  kid: string;
  hmacKey: Buffer;
  alg: EabAlg;
}

/** Where the HMAC key came from, for the messages. */
interface KeySource {
  text: string;
  name: string;
}

/**
 * The HMAC key's text: `--eab-key`, else the `--eab-key-file` (trimmed), else `AKAMU_EAB_KEY` —
 * the variable only when `--eab-kid` asks for EAB, so a variable set for every job does no harm.
 */
async function keySource(flags: EabFlags, env: NodeJS.ProcessEnv): Promise<KeySource | undefined> {
  if (flags.eabKey !== undefined && flags.eabKeyFile !== undefined) {
    throw new UsageError('--eab-key and --eab-key-file are mutually exclusive; pass one of them');
  }
  if (flags.eabKey !== undefined) return { text: flags.eabKey, name: '--eab-key' };
  if (flags.eabKeyFile !== undefined) {
    const path = flags.eabKeyFile;
    let text: string;
    try {
      text = await readInputText(path, SMALL_FILE_LIMIT);
    } catch (err) {
      throw new UsageError(`cannot read --eab-key-file ${path}: ${describeFsError(err as NodeJS.ErrnoException)}`);
    }
    return { text, name: `--eab-key-file ${path}` };
  }
  const fromEnv = env[EAB_KEY_ENV];
  if (flags.eabKid !== undefined && fromEnv !== undefined && fromEnv !== '') return { text: fromEnv, name: EAB_KEY_ENV };
  return undefined;
}

/** True when an EAB HMAC key is at hand (a flag, a file, or the variable); nothing is read. */
export function eabKeyGiven(flags: EabFlags, env: NodeJS.ProcessEnv = process.env): boolean {
  return flags.eabKey !== undefined || flags.eabKeyFile !== undefined || (env[EAB_KEY_ENV] ?? '') !== '';
}

/** Validate the EAB flags (and read the key file) before any network call. */
export async function parseEab(flags: EabFlags, env: NodeJS.ProcessEnv = process.env): Promise<EabCredentials | undefined> {
  if (flags.gssapiKeytab !== undefined) {
    if (flags.eabKid !== undefined || flags.eabKey !== undefined || flags.eabKeyFile !== undefined) {
      throw new UsageError('--gssapi-keytab cannot be combined with --eab-kid / --eab-key');
    }
    if (!flags.gssapiKeytab) throw new UsageError('--gssapi-keytab must not be empty');
    // the credentials come from the CA when an account is registered: see gssapiEab()
    return undefined;
  }
  const alg = (flags.eabAlg ?? 'HS256').toUpperCase();
  if (alg !== 'HS256' && alg !== 'HS384' && alg !== 'HS512') {
    throw new UsageError(`unsupported --eab-alg '${flags.eabAlg}'; use HS256, HS384 or HS512`);
  }
  const source = await keySource(flags, env);
  if (flags.eabKid === undefined && source === undefined) return undefined;
  if (flags.eabKid === undefined || source === undefined) throw new UsageError('--eab-kid and --eab-key must both be provided');
  if (!flags.eabKid) throw new UsageError('--eab-kid must not be empty');
  let hmacKey: Buffer;
  try {
    hmacKey = b64uDecode(source.text.trim());
  } catch (err) {
    throw new UsageError(`${source.name} is not base64url without padding: ${(err as Error).message}`);
  }
  if (hmacKey.length === 0) throw new UsageError(`${source.name} must not be empty`);
  return { kid: flags.eabKid, hmacKey, alg };
}

/**
 * GSSAPI-authenticated EAB (`--gssapi-keytab`): authenticates to the CA's `/acme/eab` with the
 * keytab (through the client's transport: `--server-ca`, http+unix), reports the principal, and
 * returns the kid + HMAC key the CA bound to it — or nothing, when the CA issued none.
 */
export async function gssapiEab(client: AcmeClient, keytab: string, rt: Runtime): Promise<EabCredentials | undefined> {
  const deadline = client.deadline;
  const { principal, eab } = await fetchGssapiEab(client.transport, client.directoryUrl, {
    keytab,
    logger: rt.log.child('akamu_client'),
    signal: rt.signal,
    ...(deadline !== undefined ? { budgetMs: Math.max(0, deadline - Date.now()) } : {}),
  });
  rt.emit({ type: 'gssapi-authenticated', principal, eab: eab !== undefined });
  if (eab) rt.log.debug(`GSSAPI EAB: kid ${eab.kid} (${eab.alg}) from the server`);
  return eab;
}
