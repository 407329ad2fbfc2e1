import { UsageError } from '../errors.js';

/** Account and certificate key types (decisions.md "Keys and JOSE"). */
export type KeyType =
  | 'ec:P-256'
  | 'ec:P-384'
  | 'ec:P-521'
  | 'rsa:2048'
  | 'rsa:3072'
  | 'rsa:4096'
  | 'ed25519'
  | 'ml-dsa-44'
  | 'ml-dsa-65'
  | 'ml-dsa-87';

export const KEY_TYPES: readonly KeyType[] = Object.freeze([
  'ec:P-256',
  'ec:P-384',
  'ec:P-521',
  'rsa:2048',
  'rsa:3072',
  'rsa:4096',
  'ed25519',
  'ml-dsa-44',
  'ml-dsa-65',
  'ml-dsa-87',
] as const);

export const DEFAULT_KEY_TYPE: KeyType = 'ec:P-256';

const ALIASES: Readonly<Record<string, KeyType>> = {
  'P-256': 'ec:P-256',
  'P-384': 'ec:P-384',
  'P-521': 'ec:P-521',
  rsa2048: 'rsa:2048',
  rsa3072: 'rsa:3072',
  rsa4096: 'rsa:4096',
  'ML-DSA-44': 'ml-dsa-44',
  'ML-DSA-65': 'ml-dsa-65',
  'ML-DSA-87': 'ml-dsa-87',
};

/** Parses a key type string or one of its aliases; UsageError listing the valid types otherwise. */
export function parseKeyType(s: string): KeyType {
  if ((KEY_TYPES as readonly string[]).includes(s)) return s as KeyType;
  const alias = Object.prototype.hasOwnProperty.call(ALIASES, s) ? ALIASES[s] : undefined;
  if (alias) return alias;
  throw new UsageError(`unknown key type '${s}'; valid: ${KEY_TYPES.join(', ')}`);
}

/** True for the ML-DSA family (not supported by this version). */
export function isMlDsa(t: KeyType): boolean {
  return t.startsWith('ml-dsa-');
}

/** The EC curve name node:crypto uses for an `ec:` key type. */
export function namedCurveOf(t: KeyType): 'prime256v1' | 'secp384r1' | 'secp521r1' | undefined {
  switch (t) {
    case 'ec:P-256':
      return 'prime256v1';
    case 'ec:P-384':
      return 'secp384r1';
    case 'ec:P-521':
      return 'secp521r1';
    default:
      return undefined;
  }
}

/** RSA modulus size for an `rsa:` key type. */
export function rsaBitsOf(t: KeyType): number | undefined {
  const m = /^rsa:(\d+)$/.exec(t);
  return m ? Number(m[1]) : undefined;
}
