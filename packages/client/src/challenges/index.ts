export * from './types.js';
export * from './common.js';
export * from './clientHello.js';
export * from './http01.js';
export * from './tlsAlpn01.js';
export * from './dns01.js';
export * from './hook.js';
export * from './manual.js';
