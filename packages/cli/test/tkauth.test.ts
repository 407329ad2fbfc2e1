/**
 * End to end: tkauth-01 (RFC 9447) with the built CLI, a real MIT KDC on loopback, a Token
 * Authority that answers only SPNEGO-authenticated clients (over HTTPS and over a Unix socket) and
 * the strict test CA, which verifies the TA's token (signature, exp, jti, identifier, the account's
 * fingerprint) and the authority-token extension of the finalize CSR.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { parse } from 'smol-toml';
import {
  EJCC_CONFIDENCE, EJCC_PRIORITY, cliBin, kerberosSkip, runProgram, startKdc, startTestCa, startTokenAuthority,
  type Kdc, type TestCa, type TokenAuthority,
} from '../../testkit/src/index.js';
import { assertFailure, assertSuccess, openssl, runCli, tempDir, verifiedLeaf } from './helpers.js';

const EJCC_OID = '1.3.6.1.5.5.7.1.33';
const CLIENT = 'acmeclient';

/** The renewal sidecar of a certificate, as plain data. */
const sidecar = (out: string): Record<string, unknown> => JSON.parse(JSON.stringify(parse(readFileSync(`${out}.renewal.toml`, 'utf8'))));

/** The EnhancedJWTClaimConstraints extension value of the chain's leaf (DER), after openssl verified the chain. */
async function leafExtensionDer(ca: TestCa, dir: string, chainPath: string): Promise<Buffer> {
  const { pem } = await verifiedLeaf(ca.caPemPath, dir, chainPath);
  const cert = AsnConvert.parse(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'), Certificate);
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === EJCC_OID);
  assert.ok(ext, `the leaf carries the EnhancedJWTClaimConstraints extension ${EJCC_OID}`);
  return Buffer.from(ext.extnValue.buffer);
}

