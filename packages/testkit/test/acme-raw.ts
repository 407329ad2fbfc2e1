// A deliberately small, independent ACME wire client for checking the test CA: JWS built here with
// node:crypto (and @noble/post-quantum for ML-DSA), no akamu-client code. Each call can be bent
// (wrong url, reused nonce, broken signature...) to prove the CA refuses it.

import { createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import {
  AlgorithmIdentifier, Attribute, AttributeTypeAndValue, AttributeValue, Extension, Extensions, GeneralName,
  Name, RelativeDistinguishedName, SubjectAlternativeName, SubjectPublicKeyInfo,
} from '@peculiar/asn1-x509';

export type Alg = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'EdDSA' | 'ML-DSA-44' | 'ML-DSA-65' | 'ML-DSA-87';
export const ALL_ALGS: Alg[] = ['ES256', 'ES384', 'ES512', 'RS256', 'EdDSA', 'ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'];

export const b64u = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');

export interface TestKey {
  alg: Alg;
  jwk: Record<string, string>;
  thumbprint: string;
  spki: Buffer;
  /** JWS signature (raw r||s for ECDSA). */
  signJws(data: Buffer): Buffer;
  /** X.509 signature and its AlgorithmIdentifier OID. */
  signX509(data: Buffer): Buffer;
  x509Oid: string;
  /** node:crypto key (classical only), e.g. for openssl-facing PEM. */
  privateKey?: KeyObject;
}

const ML = {
  'ML-DSA-44': { impl: ml_dsa44, oid: '2.16.840.1.101.3.4.3.17' },
  'ML-DSA-65': { impl: ml_dsa65, oid: '2.16.840.1.101.3.4.3.18' },
  'ML-DSA-87': { impl: ml_dsa87, oid: '2.16.840.1.101.3.4.3.19' },
} as const;

function thumb(members: Record<string, string>): string {
  return b64u(createHash('sha256').update(JSON.stringify(members)).digest());
}

/** A fresh key for `alg` (Ed25519 from `ed25519Seed` when given). */
export function makeKey(alg: Alg, ed25519Seed?: Buffer): TestKey {
  if (alg in ML) {
    const m = ML[alg as keyof typeof ML];
    const { publicKey, secretKey } = m.impl.keygen(randomBytes(32));
    const jwk = { alg, kty: 'AKP', pub: b64u(publicKey) };
    const spki = Buffer.from(AsnConvert.serialize(new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({ algorithm: m.oid }), subjectPublicKey: new Uint8Array(publicKey).buffer,
    })));
    const s = (d: Buffer) => Buffer.from(m.impl.sign(d, secretKey));
    return { alg, jwk, thumbprint: thumb(jwk), spki, signJws: s, signX509: s, x509Oid: m.oid };
  }
  const c = alg as Exclude<Alg, keyof typeof ML>;
  const privateKey = classicalKey(c, ed25519Seed);
  const pub = privateKey.export({ format: 'jwk' }) as Record<string, string>;
  const jwk: Record<string, string> = c === 'RS256' ? { e: pub.e!, kty: 'RSA', n: pub.n! }
    : c === 'EdDSA' ? { crv: 'Ed25519', kty: 'OKP', x: pub.x! } : { crv: pub.crv!, kty: 'EC', x: pub.x!, y: pub.y! };
  const hash = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', RS256: 'sha256', EdDSA: null }[c];
  const x509Oid = { ES256: '1.2.840.10045.4.3.2', ES384: '1.2.840.10045.4.3.3', ES512: '1.2.840.10045.4.3.4', RS256: '1.2.840.113549.1.1.11', EdDSA: '1.3.101.112' }[c];
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return {
    alg, jwk, thumbprint: thumb(jwk), spki, privateKey, x509Oid,
    signJws: (d) => sign(hash, d, alg.startsWith('ES') ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey),
    signX509: (d) => sign(hash, d, privateKey),
  };
}

function classicalKey(alg: Exclude<Alg, keyof typeof ML>, ed25519Seed?: Buffer): KeyObject {
  if (alg === 'RS256') return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  if (alg === 'EdDSA') {
    return ed25519Seed
      ? createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), ed25519Seed]), format: 'der', type: 'pkcs8' })
      : generateKeyPairSync('ed25519').privateKey;
  }
  return generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg] }).privateKey;
}

