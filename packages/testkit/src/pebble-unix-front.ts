/**
 * A Unix-socket front for Pebble, so that akamu's http+unix:// transport is proven against a
 * server we did not write.
 *
 * Pebble insists that every JWS `url` is exactly `https://<Host><path>`, so forwarding bytes
 * cannot work. For each signed POST the front
 * - checks that the `url` akamu signed is the http+unix:// URL the request came in on;
 * - verifies akamu's signature (ES256/384/512, RS256, EdDSA; node:crypto, independent of
 *   akamu-client) with the `jwk` in the header, or else with whichever handed key it verifies with;
 * - re-signs the same header (with Pebble's https:// `url` and `kid`) and payload with the same key.
 *   The test hands the front the key FILES, read when a request needs them, so a key the CLI is
 *   about to generate can be named in advance. A key-change's inner JWS is checked and re-signed
 *   the same way (the new key must be handed too). External account binding is not supported:
 *   its inner JWS is an HMAC over the URL.
 * Pebble's URLs in JSON bodies and in `Location`/`Link` headers are rewritten to http+unix:// URLs.
 * Nonces are Pebble's, passed through untouched (Pebble checks them); a refusal carries a fresh one.
 */
import { createPrivateKey, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import type { Pebble } from './pebble.js';
import { tempDir } from './util.js';

export interface PebbleUnixFrontOptions {
  /** PEM files of every key akamu will sign with: account keys, key-change targets, certificate keys (revocation). */
  keyFiles: string[];
  /** Where to listen; default `pebble.sock` in a fresh temporary directory. */
  socketPath?: string;
}

export interface PebbleUnixFront {
  socketPath: string;
  /** `http+unix://<socket>/dir` */
  directoryUrl: string;
  /** Requests the front sent to Pebble so far (each of them one of Pebble's requestCount()). */
  forwarded(): number;
  /** Why each refused request was refused, in order. */
  refusals: string[];
  stop(): Promise<void>;
}

interface Jws { protected: string; payload: string; signature: string }
interface JwsHeader { alg: string; url?: string; kid?: string; jwk?: JsonWebKey; nonce?: string }
interface HandedKey { key: KeyObject; alg: string; spki: Buffer }

/** JWS alg → node:crypto digest (null: the key decides, as for Ed25519). */
const DIGEST: Record<string, string | null> = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', RS256: 'sha256', EdDSA: null };
const CURVE_ALG: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

class Refusal extends Error {
  constructor(readonly type: string, readonly status: number, message: string) {
    super(message);
  }
}

const b64u = (data: string | Buffer): string => Buffer.from(data).toString('base64url');
const text = (b64: string): string => Buffer.from(b64, 'base64url').toString('utf8');
const spkiOf = (key: KeyObject): Buffer => (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' });

function algOf(key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  if (type === 'ec') return CURVE_ALG[key.asymmetricKeyDetails?.namedCurve ?? ''];
  return type === 'rsa' ? 'RS256' : type === 'ed25519' ? 'EdDSA' : undefined;
}

function verifies(alg: string, input: Buffer, signature: Buffer, key: KeyObject): boolean {
  try {
    return verify(DIGEST[alg] ?? null, input, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

function asJws(value: unknown): Jws | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  return typeof v.protected === 'string' && typeof v.payload === 'string' && typeof v.signature === 'string'
    ? { protected: v.protected, payload: v.payload, signature: v.signature }
    : undefined;
}

/** Start the front for `pebble`; every URL it hands out is an http+unix:// URL on its socket. */
export async function startPebbleUnixFront(pebble: Pebble, opts: PebbleUnixFrontOptions): Promise<PebbleUnixFront> {
  const pebbleOrigin = new URL(pebble.directoryUrl).origin;
  const socketPath = opts.socketPath ?? path.join(tempDir('akamu-front-'), 'pebble.sock');
  const unixOrigin = `http+unix://${encodeURIComponent(socketPath)}`;
  const toUnix = (s: string): string => s.split(pebbleOrigin).join(unixOrigin);
  const toPebble = (s: string): string => s.split(unixOrigin).join(pebbleOrigin);
  const agent = new https.Agent({ keepAlive: true, ca: pebble.caPem });
  const newNonceUrl = (JSON.parse((await pebble.httpsGet(pebble.directoryUrl)).body) as { newNonce: string }).newNonce;
  const refusals: string[] = [];
  let forwarded = 0;

  const handedKeys = (): HandedKey[] =>
    opts.keyFiles.filter((f) => existsSync(f)).flatMap((f) => {
      const key = createPrivateKey(readFileSync(f));
      const alg = algOf(key);
      return alg ? [{ key, alg, spki: spkiOf(key) }] : [];
    });

  /** Checks `jws` (signed for `url`, by a handed key) and returns it signed again for Pebble. */
  function resign(jws: Jws, url: string): Jws {
    const header = JSON.parse(text(jws.protected)) as JwsHeader;
    if (header.url !== url) throw new Refusal('unauthorized', 403, `JWS url ${String(header.url)} is not ${url}, the URL this request came in on`);
    if (!(header.alg in DIGEST)) throw new Refusal('badSignatureAlgorithm', 400, `the front cannot verify alg ${header.alg}`);
    const input = Buffer.from(`${jws.protected}.${jws.payload}`);
    const signature = Buffer.from(jws.signature, 'base64url');
    let signer: HandedKey | undefined;
    if (header.jwk) {
      const shown = createPublicKey({ key: header.jwk, format: 'jwk' });
      if (!verifies(header.alg, input, signature, shown)) {
        throw new Refusal('malformed', 400, 'JWS signature does not verify with its jwk');
      }
      const spki = spkiOf(shown);
      signer = handedKeys().find((k) => k.spki.equals(spki) && k.alg === header.alg);
      if (!signer) throw new Refusal('malformed', 400, 'the front was not handed the key in this JWS jwk');
    } else {
      signer = handedKeys().find((k) => k.alg === header.alg && verifies(header.alg, input, signature, k.key));
      if (!signer) throw new Refusal('malformed', 400, `JWS signature (kid ${String(header.kid)}) does not verify with any key handed to the front`);
    }
    let payload = jws.payload;
    if (payload) {
      const body = text(payload);
      let inner: Jws | undefined;
      try {
        inner = asJws(JSON.parse(body));
      } catch { /* not JSON: left alone */ }
      // a key-change carries an inner JWS for the same URL; other payloads only need their URLs mapped
      const mapped = inner ? JSON.stringify(resign(inner, url)) : toPebble(body);
      if (mapped !== body) payload = b64u(mapped);
    }
    const headerOut = { ...header, url: toPebble(url), ...(header.kid ? { kid: toPebble(header.kid) } : {}) };
    const protectedOut = b64u(JSON.stringify(headerOut));
    const sig = sign(DIGEST[header.alg] ?? null, Buffer.from(`${protectedOut}.${payload}`), { key: signer.key, dsaEncoding: 'ieee-p1363' });
    return { protected: protectedOut, payload, signature: b64u(sig) };
  }

  function toPebbleServer(method: string, url: string, contentType: string | undefined, body?: Buffer):
    Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    forwarded++;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'user-agent': 'akamu-testkit-unix-front', ...(contentType ? { 'content-type': contentType } : {}) };
      const r = https.request(url, { method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      r.on('error', reject);
      r.end(body);
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const method = req.method ?? 'GET';
    let out: Buffer | undefined;
    try {
      if (method === 'POST') {
        let jws: Jws | undefined;
        try {
          jws = asJws(JSON.parse(body.toString('utf8')));
        } catch { /* refused below */ }
        if (!jws) throw new Refusal('malformed', 400, 'the body is not a flattened JWS');
        out = Buffer.from(JSON.stringify(resign(jws, `${unixOrigin}${req.url ?? '/'}`)));
      }
    } catch (caught) {
      // a header that is no JSON, a jwk node:crypto cannot import: refused like a bad signature
      const err = caught instanceof Refusal ? caught : new Refusal('malformed', 400, `cannot read the JWS: ${(caught as Error).message}`);
      refusals.push(err.message);
      const nonce = (await toPebbleServer('HEAD', newNonceUrl, undefined)).headers['replay-nonce'];
      const problem = JSON.stringify({ type: `urn:ietf:params:acme:error:${err.type}`, detail: `Pebble unix front: ${err.message}`, status: err.status });
      res.writeHead(err.status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(problem), ...(nonce ? { 'replay-nonce': nonce } : {}) });
      res.end(problem);
      return;
    }
    const answer = await toPebbleServer(method, `${pebbleOrigin}${req.url ?? '/'}`, req.headers['content-type'], out);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined || ['connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(name)) continue;
      headers[name] = name === 'location' || name === 'link' ? (Array.isArray(value) ? value.map(toUnix) : toUnix(value)) : value;
    }
    const json = /json/.test(String(answer.headers['content-type']));
    const bodyOut = json ? Buffer.from(toUnix(answer.body.toString('utf8'))) : answer.body;
    // HEAD: Pebble's length, so that the connection stays reusable
    headers['content-length'] = method === 'HEAD' ? (answer.headers['content-length'] ?? '0') : bodyOut.length;
    res.writeHead(answer.status, headers);
    res.end(method === 'HEAD' ? undefined : bodyOut);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`Pebble unix front: ${err instanceof Error ? err.message : String(err)}`);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    socketPath,
    directoryUrl: `${unixOrigin}${new URL(pebble.directoryUrl).pathname}`,
    forwarded: () => forwarded,
    refusals,
    stop: () => new Promise<void>((resolve) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
