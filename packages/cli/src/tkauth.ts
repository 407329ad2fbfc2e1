/**
 * tkauth-01 in the CLI: `--tkauth-url`, `--tkauth-keytab` and `--jwtcc` checked before anything is
 * ordered, and the solver that asks the Token Authority for tokens (trusting `--server-ca` for an
 * https:// TA too, as for the ACME server). The keytab is only named to the Kerberos library,
 * never read here, never logged.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HttpTransport, TkAuth01Solver, UsageError, b64uDecode, type Identifier } from 'akamu-client';
import { describeFsError } from './files/read-input.js';
import type { Runtime } from './runtime.js';
import { USER_AGENT, checkServerUrl, readServerCa } from './server.js';

/** The order identifier type of `--jwtcc` (decisions.md; the original's choice, RFC 9118). */
export const JWTCC_TYPE = 'EnhancedJWTClaimConstraints';

export interface TkauthFlags {
  challenge: string;
  tkauthUrl?: string;
  tkauthKeytab?: string;
  jwtcc?: string;
  serverCa?: string;
}

const TKAUTH_FLAGS = [['tkauthUrl', '--tkauth-url'], ['tkauthKeytab', '--tkauth-keytab'], ['jwtcc', '--jwtcc']] as const;

/** `--jwtcc` as the order's identifier: base64url (no padding) of a DER SEQUENCE. */
export function jwtccIdentifier(value: string): Identifier {
  const bad = (why: string): never => {
    throw new UsageError(`--jwtcc: ${why}`);
  };
  if (!/^[A-Za-z0-9_-]+$/.test(value)) bad('not base64url without padding');
  const der = b64uDecode(value);
  if (der.length < 2 || der[0] !== 0x30) bad('not the DER of a JWTClaimConstraints structure (a SEQUENCE)');
  return { type: JWTCC_TYPE, value };
}

/**
 * The order's identifiers for tkauth-01: `--jwtcc` replaces authority-token identifiers given
 * otherwise (a renewal config's); with neither, none yet (the Token Authority names it later).
 */
export function tkauthIdentifiers(jwtcc: string | undefined, identifiers: Identifier[]): Identifier[] {
  if (jwtcc === undefined) return identifiers;
  return [jwtccIdentifier(jwtcc), ...identifiers.filter((i) => i.type === 'dns' || i.type === 'ip')];
}

async function checkKeytab(path: string): Promise<void> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new UsageError(`--tkauth-keytab ${path}: not a regular file`);
    await access(path, constants.R_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read --tkauth-keytab ${path}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
}

/** The tkauth-01 solver, every flag checked (no network); a warning for tkauth flags given with another challenge. */
export async function planTkauth(flags: TkauthFlags, rt: Runtime): Promise<TkAuth01Solver | undefined> {
  if (flags.challenge !== 'tkauth-01') {
    for (const [key, flag] of TKAUTH_FLAGS) if (flags[key] !== undefined) rt.log.warn(`${flag} is only used with --challenge tkauth-01; ignored for ${flags.challenge}`);
    return undefined;
  }
  const { tkauthUrl: url, tkauthKeytab: keytab } = flags;
  if (url === undefined) throw new UsageError('--tkauth-url is required for tkauth-01 challenges');
  if (keytab === undefined) throw new UsageError('--tkauth-keytab is required for tkauth-01 challenges');
  const unix = checkServerUrl(url, '--tkauth-url');
  await checkKeytab(keytab);
  const extraCaPem = flags.serverCa && !unix && url.startsWith('https:') ? await readServerCa(flags.serverCa) : undefined;
  const transport = new HttpTransport({ extraCaPem, userAgent: USER_AGENT, log: rt.log.child('http'), proxyEnv: process.env });
  return new TkAuth01Solver({ url, transport, keytab: resolve(keytab), log: rt.log.child('akamu_client') });
}
