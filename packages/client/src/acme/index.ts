export * from './types.js';
export * from './errors.js';
export * from './client.js';
export * from './issue.js';
export * from './ari.js';
