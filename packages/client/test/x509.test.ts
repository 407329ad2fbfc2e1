import assert from 'node:assert/strict';
import { createPublicKey, X509Certificate, createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AkamuError } from '../src/errors.js';
import { identifierFromName, normalizeIdentifiers } from '../src/identifiers.js';
import { keyAuthorization } from '../src/jose/challenge.js';
import { PrivateKey, type KeyType } from '../src/keys/index.js';
import { acmeIdentifierExtensionDer, tlsAlpnCertificate } from '../src/x509/tlsAlpn.js';
import { ariCertId, certificateFacts, publicKeyMatches } from '../src/x509/facts.js';
import { buildCsr } from '../src/x509/csr.js';
import { checkPemChain, splitPemCertificates } from '../src/x509/chain.js';
import { formatIp, parseIp } from '../src/x509/ip.js';
import { toPem } from '../src/x509/pem.js';
import { openssl, opensslBytes, tmpFile } from './fixtures/openssl.js';

// RFC 9773 Appendix A certificate (standards.md §5).
const ARI_CERT = `-----BEGIN CERTIFICATE-----
MIIBQzCB66ADAgECAgUAh2VDITAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpFeGFt
cGxlIENBMCIYDzAwMDEwMTAxMDAwMDAwWhgPMDAwMTAxMDEwMDAwMDBaMBYxFDAS
BgNVBAMTC2V4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeBZu
7cbpAYNXZLbbh8rNIzuOoqOOtmxA1v7cRm//AwyMwWxyHz4zfwmBhcSrf47NUAFf
qzLQ2PPQxdTXREYEnKMjMCEwHwYDVR0jBBgwFoAUaYhba4dGQEHhs3uEe6CuLN4B
yNQwCgYIKoZIzj0EAwIDRwAwRAIge09+S5TZAlw5tgtiVvuERV6cT4mfutXIlwTb
+FYN/8oCIClDsqBklhB9KAelFiYt9+6FDj3z4KGVelYM5MdsO3pK
-----END CERTIFICATE-----
`;
const KEY_AUTH = keyAuthorization('evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA', 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');

/** A self-signed certificate made by openssl, with its key. */
function opensslCert(san: string, cn = 'openssl.test'): { certPem: string; keyPem: string } {
  const keyPath = tmpFile('key.pem');
  const certPath = tmpFile('cert.pem');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', certPath,
    '-subj', `/CN=${cn}/O=Akamu Test`, '-days', '2', '-addext', `subjectAltName=${san}`]);
  return { certPem: openssl(['x509', '-in', certPath]).stdout, keyPem: openssl(['pkey', '-in', keyPath]).stdout };
}

describe('lazy ASN.1 loading', () => {
  it('no module of keys/, jose/ or x509/ imports @peculiar statically', () => {
    const src = fileURLToPath(new URL('../src/', import.meta.url));
    for (const dir of ['keys', 'jose', 'x509']) {
      for (const f of readdirSync(join(src, dir)).filter((n) => n.endsWith('.ts'))) {
        const text = readFileSync(join(src, dir, f), 'utf8');
        for (const m of text.matchAll(/^import (?!type )[^;]*from '(@peculiar\/[^']+)'/gm)) {
          assert.fail(`${dir}/${f} imports ${m[1]} eagerly`);
        }
      }
    }
  });
});

