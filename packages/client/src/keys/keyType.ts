/** Account and certificate key type names (decisions.md "Keys and JOSE"). */
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

/** Every key type name, in the order the reference lists them. */
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

/** The key type used when none is asked for. */
export const DEFAULT_KEY_TYPE: KeyType = 'ec:P-256';

export function isKeyType(s: string): s is KeyType {
  return (KEY_TYPES as readonly string[]).includes(s);
}