describe('tkauth-01 with SPNEGO to a Token Authority', { timeout: 240_000, skip: kerberosSkip() }, () => {
  let kdc: Kdc;
  let ca: TestCa;
  let https: TokenAuthority;
  let unix: TokenAuthority;
  let thief: TokenAuthority;
  let dir: string;
  let clientKeytab: string;
  let env: Record<string, string>;
  let serverCa: string;
  let account: string;

  before(async () => {
    kdc = await startKdc({ principals: [CLIENT] });
    Object.assign(process.env, kdc.env);
    env = kdc.env;
    dir = tempDir();
    clientKeytab = await kdc.keytab(CLIENT);
    // one authority, three endpoints sharing its signing key; the last one signs a fingerprint it
    // was not asked for (a token for another account)
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const values = [EJCC_CONFIDENCE, EJCC_PRIORITY];
    https = await startTokenAuthority({ keytab: kdc.serviceKeytab, key, values });
    unix = await startTokenAuthority({ keytab: kdc.serviceKeytab, key, values, socketPath: join(dir, 'ta.sock') });
    thief = await startTokenAuthority({
      keytab: kdc.serviceKeytab, key, values, socketPath: join(dir, 'thief.sock'), fingerprint: `SHA256 ${'AB:'.repeat(31)}AB`,
    });
    // the CA on a Unix socket: no --server-ca, so a renewal needs nothing but its sidecar
    ca = await startTestCa({ dnsServer: false, socketPath: join(dir, 'ca.sock'), tokenAuthority: { publicKeyPem: https.publicKeyPem, url: https.url } });
    serverCa = https.caPemPath!;
    account = join(dir, 'account.pem');
    assertSuccess(await runCli(['account', 'register', '--server', ca.directoryUrl, '--account-key', account, '--agree-tos']));
  });
  after(async () => {
    await Promise.all([ca?.stop(), https?.stop(), unix?.stop(), thief?.stop()]);
    await kdc?.stop();
  });

  const issue = (args: string[], extraEnv: Record<string, string | undefined> = {}) =>
    runCli(['issue', '--server', ca.directoryUrl, '--account-key', account, '--challenge', 'tkauth-01', '--tkauth-keytab', clientKeytab, ...args],
      { env: { ...env, ...extraEnv } });

  it('--jwtcc, the Token Authority over https (trusted through --server-ca): the certificate carries the identifier', async () => {
    const out = join(dir, 'jwtcc', 'fullchain.pem');
    const before = https.requests().length;
    const r = await issue(['--tkauth-url', https.url, '--server-ca', serverCa, '--jwtcc', EJCC_PRIORITY, '--out', out, '-v']);
    assertSuccess(r);
    assert.match(r.stderr, /triggered tkauth-01 for \S+: valid/);
    assert.deepEqual(await leafExtensionDer(ca, dir, out), Buffer.from(EJCC_PRIORITY, 'base64url'));
    // one request for the one authorization, by the keytab's principal, for this account
    const seen = https.requests().slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.principal, `${CLIENT}@${kdc.realm}`);
    assert.equal(seen[0]!.atc.tktype, 'EnhancedJWTClaimConstraints');
    assert.equal(seen[0]!.atc.tkvalue, EJCC_PRIORITY);
    assert.match(String(seen[0]!.atc.fingerprint), /^SHA256 (?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const cfg = sidecar(out);
    assert.equal(cfg.challenge_type, 'tkauth-01');
    assert.equal(cfg.tkauth_url, https.url);
    assert.equal(cfg.tkauth_keytab, clientKeytab);
    assert.equal(cfg.jwtcc, EJCC_PRIORITY);
    assert.deepEqual(cfg.domains, [{ type: 'EnhancedJWTClaimConstraints', value: EJCC_PRIORITY }]);
  });

  it('without --jwtcc, the Token Authority over http+unix names the identifier; renew --renewal-config needs nothing else', async () => {
    const out = join(dir, 'from-ta', 'fullchain.pem');
    const before = unix.requests().length;
    assertSuccess(await issue(['--tkauth-url', unix.url, '--out', out]));
    const seen = unix.requests().slice(before);
    assert.deepEqual(seen.map((s) => s.atc.tkvalue), ['', EJCC_CONFIDENCE], 'first which identifier, then its token');
    assert.equal(seen[0]!.atc.fingerprint, seen[1]!.atc.fingerprint);
    assert.deepEqual(await leafExtensionDer(ca, dir, out), Buffer.from(EJCC_CONFIDENCE, 'base64url'));
    const cfg = sidecar(out);
    assert.deepEqual(cfg.domains, [{ type: 'EnhancedJWTClaimConstraints', value: EJCC_CONFIDENCE }]);
    assert.equal(cfg.tkauth_url, unix.url);
    assert.equal(cfg.jwtcc, undefined);

    // the renewal: due (the CA's ARI window has passed), every setting from the sidecar
    const chain = readFileSync(out, 'utf8');
    const serial = (await openssl(['x509', '-noout', '-serial'], chain)).trim().replace(/^serial=/, '');
    ca.setRenewalWindow(serial, { start: new Date(Date.now() - 7200_000), end: new Date(Date.now() - 3600_000) });
    const renewed = await runCli(['renew', '--renewal-config', `${out}.renewal.toml`], { env });
    assertSuccess(renewed);
    assert.notEqual(readFileSync(out, 'utf8'), chain, 'a new chain');
    assert.deepEqual(await leafExtensionDer(ca, dir, out), Buffer.from(EJCC_CONFIDENCE, 'base64url'));
    assert.equal(unix.requests().length, before + 3, 'one more token for the renewal, the identifier from the sidecar');
  });

  it('a token for another account is refused by the CA, with one clear error line', async () => {
    const out = join(dir, 'stolen', 'fullchain.pem');
    const r = await issue(['--tkauth-url', thief.url, '--jwtcc', EJCC_PRIORITY, '--out', out]);
    assertFailure(r, 1, /fingerprint.*another account/);
    assert.equal(existsSync(out), false);
  });

  it('no token, Negotiate token or keytab byte in the output at -vv and AKAMU_LOG=trace', async () => {
    const out = join(dir, 'quiet', 'fullchain.pem');
    const before = unix.tokens().length;
    const loud = await issue(['--tkauth-url', unix.url, '--jwtcc', EJCC_PRIORITY, '--out', out, '-vv']);
    assertSuccess(loud);
    const traced = await issue(['--tkauth-url', unix.url, '--jwtcc', EJCC_PRIORITY, '--out', out], { AKAMU_LOG: 'trace' });
    assertSuccess(traced);
    const output = [loud.stdout, loud.stderr, traced.stdout, traced.stderr].join('\n');
    assert.match(traced.stderr, /JWS for POST \S+\/chall\/\S+ .*payload=\{"tkauth":"\(secret, not logged\)"\}/, 'trace shows the challenge POST without its token');
    const tokens = unix.tokens().slice(before);
    assert.equal(tokens.length, 2);
    for (const t of tokens) {
      assert.equal(output.includes(t), false, 'a TA token in the output');
      assert.equal(output.includes(t.split('.')[2]!), false, "a TA token's signature in the output");
    }
    assert.doesNotMatch(output, /Negotiate\s+[A-Za-z0-9+/]{16,}/, 'a SPNEGO token in the output');
    assert.doesNotMatch(output, /YII[A-Za-z0-9+/]{16,}/, 'a base64 GSS token in the output');
    const keytab = readFileSync(clientKeytab);
    for (const form of [keytab.toString('base64'), keytab.toString('hex'), keytab.subarray(-32).toString('base64'), keytab.subarray(-32).toString('hex')]) {
      assert.equal(output.includes(form), false, 'keytab bytes in the output');
    }
  });

  it('checks before ordering: missing flags, a bad --jwtcc or --tkauth-url, a missing keytab, -d names', async () => {
    const out = join(dir, 'bad', 'fullchain.pem');
    const served = ca.requestCount();
    const base = ['issue', '--server', ca.directoryUrl, '--account-key', account, '--out', out];
    assertFailure(await runCli([...base, '--challenge', 'tkauth-01', '--tkauth-keytab', clientKeytab, '--jwtcc', EJCC_PRIORITY], { env }), 2,
      /^error: --tkauth-url is required for tkauth-01 challenges$/);
    assertFailure(await runCli([...base, '--challenge', 'tkauth-01', '--tkauth-url', unix.url, '--jwtcc', EJCC_PRIORITY], { env }), 2,
      /^error: --tkauth-keytab is required for tkauth-01 challenges$/);
    assertFailure(await issue(['--tkauth-url', unix.url, '--jwtcc', 'not+base64url', '--out', out]), 2, /--jwtcc: not base64url/);
    assertFailure(await issue(['--tkauth-url', unix.url, '--jwtcc', 'AAAA', '--out', out]), 2, /--jwtcc: not the DER/);
    assertFailure(await issue(['--tkauth-url', 'ftp://ta.test/', '--jwtcc', EJCC_PRIORITY, '--out', out]), 2, /--tkauth-url 'ftp:\/\/ta.test\/' must be/);
    assertFailure(await runCli([...base, '--challenge', 'tkauth-01', '--tkauth-url', unix.url, '--tkauth-keytab', join(dir, 'nope.keytab'), '--jwtcc', EJCC_PRIORITY], { env }), 2,
      /cannot read --tkauth-keytab .*nope\.keytab: no such file/);
    assertFailure(await issue(['--tkauth-url', unix.url, '-d', 'example.com', '--out', out]), 2, /tkauth-01 validates only .* not dns example\.com/);
    assert.equal(ca.requestCount(), served, 'nothing was sent to the CA');
    assert.equal(existsSync(out), false);
  });

  it('a Token Authority that does not vouch for the --jwtcc value: the refusal in one line', async () => {
    const out = join(dir, 'refused', 'fullchain.pem');
    const other = Buffer.from('300aa008300616046f726967', 'hex').toString('base64url');
    const r = await issue(['--tkauth-url', unix.url, '--jwtcc', other, '--out', out]);
    assertFailure(r, 1, /fetch authority token from http\+unix:\S+: HTTP 403: .*does not vouch for that identifier/);
  });

  it('without the optional kerberos binding: the install hint, nothing ordered; the rest works', async () => {
    // the CLI as installed without optional dependencies: its launcher and bundle, no node_modules
    const pkg = join(tempDir('akamu-nobinding-'), 'akamu-cli');
    for (const part of ['bin', 'bundle', 'package.json']) cpSync(join(dirname(dirname(cliBin)), part), join(pkg, part), { recursive: true });
    const cli = (args: string[]) => runProgram(process.execPath, [join(pkg, 'bin', 'akamu-cli.js'), ...args], { env });
    const served = ca.requestCount();
    const out = join(dir, 'nobinding', 'fullchain.pem');
    const r = await cli(['issue', '--server', ca.directoryUrl, '--account-key', account, '--challenge', 'tkauth-01',
      '--tkauth-url', unix.url, '--tkauth-keytab', clientKeytab, '--jwtcc', EJCC_PRIORITY, '--out', out]);
    assertFailure(r, 1, /Kerberos \(GSSAPI\) support is not available: the optional package `kerberos` is not installed.*npm install kerberos/);
    assert.equal(ca.requestCount(), served, 'nothing was sent to the CA');
    assert.equal(existsSync(out), false);
    const other = await cli(['account', 'register', '--server', ca.directoryUrl, '--account-key', join(dir, 'nobinding.pem'), '--agree-tos']);
    assertSuccess(other);
  });
});
