// The test CA's happy paths, driven by the raw node:crypto client: every JWS algorithm, every
// challenge type, Ed25519 / ML-DSA / RSA certificate keys, EAB, key rollover, ARI and the Unix socket.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityKeyIdentifier, Certificate } from '@peculiar/asn1-x509';
import { freePort, openssl, repoRoot, startTestCa, tempDir, type TestCa } from '../src/index.js';
import {
  ALL_ALGS, b64u, buildCsr, eabJws, ERR, http01Server, httpRequest, makeKey, nativeMlDsaKey, RawAcme, type Alg, type Ident, type TestKey,
} from './acme-raw.js';

function pemToDers(pem: string): Buffer[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1]!.replace(/\s/g, ''), 'base64'));
}

/** RFC 9773 certID, computed here from the certificate (serial octets as encoded). */
function certIdOf(der: Buffer): string {
  const cert = AsnConvert.parse(der, Certificate);
  const akiExt = cert.tbsCertificate.extensions!.find((e) => e.extnID === '2.5.29.35')!;
  const aki = AsnConvert.parse(akiExt.extnValue.buffer, AuthorityKeyIdentifier);
  return `${b64u(Buffer.from(aki.keyIdentifier!.buffer))}.${b64u(Buffer.from(cert.tbsCertificate.serialNumber))}`;
}

/** Order `ids`, solve each authorization with dns-01 through challtestsrv, finalize with `certKey`. */
async function issueDns(ca: TestCa, acme: RawAcme, key: TestKey, kid: string, ids: Ident[], certKey: TestKey): Promise<{ pem: string; orderUrl: string }> {
  const { url, order } = await acme.newOrder(key, kid, ids);
  for (const authzUrl of order.authorizations) {
    const authz = (await acme.get(key, kid, authzUrl)).json;
    const ch = authz.challenges.find((c: any) => c.type === 'dns-01');
    await ca.setTxt(`_acme-challenge.${authz.identifier.value}`, createHash('sha256').update(`${ch.token}.${key.thumbprint}`).digest('base64url'));
    await acme.post(key, ch.url, {}, { kid });
  }
  const ready = await acme.poll(key, kid, url, (o) => o.status !== 'pending');
  assert.equal(ready.status, 'ready', JSON.stringify(ready));
  const fin = await acme.post(key, order.finalize, { csr: b64u(buildCsr(certKey, ids)) }, { kid });
  assert.equal(fin.status, 200, fin.text);
  const valid = await acme.poll(key, kid, url, (o) => o.status === 'valid');
  const cert = await acme.post(key, valid.certificate, '', { kid, accept: 'application/pem-certificate-chain' });
  assert.equal(cert.status, 200);
  assert.equal(cert.headers['content-type'], 'application/pem-certificate-chain');
  return { pem: cert.text, orderUrl: url };
}