export interface Ident { type: string; value: string }

/** A PKCS#10 CSR for `names` (SAN; CN = `cn` when given), signed with `key`, with extra attributes. */
export function buildCsr(key: TestKey, names: Ident[], opts: { cn?: string; attributes?: Attribute[] } = {}): Buffer {
  const san = new SubjectAlternativeName(names.map((n) => new GeneralName(n.type === 'ip' ? { iPAddress: n.value } : { dNSName: n.value })));
  const attrs = [...(opts.attributes ?? [])];
  if (names.length > 0) {
    const exts = new Extensions([new Extension({ extnID: '2.5.29.17', critical: false, extnValue: new OctetString(AsnConvert.serialize(san)) })]);
    attrs.push(new Attribute({ type: '1.2.840.113549.1.9.14', values: [AsnConvert.serialize(exts)] }));
  }
  const subject = opts.cn ? new Name([new RelativeDistinguishedName([
    new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: opts.cn }) })])]) : new Name([]);
  const info = new CertificationRequestInfo({
    version: 0, subject, subjectPKInfo: AsnConvert.parse(key.spki, SubjectPublicKeyInfo), attributes: new Attributes(attrs),
  });
  const tbs = Buffer.from(AsnConvert.serialize(info));
  const params = key.alg === 'RS256' ? { parameters: null } : {};
  return Buffer.from(AsnConvert.serialize(new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: key.x509Oid, ...params }),
    signature: new Uint8Array(key.signX509(tbs)).buffer,
  })));
}

/** An attribute whose single value is an OCTET STRING (RFC 9799 nonces). */
export function octetAttribute(oid: string, bytes: Buffer): Attribute {
  return new Attribute({ type: oid, values: [AsnConvert.serialize(new OctetString(bytes))] });
}

export interface Resp { status: number; headers: http.IncomingHttpHeaders; text: string; json: any }

