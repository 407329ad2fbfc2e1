/**
 * TSIG key files in BIND's format, as `tsig-keygen` writes them and `named.conf` includes them:
 *
 *     key "name" {
 *         algorithm hmac-sha256;
 *         secret "base64…";
 *     };
 *
 * Read for `--tsig-key` (one key per file; `#`, `//` and `/* … *\/` comments allowed), and
 * written (0600, atomically) for keys that come from elsewhere, e.g. certbot's dns-rfc2136
 * credentials. The secret never leaves this file's callers except as key material.
 */
import { stat } from 'node:fs/promises';
import { UsageError, type TsigKey, type TsigAlgorithm } from 'akamu-client';
import { writeFileAtomic } from './atomic.js';
import { SMALL_FILE_LIMIT, describeFsError, readInputText } from './read-input.js';

export const TSIG_KEY_ALGORITHMS: readonly TsigAlgorithm[] = ['hmac-sha256', 'hmac-sha512'];

const KEY_BLOCK = /^key\s+(?:"([^"]+)"|([A-Za-z0-9._-]+))\s*\{([^{}]*)\}\s*;?$/;
const STATEMENT = /^(algorithm|secret)\s+(?:"([^"]*)"|(\S+))$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(?:#|\/\/)[^\n]*/g, ' ').trim();
}

/** The key in a BIND key file's text; `source` names the file in the errors (`--tsig-key F`). */
export function parseTsigKeyFile(text: string, source: string): TsigKey {
  const bad = (why: string): never => {
    throw new UsageError(`${source}: ${why}`);
  };
  const block = KEY_BLOCK.exec(stripComments(text));
  if (!block) return bad('not a BIND key file (expected: key "name" { algorithm hmac-sha256; secret "…"; };)');
  const name = block[1] ?? block[2]!;
  const fields = new Map<string, string>();
  for (const raw of block[3]!.split(';').map((s) => s.trim()).filter(Boolean)) {
    const m = STATEMENT.exec(raw);
    if (!m) return bad(`unexpected statement '${raw.split(/\s/)[0]}' in key "${name}"`);
    fields.set(m[1]!, m[2] ?? m[3]!);
  }
  const algorithm = fields.get('algorithm')?.toLowerCase().replace(/\.$/, '');
  if (algorithm === undefined) return bad(`key "${name}" has no algorithm`);
  if (!(TSIG_KEY_ALGORITHMS as readonly string[]).includes(algorithm)) {
    return bad(`unsupported TSIG algorithm '${algorithm}'; use ${TSIG_KEY_ALGORITHMS.join(' or ')}`);
  }
  const secret = fields.get('secret');
  if (secret === undefined) return bad(`key "${name}" has no secret`);
  if (secret === '' || !BASE64.test(secret)) return bad(`the secret of key "${name}" is not base64`);
  return { name, algorithm: algorithm as TsigAlgorithm, secret: Buffer.from(secret, 'base64') };
}

/**
 * Reads `--tsig-key FILE`. A file other local users can read is used, with a warning (as for the
 * other secrets akamu reads, it is the operator's file and their call; BIND's own key files are
 * often group-readable, so only world-readable ones are named).
 */
export async function readTsigKeyFile(path: string, warn: (line: string) => void, flag = '--tsig-key'): Promise<TsigKey> {
  let text: string;
  try {
    text = await readInputText(path, SMALL_FILE_LIMIT);
  } catch (err) {
    throw new UsageError(`cannot read ${flag} ${path}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
  const key = parseTsigKeyFile(text, `${flag} ${path}`);
  const mode = (await stat(path)).mode & 0o777;
  if (mode & 0o004) warn(`${flag} ${path} is readable by every local user (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 it`);
  return key;
}

/** The key as tsig-keygen writes it. */
export function renderTsigKeyFile(key: TsigKey): string {
  return `key "${key.name}" {\n\talgorithm ${key.algorithm};\n\tsecret "${key.secret.toString('base64')}";\n};\n`;
}

/** Writes the key file atomically, mode 0600. */
export async function writeTsigKeyFile(path: string, key: TsigKey): Promise<void> {
  await writeFileAtomic(path, renderTsigKeyFile(key), { mkdir: true });
}
