export * from './types.js';
export * from './retryAfter.js';
export * from './http.js';
