// The test CA's tkauth-01 (RFC 9447): Token Authority tokens built here by hand (ES256 with
// node:crypto) are accepted only when signed by the trusted TA key, unexpired, with a fresh jti, for
// the authorization's identifier and the requesting account's fingerprint; the finalize CSR must
// request the identifier's extension with exactly its DER, and the certificate carries it.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Attribute, Certificate, Extension, Extensions } from '@peculiar/asn1-x509';
import { EJCC_CONFIDENCE, EJCC_PRIORITY, startTestCa, type TestCa } from '../src/index.js';
import { b64u, buildCsr, ERR, makeKey, RawAcme, type TestKey } from './acme-raw.js';

const EJCC = 'EnhancedJWTClaimConstraints';
const EJCC_OID = '1.3.6.1.5.5.7.1.33';
const TA_URL = 'https://ta.example/token';

const fingerprint = (k: TestKey): string =>
  `SHA256 ${Buffer.from(k.thumbprint, 'base64url').toString('hex').toUpperCase().match(/../g)!.join(':')}`;

/** A compact ES256 JWT signed with `key` (or with the header and signature given). */
function jwt(key: KeyObject, payload: Record<string, unknown>, header: Record<string, unknown> = { typ: 'JWT', alg: 'ES256' }): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${b64u(sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }))}`;
}

/** A CSR requesting `extensions` (OID → DER value) and no names. */
function tokenCsr(k: TestKey, extensions: Record<string, Buffer>): Buffer {
  const exts = new Extensions(Object.entries(extensions).map(([extnID, der]) => new Extension({ extnID, critical: false, extnValue: new OctetString(der) })));
  return buildCsr(k, [], { attributes: [new Attribute({ type: '1.2.840.113549.1.9.14', values: [AsnConvert.serialize(exts)] })] });
}

describe('test CA: tkauth-01 with a trusted Token Authority', { timeout: 120_000 }, () => {
  let ca: TestCa;
  let acme: RawAcme;
  let key: TestKey;
  let kid: string;
  const ta = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  before(async () => {
    ca = await startTestCa({ dnsServer: false, tokenAuthority: { publicKeyPem: ta.publicKey.export({ type: 'spki', format: 'pem' }) as string, url: TA_URL } });
    acme = await RawAcme.connect(ca.directoryUrl, ca.caPem);
    key = makeKey('ES256');
    kid = (await acme.newAccount(key)).url;
  });
  after(async () => ca?.stop());

  /** A fresh order for one EJCC identifier, and its one challenge. */
  async function challenge(value = EJCC_CONFIDENCE): Promise<{ order: any; orderUrl: string; ch: any }> {
    const { url, order } = await acme.newOrder(key, kid, [{ type: EJCC, value }]);
    const authz = (await acme.get(key, kid, order.authorizations[0])).json;
    assert.deepEqual(authz.identifier, { type: EJCC, value });
    assert.deepEqual(authz.challenges.map((c: any) => c.type), ['tkauth-01'], 'tkauth-01 only');
    return { order, orderUrl: url, ch: authz.challenges[0] };
  }

  const claims = (over: Record<string, unknown> = {}, atc: Record<string, unknown> = {}): Record<string, unknown> => ({
    iss: TA_URL, exp: Math.floor(Date.now() / 1000) + 300, jti: randomBytes(9).toString('base64url'),
    atc: { tktype: EJCC, tkvalue: EJCC_CONFIDENCE, fingerprint: fingerprint(key), ca: false, ...atc }, ...over,
  });

  /** Answers a fresh challenge with `token`; returns the challenge after the answer. */
  async function answer(token: unknown): Promise<any> {
    const { ch } = await challenge();
    const r = await acme.post(key, ch.url, { tkauth: token }, { kid });
    assert.equal(r.status, 200, r.text);
    return r.json;
  }

  async function refused(token: string, detail: RegExp): Promise<void> {
    const ch = await answer(token);
    assert.equal(ch.status, 'invalid');
    assert.equal(ch.error.type, ERR('unauthorized'));
    assert.match(ch.error.detail, detail);
  }

  it('offers tkauth-01 (atc, the Token Authority hint) for authority-token identifiers only', async () => {
    const { ch } = await challenge();
    assert.equal(ch['tkauth-type'], 'atc');
    assert.equal(ch['token-authority'], TA_URL);
    assert.match(ch.token, /^[A-Za-z0-9_-]{20,}$/);
    const bad = await acme.post(key, acme.dir.newOrder, { identifiers: [{ type: EJCC, value: 'AAAA' }] }, { kid });
    assert.equal(bad.json.type, ERR('rejectedIdentifier'), bad.text);
  });

  it('refuses tokens: another signer, an alg other than the TA key\'s, expired, no jti, another identifier or type, another account', async () => {
    await refused(jwt(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, claims()), /not signed by the trusted Token Authority/);
    await refused(jwt(ta.privateKey, claims(), { typ: 'JWT', alg: 'ES384' }), /alg "ES384"/);
    await refused(jwt(ta.privateKey, claims({ exp: Math.floor(Date.now() / 1000) - 5 })), /expired/);
    await refused(jwt(ta.privateKey, claims({ jti: undefined })), /no jti/);
    await refused(jwt(ta.privateKey, claims({}, { tkvalue: EJCC_PRIORITY })), /tkvalue is not the identifier value/);
    await refused(jwt(ta.privateKey, claims({}, { tktype: 'TNAuthList' })), /tktype "TNAuthList"/);
    await refused(jwt(ta.privateKey, claims({}, { fingerprint: fingerprint(makeKey('ES256')) })), /another account/);
    const tampered = jwt(ta.privateKey, claims()).split('.');
    tampered[1] = b64u(JSON.stringify(claims({}, { tkvalue: EJCC_CONFIDENCE, fingerprint: fingerprint(key), ca: true })));
    await refused(tampered.join('.'), /not signed/);
    const { ch } = await challenge();
    assert.equal((await acme.post(key, ch.url, { tkauth: 42 }, { kid })).json.type, ERR('malformed'));
    assert.equal((await acme.post(key, ch.url, {}, { kid })).json.type, ERR('malformed'));
  });

  it('a jti is good once; the finalize CSR must request the identifier\'s extension with its DER, which the certificate carries', async () => {
    const token = jwt(ta.privateKey, claims());
    const { ch, order, orderUrl } = await challenge();
    const ok = await acme.post(key, ch.url, { tkauth: token }, { kid });
    assert.equal(ok.json.status, 'valid', ok.text);
    await refused(token, /jti .* was used before/);
    assert.equal((await acme.get(key, kid, orderUrl)).json.status, 'ready');

    const certKey = makeKey('ES256');
    const der = Buffer.from(EJCC_CONFIDENCE, 'base64url');
    const finalize = (csr: Buffer) => acme.post(key, order.finalize, { csr: b64u(csr) }, { kid });
    for (const [csr, why] of [
      [buildCsr(certKey, [{ type: 'dns', value: 'tk.example.com' }]), /does not request the EnhancedJWTClaimConstraints extension/],
      [tokenCsr(certKey, { [EJCC_OID]: Buffer.from(EJCC_PRIORITY, 'base64url') }), /not the DER of the order's identifier/],
      [tokenCsr(certKey, { [EJCC_OID]: der, '1.3.6.1.5.5.7.1.26': Buffer.from('3008a00616043132333434', 'hex') }), /TNAuthList extension .* no identifier for/],
    ] as const) {
      const r = await finalize(csr);
      assert.equal(r.json.type, ERR('badCSR'), r.text);
      assert.match(r.json.detail, why);
    }
    const good = await finalize(tokenCsr(certKey, { [EJCC_OID]: der }));
    assert.equal(good.json.status, 'valid', good.text);
    const pem = (await acme.post(key, good.json.certificate, '', { kid })).text;
    const leaf = AsnConvert.parse(Buffer.from(pem.split('-----END CERTIFICATE-----')[0]!.replace(/-----BEGIN CERTIFICATE-----|\s/g, ''), 'base64'), Certificate);
    const exts = leaf.tbsCertificate.extensions ?? [];
    const ext = exts.find((e) => e.extnID === EJCC_OID);
    assert.ok(ext, 'the EnhancedJWTClaimConstraints extension');
    assert.equal(ext.critical, false);
    assert.deepEqual(Buffer.from(ext.extnValue.buffer), der);
    assert.equal(exts.some((e) => e.extnID === '2.5.29.17'), false, 'no SAN: the certificate names no host');
  });

  it('a CA that trusts no Token Authority does not support authority-token identifiers', async () => {
    const plain = await startTestCa({ dnsServer: false });
    try {
      const raw = await RawAcme.connect(plain.directoryUrl, plain.caPem);
      const k = makeKey('ES256');
      const account = (await raw.newAccount(k)).url;
      const r = await raw.post(k, raw.dir.newOrder, { identifiers: [{ type: EJCC, value: EJCC_CONFIDENCE }] }, { kid: account });
      assert.equal(r.json.type, ERR('unsupportedIdentifier'), r.text);
    } finally {
      await plain.stop();
    }
  });
});