/** One HTTP request to an https:// or http+unix:// URL. */
export function httpRequest(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; ca?: string } = {}): Promise<Resp> {
  const m = /^http\+unix:\/\/([^/]+)(\/.*)?$/.exec(url);
  return new Promise((resolve, reject) => {
    const headers = { ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers };
    const done = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    };
    const req = m
      ? http.request({ socketPath: decodeURIComponent(m[1]!), path: m[2] ?? '/', method: opts.method ?? 'GET', headers, agent: false }, done)
      : https.request(url, { method: opts.method ?? 'GET', headers, ca: opts.ca, agent: false }, done);
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface PostOptions {
  kid?: string;
  /** Use this nonce instead of a fresh one. */
  nonce?: string;
  /** Override the header's alg / url, add or remove members. */
  alg?: string;
  url?: string;
  header?: Record<string, unknown>;
  omit?: string[];
  /** Change the finished JWS (e.g. flip a signature byte). */
  tamper?: (jws: Record<string, string>) => Record<string, unknown>;
  contentType?: string;
  accept?: string;
}

/** A raw ACME client against one directory. */
export class RawAcme {
  lastNonce?: string;
  private constructor(readonly dir: Record<string, any>, readonly ca: string | undefined) {}

  static async connect(directoryUrl: string, ca?: string): Promise<RawAcme> {
    const r = await httpRequest(directoryUrl, { ca });
    if (r.status !== 200) throw new Error(`directory: HTTP ${r.status}`);
    return new RawAcme(r.json, ca);
  }

  async nonce(): Promise<string> {
    const r = await httpRequest(this.dir.newNonce, { method: 'HEAD', ca: this.ca });
    return String(r.headers['replay-nonce']);
  }

  /** The flattened JWS for `payload` ('' for POST-as-GET), signed by `key`. */
  jws(key: TestKey, url: string, payload: unknown, nonce: string | undefined, opts: PostOptions = {}): Record<string, string> {
    const header: Record<string, unknown> = { alg: opts.alg ?? key.alg, nonce, url: opts.url ?? url, ...(opts.kid ? { kid: opts.kid } : { jwk: key.jwk }), ...opts.header };
    for (const k of opts.omit ?? []) delete header[k];
    if (nonce === undefined) delete header.nonce;
    const protectedB64 = b64u(JSON.stringify(header));
    const payloadB64 = payload === '' ? '' : b64u(JSON.stringify(payload));
    const signature = b64u(key.signJws(Buffer.from(`${protectedB64}.${payloadB64}`)));
    return { protected: protectedB64, payload: payloadB64, signature };
  }

  async post(key: TestKey, url: string, payload: unknown, opts: PostOptions = {}): Promise<Resp> {
    const nonce = opts.nonce ?? await this.nonce();
    let jws: Record<string, unknown> = this.jws(key, url, payload, nonce, opts);
    if (opts.tamper) jws = opts.tamper(jws as Record<string, string>);
    const r = await httpRequest(url, {
      method: 'POST', ca: this.ca, body: JSON.stringify(jws),
      headers: { 'content-type': opts.contentType ?? 'application/jose+json', ...(opts.accept ? { accept: opts.accept } : {}) },
    });
    this.lastNonce = String(r.headers['replay-nonce']);
    return r;
  }

  async newAccount(key: TestKey, extra: Record<string, unknown> = {}): Promise<{ url: string; resp: Resp }> {
    const resp = await this.post(key, this.dir.newAccount, { termsOfServiceAgreed: true, contact: ['mailto:ops@example.com'], ...extra });
    if (resp.status !== 201 && resp.status !== 200) throw new Error(`newAccount: ${resp.status} ${resp.text}`);
    return { url: String(resp.headers.location), resp };
  }

  async newOrder(key: TestKey, kid: string, identifiers: Ident[], extra: Record<string, unknown> = {}): Promise<{ url: string; order: any }> {
    const r = await this.post(key, this.dir.newOrder, { identifiers, ...extra }, { kid });
    if (r.status !== 201) throw new Error(`newOrder: ${r.status} ${r.text}`);
    return { url: String(r.headers.location), order: r.json };
  }

  async get(key: TestKey, kid: string, url: string): Promise<Resp> {
    return this.post(key, url, '', { kid });
  }

  /** Poll a resource (POST-as-GET) until `done(json)` or 10 s pass. */
  async poll(key: TestKey, kid: string, url: string, done: (j: any) => boolean): Promise<any> {
    for (let i = 0; i < 200; i++) {
      const r = await this.get(key, kid, url);
      if (done(r.json)) return r.json;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`poll ${url}: gave up`);
  }
}

/** EAB JWS (RFC 8555 §7.3.4) binding `key` with an HMAC key id. */
export function eabJws(key: TestKey, url: string, kid: string, macKeyB64u: string, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256'): Record<string, string> {
  const protectedB64 = b64u(JSON.stringify({ alg, kid, url }));
  const payloadB64 = b64u(JSON.stringify(key.jwk));
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  const signature = b64u(createHmac(hash, Buffer.from(macKeyB64u, 'base64url')).update(`${protectedB64}.${payloadB64}`).digest());
  return { protected: protectedB64, payload: payloadB64, signature };
}

/** A tiny http-01 responder: token → key authorization. */
export async function http01Server(port: number): Promise<{ set(token: string, keyAuth: string): void; close(): Promise<void> }> {
  const tokens = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const token = (req.url ?? '').replace('/.well-known/acme-challenge/', '');
    const v = tokens.get(token);
    res.writeHead(v ? 200 : 404, { 'content-type': 'text/plain' }).end(v ?? 'not found');
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    set: (t, k) => tokens.set(t, k),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

export const ERR = (name: string) => `urn:ietf:params:acme:error:${name}`;

/** An ML-DSA key from Node's own crypto (OpenSSL 3.5, Node ≥ 24), or undefined where Node has none. */
export function nativeMlDsaKey(alg: 'ML-DSA-44' | 'ML-DSA-65' | 'ML-DSA-87'): TestKey | undefined {
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  try {
    pair = generateKeyPairSync(alg.toLowerCase() as never) as never;
  } catch {
    return undefined;
  }
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  const info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  const jwk = { alg, kty: 'AKP', pub: b64u(Buffer.from(info.subjectPublicKey)) };
  const s = (d: Buffer) => sign(null, d, pair.privateKey);
  return { alg, jwk, thumbprint: thumb(jwk), spki, signJws: s, signX509: s, x509Oid: ML[alg].oid, privateKey: pair.privateKey };
}
