// Certificates: download (RFC 8555 §7.4.2), revocation (§7.6, by the issuing account, an account
// holding authorizations for every name, or the certificate's own key) and ARI (RFC 9773).

import { b64uDecode } from './b64.js';
import {
  accountOf, json, payloadObject, requireEmptyPayload, verifyPost, type CaContext, type CaRequest, type Reply,
} from './context.js';
import { fromSpki } from './keys.js';
import { problem } from './problem.js';
import type { Account, IssuedCert } from './state.js';

/** RFC 5280 CRLReason codes a subscriber may give (7 is unused). */
const REASONS = new Set([0, 1, 2, 3, 4, 5, 6, 8, 9, 10]);

function acceptsPemChain(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').map((a) => a.split(';')[0]!.trim().toLowerCase())
    .some((t) => t === 'application/pem-certificate-chain' || t === '*/*' || t === 'application/*');
}

export function certificateResource(ctx: CaContext, req: CaRequest, id: string): Reply {
  const post = verifyPost(ctx, req, 'kid');
  const cert = ctx.state.certs.get(id);
  if (!cert) throw problem('malformed', `no certificate ${id}`, 404);
  if (cert.accountId !== accountOf(post).id) throw problem('unauthorized', 'that certificate belongs to another account');
  requireEmptyPayload(post);
  if (!acceptsPemChain(req.headers.accept)) {
    throw problem('malformed', `only application/pem-certificate-chain is offered, not ${req.headers.accept}`, 406);
  }
  return { status: 200, text: cert.chainPem, contentType: 'application/pem-certificate-chain' };
}

function holdsAuthzFor(ctx: CaContext, account: Account, cert: IssuedCert): boolean {
  const valid = [...ctx.state.authzs.values()]
    .filter((a) => a.accountId === account.id && ctx.state.refreshAuthz(a).status === 'valid')
    .map((a) => `${a.identifier.type}:${a.wildcard ? '*.' : ''}${a.identifier.value}`);
  return cert.identifiers.every((i) => valid.includes(`${i.type}:${i.value}`));
}

export function revokeCert(ctx: CaContext, req: CaRequest): Reply {
  const post = verifyPost(ctx, req, 'either');
  const body = payloadObject(post);
  const der = b64uDecode(body.certificate, 'certificate');
  const cert = [...ctx.state.certs.values()].find((c) => c.der.equals(der));
  if (!cert) throw problem('malformed', 'this CA did not issue that certificate', 404);
  const reason = body.reason ?? 0;
  if (typeof reason !== 'number' || !REASONS.has(reason)) throw problem('badRevocationReason', `reason ${JSON.stringify(reason)} is not an allowed CRLReason code`);
  if (post.account) {
    if (cert.accountId !== post.account.id && !holdsAuthzFor(ctx, post.account, cert)) {
      throw problem('unauthorized', 'the account neither issued this certificate nor holds authorizations for all its names');
    }
  } else if (post.key.thumbprint !== fromSpki(cert.spki, 'malformed').thumbprint) {
    throw problem('unauthorized', 'the JWS is signed neither by an account nor by the certificate\'s key');
  }
  if (cert.revoked) throw problem('alreadyRevoked', 'the certificate is already revoked');
  cert.revoked = { reason, at: ctx.now() };
  return { status: 200, text: '' };
}

/** RFC 9773 §4.1: certID = b64u(AKI keyIdentifier) "." b64u(serial). */
export function renewalInfo(ctx: CaContext, certId: string): Reply {
  const [aki, serial, ...rest] = certId.split('.');
  if (rest.length > 0 || !aki || !serial) throw problem('malformed', `${certId} is not an ARI certID (two base64url parts)`);
  b64uDecode(aki, 'certID keyIdentifier');
  b64uDecode(serial, 'certID serial');
  const cert = [...ctx.state.certs.values()].find((c) => c.certId === certId);
  if (!cert) throw problem('malformed', `no certificate with certID ${certId}`, 404);
  const now = ctx.now().getTime();
  let window = cert.window;
  if (!window && cert.revoked) window = { start: new Date(now - 2 * 86400_000), end: new Date(now - 86400_000) };
  if (!window) {
    const life = cert.notAfter.getTime() - cert.notBefore.getTime();
    const start = cert.notBefore.getTime() + (life * 2) / 3;
    window = { start: new Date(start), end: new Date(start + life / 6) };
  }
  return json(200, { suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() } },
    { 'retry-after': '21600' });
}