describe('test CA: happy paths', { timeout: 180_000 }, () => {
  let ca: TestCa;
  let acme: RawAcme;
  const dir = tempDir('akamu-test-ca-flows-');
  before(async () => {
    ca = await startTestCa();
    acme = await RawAcme.connect(ca.directoryUrl, ca.caPem);
  });
  after(() => ca?.stop());

  it('the directory lists every resource, with ARI, profiles and terms', () => {
    for (const k of ['newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange', 'renewalInfo']) {
      assert.match(acme.dir[k], /^https:\/\/127\.0\.0\.1:\d+\//, k);
    }
    assert.equal(acme.dir.meta.externalAccountRequired, false);
    assert.deepEqual(Object.keys(acme.dir.meta.profiles), ['default', 'shortlived']);
    assert.ok(acme.dir.meta.termsOfService);
  });

  for (const alg of ALL_ALGS) {
    it(`registers and reads an account signed with ${alg}, and refuses a forged ${alg} signature`, async () => {
      const key = makeKey(alg);
      const { url, resp } = await acme.newAccount(key);
      assert.equal(resp.status, 201);
      assert.equal(resp.json.status, 'valid');
      assert.ok(!('onlyReturnExisting' in resp.json));
      const again = await acme.newAccount(key, { onlyReturnExisting: true });
      assert.equal(again.resp.status, 200);
      assert.equal(again.url, url);
      assert.equal((await acme.get(key, url, url)).json.status, 'valid');
      const forged = await acme.post(key, url, '', { kid: url, tamper: (j) => ({ ...j, signature: b64u(Buffer.from(j.signature!, 'base64url').map((b, i) => (i === 10 ? b ^ 0x80 : b))) }) });
      assert.equal(forged.json.type, ERR('malformed'));
    });
  }

  const certKeys: Alg[] = ['EdDSA', 'ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87', 'RS256', 'ES384'];
  for (const certAlg of certKeys) {
    it(`issues a ${certAlg} certificate through dns-01, chained to the root`, async () => {
      const key = makeKey('ES256');
      const { url: kid } = await acme.newAccount(key);
      const certKey = makeKey(certAlg);
      const ids: Ident[] = [{ type: 'dns', value: `${certAlg.toLowerCase()}.example.com` }, { type: 'dns', value: `*.${certAlg.toLowerCase()}.example.com` }];
      const { pem } = await issueDns(ca, acme, key, kid, ids, certKey);
      const ders = pemToDers(pem);
      assert.equal(ders.length, 2, 'leaf + intermediate');
      const leaf = AsnConvert.parse(ders[0]!, Certificate);
      assert.ok(Buffer.from(AsnConvert.serialize(leaf.tbsCertificate.subjectPublicKeyInfo)).equals(certKey.spki), 'the leaf holds the CSR key');
      const chain = path.join(dir, `${certAlg}.pem`);
      writeFileSync(chain, pem);
      if (!certAlg.startsWith('ML-DSA')) {
        // OpenSSL 3.0 cannot parse ML-DSA keys; the classical leaves are checked end to end.
        assert.match(await openssl(['verify', '-CAfile', ca.caPemPath, '-untrusted', chain, chain]), /OK/);
        assert.match(await openssl(['x509', '-in', chain, '-noout', '-ext', 'subjectAltName']), new RegExp(`DNS:\\*\\.${certAlg.toLowerCase()}`));
      }
      const { X509Certificate } = await import('node:crypto');
      const intermediate = new X509Certificate(ders[1]!);
      assert.ok(intermediate.verify(new X509Certificate(ca.caPem).publicKey));
    });
  }

  const native = nativeMlDsaKey('ML-DSA-65');
  it('accepts JWS and CSRs from Node\'s own ML-DSA (OpenSSL 3.5, a second implementation)',
    { skip: native ? false : `this Node (${process.version}) has no ML-DSA; CI runs the suite on Node 24 too` }, async () => {
      const { url: kid } = await acme.newAccount(native!);
      assert.equal((await acme.get(native!, kid, kid)).json.status, 'valid');
      const certKey = nativeMlDsaKey('ML-DSA-87')!;
      const { pem } = await issueDns(ca, acme, native!, kid, [{ type: 'dns', value: 'native-mldsa.example.com' }], certKey);
      const { X509Certificate } = await import('node:crypto');
      const leaf = new X509Certificate(pemToDers(pem)[0]!);
      assert.ok(leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(certKey.spki));
      assert.ok(leaf.verify(new X509Certificate(pemToDers(pem)[1]!).publicKey));
    });

  it('validates tls-alpn-01 against a TLS server with an RFC 8737 certificate (made by openssl)', async () => {
    const local = await startTestCa({ dnsServer: false });
    try {
      const a = await RawAcme.connect(local.directoryUrl, local.caPem);
      const key = makeKey('EdDSA');
      const { url: kid } = await a.newAccount(key);
      const name = 'alpn.example.com';
      const { url, order } = await a.newOrder(key, kid, [{ type: 'dns', value: name }]);
      const authz = (await a.get(key, kid, order.authorizations[0])).json;
      const ch = authz.challenges.find((c: any) => c.type === 'tls-alpn-01');
      const digest = createHash('sha256').update(`${ch.token}.${key.thumbprint}`).digest('hex');
      const keyPath = path.join(dir, 'alpn.key');
      const certPath = path.join(dir, 'alpn.crt');
      await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath,
        '-out', certPath, '-days', '1', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
        '-addext', `1.3.6.1.5.5.7.1.31=critical,DER:0420${digest}`]);
      let sni: string | undefined;
      const context = tls.createSecureContext({ key: readFileSync(keyPath), cert: readFileSync(certPath) });
      const server = tls.createServer({
        ALPNProtocols: ['acme-tls/1'],
        SNICallback: (servername, cb) => { sni = servername; cb(null, context); },
      }, (s) => s.end());
      await new Promise<void>((r) => server.listen(local.tlsPort, '127.0.0.1', r));
      try {
        await a.post(key, ch.url, {}, { kid });
        const done = await a.poll(key, kid, ch.url, (c) => c.status !== 'processing' && c.status !== 'pending');
        assert.equal(done.status, 'valid', JSON.stringify(done));
        assert.equal(sni, name);
        assert.equal((await a.get(key, kid, url)).json.status, 'ready');
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
    } finally {
      await local.stop();
    }
  });

  it('http-01 for an ip identifier', async () => {
    const httpPort = await freePort();
    const local = await startTestCa({ dnsServer: false, httpPort });
    const srv = await http01Server(httpPort);
    try {
      const a = await RawAcme.connect(local.directoryUrl, local.caPem);
      const key = makeKey('RS256');
      const { url: kid } = await a.newAccount(key);
      const { url, order } = await a.newOrder(key, kid, [{ type: 'ip', value: '127.0.0.1' }]);
      const authz = (await a.get(key, kid, order.authorizations[0])).json;
      assert.deepEqual(authz.challenges.map((c: any) => c.type), ['http-01', 'tls-alpn-01']);
      const ch = authz.challenges[0];
      srv.set(ch.token, `${ch.token}.${key.thumbprint}\n`);
      await a.post(key, ch.url, {}, { kid });
      assert.equal((await a.poll(key, kid, url, (o) => o.status !== 'pending')).status, 'ready');
      const fin = await a.post(key, order.finalize, { csr: b64u(buildCsr(makeKey('ES256'), [{ type: 'ip', value: '127.0.0.1' }])) }, { kid });
      assert.equal(fin.json.status, 'valid', fin.text);
    } finally {
      await srv.close();
      await local.stop();
    }
  });

  it('rolls an ES256 account key over to ML-DSA-87; the old key no longer signs for the account', async () => {
    const oldKey = makeKey('ES256');
    const { url: kid } = await acme.newAccount(oldKey);
    const newKey = makeKey('ML-DSA-87');
    const inner = acme.jws(newKey, acme.dir.keyChange, { account: kid, oldKey: oldKey.jwk }, undefined);
    const r = await acme.post(oldKey, acme.dir.keyChange, inner, { kid });
    assert.equal(r.status, 200, r.text);
    assert.equal((await acme.get(newKey, kid, kid)).status, 200);
    assert.equal((await acme.get(oldKey, kid, kid)).json.type, ERR('badSignatureAlgorithm'));
    const found = await acme.newAccount(newKey, { onlyReturnExisting: true });
    assert.equal(found.url, kid);
  });

  it('ARI: renewalInfo, revocation moves the window into the past, replaces and alreadyReplaced', async () => {
    const key = makeKey('ES256');
    const { url: kid } = await acme.newAccount(key);
    const ids: Ident[] = [{ type: 'dns', value: 'ari.example.com' }];
    const certKey = makeKey('ES256');
    const { pem } = await issueDns(ca, acme, key, kid, ids, certKey);
    const leaf = pemToDers(pem)[0]!;
    const certId = certIdOf(leaf);
    const info = await httpRequest(`${acme.dir.renewalInfo}/${certId}`, { ca: ca.caPem });
    assert.equal(info.status, 200, info.text);
    assert.equal(info.headers['retry-after'], '21600');
    assert.ok(new Date(info.json.suggestedWindow.start) > new Date());
    assert.ok(new Date(info.json.suggestedWindow.end) > new Date(info.json.suggestedWindow.start));
    assert.equal((await httpRequest(`${acme.dir.renewalInfo}/AAAA.AAAA`, { ca: ca.caPem })).status, 404);
    const replacing = await acme.newOrder(key, kid, ids, { replaces: certId });
    assert.equal(replacing.order.replaces, certId);
    const twice = await acme.post(key, acme.dir.newOrder, { identifiers: ids, replaces: certId }, { kid });
    assert.equal(twice.status, 409);
    assert.equal(twice.json.type, ERR('alreadyReplaced'));
    const rev = await acme.post(certKey, acme.dir.revokeCert, { certificate: b64u(leaf), reason: 1 });
    assert.equal(rev.status, 200, rev.text);
    const after = await httpRequest(`${acme.dir.renewalInfo}/${certId}`, { ca: ca.caPem });
    assert.ok(new Date(after.json.suggestedWindow.end) < new Date());
    const serial = (await openssl(['x509', '-noout', '-serial'], pem)).trim().replace('serial=', '');
    assert.equal(ca.certStatus(serial)?.status, 'revoked');
    assert.equal(ca.certStatus(serial)?.certId, certId);
  });

  it('authorization deactivation, the orders list, and badNonce on demand', async () => {
    const key = makeKey('ES256');
    const { url: kid, resp } = await acme.newAccount(key);
    const { url, order } = await acme.newOrder(key, kid, [{ type: 'dns', value: 'deact-authz.example.com' }]);
    const d = await acme.post(key, order.authorizations[0], { status: 'deactivated' }, { kid });
    assert.equal(d.json.status, 'deactivated');
    assert.equal((await acme.get(key, kid, url)).json.status, 'invalid');
    assert.deepEqual((await acme.get(key, kid, resp.json.orders)).json.orders, [url]);
    ca.rejectGoodNonces(1);
    assert.equal((await acme.get(key, kid, url)).json.type, ERR('badNonce'));
    assert.equal((await acme.get(key, kid, url)).status, 200);
  });
});

