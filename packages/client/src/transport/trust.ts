/** Trust anchors for the ACME server's TLS certificate, and the peer facts logged at -v/-vv. */
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { TransportError, UsageError } from '../errors.js';
import type { TlsPeerInfo } from './types.js';

/** Subject, issuer, validity, fingerprint and DER of the certificate a TLS socket's peer presented. */
export function peerInfo(socket: tls.TLSSocket): TlsPeerInfo | undefined {
  const cert = socket.getPeerX509Certificate?.();
  if (!cert) return undefined;
  const protocol = socket.getProtocol() ?? undefined;
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    validFrom: cert.validFrom,
    validTo: cert.validTo,
    fingerprint256: cert.fingerprint256,
    der: cert.raw,
    ...(protocol ? { protocol } : {}),
  };
}

interface CaCapableContext {
  addCACert?(pem: string): void;
}

function hasNativeContext(ctx: tls.SecureContext): ctx is tls.SecureContext & { context: CaCapableContext } {
  return 'context' in ctx && typeof ctx.context === 'object' && ctx.context !== null;
}

/**
 * A TLS context trusting the default roots PLUS `extraCaPem`, built once per transport.
 * `ca: [...tls.rootCertificates, extra]` re-parses all ~145 bundled roots (~25 ms) and ignores
 * NODE_EXTRA_CA_CERTS / --use-openssl-ca; adding the extra CA to a default context copies the
 * already-parsed root store instead (~2 ms). The documented form is the fallback.
 */
export function trustContext(extraCaPem: string): tls.SecureContext {
  try {
    if (!extraCaPem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError('no PEM CERTIFICATE block');
    new X509Certificate(extraCaPem);
  } catch (err) {
    throw new UsageError(`the extra CA is not a PEM certificate (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const ctx = tls.createSecureContext();
  if (hasNativeContext(ctx) && typeof ctx.context.addCACert === 'function') {
    try {
      ctx.context.addCACert(extraCaPem);
      return ctx;
    } catch (err) {
      throw new TransportError(`cannot use the extra CA certificate: ${err instanceof Error ? err.message : String(err)}`, '', { cause: err });
    }
  }
  return tls.createSecureContext({ ca: [...tls.rootCertificates, extraCaPem] });
}
