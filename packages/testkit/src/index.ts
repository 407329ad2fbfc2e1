// @akamu/testkit — private helpers for akamu's tests, demo and benchmark.
export { findPebble, repoRoot, systemMirrorUri, type PebbleBinaries } from './fetch-pebble.js';
export { findLego, legoVersion, type LegoBinary } from './fetch-lego.js';
export { startPebble, freePort, type Pebble, type PebbleOptions, type PebbleProfile, type CertStatus } from './pebble.js';
export {
  runCli, runProgram, cliBin, tempDir, fileMode, openssl, runOpenssl, OpensslError,
  type RunOptions, type RunResult, type OpensslResult,
} from './util.js';
export { startConnectProxy, type ConnectProxy, type ConnectProxyOptions } from './connect-proxy.js';
export { startDirectoryProxy, type DirectoryProxy } from './directory-proxy.js';
export { startPebbleUnixFront, type PebbleUnixFront, type PebbleUnixFrontOptions } from './pebble-unix-front.js';
export { certbotVersion, certbotBin, certbotTree, withPebble, certbotCommand, runCertbot, certonlyArgs, certbotCertonly, certbotRenew, dnsHookScripts, serveWebroot, CertbotError, type CertbotTree, type CertbotAuth, type CertonlyOptions } from './certbot.js';
export {
  startFaultProxy, seededRandom, ISSUANCE_CLASSES,
  type FaultProxy, type FaultProxyOptions, type FaultRule, type Fault, type RequestClass, type ProxiedRequest,
} from './fault-proxy.js';
export { startTestCa, type TestCa, type TestCaOptions, type CertState } from './test-ca/index.js';
export { startBind, type Bind, type BindKey, type BindOptions, type BindZone } from './bind.js';
export { startKdc, kdcAvailable, kerberosSkip, type Kdc, type KdcOptions } from './kdc.js';
export { acceptNegotiate, type AcceptOptions } from './spnego-acceptor.js';
export { startTokenAuthority, EJCC_CONFIDENCE, EJCC_PRIORITY, type TokenAuthority, type TokenAuthorityOptions, type TokenAuthorityRequest } from './token-authority.js';
