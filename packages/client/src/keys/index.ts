export { KEY_TYPES, DEFAULT_KEY_TYPE, isKeyType, type KeyType } from './keyType.js';
export { parseKeyType, keyAlgorithm, keyAlgorithms } from './algorithms.js';
export { PrivateKey } from './privateKey.js';
export type { Jwk, JwsAlgorithm, KeyAlgorithm, KeyImpl, SignatureAlgorithmId } from './algorithm.js';
