import { UsageError } from '../errors.js';

/** base64url without padding (RFC 4648 §5, RFC 7515 §2). */
export function b64u(data: Uint8Array | string): string {
  return Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');
}

/** Strict base64url decoding: rejects padding and characters outside the URL-safe alphabet. */
export function b64uDecode(text: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new UsageError('invalid base64url (padding or characters outside A-Z a-z 0-9 - _)');
  if (text.length % 4 === 1) throw new UsageError('invalid base64url length');
  return Buffer.from(text, 'base64url');
}
