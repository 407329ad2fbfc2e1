/** Test helper: is a certificate's file set (chain, key, renewal config) consistent, and is anything left over? */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse } from 'smol-toml';
import { PrivateKey, publicKeyMatches, splitPemCertificates } from 'akamu-client';

export interface SetState {
  /** Chain, key and config all present, the key is the leaf's and the config names the key's type. */
  consistent: boolean;
  /** Why it is not. */
  problem?: string;
  /** None of the three files is there (a first issuance rolled back). */
  empty: boolean;
  /** Temporary files, journals, locks and lock breakers beside the files. */
  leftovers: string[];
  /** SHA-256 of chain, key and config (absent: ''). */
  hashes: { chain: string; key: string; config: string };
}

const hash = (p: string): string => (existsSync(p) ? createHash('sha256').update(readFileSync(p)).digest('hex') : '');

/** Leftovers beside `files`: `.x.<hex>.tmp`, `*.commit`, `*.lock`, `*.lock.break`. */
export function leftoversBeside(files: string[]): string[] {
  const dirs = new Set(files.map((f) => dirname(f)));
  const found: string[] = [];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      if (/\.tmp$|\.commit$|\.lock$|\.lock\.break$/.test(name)) found.push(join(d, name));
    }
  }
  return found;
}

export async function setState(out: string, keyPath = `${out}.key.pem`): Promise<SetState> {
  const config = `${out}.renewal.toml`;
  const files = [out, keyPath, config];
  const hashes = { chain: hash(out), key: hash(keyPath), config: hash(config) };
  const leftovers = leftoversBeside(files);
  const present = files.filter((f) => existsSync(f));
  const result = (problem?: string): SetState => ({ consistent: problem === undefined, problem, empty: present.length === 0, leftovers, hashes });
  if (present.length < 3) return result(`missing: ${files.filter((f) => !present.includes(f)).map((f) => basename(f)).join(', ')}`);
  const key = PrivateKey.fromPem(readFileSync(keyPath));
  const leaf = splitPemCertificates(readFileSync(out, 'utf8'))[0];
  if (!leaf || !(await publicKeyMatches(leaf, key))) return result('the key is not the leaf certificate\'s');
  const cfg = parse(readFileSync(config, 'utf8')) as { cert_key_type?: string };
  if (cfg.cert_key_type !== key.keyType) return result(`the config says ${cfg.cert_key_type}, the key is ${key.keyType}`);
  return result();
}
