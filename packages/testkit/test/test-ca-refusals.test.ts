// The test CA is strict: deliberately broken requests, built by hand with node:crypto, are refused
// with the RFC 8555 problem type that names the fault.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { freePort, startTestCa, type TestCa } from '../src/index.js';
import {
  b64u, buildCsr, ERR, http01Server, httpRequest, makeKey, octetAttribute, RawAcme, type Ident, type Resp, type TestKey,
} from './acme-raw.js';

// standards.md §8.5: the tor-dev 2017 vector.
const ONION_SEED = Buffer.from('33a7e5c16e0308a3e6a0e7f4a621b3caad9ed1acdb3f78369b1377c5e6050278', 'hex');
const ONION = 'pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion';

function problemOf(r: Resp, type: string, status?: number): void {
  assert.equal(r.json?.type, ERR(type), `expected ${type}, got ${r.status} ${r.text}`);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
  if (status !== undefined) assert.equal(r.status, status);
  assert.ok(r.headers['replay-nonce'], 'errors carry a fresh Replay-Nonce');
}

describe('test CA: broken requests are refused with the right problem type', { timeout: 120_000 }, () => {
  let ca: TestCa;
  let acme: RawAcme;
  let key: TestKey;
  let kid: string;
  let http01: Awaited<ReturnType<typeof http01Server>>;

  before(async () => {
    const httpPort = await freePort();
    ca = await startTestCa({ httpPort, dnsServer: false });
    http01 = await http01Server(httpPort);
    acme = await RawAcme.connect(ca.directoryUrl, ca.caPem);
    key = makeKey('ES256');
    kid = (await acme.newAccount(key)).url;
  });
  after(async () => {
    await http01?.close();
    await ca?.stop();
  });

  /** An order for `names` whose http-01 challenges are answered, polled until ready. */
  async function readyOrder(names: string[], k = key, account = kid): Promise<{ url: string; order: any }> {
    const ids = names.map((value) => ({ type: 'dns', value }));
    const { url, order } = await acme.newOrder(k, account, ids);
    for (const authzUrl of order.authorizations) {
      const authz = (await acme.get(k, account, authzUrl)).json;
      const ch = authz.challenges.find((c: any) => c.type === 'http-01');
      http01.set(ch.token, `${ch.token}.${k.thumbprint}`);
      assert.equal((await acme.post(k, ch.url, {}, { kid: account })).status, 200);
    }
    return { url, order: await acme.poll(k, account, url, (o) => o.status === 'ready') };
  }

  it('a bad signature is malformed (and its nonce is not spent)', async () => {
    const nonce = await acme.nonce();
    const r = await acme.post(key, acme.dir.newOrder, { identifiers: [{ type: 'dns', value: 'a.example.com' }] }, {
      kid, nonce, tamper: (j) => {
        const sig = Buffer.from(j.signature!, 'base64url');
        sig[5] ^= 1;
        return { ...j, signature: b64u(sig) };
      },
    });
    problemOf(r, 'malformed', 400);
    assert.match(r.json.detail, /signature/);
    const ok = await acme.post(key, acme.dir.newOrder, { identifiers: [{ type: 'dns', value: 'a.example.com' }] }, { kid, nonce });
    assert.equal(ok.status, 201, ok.text);
  });

  it('a reused nonce is badNonce, with a fresh nonce that then works', async () => {
    const nonce = await acme.nonce();
    assert.equal((await acme.post(key, kid, '', { kid, nonce })).status, 200);
    const r = await acme.post(key, kid, '', { kid, nonce });
    problemOf(r, 'badNonce', 400);
    const fresh = String(r.headers['replay-nonce']);
    assert.notEqual(fresh, nonce);
    assert.equal((await acme.post(key, kid, '', { kid, nonce: fresh })).status, 200);
    problemOf(await acme.post(key, kid, '', { kid, nonce: 'made-up-nonce' }), 'badNonce');
    problemOf(await acme.post(key, kid, '', { kid, omit: ['nonce'] }), 'badNonce');
  });

  it('a wrong url is unauthorized', async () => {
    problemOf(await acme.post(key, kid, '', { kid, url: `${kid}/` }), 'unauthorized', 403);
    problemOf(await acme.post(key, acme.dir.newOrder, { identifiers: [{ type: 'dns', value: 'a.example.com' }] }, { kid, url: acme.dir.newAccount }), 'unauthorized');
  });

  it('an unknown kid is accountDoesNotExist', async () => {
    problemOf(await acme.post(key, acme.dir.newOrder, { identifiers: [{ type: 'dns', value: 'a.example.com' }] }, { kid: `${kid}x` }), 'accountDoesNotExist', 400);
    const other = makeKey('ES256');
    problemOf(await acme.post(other, acme.dir.newAccount, { onlyReturnExisting: true }), 'accountDoesNotExist');
  });

  it('a deactivated account is unauthorized for everything', async () => {
    const k = makeKey('EdDSA');
    const { url } = await acme.newAccount(k);
    const { url: orderUrl } = await acme.newOrder(k, url, [{ type: 'dns', value: 'deact.example.com' }]);
    const r = await acme.post(k, url, { status: 'deactivated' }, { kid: url });
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'deactivated');
    problemOf(await acme.post(k, acme.dir.newOrder, { identifiers: [{ type: 'dns', value: 'x.example.com' }] }, { kid: url }), 'unauthorized', 403);
    problemOf(await acme.post(k, orderUrl, '', { kid: url }), 'unauthorized');
    problemOf(await acme.post(k, acme.dir.newAccount, { termsOfServiceAgreed: true }), 'unauthorized');
  });

  it('a CSR for other names is badCSR, and the order stays ready', async () => {
    const { url, order } = await readyOrder(['csr.example.com']);
    const certKey = makeKey('ES256');
    const wrong = buildCsr(certKey, [{ type: 'dns', value: 'other.example.com' }]);
    const r = await acme.post(key, order.finalize, { csr: b64u(wrong) }, { kid });
    problemOf(r, 'badCSR', 400);
    assert.match(r.json.detail, /other\.example\.com/);
    const extra = buildCsr(certKey, [{ type: 'dns', value: 'csr.example.com' }, { type: 'dns', value: 'more.example.com' }]);
    problemOf(await acme.post(key, order.finalize, { csr: b64u(extra) }, { kid }), 'badCSR');
    const cn = buildCsr(certKey, [{ type: 'dns', value: 'csr.example.com' }], { cn: 'cn.example.com' });
    problemOf(await acme.post(key, order.finalize, { csr: b64u(cn) }, { kid }), 'badCSR');
    const accountKeyCsr = buildCsr(key, [{ type: 'dns', value: 'csr.example.com' }]);
    problemOf(await acme.post(key, order.finalize, { csr: b64u(accountKeyCsr) }, { kid }), 'badCSR');
    const bad = buildCsr(certKey, [{ type: 'dns', value: 'csr.example.com' }]);
    bad[bad.length - 3] ^= 0xff;
    problemOf(await acme.post(key, order.finalize, { csr: b64u(bad) }, { kid }), 'badCSR');
    assert.equal((await acme.get(key, kid, url)).json.status, 'ready');
    const good = await acme.post(key, order.finalize, { csr: b64u(buildCsr(certKey, [{ type: 'dns', value: 'csr.example.com' }])) }, { kid });
    assert.equal(good.status, 200, good.text);
    assert.equal(good.json.status, 'valid');
  });

  it('finalize before ready is orderNotReady', async () => {
    const { order } = await acme.newOrder(key, kid, [{ type: 'dns', value: 'early.example.com' }]);
    const csr = buildCsr(makeKey('ES256'), [{ type: 'dns', value: 'early.example.com' }]);
    problemOf(await acme.post(key, order.finalize, { csr: b64u(csr) }, { kid }), 'orderNotReady', 403);
  });

  async function onionChallenge(name: string): Promise<{ order: any; orderUrl: string; ch: any; authzUrl: string }> {
    const { url, order } = await acme.newOrder(key, kid, [{ type: 'dns', value: name }]);
    const authzUrl = order.authorizations[0];
    const authz = (await acme.get(key, kid, authzUrl)).json;
    assert.deepEqual(authz.challenges.map((c: any) => c.type), ['onion-csr-01']);
    const ch = authz.challenges[0];
    assert.match(ch.nonce, /^[A-Za-z0-9+/]+=*$/);
    assert.equal(ch.authKey.kty, 'OKP');
    return { order, orderUrl: url, ch, authzUrl };
  }

  function onionCsr(k: TestKey, caNonce: Buffer, applicant: Buffer = randomBytes(16)): Buffer {
    return buildCsr(k, [], { attributes: [octetAttribute('2.23.140.41', caNonce), octetAttribute('2.23.140.42', applicant)] });
  }

  it('an onion CSR with a wrong nonce invalidates the challenge (unauthorized)', async () => {
    const { ch, orderUrl } = await onionChallenge(ONION);
    const r = await acme.post(key, ch.url, { csr: b64u(onionCsr(makeKey('EdDSA', ONION_SEED), randomBytes(16))) }, { kid });
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'invalid');
    assert.equal(r.json.error.type, ERR('unauthorized'));
    assert.match(r.json.error.detail, /caSigningNonce/);
    assert.equal((await acme.get(key, kid, orderUrl)).json.status, 'invalid');
  });

  it('an onion CSR signed by the wrong key invalidates the challenge (unauthorized)', async () => {
    const { ch } = await onionChallenge(`www.${ONION}`);
    const r = await acme.post(key, ch.url, { csr: b64u(onionCsr(makeKey('EdDSA'), Buffer.from(ch.nonce, 'base64'))) }, { kid });
    assert.equal(r.json.status, 'invalid');
    assert.equal(r.json.error.type, ERR('unauthorized'));
    assert.match(r.json.error.detail, new RegExp(`not to ${ONION.replace('.', '\\.')}`));
  });

  it('onion CSRs: a short applicantSigningNonce or a non-Ed25519 key is badCSR; the right one passes', async () => {
    const first = await onionChallenge(ONION);
    const nonce = Buffer.from(first.ch.nonce, 'base64');
    const short = await acme.post(key, first.ch.url, { csr: b64u(onionCsr(makeKey('EdDSA', ONION_SEED), nonce, randomBytes(4))) }, { kid });
    assert.equal(short.json.error?.type, ERR('badCSR'));
    const second = await onionChallenge(ONION);
    const ec = await acme.post(key, second.ch.url, { csr: b64u(onionCsr(makeKey('ES256'), Buffer.from(second.ch.nonce, 'base64'))) }, { kid });
    assert.equal(ec.json.error?.type, ERR('badCSR'));
    const third = await onionChallenge(`*.${ONION}`);
    const onionKey = makeKey('EdDSA', ONION_SEED);
    const ok = await acme.post(key, third.ch.url, { csr: b64u(onionCsr(onionKey, Buffer.from(third.ch.nonce, 'base64'))) }, { kid });
    assert.equal(ok.json.status, 'valid', ok.text);
    assert.equal((await acme.get(key, kid, third.orderUrl)).json.status, 'ready');
    // The finalize CSR must use a certificate key, never the hidden-service key.
    const names: Ident[] = [{ type: 'dns', value: `*.${ONION}` }];
    problemOf(await acme.post(key, third.order.finalize, { csr: b64u(buildCsr(onionKey, names)) }, { kid }), 'badCSR');
    const fin = await acme.post(key, third.order.finalize, { csr: b64u(buildCsr(makeKey('EdDSA'), names)) }, { kid });
    assert.equal(fin.json.status, 'valid', fin.text);
  });

  it('JWS shape and algorithm faults', async () => {
    const url = acme.dir.newOrder;
    const payload = { identifiers: [{ type: 'dns', value: 'a.example.com' }] };
    for (const alg of ['none', 'HS256', 'PS256']) {
      const r = await acme.post(key, url, payload, { kid, alg });
      problemOf(r, 'badSignatureAlgorithm');
      assert.ok(r.json.algorithms.includes('ML-DSA-65') && r.json.algorithms.includes('EdDSA'));
    }
    problemOf(await acme.post(key, url, payload, { kid, alg: 'ES384' }), 'badSignatureAlgorithm');
    problemOf(await acme.post(key, url, payload, { kid, header: { jwk: key.jwk } }), 'malformed');
    problemOf(await acme.post(key, url, payload), 'malformed');  // jwk where kid is needed
    problemOf(await acme.post(key, acme.dir.newAccount, { termsOfServiceAgreed: true }, { kid }), 'malformed');
    problemOf(await acme.post(key, url, payload, { kid, tamper: (j) => ({ ...j, header: { x: 1 } }) }), 'malformed');
    problemOf(await acme.post(key, url, payload, { kid, tamper: (j) => ({ ...j, payload: `${j.payload}=` }) }), 'malformed');
    problemOf(await acme.post(key, url, payload, { kid, contentType: 'application/json' }), 'malformed', 415);
    problemOf(await acme.post(key, url, payload, { kid, header: { crit: ['exp'] } }), 'malformed');
    problemOf(await acme.post(key, url, payload, { kid, header: { b64: false } }), 'malformed');
    const withD = await acme.post({ ...key, jwk: { ...key.jwk, d: 'AAAA' } }, acme.dir.newAccount, { termsOfServiceAgreed: true });
    problemOf(withD, 'malformed');
  });

  it('POST-as-GET rules and methods', async () => {
    problemOf(await acme.post(key, kid, {}, { kid, url: `${kid}/orders` }), 'unauthorized');
    const { url } = await acme.newOrder(key, kid, [{ type: 'dns', value: 'get.example.com' }]);
    problemOf(await acme.post(key, url, {}, { kid }), 'malformed');
    const get = await httpRequest(url, { ca: ca.caPem });
    assert.equal(get.status, 405);
    assert.equal(get.json.type, ERR('malformed'));
    assert.equal((await httpRequest(acme.dir.newNonce, { ca: ca.caPem })).status, 204);
    const other = makeKey('ES256');
    const { url: otherKid } = await acme.newAccount(other);
    problemOf(await acme.post(other, url, '', { kid: otherKid }), 'unauthorized');
    problemOf(await acme.post(other, kid, '', { kid: otherKid }), 'unauthorized');
  });

  it('accounts: terms, contacts and key rollover faults', async () => {
    const k = makeKey('ES384');
    problemOf(await acme.post(k, acme.dir.newAccount, { contact: [] }), 'malformed');
    problemOf(await acme.post(k, acme.dir.newAccount, { termsOfServiceAgreed: true, contact: ['tel:+123'] }), 'unsupportedContact');
    problemOf(await acme.post(k, acme.dir.newAccount, { termsOfServiceAgreed: true, contact: ['mailto:a@example.com?subject=x'] }), 'invalidContact');
    const { url } = await acme.newAccount(k);
    const newKey = makeKey('ML-DSA-44');
    const inner = (oldKey: Record<string, string>, account = url, signer = newKey) =>
      acme.jws(signer, acme.dir.keyChange, { account, oldKey }, undefined);
    problemOf(await acme.post(k, acme.dir.keyChange, inner(makeKey('ES384').jwk), { kid: url }), 'malformed');
    problemOf(await acme.post(k, acme.dir.keyChange, inner(k.jwk, kid), { kid: url }), 'malformed');
    const forged = inner(k.jwk);
    forged.signature = b64u(Buffer.from(forged.signature!, 'base64url').reverse());
    problemOf(await acme.post(k, acme.dir.keyChange, forged, { kid: url }), 'malformed');
    const taken = await acme.post(k, acme.dir.keyChange, acme.jws(key, acme.dir.keyChange, { account: url, oldKey: k.jwk }, undefined), { kid: url });
    assert.equal(taken.status, 409);
    assert.equal(taken.headers.location, kid);
  });

  it('orders: identifiers, profiles, notBefore, and revocation faults', async () => {
    const order = (identifiers: Ident[], extra = {}) => acme.post(key, acme.dir.newOrder, { identifiers, ...extra }, { kid });
    const upper = await order([{ type: 'dns', value: 'Upper.example.com' }, { type: 'dns', value: 'ok.example.com' }]);
    problemOf(upper, 'rejectedIdentifier');
    assert.deepEqual(upper.json.subproblems.map((s: any) => s.identifier.value), ['Upper.example.com']);
    problemOf(await order([{ type: 'dns', value: `${ONION.slice(0, 10)}a${ONION.slice(11)}` }]), 'rejectedIdentifier');
    problemOf(await order([{ type: 'dns', value: '127.0.0.1' }]), 'rejectedIdentifier');
    problemOf(await order([{ type: 'ip', value: '2001:DB8::1' }]), 'rejectedIdentifier');
    problemOf(await order([{ type: 'email', value: 'a@example.com' }]), 'unsupportedIdentifier');
    problemOf(await order([]), 'malformed');
    problemOf(await order([{ type: 'dns', value: 'a.example.com' }], { profile: 'nope' }), 'invalidProfile');
    problemOf(await order([{ type: 'dns', value: 'a.example.com' }], { notAfter: new Date().toISOString() }), 'malformed');
    // Revocation: reason 7, a stranger's key, twice.
    const { order: ready } = await readyOrder(['revoke.example.com']);
    const certKey = makeKey('ES256');
    const fin = await acme.post(key, ready.finalize, { csr: b64u(buildCsr(certKey, [{ type: 'dns', value: 'revoke.example.com' }])) }, { kid });
    const pem = (await acme.post(key, fin.json.certificate, '', { kid })).text;
    const der = Buffer.from(pem.split('-----END CERTIFICATE-----')[0]!.replace(/-----BEGIN CERTIFICATE-----|\s/g, ''), 'base64');
    problemOf(await acme.post(key, acme.dir.revokeCert, { certificate: b64u(der), reason: 7 }, { kid }), 'badRevocationReason');
    problemOf(await acme.post(makeKey('ES256'), acme.dir.revokeCert, { certificate: b64u(der) }), 'unauthorized');
    const stranger = makeKey('ES256');
    const { url: strangerKid } = await acme.newAccount(stranger);
    problemOf(await acme.post(stranger, acme.dir.revokeCert, { certificate: b64u(der) }, { kid: strangerKid }), 'unauthorized');
    assert.equal((await acme.post(certKey, acme.dir.revokeCert, { certificate: b64u(der), reason: 1 })).status, 200);
    problemOf(await acme.post(key, acme.dir.revokeCert, { certificate: b64u(der) }, { kid }), 'alreadyRevoked');
    problemOf(await acme.post(key, fin.json.certificate, '', { kid, accept: 'application/pkix-cert' }), 'malformed', 406);
  });

  it('http-01 with nothing serving the token fails the challenge (unauthorized), and the order is invalid', async () => {
    const { url, order } = await acme.newOrder(key, kid, [{ type: 'dns', value: 'nothing.example.com' }]);
    const authz = (await acme.get(key, kid, order.authorizations[0])).json;
    const ch = authz.challenges.find((c: any) => c.type === 'http-01');
    await acme.post(key, ch.url, {}, { kid });
    const done = await acme.poll(key, kid, ch.url, (c) => c.status === 'invalid');
    assert.equal(done.error.type, ERR('unauthorized'));
    assert.equal((await acme.get(key, kid, url)).json.status, 'invalid');
    problemOf(await acme.post(key, ch.url, { extra: 1 }, { kid }), 'malformed', 400);
  });
});
