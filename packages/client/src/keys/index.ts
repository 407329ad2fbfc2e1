export * from './keyType.js';
export * from './privateKey.js';