describe('test CA: EAB', () => {
  let ca: TestCa;
  const macKey = b64u(Buffer.alloc(32, 7));
  before(async () => { ca = await startTestCa({ eabKeys: { 'kid-1': macKey }, dnsServer: false }); });
  after(() => ca?.stop());

  it('requires an EAB, accepts HS256/384/512 and echoes it; refuses a bad MAC or an unknown kid', async () => {
    const acme = await RawAcme.connect(ca.directoryUrl, ca.caPem);
    assert.equal(acme.dir.meta.externalAccountRequired, true);
    const key = makeKey('ES256');
    const none = await acme.post(key, acme.dir.newAccount, { termsOfServiceAgreed: true });
    assert.equal(none.json.type, ERR('externalAccountRequired'));
    const badMac = await acme.post(key, acme.dir.newAccount, { termsOfServiceAgreed: true, externalAccountBinding: eabJws(key, acme.dir.newAccount, 'kid-1', b64u(Buffer.alloc(32, 8))) });
    assert.equal(badMac.json.type, ERR('unauthorized'));
    const badKid = await acme.post(key, acme.dir.newAccount, { termsOfServiceAgreed: true, externalAccountBinding: eabJws(key, acme.dir.newAccount, 'kid-2', macKey) });
    assert.equal(badKid.json.type, ERR('unauthorized'));
    const otherKey = await acme.post(key, acme.dir.newAccount, { termsOfServiceAgreed: true, externalAccountBinding: eabJws(makeKey('ES256'), acme.dir.newAccount, 'kid-1', macKey) });
    assert.equal(otherKey.json.type, ERR('unauthorized'));
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      const k = makeKey('ML-DSA-65');
      const eab = eabJws(k, acme.dir.newAccount, 'kid-1', macKey, alg);
      const r = await acme.post(k, acme.dir.newAccount, { termsOfServiceAgreed: true, externalAccountBinding: eab });
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(r.json.externalAccountBinding, eab);
    }
  });
});