describe('IP literals', () => {
  it('parses and formats IPv4 and IPv6', () => {
    assert.deepEqual(parseIp('192.0.2.1'), Buffer.from([192, 0, 2, 1]));
    assert.equal(parseIp('2001:db8::1')!.toString('hex'), '20010db8000000000000000000000001');
    assert.equal(parseIp('::ffff:1.2.3.4')!.toString('hex'), '00000000000000000000ffff01020304');
    assert.equal(parseIp('::')!.toString('hex'), '0'.repeat(32));
    assert.equal(parseIp('example.com'), undefined);
    assert.equal(parseIp('1.2.3'), undefined);
    assert.equal(formatIp(parseIp('2001:DB8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
    assert.equal(formatIp(parseIp('2001:db8:0:1:1:1:1:1')!), '2001:db8:0:1:1:1:1:1');
    assert.equal(formatIp(parseIp('::1')!), '::1');
    assert.equal(formatIp(parseIp('192.0.2.1')!), '192.0.2.1');
  });
});

describe('buildCsr', () => {
  const types: [KeyType, string][] = [
    ['ec:P-256', 'ecdsa-with-SHA256'],
    ['ec:P-384', 'ecdsa-with-SHA384'],
    ['ec:P-521', 'ecdsa-with-SHA512'],
    ['rsa:2048', 'sha256WithRSAEncryption'],
    ['rsa:3072', 'sha256WithRSAEncryption'],
    ['ed25519', 'ED25519'],
  ];
  for (const [t, sigAlg] of types) {
    it(`${t}: openssl verifies the CSR and sees CN and every SAN`, async () => {
      const key = await PrivateKey.generate(t);
      const der = await buildCsr({ key: key, identifiers: normalizeIdentifiers(['example.com', 'www.example.com', '192.0.2.1', '2001:db8::1']) });
      const path = tmpFile('csr.der', der);
      const { stdout, stderr } = openssl(['req', '-inform', 'DER', '-in', path, '-noout', '-verify', '-text']);
      assert.match(stderr + stdout, /verify OK/);
      assert.match(stdout, /Subject: CN = example\.com\n/);
      assert.match(stdout, new RegExp(`Signature Algorithm: ${sigAlg}`));
      assert.match(stdout, /X509v3 Subject Alternative Name: \n/, 'SAN is not critical');
      assert.match(stdout, /DNS:example\.com, DNS:www\.example\.com, IP Address:192\.0\.2\.1, IP Address:2001:DB8:0:0:0:0:0:1\n/);
      // The CSR carries exactly our public key.
      const pub = opensslBytes(['req', '-inform', 'DER', '-in', path, '-noout', '-pubkey']);
      assert.deepEqual(createPublicKey(pub).export({ type: 'spki', format: 'der' }), key.publicKeyDer());
    });
  }

  it('omits the CN when the first name is longer than 64 characters or all names are IPs', async () => {
    const key = await PrivateKey.generate('ec:P-256');
    const long = `${'a'.repeat(60)}.example.com`;
    const text1 = openssl(['req', '-inform', 'DER', '-in', tmpFile('c.der', await buildCsr({ key: key, identifiers: normalizeIdentifiers([long]) })), '-noout', '-text']).stdout;
    assert.match(text1, /Subject: *\n/);
    assert.match(text1, new RegExp(`DNS:${long}`));
    const text2 = openssl(['req', '-inform', 'DER', '-in', tmpFile('c.der', await buildCsr({ key: key, identifiers: normalizeIdentifiers(['198.51.100.7']) })), '-noout', '-verify', '-text']);
    assert.match(text2.stdout, /Subject: *\n/);
    assert.match(text2.stdout, /IP Address:198\.51\.100\.7/);
    assert.doesNotMatch(text2.stdout, /DNS:/);
  });

  it('accepts keys read from PEM (SEC1) and refuses an empty name list', async () => {
    const key = PrivateKey.fromPem(openssl(['ecparam', '-genkey', '-name', 'prime256v1']).stdout);
    const r = openssl(['req', '-inform', 'DER', '-in', tmpFile('c.der', await buildCsr({ key: key, identifiers: normalizeIdentifiers(['x.example']) })), '-noout', '-verify']);
    assert.match(r.stderr + r.stdout, /verify OK/);
    await assert.rejects(buildCsr({ key: key, identifiers: normalizeIdentifiers([]) }), /at least one identifier/);
  });
});

describe('tls-alpn-01 certificate', () => {
  it('acmeIdentifier extension DER matches the RFC 8737 vector (standards.md §3)', async () => {
    const der = await acmeIdentifierExtensionDer(KEY_AUTH);
    assert.equal(der.length, 51);
    assert.equal(
      der.toString('hex'),
      '303106082b0601050507011f0101ff04220420653471d42925d7eb4cd39a39cda8b34d3034c94cb90067ab78c8123560ba2e5f',
    );
  });

  it('is self-signed with one dNSName SAN and the critical acmeIdentifier extension', async () => {
    const before = Date.now();
    const { certPem, keyPem } = await tlsAlpnCertificate(identifierFromName('example.com'), KEY_AUTH);
    const text = openssl(['x509', '-in', tmpFile('c.pem', certPem), '-noout', '-text']).stdout;
    assert.match(text, /1\.3\.6\.1\.5\.5\.7\.1\.31: critical/);
    assert.match(text, /X509v3 Subject Alternative Name: \n\s+DNS:example\.com\n/);
    assert.match(text, /Subject: CN = example\.com/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    const certDer = splitPemCertificates(certPem)[0]!;
    assert.ok(certDer.includes(await acmeIdentifierExtensionDer(KEY_AUTH)));

    const x = new X509Certificate(certPem);
    assert.ok(x.verify(x.publicKey), 'self-signature verifies');
    assert.ok(x.checkIssued(x));
    const key = PrivateKey.fromPem(keyPem);
    assert.equal(key.keyType, 'ec:P-256');
    assert.ok(x.checkPrivateKey(createPrivateKey(key.toPem())));
    assert.ok(await publicKeyMatches(certPem, key));

    const facts = await certificateFacts(certPem);
    assert.deepEqual(facts.dnsNames, ['example.com']);
    assert.deepEqual(facts.ipAddresses, []);
    assert.ok(Math.abs(facts.notBefore.getTime() - (before - 3600_000)) < 5000);
    assert.ok(Math.abs(facts.notAfter.getTime() - (before + 7 * 86400_000)) < 5000);
    assert.ok(facts.serialBytes[0]! < 0x80 && facts.serialBytes[0]! > 0, 'positive minimal serial');
    const other = await tlsAlpnCertificate(identifierFromName('example.com'), KEY_AUTH);
    assert.notEqual((await certificateFacts(other.certPem)).serialHex, facts.serialHex);
    assert.notEqual(other.keyPem, keyPem);
  });

  it('uses an iPAddress SAN for IP identifiers', async () => {
    const { certPem } = await tlsAlpnCertificate(identifierFromName('2001:db8::1'), KEY_AUTH);
    const text = openssl(['x509', '-in', tmpFile('c.pem', certPem), '-noout', '-text']).stdout;
    assert.match(text, /X509v3 Subject Alternative Name: \n\s+IP Address:2001:DB8:0:0:0:0:0:1\n/);
    assert.match(text, /1\.3\.6\.1\.5\.5\.7\.1\.31: critical/);
    assert.deepEqual((await certificateFacts(certPem)).ipAddresses, ['2001:db8::1']);
  });
});

describe('certificateFacts and ARI certID', () => {
  it('RFC 9773 Appendix A certID', async () => {
    assert.equal(await ariCertId(ARI_CERT), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    const facts = await certificateFacts(ARI_CERT);
    assert.equal(facts.serialBytes.toString('hex'), '0087654321');
    assert.equal(facts.serialHex, '87654321');
    assert.equal(facts.akiKeyId!.toString('hex'), '69885b6b87464041e1b37b847ba0ae2cde01c8d4');
    assert.equal(facts.subject, 'CN=example.com');
    assert.equal(facts.issuer, 'CN=Example CA');
    // DER input gives the same answer.
    assert.equal(await ariCertId(splitPemCertificates(ARI_CERT)[0]!), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });

  it('matches openssl on an openssl-made certificate', async () => {
    const { certPem, keyPem } = opensslCert('DNS:a.example,DNS:b.example,IP:192.0.2.7,IP:2001:db8::5');
    const facts = await certificateFacts(certPem);
    assert.deepEqual(facts.dnsNames, ['a.example', 'b.example']);
    assert.deepEqual(facts.ipAddresses, ['192.0.2.7', '2001:db8::5']);
    assert.equal(facts.subject, 'CN=openssl.test, O=Akamu Test');
    assert.equal(facts.issuer, facts.subject);
    const path = tmpFile('c.pem', certPem);
    const serial = openssl(['x509', '-in', path, '-noout', '-serial']).stdout.trim().replace(/^serial=/, '');
    assert.equal(facts.serialHex, serial.toLowerCase().replace(/^(00)+/, ''));
    const x = new X509Certificate(certPem);
    assert.equal(facts.notAfter.getTime(), new Date(x.validTo).getTime());
    assert.equal(facts.notBefore.getTime(), new Date(x.validFrom).getTime());
    const opensslPub = opensslBytes(['x509', '-in', path, '-noout', '-pubkey']);
    assert.deepEqual(facts.spkiDer, createPublicKey(opensslPub).export({ type: 'spki', format: 'der' }));
    assert.ok(await publicKeyMatches(certPem, PrivateKey.fromPem(keyPem)));
    assert.equal(await publicKeyMatches(certPem, await PrivateKey.generate('ec:P-256')), false);
    // openssl req -x509 adds an AKI equal to the SKI.
    const ski = /Subject Key Identifier: *\n\s+([0-9A-F:]+)/.exec(openssl(['x509', '-in', path, '-noout', '-text']).stdout)![1]!;
    assert.equal(facts.akiKeyId!.toString('hex'), ski.replace(/:/g, '').toLowerCase());
  });

  it('ariCertId needs an AKI', async () => {
    const { certPem } = await tlsAlpnCertificate(identifierFromName('example.com'), KEY_AUTH);
    await assert.rejects(ariCertId(certPem), (e: unknown) => e instanceof AkamuError && /Authority Key Identifier/.test(e.message));
  });
});

describe('PEM chains', () => {
  let a: string;
  let b: string;
  before(() => {
    a = opensslCert('DNS:a.example', 'a').certPem;
    b = opensslCert('DNS:b.example', 'b').certPem;
  });

  function rejected(text: string, pattern: RegExp): void {
    assert.throws(() => checkPemChain(text), (e: unknown) => {
      assert.ok(e instanceof AkamuError);
      assert.equal(e.code, 'bad-chain');
      assert.match(e.message, pattern);
      return true;
    });
    assert.throws(() => splitPemCertificates(text), AkamuError);
  }

  it('splits a chain into DER certificates in order', () => {
    const ders = splitPemCertificates(`${a}${b}`);
    assert.equal(ders.length, 2);
    assert.deepEqual(ders[0], opensslBytes(['x509', '-in', tmpFile('a.pem', a), '-outform', 'DER']));
    assert.deepEqual(ders[1], opensslBytes(['x509', '-in', tmpFile('b.pem', b), '-outform', 'DER']));
    assert.equal(toPem('CERTIFICATE', ders[0]!), a);
    checkPemChain(`${a}\n${b}\n`);
    checkPemChain(`${a}${b}`.replace(/\n/g, '\r\n'));
  });

  it('rejects anything that is not only CERTIFICATE blocks', async () => {
    const key = (await PrivateKey.generate('ec:P-256')).toPem();
    rejected('', /no PEM CERTIFICATE block/);
    rejected('garbage', /no PEM CERTIFICATE block/);
    rejected(`${a}${key}`, /block 2 is a PRIVATE KEY, not a CERTIFICATE/);
    rejected(`${key}${a}`, /block 1 is a PRIVATE KEY/);
    rejected(`${a}junk\n${b}`, /unexpected text before block 2/);
    rejected(`hello\n${a}`, /unexpected text before block 1/);
    rejected(`${a}trailing`, /unexpected text after the last certificate/);
    rejected('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', /block 1 is not a valid certificate/);
    rejected('-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n', /invalid base64/);
    rejected(a.replace('-----END CERTIFICATE-----', '-----END PRIVATE KEY-----'), /ends with END PRIVATE KEY/);
  });
});
