/**
 * akamu-client: the ACME protocol (RFC 8555 and its extensions) as a typed library. It never
 * prints, never exits the process and never writes files: it returns data and throws typed errors.
 *
 * The public API, by purpose. Everything not listed here is internal.
 */

// ---- Errors -------------------------------------------------------------------------------------
export {
  AkamuError, UsageError, KeyFormatError, TransportError, AcmeProblemError, ChallengeError, UnsupportedError, PollTimeoutError,
  type ErrorCode, type ErrorHint, type Problem,
} from './errors.js';
export { AuthorizationFailedError, type AuthorizationFailure } from './acme/errors.js';

// ---- Logging ------------------------------------------------------------------------------------
export { silentLogger, fromPino, type Logger, type LogLevel, type LogFields, type PinoLike } from './log.js';
export { CLIENT_VERSION } from './version.js';

// ---- Keys: one algorithm table, one PrivateKey ------------------------------------------------
export {
  PrivateKey, KEY_TYPES, DEFAULT_KEY_TYPE, parseKeyType, keyAlgorithm,
  type KeyType, type KeyAlgorithm, type KeyImpl, type JwsAlgorithm, type SignatureAlgorithmId, type Jwk,
} from './keys/index.js';

// ---- JOSE and challenge values ------------------------------------------------------------------
export { b64u, b64uDecode } from './jose/base64url.js';
export { thumbprint, rfc9447Fingerprint } from './jose/jwk.js';
export { keyAuthorization, dns01TxtValue } from './jose/challenge.js';
export type { EabAlgorithm } from './jose/jws.js';

// ---- Identifiers --------------------------------------------------------------------------------
export { normalizeIdentifiers, identifierFromName, normalizeDnsName, type Identifier, type IdentifierType } from './identifiers.js';

// ---- X.509: CSRs and certificate facts ----------------------------------------------------------
export { buildCsr, type CsrOptions, type CsrAttribute, type CsrExtension } from './x509/csr.js';
export { certificateFacts, ariCertId, publicKeyMatches, type CertificateFacts } from './x509/facts.js';
export { splitPemCertificates } from './x509/chain.js';

// ---- Transport ----------------------------------------------------------------------------------
export { HttpTransport, type HttpTransportOptions } from './transport/http.js';
export { parseRetryAfter } from './transport/retryAfter.js';
export { unixSocketPath } from './transport/unix.js';
export type { Transport, HttpRequest, HttpResponse, TlsPeerInfo } from './transport/types.js';

// ---- Kerberos: HTTP Negotiate (SPNEGO) from a keytab, GSSAPI-authenticated EAB --------------------
export { negotiateRequest, type NegotiateOptions } from './kerberos/negotiate.js';
export { fetchGssapiEab, type GssapiEabOptions, type GssapiEabResult } from './kerberos/eab.js';

// ---- ACME: client, issuance, renewal ------------------------------------------------------------
export { AcmeClient, type AcmeClientOptions, type NewAccountOptions, type PreferredChain } from './acme/client.js';
export { issueCertificate, type IssueOptions, type IssueResult, type IssueEvents } from './acme/issue.js';
export { renewalDecision, ariDecisionTime, expiryRenewalTime, type RenewalDecision, type RenewalReason, type RenewalInput } from './acme/renewal.js';
export type { RenewalInfo } from './acme/ari.js';
export type {
  Directory, DirectoryMeta, Order, OrderStatus, Authorization, AuthorizationStatus, Challenge, ChallengeStatus, AccountObject, AccountStatus,
} from './acme/types.js';

// ---- Challenges: solvers and DNS publishers -----------------------------------------------------
export type { Solver, ChallengeContext, DnsRecord, DnsPublisher, DnsPropagation } from './challenges/types.js';
export { Http01Solver, type Http01SolverOptions } from './challenges/http01.js';
export { TlsAlpn01Solver, type TlsAlpn01SolverOptions } from './challenges/tlsAlpn01.js';
export { Dns01Solver, type Dns01SolverOptions } from './challenges/dns01.js';
export { DnsAccount01Solver } from './challenges/dnsAccount01.js';
export { DnsPersist01Solver, type DnsPersist01SolverOptions } from './challenges/dnsPersist01.js';
export { OnionCsr01Solver, type OnionCsr01SolverOptions } from './challenges/onionCsr01.js';
export { TkAuth01Solver, type TkAuth01SolverOptions } from './challenges/tkauth01.js';
export { onionAddress } from './onion.js';
export { HookDnsPublisher, type HookDnsPublisherOptions } from './challenges/hook.js';
export { ManualDnsPublisher } from './challenges/manual.js';
export { Rfc2136Publisher, type Rfc2136PublisherOptions } from './dns/rfc2136.js';
export { DnsPropagationCheck, type DnsPropagationCheckOptions } from './dns/propagation.js';
export type { DnsServerAddress } from './dns/exchange.js';
export type { TsigKey, TsigAlgorithm } from './dns/tsig.js';
export { runCommand, type CommandOptions, type CommandOutcome } from './command.js';
