/** End to end: `akamu-cli issue` and `revoke` over http-01, tls-alpn-01 and dns-01 against Pebble 2.10. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliBin } from '../../testkit/src/index.js';
import { EAB, setupWithAccount, setupWithEab, runCli, openssl, assertFailure, assertSuccess, mode, snapshot, verifyChain, serialOf, type Env, type AccountEnv } from './helpers.js';

const HOOK = `#!/usr/bin/env node
// test DNS hook: publishes the TXT record through challtestsrv's management API
const [op] = process.argv.slice(2);
const base = process.env.CHALLTESTSRV;
if (process.env.FAIL_HOOK) { console.error('zone is locked'); process.exit(3); }
const body = op === 'add' ? { host: process.env.AKAMU_RECORD_NAME, value: process.env.AKAMU_TXT } : { host: process.env.AKAMU_RECORD_NAME };
const res = await fetch(base + (op === 'add' ? '/set-txt' : '/clear-txt'), { method: 'POST', body: JSON.stringify(body) });
if (!res.ok) { console.error('challtestsrv said ' + res.status); process.exit(1); }
`;

describe('issue and revoke', () => {
  let env: AccountEnv;
  let key: string;
  before(async () => {
    env = await setupWithAccount();
    key = env.key;
  });
  after(async () => env.pebble.stop());

  const issue = (extra: string[], opts: { env?: Record<string, string> } = {}) =>
    runCli(['issue', ...env.server, '--account-key', key, '--http-port', String(env.pebble.httpPort), '--tls-port', String(env.pebble.tlsPort), ...extra], opts);

  it('http-01 with several names: chain verifies, key matches, files are 0600', async () => {
    const out = join(env.dir, 'web', 'fullchain.pem');
    const r = await issue(['-d', 'example.com', '-d', 'www.example.com', '-d', 'api.example.com', '--out', out]);
    assertSuccess(r);
    assert.match(r.stdout, new RegExp(`Certificate key saved to ${out}.key.pem`));
    assert.match(r.stdout, new RegExp(`Certificate written to ${out}`));
    assert.match(r.stdout, /^Certificate URL: {2}https:\/\/\S+$/m);
    assert.match(r.stdout, new RegExp(`Certificate key: {2}${out}.key.pem`));
    const text = await verifyChain(env, out, `${out}.key.pem`);
    assert.match(text, /DNS:example\.com/);
    assert.match(text, /DNS:www\.example\.com/);
    assert.match(text, /DNS:api\.example\.com/);
    assert.equal(mode(out), 0o600);
    assert.equal(mode(`${out}.key.pem`), 0o600);
    assert.match(readFileSync(`${out}.key.pem`, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.match(await openssl(['pkey', '-in', `${out}.key.pem`, '-noout', '-text']), /prime256v1|P-256/);
  });

  it('tls-alpn-01', async () => {
    const out = join(env.dir, 'alpn', 'fullchain.pem');
    const r = await issue(['-d', 'alpn.example.com', '--challenge', 'tls-alpn-01', '--out', out]);
    assertSuccess(r);
    assert.match(await verifyChain(env, out, `${out}.key.pem`), /DNS:alpn\.example\.com/);
  });

  it('refuses wildcards for http-01 and tls-alpn-01 before ordering', async () => {
    const before = env.pebble.requestCount();
    const r = await issue(['-d', '*.example.com', '-d', 'example.com', '--out', join(env.dir, 'w.pem')]);
    assertFailure(r, 2, /http-01 cannot validate wildcard identifiers: \*\.example\.com; use --challenge dns-01$/);
    const t = await issue(['-d', '*.example.com', '--challenge', 'tls-alpn-01', '--out', join(env.dir, 'w.pem')]);
    assertFailure(t, 2, /tls-alpn-01 cannot validate wildcard/);
    assert.equal(env.pebble.requestCount(), before, 'nothing was sent to the server');
  });

  it('dns-01 through a hook: wildcard + apex', async () => {
    const hook = join(env.dir, 'hook.mjs');
    writeFileSync(hook, HOOK);
    chmodSync(hook, 0o755);
    const out = join(env.dir, 'wild', 'fullchain.pem');
    const r = await issue(['-d', '*.dns.example', '-d', 'dns.example', '--challenge', 'dns-01', '--dns-hook', hook, '--out', out],
      { env: { CHALLTESTSRV: env.pebble.challtestsrvUrl } });
    assertSuccess(r);
    const text = await verifyChain(env, out, `${out}.key.pem`);
    assert.match(text, /DNS:\*\.dns\.example/);
    assert.match(text, /DNS:dns\.example/);
  });

  it('a failing hook gives one error line with its stderr and leaves existing files untouched', async () => {
    const hook = join(env.dir, 'hook-fail.mjs');
    writeFileSync(hook, HOOK);
    chmodSync(hook, 0o755);
    const out = join(env.dir, 'web', 'fullchain.pem'); // issued by the first test
    const before = snapshot([out, `${out}.key.pem`]);
    const r = await issue(['-d', 'fail.example', '--challenge', 'dns-01', '--dns-hook', hook, '--out', out],
      { env: { CHALLTESTSRV: env.pebble.challtestsrvUrl, FAIL_HOOK: '1' } });
    assertFailure(r, 1, /dns hook '.*hook-fail\.mjs' add exited with status 3: zone is locked/);
    assert.equal(snapshot([out, `${out}.key.pem`]), before);
  });

  it('dns-01 through the manual prompt, answered on stdin', async () => {
    const out = join(env.dir, 'manual', 'fullchain.pem');
    const args = ['issue', ...env.server, '--account-key', key, '-d', 'manual.example', '-d', '*.manual.example', '--challenge', 'dns-01', '--out', out];
    const child = spawn(process.execPath, [cliBin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let answered = 0;
    const prompts: string[] = [];
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', async (d: Buffer) => {
      stderr += d.toString();
      const pattern = /DNS-01 challenge for (\S+):\nName: (\S+)\nType: TXT\nValue: (\S+)\nPress Enter after the TXT record has propagated \(Ctrl-C to abort\)\.\.\./g;
      const found = [...stderr.matchAll(pattern)];
      while (answered < found.length) {
        const m = found[answered++]!;
        prompts.push(m[1]!);
        await env.pebble.setTxt(m[2]!, m[3]!);
        child.stdin.write('\n');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `stdout: ${stdout}\nstderr: ${stderr}`);
    assert.deepEqual(prompts.sort(), ['*.manual.example', 'manual.example']);
    assert.match(await verifyChain(env, out, `${out}.key.pem`), /DNS:\*\.manual\.example/);
  });

  it('manual dns-01 with stdin closed aborts cleanly', async () => {
    const out = join(env.dir, 'eof', 'fullchain.pem');
    const r = await issue(['-d', 'eof.example', '--challenge', 'dns-01', '--out', out]);
    assertFailure(r, 1, /stdin closed \(EOF\) — aborting dns-01 challenge/);
    assert.equal(existsSync(out), false);
  });

  it('--cert-key reuses the same key across issuances', async () => {
    const certKey = join(env.dir, 'pinned', 'key.pem');
    const a = join(env.dir, 'pinned', 'a.pem');
    const b = join(env.dir, 'pinned', 'b.pem');
    assertSuccess(await issue(['-d', 'pinned.example', '--cert-key', certKey, '--cert-key-type', 'ec:P-384', '--out', a]));
    const keyBefore = readFileSync(certKey, 'utf8');
    assertSuccess(await issue(['-d', 'pinned.example', '--cert-key', certKey, '--out', b]));
    assert.equal(readFileSync(certKey, 'utf8'), keyBefore);
    const pub = async (p: string) => openssl(['x509', '-in', p, '-noout', '-pubkey']);
    assert.equal(await pub(a), await pub(b));
    await verifyChain(env, b, certKey);
  });

  for (const type of ['ec:P-256', 'ec:P-384', 'ec:P-521', 'rsa:2048', 'rsa:3072', 'rsa:4096']) {
    it(`certificate key type ${type}`, async () => {
      const out = join(env.dir, `kt-${type.replace(':', '-')}`, 'fullchain.pem');
      assertSuccess(await issue(['-d', `kt-${type.replace(':', '-').toLowerCase()}.example`, '--cert-key-type', type, '--out', out]));
      const text = await verifyChain(env, out, `${out}.key.pem`);
      const [kind, size] = type.split(':') as [string, string];
      if (kind === 'rsa') assert.match(text, new RegExp(`Public-Key: \\(${size} bit\\)`));
      else assert.match(text, new RegExp(`Public-Key: \\(${size === 'P-521' ? 521 : size === 'P-384' ? 384 : 256} bit\\)`));
    });
  }

  it('an Ed25519 certificate key is refused by Pebble at finalize, reported clearly, nothing written', async () => {
    const out = join(env.dir, 'ed', 'fullchain.pem');
    const r = await issue(['-d', 'ed.example', '--cert-key-type', 'ed25519', '--out', out]);
    assertFailure(r, 1, /ACME error urn:ietf:params:acme:error:badCSR|ACME error .*(key|algorithm)/i);
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(`${out}.key.pem`), false);
  });

  it('revoke with the account key, then with the certificate key; reason 7 refused', async () => {
    const a = join(env.dir, 'rev', 'a.pem');
    const b = join(env.dir, 'rev', 'b.pem');
    assertSuccess(await issue(['-d', 'rev-a.example', '--out', a]));
    assertSuccess(await issue(['-d', 'rev-b.example', '--out', b]));

    const bad = await runCli(['revoke', ...env.server, '--account-key', key, '--cert', a, '--reason', '7']);
    assertFailure(bad, 2, /invalid reason code 7; valid values: 0–6, 8–10/);

    const serialA = serialOf(await openssl(['x509', '-in', a, '-noout', '-serial']));
    assert.equal((await env.pebble.certStatus(serialA)).Status, 'Valid');
    const r1 = await runCli(['revoke', ...env.server, '--account-key', key, '--cert', a, '--reason', '1']);
    assertSuccess(r1);
    assert.equal(r1.stdout, `Revoked: ${a}\n`);
    assert.equal((await env.pebble.certStatus(serialA)).Status, 'Revoked');

    const serialB = serialOf(await openssl(['x509', '-in', b, '-noout', '-serial']));
    const r2 = await runCli(['revoke', ...env.server, '--cert', b, '--cert-key', `${b}.key.pem`]);
    assertSuccess(r2);
    assert.equal((await env.pebble.certStatus(serialB)).Status, 'Revoked');

    const again = await runCli(['revoke', ...env.server, '--account-key', key, '--cert', a]);
    assertFailure(again, 1, /alreadyRevoked/);
  });

  it('features of later versions fail with a usage error instead of doing something else', async () => {
    const out = join(env.dir, 'later.pem');
    assertFailure(await issue(['-d', 'x.example', '--challenge', 'http-02', '--out', out]), 2, /unsupported challenge type 'http-02'/);
    assert.equal(existsSync(out), false);
  });
});

describe('External Account Binding', () => {
  let env: Env;
  const { kid, hmac } = EAB;
  before(async () => {
    env = await setupWithEab();
  });
  after(async () => env.pebble.stop());

  it('missing, wrong and right credentials', async () => {
    const key = join(env.dir, 'eab.pem');
    const base = ['account', 'register', ...env.server, '--account-key', key, '--agree-tos'];
    assertFailure(await runCli(base), 1, /externalAccountRequired/);
    assert.equal(existsSync(key), false, 'nothing written after a refused registration');
    const wrong = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    assertFailure(await runCli([...base, '--eab-kid', kid, '--eab-key', wrong]), 1, /ACME error/);
    assertFailure(await runCli([...base, '--eab-kid', kid]), 2, /--eab-kid and --eab-key must both be provided/);
    assertFailure(await runCli([...base, '--eab-kid', kid, '--eab-key', `${hmac}==`]), 2, /--eab-key is not base64url/);
    const ok = await runCli([...base, '--eab-kid', kid, '--eab-key', hmac]);
    assertSuccess(ok);
    assert.match(ok.stdout, /Registered: https:/);
    assert.doesNotMatch(ok.stdout + ok.stderr, new RegExp(hmac), 'the HMAC key is never echoed');
  });

  it('issue registers inline with EAB', async () => {
    const key = join(env.dir, 'inline.pem');
    const out = join(env.dir, 'inline', 'fullchain.pem');
    const r = await runCli(['issue', ...env.server, '--account-key', key, '--eab-kid', kid, '--eab-key', hmac,
      '-d', 'eab.example', '--http-port', String(env.pebble.httpPort), '--out', out], { env: { AKAMU_LOG: 'trace' } });
    assertSuccess(r);
    assert.match(r.stdout, /Registered new account: https:/);
    // even at trace level, with every JWS logged, no secret reaches the output
    assert.match(r.stderr, /TRACE/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(hmac), 'the EAB HMAC key is not logged');
    assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY|"d":"/, 'no private key material is logged');
    assert.doesNotMatch(readFileSync(`${out}.renewal.toml`, 'utf8'), new RegExp(`eab_key|${hmac}`));
    assert.match(readFileSync(`${out}.renewal.toml`, 'utf8'), /eab_kid = "kid-1"/);
    await verifyChain(env, out, `${out}.key.pem`);
  });
});
