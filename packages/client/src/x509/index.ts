export { buildCsr, csrCommonName } from './csr.js';
export { tlsAlpnCertificate, acmeIdentifierExtensionDer } from './tlsAlpn.js';
export { splitPemCertificates, checkPemChain } from './chain.js';
export { certificateFacts, certificateDer, ariCertId, publicKeyMatches, type CertificateFacts } from './facts.js';
export { parsePemBlocks, toPem, type PemBlock } from './pem.js';
export { parseIp, formatIp } from './ip.js';
