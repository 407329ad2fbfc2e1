import { createHash } from 'node:crypto';
import { b64u } from './base64url.js';

/** RFC 8555 §8.1: token "." thumbprint. */
export function keyAuthorization(token: string, thumbprint: string): string {
  return `${token}.${thumbprint}`;
}

/** SHA-256 of a key authorization (the tls-alpn-01 acmeIdentifier value). */
export function keyAuthorizationDigest(keyAuth: string): Buffer {
  return createHash('sha256').update(keyAuth, 'utf8').digest();
}

/** dns-01 TXT record value: b64u(SHA-256(key authorization)). */
export function dns01TxtValue(keyAuth: string): string {
  return b64u(keyAuthorizationDigest(keyAuth));
}
