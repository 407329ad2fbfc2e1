// Proof from an independent client: lego 4.35 registers, issues through http-01 and revokes
// against the test CA, and openssl accepts the chain under the CA's root.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findLego, freePort, openssl, runProgram, startTestCa, tempDir, type TestCa } from '../src/index.js';

describe('test CA: lego 4.35 against it', { timeout: 600_000 }, () => {
  let ca: TestCa;
  let lego: string;
  let httpPort: number;
  const dir = tempDir('akamu-test-ca-lego-');
  before(async () => {
    lego = (await findLego()).lego;
    httpPort = await freePort();
    ca = await startTestCa({ httpPort });
  });
  after(() => ca?.stop());

  const runLego = (args: string[], domains = ['lego.example.com', 'www.lego.example.com']) => runProgram(lego, [
    '--server', ca.directoryUrl, '--accept-tos', '--email', 'lego@example.com', '--path', dir,
    ...domains.flatMap((d) => ['--domains', d]), ...args,
  ], { env: { LEGO_CA_CERTIFICATES: ca.caPemPath }, timeoutMs: 120_000 });

  it('issues through http-01, and the chain verifies under the root', async () => {
    const r = await runLego(['--http', '--http.port', `127.0.0.1:${httpPort}`, 'run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Server responded with a certificate/);
    const crt = path.join(dir, 'certificates', 'lego.example.com.crt');
    const text = await openssl(['x509', '-in', crt, '-noout', '-ext', 'subjectAltName']);
    assert.match(text, /DNS:lego\.example\.com, DNS:www\.lego\.example\.com/);
    const verified = await openssl(['verify', '-CAfile', ca.caPemPath, '-untrusted', crt, crt]);
    assert.match(verified, /: OK/);
    assert.deepEqual(ca.problemsSent(), [], 'lego hit no error on the happy path');
  });

  it('revokes with the account key, and a second revocation is alreadyRevoked', async () => {
    const crt = path.join(dir, 'certificates', 'lego.example.com.crt');
    const serial = (await openssl(['x509', '-in', crt, '-noout', '-serial'])).trim().replace(/^serial=/, '');
    assert.equal(ca.certStatus(serial)?.status, 'valid');
    const r = await runLego(['revoke', '--reason', '4', '--keep'], ['lego.example.com']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual({ status: ca.certStatus(serial)?.status, reason: ca.certStatus(serial)?.reason }, { status: 'revoked', reason: 4 });
    const again = await runLego(['revoke', '--keep'], ['lego.example.com']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /alreadyRevoked/);
  });
});