describe('test CA: Unix socket and the test-ca script', { timeout: 120_000 }, () => {
  it('serves http+unix:// URLs and issues over the socket', async () => {
    const sock = path.join(tempDir('akamu-test-ca-sock-'), 'ca.sock');
    const httpPort = await freePort();
    const ca = await startTestCa({ socketPath: sock, httpPort, dnsServer: false, finalizeDelayMs: 200 });
    const srv = await http01Server(httpPort);
    try {
      const prefix = `http+unix://${sock.replaceAll('/', '%2F')}/`;
      assert.equal(ca.directoryUrl, `${prefix}dir`);
      const acme = await RawAcme.connect(ca.directoryUrl);
      for (const k of ['newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange', 'renewalInfo']) assert.ok(acme.dir[k].startsWith(prefix), k);
      const key = makeKey('ML-DSA-44');
      const { url: kid } = await acme.newAccount(key);
      assert.ok(kid.startsWith(prefix));
      const { url, order } = await acme.newOrder(key, kid, [{ type: 'dns', value: 'sock.example.com' }]);
      assert.ok(url.startsWith(prefix) && order.finalize.startsWith(prefix) && order.authorizations[0].startsWith(prefix));
      const authz = (await acme.get(key, kid, order.authorizations[0])).json;
      const ch = authz.challenges.find((c: any) => c.type === 'http-01');
      srv.set(ch.token, `${ch.token}.${key.thumbprint}`);
      await acme.post(key, ch.url, {}, { kid });
      await acme.poll(key, kid, url, (o) => o.status === 'ready');
      const fin = await acme.post(key, order.finalize, { csr: b64u(buildCsr(makeKey('EdDSA'), [{ type: 'dns', value: 'sock.example.com' }])) }, { kid });
      assert.equal(fin.json.status, 'processing');
      assert.equal(fin.headers['retry-after'], '1');
      const valid = await acme.poll(key, kid, url, (o) => o.status === 'valid');
      assert.ok(valid.certificate.startsWith(prefix));
      const cert = await acme.get(key, kid, valid.certificate);
      assert.equal(pemToDers(cert.text).length, 2);
      assert.match(String(cert.headers.link), new RegExp(`<${prefix.replace(/[+]/g, '\\+')}dir>;rel="index"`));
    } finally {
      await srv.close();
      await ca.stop();
    }
    assert.ok(!existsSync(sock), 'stop() removes the socket');
  });

  it('`npm run test-ca` (its script) prints the directory URL and root path and runs until killed', async () => {
    const sock = path.join(tempDir('akamu-test-ca-cli-'), 'ca.sock');
    const child = spawn(process.execPath, [path.join(repoRoot, 'packages/testkit/dist/test-ca/cli.js'), '--socket', sock, '--eab'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => { out += b.toString(); if (out.includes('eab:')) resolve(); });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const dirUrl = /^directory: (\S+)$/m.exec(out)![1]!;
      const root = /^root certificate: (\S+)$/m.exec(out)![1]!;
      assert.equal(dirUrl, `http+unix://${encodeURIComponent(sock)}/dir`);
      assert.match(readFileSync(root, 'utf8'), /^-----BEGIN CERTIFICATE-----/);
      const eabFile = /HMAC key \(base64url\) in (\S+)$/m.exec(out)![1]!;
      assert.ok(!out.includes(JSON.parse(readFileSync(eabFile, 'utf8')).hmac_key), 'the HMAC key is not printed');
      const acme = await RawAcme.connect(dirUrl);
      assert.equal(acme.dir.meta.externalAccountRequired, true);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
    assert.ok(!existsSync(sock));
  });
});
