/**
 * End to end: onion-csr-01 (RFC 9799) with the built CLI against the project's strict test CA,
 * which checks the onion CSR (key of the name, signature, both nonces) and refuses a finalize CSR
 * with the onion key. The onion key is the standards.md §8.5 vector, as a PKCS#8 PEM and as Tor's
 * own hs_ed25519_secret_key (its §8.6 expanded form).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { startTestCa, type TestCa } from '../../testkit/src/index.js';
import { assertFailure, assertSuccess, openssl, runCli, snapshot, tempDir, verifiedLeaf } from './helpers.js';

const SEED = Buffer.from('33a7e5c16e0308a3e6a0e7f4a621b3caad9ed1acdb3f78369b1377c5e6050278', 'hex');
const EXPANDED = Buffer.from(
  '08e6cf8cc85de26ad2ebe512275fad24bd8299965109bd5533ad08645fad7f72' + '76ad82cabc3ca1693cfe46e9d622dfcdea91b542e16fc98a06f90ce377dd9750', 'hex');
const ONION = 'pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion';
const TOR_HEADER = Buffer.concat([Buffer.from('== ed25519v1-secret: type0 =='), Buffer.alloc(3)]);

/** The renewal sidecar of a certificate, as plain data. */
const sidecar = (out: string): Record<string, unknown> => JSON.parse(JSON.stringify(parse(readFileSync(`${out}.renewal.toml`, 'utf8'))));

const pkcs8Pem = (seed: Buffer): string =>
  `-----BEGIN PRIVATE KEY-----\n${Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]).toString('base64')}\n-----END PRIVATE KEY-----\n`;

