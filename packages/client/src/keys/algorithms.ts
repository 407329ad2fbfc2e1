/**
 * THE algorithm table: one descriptor per key type (see `algorithm.ts` for what an entry says).
 * Adding a key type means adding its entry here, plus its tests.
 */
import { UnsupportedError, UsageError } from '../errors.js';
import type { KeyAlgorithm } from './algorithm.js';
import { CLASSICAL_ALGORITHMS } from './classical.js';
import { TOR_ED25519 } from './torEd25519.js';
import { KEY_TYPES, isKeyType, type KeyType } from './keyType.js';
import { ML_DSA_ALGORITHMS } from './mlDsa.js';

const ALGORITHMS: ReadonlyMap<KeyType, KeyAlgorithm> = new Map(
  [...CLASSICAL_ALGORITHMS, ...ML_DSA_ALGORITHMS].map((a) => [a.keyType, a]),
);

const ALIASES: ReadonlyMap<string, KeyType> = new Map(
  [...ALGORITHMS.values()].flatMap((a) => a.aliases.map((s) => [s, a.keyType] as const)),
);

/** Parses a key type name or one of its aliases; UsageError listing the valid names otherwise. */
export function parseKeyType(s: string): KeyType {
  if (isKeyType(s)) return s;
  const alias = ALIASES.get(s);
  if (alias) return alias;
  throw new UsageError(`unknown key type '${s}'; valid: ${KEY_TYPES.join(', ')}`);
}

/** The descriptor of a key type; UnsupportedError for a type this version cannot use. */
export function keyAlgorithm(t: KeyType): KeyAlgorithm {
  const a = ALGORITHMS.get(t);
  if (a) return a;
  throw new UnsupportedError(`key type '${String(t)}' is not supported`);
}

/** Every implemented descriptor, in KEY_TYPES order. */
export function keyAlgorithms(): readonly KeyAlgorithm[] {
  return [...ALGORITHMS.values()];
}

/** Readers of a key type the table has, in a form of their own: Tor's expanded Ed25519 key file. */
export const KEY_FILE_READERS: readonly KeyAlgorithm[] = [TOR_ED25519];
