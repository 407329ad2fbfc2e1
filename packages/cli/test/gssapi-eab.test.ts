/**
 * GSSAPI-authenticated EAB end to end: the built CLI, a real MIT KDC on loopback (the test kit's
 * throwaway realm) and the test CA's /acme/eab behind the SPNEGO acceptor — register, issue, renew
 * from the renewal config, the failures, the secrets, and the CLI without the optional binding.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kerberosSkip, repoRoot, runProgram, startKdc, startTestCa, type Kdc, type TestCa } from '../../testkit/src/index.js';
import { assertFailure, assertSuccess, runCli, tempDir, type RunResult } from './helpers.js';

const PRINCIPAL = 'acmeclient@ACME.TEST';

describe('GSSAPI-authenticated EAB', { skip: kerberosSkip(), timeout: 240_000 }, () => {
  let kdc: Kdc;
  let ca: TestCa;
  let dir: string;
  let keytab: string;
  let server: string[];
  /** The CLI with the realm's krb5.conf (and nothing of the operator's Kerberos set-up). */
  const cli = (args: string[], env: Record<string, string> = {}): Promise<RunResult> =>
    runCli(args, { env: { ...kdc.env, ...env } });
  const registered = (accountKey: string): string => readFileSync(`${accountKey}.account-url`, 'utf8').trim();

  before(async () => {
    dir = tempDir('akamu-gssapi-');
    kdc = await startKdc({ principals: ['acmeclient', 'ghost', 'stale'] });
    keytab = await kdc.keytab('acmeclient');
    ca = await startTestCa({ dnsServer: false, gssapi: { keytab: kdc.serviceKeytab } });
    server = ['--server', ca.directoryUrl, '--server-ca', ca.caPemPath];
  });
  after(async () => {
    await ca?.stop();
    await kdc?.stop();
  });

  it('account register: the CA binds the account to the Kerberos principal', async () => {
    const key = join(dir, 'reg.pem');
    const r = await cli(['account', 'register', ...server, '--account-key', key, '--agree-tos', '--gssapi-keytab', keytab]);
    assertSuccess(r);
    assert.match(r.stderr, new RegExp(`^GSSAPI authenticated as: ${PRINCIPAL}$`, 'm'));
    assert.doesNotMatch(r.stderr, /proceeding without EAB/);
    assert.equal(ca.accountPrincipal(registered(key)), PRINCIPAL);
    // the CA really requires EAB: without the keytab the same registration is refused
    const bare = await cli(['account', 'register', ...server, '--account-key', join(dir, 'bare.pem'), '--agree-tos']);
    assertFailure(bare, 1, /externalAccountRequired/);
  });

  it('a CA that only authenticates: the principal is printed, and registration goes on without EAB', async () => {
    const plain = await startTestCa({ dnsServer: false, gssapi: { keytab: kdc.serviceKeytab, issueEab: false } });
    try {
      const key = join(dir, 'plain.pem');
      const r = await cli(['account', 'register', '--server', plain.directoryUrl, '--server-ca', plain.caPemPath, '--account-key', key, '--agree-tos', '--gssapi-keytab', keytab]);
      assertSuccess(r);
      assert.match(r.stderr, new RegExp(`^GSSAPI authenticated as: ${PRINCIPAL}\nNote: the server did not return EAB credentials; proceeding without EAB\\.$`, 'm'));
      assert.equal(plain.accountPrincipal(registered(key)), undefined);
    } finally {
      await plain.stop();
    }
  });

  it('over http+unix://: /acme/eab on the same socket, service HTTP@<local hostname>', async () => {
    const unix = await startTestCa({ dnsServer: false, socketPath: join(dir, 'ca.sock'), gssapi: { keytab: kdc.serviceKeytab } });
    try {
      const key = join(dir, 'unix.pem');
      const r = await cli(['-v', 'account', 'register', '--server', unix.directoryUrl, '--account-key', key, '--agree-tos', '--gssapi-keytab', keytab]);
      assertSuccess(r);
      assert.match(r.stderr, new RegExp(`authenticated to HTTP@${hostname().replace(/\./g, '\\.')} as ${PRINCIPAL}`));
      assert.match(r.stderr, new RegExp(`^GSSAPI authenticated as: ${PRINCIPAL}$`, 'm'));
      assert.equal(unix.accountPrincipal(registered(key)), PRINCIPAL);
    } finally {
      await unix.stop();
    }
  });

  it('a missing keytab, a wrong (stale) keytab and an unknown principal: one clear error line each, no account', async () => {
    const cases: [string, RegExp][] = [
      [join(dir, 'missing.keytab'), /^error: cannot read the keytab .*missing\.keytab: no such file$/],
    ];
    const ghost = await kdc.keytab('ghost');
    await kdc.removePrincipal('ghost');
    cases.push([ghost, /^error: Kerberos authentication to HTTP@127\.0\.0\.1 failed: the KDC does not know the principal ghost@ACME\.TEST of the keytab .* \(wrong keytab, or the principal was removed\)$/]);
    const stale = await kdc.keytab('stale');
    await kdc.rekey('stale');
    cases.push([stale, /^error: Kerberos authentication to HTTP@127\.0\.0\.1 failed: the KDC rejected the keys in the keytab .*: they are outdated or not this principal's \(wrong keytab\)$/]);
    for (const [i, [kt, pattern]] of cases.entries()) {
      const key = join(dir, `bad-${i}.pem`);
      const r = await cli(['account', 'register', ...server, '--account-key', key, '--agree-tos', '--gssapi-keytab', kt]);
      assertFailure(r, 1, pattern);
      assert.ok(!existsSync(`${key}.account-url`), 'no account registered');
    }
  });

  it('--gssapi-keytab with --eab-kid / --eab-key is a usage error and sends nothing', async () => {
    const before = ca.requestCount();
    for (const extra of [['--eab-kid', 'k1'], ['--eab-key', 'AAAA'], ['--eab-kid', 'k1', '--eab-key', 'AAAA']]) {
      const r = await cli(['account', 'register', ...server, '--account-key', join(dir, 'mix.pem'), '--agree-tos', '--gssapi-keytab', keytab, ...extra]);
      assertFailure(r, 2, /^error: --gssapi-keytab cannot be combined with --eab-kid \/ --eab-key$/);
      const i = await cli(['issue', ...server, '--account-key', join(dir, 'mix.pem'), '-d', 'mix.example.com', '--out', join(dir, 'mix', 'c.pem'), '--gssapi-keytab', keytab, ...extra]);
      assertFailure(i, 2, /^error: --gssapi-keytab cannot be combined with --eab-kid \/ --eab-key$/);
    }
    assert.equal(ca.requestCount(), before, 'nothing was sent');
    assert.ok(!existsSync(join(dir, 'mix.pem')), 'no key written');
  });

  it('issue registers through GSSAPI EAB; renew --renewal-config registers anew from the stored gssapi_keytab', async () => {
    const key = join(dir, 'issue.pem');
    const out = join(dir, 'issued', 'chain.pem');
    const r = await cli(['issue', ...server, '--account-key', key, '-d', 'kerberos.example.com', '--http-port', String(ca.httpPort), '--out', out, '--gssapi-keytab', keytab]);
    assertSuccess(r);
    assert.match(r.stderr, new RegExp(`^GSSAPI authenticated as: ${PRINCIPAL}$`, 'm'));
    assert.equal(ca.accountPrincipal(registered(key)), PRINCIPAL);
    const configPath = `${out}.renewal.toml`;
    assert.match(readFileSync(configPath, 'utf8'), new RegExp(`^gssapi_keytab = "${keytab.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"$`, 'm'));
    // an existing account needs no EAB: nothing is asked of /acme/eab
    const asked = ca.gssapiAuthenticated().length;
    const again = await cli(['issue', ...server, '--account-key', key, '-d', 'kerberos.example.com', '--http-port', String(ca.httpPort), '--out', out, '--gssapi-keytab', keytab]);
    assertSuccess(again);
    assert.doesNotMatch(again.stderr, /GSSAPI authenticated/);
    assert.equal(ca.gssapiAuthenticated().length, asked);
    // the account is gone (a new host, say): renew registers a new one through the stored keytab
    rmSync(key);
    rmSync(`${key}.account-url`);
    const renewed = await cli(['renew', '--renewal-config', configPath, '--server-ca', ca.caPemPath, '--force']);
    assertSuccess(renewed);
    assert.match(renewed.stderr, new RegExp(`^GSSAPI authenticated as: ${PRINCIPAL}$`, 'm'));
    assert.equal(ca.accountPrincipal(registered(key)), PRINCIPAL);
  });

  it('no token, HMAC key or keytab bytes in the output at -vv or AKAMU_LOG=trace', async () => {
    const keytabBytes = readFileSync(keytab);
    const runs = [
      await cli(['-vv', 'account', 'register', ...server, '--account-key', join(dir, 'vv.pem'), '--agree-tos', '--gssapi-keytab', keytab]),
      await cli(['account', 'register', ...server, '--account-key', join(dir, 'trace.pem'), '--agree-tos', '--gssapi-keytab', keytab], { AKAMU_LOG: 'trace' }),
    ];
    const secrets = ca.gssapiSecrets();
    assert.ok(secrets.length >= 8, 'tokens and keys were recorded');
    for (const r of runs) {
      assertSuccess(r);
      const text = r.stdout + r.stderr;
      assert.match(text, /Negotiate/, 'the log says that Negotiate was used');
      assert.match(text, /kid krb-/, 'the kid may be shown');
      for (const s of secrets) assert.ok(!text.includes(s.slice(0, 24)), `a secret appears in the output: ${s.slice(0, 8)}…`);
      for (let i = 0; i + 16 <= keytabBytes.length; i += 4) {
        const w = keytabBytes.subarray(i, i + 16);
        assert.ok(!text.includes(w.toString('base64')) && !text.includes(w.toString('hex')), 'no keytab bytes in the output');
      }
    }
  });

  describe('without the optional kerberos binding', () => {
    let cliCopy: string;
    before(() => {
      // the CLI as shipped (launcher + bundle) outside the repository: `kerberos` cannot be
      // resolved from there, exactly as where it was never installed
      cliCopy = join(tempDir('akamu-no-krb-'), 'akamu-cli');
      for (const part of ['bin', 'bundle', 'package.json']) cpSync(join(repoRoot, 'packages', 'cli', part), join(cliCopy, part), { recursive: true });
    });
    const run = (args: string[]): Promise<RunResult> =>
      runProgram(process.execPath, [join(cliCopy, 'bin', 'akamu-cli.js'), ...args], { env: { ...kdc.env, NODE_PATH: undefined } });
    const hint = /^error: (register: )?Kerberos \(GSSAPI\) support is not available: the optional package `kerberos` is not installed — install the MIT Kerberos development files .*libkrb5-dev.*`npm install kerberos`/;

    it('each Kerberos feature fails with the install hint; nothing is registered', async () => {
      const key = join(dir, 'nokrb.pem');
      assertFailure(await run(['account', 'register', ...server, '--account-key', key, '--agree-tos', '--gssapi-keytab', keytab]), 1, hint);
      assert.ok(!existsSync(`${key}.account-url`));
      const out = join(dir, 'nokrb', 'chain.pem');
      assertFailure(await run(['issue', ...server, '--account-key', key, '-d', 'nokrb.example.com', '--http-port', String(ca.httpPort), '--out', out, '--gssapi-keytab', keytab]), 1, hint);
      assert.ok(!existsSync(out));
    });

    it('everything else works', async () => {
      const plain = await startTestCa({ dnsServer: false });
      try {
        const key = join(dir, 'nokrb-plain.pem');
        const s = ['--server', plain.directoryUrl, '--server-ca', plain.caPemPath];
        assertSuccess(await run(['account', 'register', ...s, '--account-key', key, '--agree-tos']));
        const out = join(dir, 'nokrb-plain', 'chain.pem');
        assertSuccess(await run(['issue', ...s, '--account-key', key, '-d', 'plain.example.com', '--http-port', String(plain.httpPort), '--out', out]));
        assert.match(readFileSync(out, 'utf8'), /^-----BEGIN CERTIFICATE-----/);
      } finally {
        await plain.stop();
      }
    });
  });
});