describe('onion-csr-01 against the test CA', { timeout: 180_000 }, () => {
  let ca: TestCa;
  let dir: string;
  let server: string[];
  let pemKey: string;
  let torKey: string;
  let account: string;

  before(async () => {
    ca = await startTestCa({ dnsServer: false });
    dir = tempDir();
    server = ['--server', ca.directoryUrl, '--server-ca', ca.caPemPath];
    pemKey = join(dir, 'hs_key.pem');
    writeFileSync(pemKey, pkcs8Pem(SEED), { mode: 0o600 });
    mkdirSync(join(dir, 'hs'), { mode: 0o700 });
    torKey = join(dir, 'hs', 'hs_ed25519_secret_key');
    writeFileSync(torKey, Buffer.concat([TOR_HEADER, EXPANDED]), { mode: 0o600 });
    account = join(dir, 'account.pem');
    assertSuccess(await runCli(['account', 'register', ...server, '--account-key', account, '--agree-tos']));
  });
  after(async () => ca?.stop());

  const issue = (args: string[], opts: { cwd?: string } = {}) => runCli(['issue', ...server, '--account-key', account, ...args], opts);

  /** The leaf's SANs, after openssl has verified the chain up to the test CA's root. */
  async function verifiedSans(chainPath: string, certKeyPath: string): Promise<string> {
    const { path: leaf } = await verifiedLeaf(ca.caPemPath, dir, chainPath);
    // the certificate is the certificate key's, never the onion key's
    const certPub = await openssl(['x509', '-in', leaf, '-noout', '-pubkey']);
    assert.equal(certPub, await openssl(['pkey', '-in', certKeyPath, '-pubout']));
    assert.notEqual(certPub, await openssl(['pkey', '-in', pemKey, '-pubout']));
    return openssl(['x509', '-in', leaf, '-noout', '-ext', 'subjectAltName']);
  }

  it('with a PKCS#8 PEM key; the sidecar stores onion_key (absolute) and renew uses it', async () => {
    const out = join(dir, 'pem', 'fullchain.pem');
    // a relative --onion-key: the sidecar must still find it from anywhere (cron)
    const r = await issue(['-d', ONION, '--challenge', 'onion-csr-01', '--onion-key', 'hs_key.pem', '--out', out, '-v'], { cwd: dir });
    assertSuccess(r);
    assert.match(r.stderr, new RegExp(`triggered onion-csr-01 for ${ONION}: valid`));
    assert.match(await verifiedSans(out, `${out}.key.pem`), new RegExp(`DNS:${ONION}`));
    const cfg = sidecar(out);
    assert.equal(cfg.onion_key, pemKey);
    assert.equal(cfg.challenge_type, 'onion-csr-01');
    assert.deepEqual(cfg.domains, [{ type: 'dns', value: ONION }]);

    const before = readFileSync(out, 'utf8');
    const renewed = await runCli(['renew', '--renewal-config', `${out}.renewal.toml`, '--server-ca', ca.caPemPath, '--force', '-v']);
    assertSuccess(renewed);
    assert.match(renewed.stderr, /triggered onion-csr-01/);
    assert.notEqual(readFileSync(out, 'utf8'), before, 'a new certificate');
    assert.equal(sidecar(out).onion_key, pemKey);
  });

  it("with Tor's hs_ed25519_secret_key (expanded key): a wildcard and the bare name", async () => {
    const out = join(dir, 'tor', 'fullchain.pem');
    const r = await issue(['-d', `*.${ONION}`, '-d', ONION, '--challenge', 'onion-csr-01', '--onion-key', torKey, '--cert-key-type', 'ed25519', '--out', out]);
    assertSuccess(r);
    const sans = await verifiedSans(out, `${out}.key.pem`);
    assert.match(sans, new RegExp(`DNS:\\*\\.${ONION}`));
    assert.match(sans, new RegExp(`DNS:${ONION}(,|\\s|$)`));
    assert.equal(sidecar(out).onion_key, torKey);
  });

  it('a mixed order: onion-csr-01 for the .onion name, http-01 for the DNS name', async () => {
    const out = join(dir, 'mixed', 'fullchain.pem');
    const r = await issue(['-d', ONION, '-d', 'mixed.example', '--onion-key', torKey, '--http-port', String(ca.httpPort), '--out', out, '-v']);
    assertSuccess(r);
    assert.match(r.stderr, new RegExp(`triggered onion-csr-01 for ${ONION}`));
    assert.match(r.stderr, /triggered http-01 for mixed\.example/);
    const sans = await verifiedSans(out, `${out}.key.pem`);
    assert.match(sans, new RegExp(`DNS:${ONION}`));
    assert.match(sans, /DNS:mixed\.example/);
    const cfg = sidecar(out);
    assert.equal(cfg.challenge_type, 'http-01');
    assert.equal(cfg.onion_key, torKey);
  });

  it('a wrong onion key: a clear error, nothing sent to the CA, nothing written', async () => {
    const other = join(dir, 'other_hs_key.pem');
    writeFileSync(other, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const out = join(dir, 'wrong', 'fullchain.pem');
    const fresh = join(dir, 'wrong', 'account.pem');
    const served = ca.requestCount();
    const runs = [
      ['-d', ONION, '--challenge', 'onion-csr-01', '--onion-key', other, '--out', out],
      ['-d', `www.${ONION}`, '-d', 'wrong.example', '--onion-key', other, '--http-port', String(ca.httpPort), '--out', out],
    ];
    for (const args of runs) {
      const r = await runCli(['issue', ...server, '--account-key', fresh, ...args]);
      assertFailure(r, 2, new RegExp(`^error: --onion-key ${other} is the key of [a-z2-7]{56}\\.onion; it cannot validate (www\\.)?${ONION}$`));
    }
    assert.equal(ca.requestCount(), served, 'not even the directory was fetched');
    assert.equal(existsSync(join(dir, 'wrong')), false, 'no account key, no certificate, no directory');
  });

  it('usage errors before anything is ordered', async () => {
    const out = join(dir, 'bad', 'fullchain.pem');
    const ecKey = join(dir, 'ec.pem');
    writeFileSync(ecKey, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const pub = join(dir, 'hs_ed25519_public_key');
    writeFileSync(pub, Buffer.concat([Buffer.from('== ed25519v1-public: type0 =='), Buffer.alloc(3), Buffer.alloc(32, 1)]));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const before = snapshot([account, `${account}.url`]);
    const served = ca.requestCount();
    // usage errors exit 2; a key file that cannot be read or used exits 1, as for the other key files
    const cases: [string[], number, RegExp][] = [
      [['-d', ONION, '--challenge', 'onion-csr-01'], 2, /^error: --onion-key is required for onion-csr-01 challenges$/],
      [['-d', ONION, '-d', 'dns.example', '--challenge', 'onion-csr-01', '--onion-key', pemKey], 2,
        /onion-csr-01 can only validate \.onion names, not dns\.example; for those, keep --onion-key and use --challenge http-01/],
      [['-d', ONION, '--challenge', 'onion-csr-01', '--onion-key', ecKey], 1, /onion key .*ec\.pem is a ec:P-256 key; an onion service key is Ed25519/],
      [['-d', ONION, '--challenge', 'onion-csr-01', '--onion-key', pub], 1, /hs_ed25519_public_key is not a usable private key: this is Tor's public key file/],
      [['-d', ONION, '--challenge', 'onion-csr-01', '--onion-key', fifo], 1, /cannot read onion key .*fifo: is not a regular file \(a FIFO\)/],
      [['-d', ONION, '--challenge', 'onion-csr-01', '--onion-key', join(dir, 'missing')], 1, /cannot read onion key .*missing: no such file/],
      [['-d', ONION, '--challenge', 'onion-csr-01', '--onion-key', pemKey, '--cert-key', pemKey], 2,
        /the certificate key .*hs_key\.pem is the onion service key; the certificate needs a key of its own/],
    ];
    for (const [args, code, pattern] of cases) assertFailure(await issue([...args, '--out', out]), code, pattern);
    assert.equal(ca.requestCount(), served, 'nothing sent to the CA');
    assert.equal(snapshot([account, `${account}.url`]), before);
    assert.equal(existsSync(out), false);
  });
});
