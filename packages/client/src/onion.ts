/**
 * v3 onion service names (Tor rend-spec-v3 §6, RFC 9799 §2; standards.md §8.5): the address of an
 * Ed25519 identity key, and which onion service a `.onion` identifier names. RFC 9799 orders them
 * as `dns` identifiers; subdomains (`www.<56>.onion`) and wildcards (`*.<56>.onion`) belong to the
 * service of their last two labels. v2 (16-character) names are never valid (RFC 9799 §2).
 */
import { createHash } from 'node:crypto';
import { UsageError } from './errors.js';
import type { Identifier } from './identifiers.js';
import { base32 } from './jose/base32.js';
import { b64uDecode } from './jose/base64url.js';
import type { PrivateKey } from './keys/privateKey.js';

const VERSION = 0x03;
const CHECKSUM_PREFIX = Buffer.from('.onion checksum');

/**
 * The v3 onion address of an Ed25519 key (the onion service's identity key, or its 32-byte public
 * key): `base32(PUBKEY || SHA3-256(".onion checksum" || PUBKEY || 0x03)[0:2] || 0x03) + ".onion"`.
 */
export function onionAddress(key: PrivateKey | Uint8Array): string {
  let publicKey: Uint8Array;
  if (key instanceof Uint8Array) publicKey = key;
  else if (key.keyType === 'ed25519') publicKey = b64uDecode(key.publicJwk().x ?? '');
  else throw new UsageError(`an onion service key is an Ed25519 key, not ${key.keyType}`);
  if (publicKey.length !== 32) throw new UsageError(`an Ed25519 public key is 32 bytes, not ${publicKey.length}`);
  const version = Buffer.from([VERSION]);
  const checksum = createHash('sha3-256').update(CHECKSUM_PREFIX).update(publicKey).update(version).digest().subarray(0, 2);
  return `${base32(Buffer.concat([publicKey, checksum, version]))}.onion`;
}

/** True for a name under `.onion` (the special-use domain of RFC 7686). */
export function isOnionName(value: string): boolean {
  return value.endsWith('.onion');
}

/** The onion service an onion name belongs to: its last two labels (`*.` and subdomains dropped). */
export function onionServiceOf(value: string): string {
  return value.split('.').slice(-2).join('.');
}

/** The `.onion` identifiers whose service is not `address` (v2 and malformed names among them). */
export function foreignOnionNames(identifiers: readonly Identifier[], address: string): string[] {
  return identifiers.filter((i) => i.type === 'dns' && isOnionName(i.value) && onionServiceOf(i.value) !== address).map((i) => i.value);
}
