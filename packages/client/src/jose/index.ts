export * from './base64url.js';
export * from './jwk.js';
export * from './challenge.js';
export * from './jws.js';
