// Strict base64url (RFC 7515 §2: no padding, URL alphabet only): anything else is a malformed request.

import { problem } from './problem.js';

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Decode unpadded base64url; padding, the standard alphabet or a dangling character are refused. */
export function b64uDecode(s: unknown, what: string): Buffer {
  if (typeof s !== 'string') throw problem('malformed', `${what} must be a base64url string`);
  if (!B64URL.test(s) || s.length % 4 === 1) throw problem('malformed', `${what} is not unpadded base64url`);
  return Buffer.from(s, 'base64url');
}

export function b64u(b: Uint8Array | string): string {
  return Buffer.from(b).toString('base64url');
}

/** Parse JSON that must be an object (not an array, not null). */
export function jsonObject(bytes: Buffer | string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString());
  } catch {
    throw problem('malformed', `${what} is not valid JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw problem('malformed', `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

export function pem(label: string, der: Uint8Array): string {
  const b = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b}\n-----END ${label}-----\n`;
}
