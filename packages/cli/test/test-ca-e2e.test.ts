/**
 * End to end with the built CLI against the project's strict test CA (which, unlike Pebble, speaks
 * ML-DSA and listens on Unix sockets): ML-DSA account and certificate keys through register, issue,
 * revoke and key-change, and the whole account/issue/renew/revoke flow over http+unix://.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestCa, type TestCa } from '../../testkit/src/index.js';
import { certificateFacts } from '../../client/src/x509/facts.js';
import { assertFailure, assertSuccess, runCli, tempDir } from './helpers.js';

/** Serial and key (SPKI algorithm OID, as DER hex) of a chain's leaf; Node 20's X509Certificate cannot read ML-DSA keys. */
async function leaf(chainPath: string): Promise<{ serial: string; keyOid: string }> {
  const facts = await certificateFacts(readFileSync(chainPath, 'utf8'));
  const der = facts.spkiDer;
  const at = der.indexOf(0x06, 2); // SEQUENCE { SEQUENCE { OID …: the first OID is the key's algorithm
  return { serial: facts.serialHex, keyOid: der.subarray(at + 2, at + 2 + der[at + 1]!).toString('hex') };
}

const ML_DSA_44_OID = '608648016503040311'; // 2.16.840.1.101.3.4.3.17

describe('the CLI against the test CA', { timeout: 240_000 }, () => {
  describe('ML-DSA account and certificate keys (HTTPS)', () => {
    let ca: TestCa;
    let dir: string;
    let server: string[];
    before(async () => {
      ca = await startTestCa({ dnsServer: false });
      dir = tempDir();
      server = ['--server', ca.directoryUrl, '--server-ca', ca.caPemPath];
    });
    after(async () => ca?.stop());

    it('register with ML-DSA-65, issue an ML-DSA-44 certificate, revoke it', async () => {
      const account = join(dir, 'mldsa-account.pem');
      assertSuccess(await runCli(['account', 'register', ...server, '--account-key', account, '--key-type', 'ml-dsa-65', '--agree-tos']));
      assert.match(readFileSync(account, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
      const out = join(dir, 'mldsa', 'chain.pem');
      const r = await runCli(['issue', ...server, '--account-key', account, '-d', 'pq.example.com', '--cert-key-type', 'ml-dsa-44',
        '--http-port', String(ca.httpPort), '--out', out]);
      assertSuccess(r);
      const { serial, keyOid } = await leaf(out);
      assert.equal(keyOid, ML_DSA_44_OID, 'the certificate holds the ML-DSA-44 key');
      assert.equal(ca.certStatus(serial)?.status, 'valid');
      assertSuccess(await runCli(['revoke', ...server, '--account-key', account, '--cert', out, '--reason', '4']));
      assert.equal(ca.certStatus(serial)?.status, 'revoked');
      assert.equal(ca.certStatus(serial)?.reason, 4);
      assert.deepEqual(ca.problemsSent(), [], 'the strict CA found nothing to refuse');
    });

    it('key-change from ES256 to ML-DSA-87; the account then signs with ML-DSA-87', async () => {
      const account = join(dir, 'es256.pem');
      assertSuccess(await runCli(['account', 'register', ...server, '--account-key', account, '--agree-tos']));
      const url = readFileSync(`${account}.account-url`, 'utf8');
      const newKey = join(dir, 'mldsa87.pem');
      const kc = await runCli(['account', 'key-change', ...server, '--account-key', account, '--new-key', newKey, '--new-key-type', 'ml-dsa-87']);
      assertSuccess(kc);
      assert.equal(readFileSync(account, 'utf8'), readFileSync(newKey, 'utf8'), 'the account key file now holds the new key');
      const show = await runCli(['account', 'show', ...server, '--account-key', account]);
      assertSuccess(show);
      assert.ok(show.stdout.includes(url), 'the same account, signed with the new key');
      assert.deepEqual(ca.problemsSent(), []);
    });
  });

  describe('the whole flow over http+unix://', () => {
    let ca: TestCa;
    let dir: string;
    let server: string[];
    before(async () => {
      dir = tempDir();
      ca = await startTestCa({ dnsServer: false, socketPath: join(dir, 'ca.sock') });
      server = ['--server', ca.directoryUrl];
    });
    after(async () => ca?.stop());

    it('register, show, update, issue, renew from the stored config, revoke, key-change, deregister', async () => {
      assert.match(ca.directoryUrl, /^http\+unix:\/\/%2F/);
      const account = join(dir, 'account.pem');
      assertSuccess(await runCli(['account', 'register', ...server, '--account-key', account, '--agree-tos', '--contact', 'mailto:a@example.com']));
      assertSuccess(await runCli(['account', 'update', ...server, '--account-key', account, '--contact', 'mailto:b@example.com']));
      const show = await runCli(['account', 'show', ...server, '--account-key', account]);
      assertSuccess(show);
      assert.match(show.stdout, /mailto:b@example\.com/);

      const out = join(dir, 'certs', 'unix.pem');
      assertSuccess(await runCli(['issue', ...server, '--account-key', account, '-d', 'unix.example.com', '--http-port', String(ca.httpPort), '--out', out]));
      const first = (await leaf(out)).serial;
      assert.match(readFileSync(`${out}.renewal.toml`, 'utf8'), /^server = "http\+unix:\/\/%2F/m);
      // the renewal config alone names the socket server
      assertSuccess(await runCli(['renew', '--renewal-config', `${out}.renewal.toml`, '--force']));
      const second = (await leaf(out)).serial;
      assert.notEqual(second, first, 'renewed');
      assertSuccess(await runCli(['revoke', ...server, '--account-key', account, '--cert', out]));
      assert.equal(ca.certStatus(second)?.status, 'revoked');

      const newKey = join(dir, 'p384.pem');
      assertSuccess(await runCli(['account', 'key-change', ...server, '--account-key', account, '--new-key', newKey, '--new-key-type', 'ec:P-384']));
      assert.equal(createPublicKey(readFileSync(account, 'utf8')).asymmetricKeyDetails?.namedCurve, 'secp384r1');
      assertSuccess(await runCli(['account', 'deregister', ...server, '--account-key', account]));
      assertFailure(await runCli(['account', 'show', ...server, '--account-key', account]), 1, /account-url|register/);
      assert.deepEqual(ca.problemsSent(), [], 'the strict CA found nothing to refuse');
    });
  });
});
