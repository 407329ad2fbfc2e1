export * from './jose/base64url.js';
