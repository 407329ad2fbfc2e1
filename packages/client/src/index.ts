export * from './errors.js';
export * from './log.js';
export * from './jose/base64url.js';
