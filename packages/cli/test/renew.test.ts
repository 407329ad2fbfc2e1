/** End to end: renewal sidecar, ARI-aware `renew`, profiles and dns-persist-01 against Pebble 2.10. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { ariCertId } from 'akamu-client';
import { cliBin, startDirectoryProxy } from '../../testkit/src/index.js';
import { setupWithAccount, runCli, openssl, assertFailure, assertSuccess, mode, snapshot, verifyChain, serialOf, type Env, type AccountEnv } from './helpers.js';

/** Days between notBefore and notAfter of the leaf. */
async function lifetimeDays(chain: string): Promise<number> {
  const text = await openssl(['x509', '-in', chain, '-noout', '-startdate', '-enddate']);
  const start = Date.parse(/notBefore=(.+)/.exec(text)![1]!);
  const end = Date.parse(/notAfter=(.+)/.exec(text)![1]!);
  return (end - start) / 86_400_000;
}

const PERSIST_HOOK = `#!/usr/bin/env node
// test DNS hook: publishes the record through challtestsrv; dns-persist-01 only ever calls "add"
const [op] = process.argv.slice(2);
const log = process.env.HOOK_LOG;
if (log) require('node:fs').appendFileSync(log, op + ' ' + process.env.AKAMU_CHALLENGE + ' ' + process.env.AKAMU_RECORD_NAME + ' ' + process.env.AKAMU_TXT + '\\n');
if (op !== 'add') process.exit(0);
fetch(process.env.CHALLTESTSRV + '/set-txt', { method: 'POST', body: JSON.stringify({ host: process.env.AKAMU_RECORD_NAME, value: process.env.AKAMU_TXT }) })
  .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
`;

describe('renewal', () => {
  let env: AccountEnv;
  let key: string;
  before(async () => {
    env = await setupWithAccount();
    key = env.key;
  });
  after(async () => env.pebble.stop());

  const issue = (extra: string[]) =>
    runCli(['issue', ...env.server, '--account-key', key, '--http-port', String(env.pebble.httpPort), ...extra]);

  it('issue writes the renewal sidecar; renew --renewal-config alone repeats the issuance', async () => {
    const out = join(env.dir, 'site', 'fullchain.pem');
    const r = await issue(['-d', 'site.example', '-d', 'www.site.example', '--cert-key-type', 'ec:P-384', '--out', out]);
    assertSuccess(r);
    const cfgPath = `${out}.renewal.toml`;
    assert.match(r.stdout, new RegExp(`Renewal config: {3}${cfgPath}\nTo renew: akamu-cli renew --renewal-config ${cfgPath}`));
    assert.equal(mode(cfgPath), 0o600);
    const { profile, ...cfg } = JSON.parse(JSON.stringify(parse(readFileSync(cfgPath, 'utf8')))) as Record<string, unknown>;
    // no profile was asked for: Pebble picks one and echoes it; the echo is what renewals ask for
    assert.ok(profile === 'default' || profile === 'shortlived', `echoed profile stored, got ${String(profile)}`);
    assert.deepEqual(cfg, {
      server: env.pebble.directoryUrl,
      account_key: key,
      account_key_type: 'ec:P-256',
      cert_path: out,
      cert_key_path: `${out}.key.pem`,
      cert_key_type: 'ec:P-384',
      challenge_type: 'http-01',
      http_port: env.pebble.httpPort,
      tls_port: 443,
      poll_timeout: 120,
      eab_alg: 'HS256',
      contacts: [],
      domains: [{ type: 'dns', value: 'site.example' }, { type: 'dns', value: 'www.site.example' }],
    });
    assert.doesNotMatch(readFileSync(cfgPath, 'utf8'), /server_ca|eab_key/);

    const serialBefore = serialOf(await openssl(['x509', '-in', out, '-noout', '-serial']));
    const keyBefore = readFileSync(`${out}.key.pem`, 'utf8');
    const rr = await runCli(['renew', '--renewal-config', cfgPath, '--server-ca', env.pebble.caPemPath, '--force']);
    assertSuccess(rr);
    const text = await verifyChain(env, out, `${out}.key.pem`);
    assert.notEqual(serialOf(text), serialBefore, 'a new certificate');
    assert.match(text, /DNS:site\.example/);
    assert.match(text, /DNS:www\.site\.example/);
    assert.match(text, /Public-Key: \(384 bit\)/);
    assert.notEqual(readFileSync(`${out}.key.pem`, 'utf8'), keyBefore, 'a new certificate key (of the stored type) on every renewal');
  });

  it('ARI: a fresh certificate is not yet due; after revocation renew renews with replaces; --force always renews', async () => {
    const out = join(env.dir, 'ari', 'fullchain.pem');
    assertSuccess(await issue(['-d', 'ari.example', '--out', out]));
    const cfgPath = `${out}.renewal.toml`;
    const before = snapshot([out, `${out}.key.pem`, cfgPath]);
    const orders = () => (env.pebble.logText().match(/order-plz/g) ?? []).length;
    const ordersBefore = orders();
    const notDue = await runCli(['renew', '--renewal-config', cfgPath, '--server-ca', env.pebble.caPemPath]);
    assertSuccess(notDue);
    assert.match(notDue.stdout, /^Renewal not yet due for .*: due at \S+ \(ARI window \S+ – \S+\)\. Use --force to renew now\.$/m);
    assert.equal(orders(), ordersBefore, 'no newOrder was sent');
    assert.equal(snapshot([out, `${out}.key.pem`, cfgPath]), before, 'nothing changed on disk');

    const certId = await ariCertId(readFileSync(out, 'utf8'));
    assertSuccess(await runCli(['revoke', ...env.server, '--account-key', key, '--cert', out, '--reason', '4']));
    const due = await runCli(['-v', 'renew', '--renewal-config', cfgPath, '--server-ca', env.pebble.caPemPath]);
    assertSuccess(due);
    assert.match(due.stdout, /ARI: renewal suggested/);
    assert.ok(due.stderr.includes(`replaces=${certId}`), `Pebble echoed replaces: ${due.stderr}`);
    await verifyChain(env, out, `${out}.key.pem`);

    // a fresh certificate again: not due, but --force renews
    const serial = serialOf(await openssl(['x509', '-in', out, '-noout', '-serial']));
    const forced = await runCli(['renew', '--renewal-config', cfgPath, '--server-ca', env.pebble.caPemPath, '--force']);
    assertSuccess(forced);
    assert.notEqual(serialOf(await openssl(['x509', '-in', out, '-noout', '-serial'])), serial);
  });

  it('renew with flags alone and --cert', async () => {
    const out = join(env.dir, 'flags', 'fullchain.pem');
    assertSuccess(await issue(['-d', 'flags.example', '--out', out]));
    const args = ['renew', ...env.server, '--account-key', key, '-d', 'flags.example', '--out', out, '--http-port', String(env.pebble.httpPort)];
    const withCert = await runCli([...args, '--cert', out]);
    assertSuccess(withCert);
    assert.match(withCert.stdout, /Renewal not yet due/);
    const withoutCert = await runCli(args); // the reference: without --cert there is no ARI check
    assertSuccess(withoutCert);
    assert.match(withoutCert.stdout, /Certificate written to/);
    assertFailure(await runCli(['renew', ...env.server, '-d', 'x.example', '--out', out]), 2, /--account-key is required unless --renewal-config/);
  });

  it('a CA without renewalInfo: the expiry rule decides, said at info (a cron job stays silent); a failing ARI request warns', async () => {
    const proxy = await startDirectoryProxy(env.pebble, (d) => {
      const { renewalInfo: _drop, ...rest } = d;
      return rest;
    });
    // a directory whose renewalInfo answers 404 (only /dir exists on the proxy)
    const broken = await startDirectoryProxy(env.pebble, (d) => ({ ...d, renewalInfo: `${proxy.directoryUrl.replace(/\/dir$/, '')}/no-ari` }));
    try {
      const out = join(env.dir, 'noari', 'fullchain.pem');
      assertSuccess(await issue(['-d', 'noari.example', '--out', out]));
      const renew = (server: string, opts: { env?: Record<string, string> } = {}) =>
        runCli(['renew', '--renewal-config', `${out}.renewal.toml`, '--server', server, '--server-ca', env.pebble.caPemPath], opts);
      const r = await renew(proxy.directoryUrl);
      assertSuccess(r);
      assert.equal(r.stderr, '', 'nothing on stderr at the default level');
      assert.match(r.stdout, /Renewal not yet due for .*: it expires \S+; due at \S+\. Use --force to renew now\./);
      const info = await renew(proxy.directoryUrl, { env: { AKAMU_LOG: 'info' } });
      assertSuccess(info);
      assert.match(info.stderr, /^INFO {2}akamu_cli: the server does not support ARI \(no renewalInfo in its directory\); using the expiry rule$/m);
      const failed = await renew(broken.directoryUrl);
      assertSuccess(failed);
      assert.match(failed.stderr, /^WARN {2}akamu_cli: ARI unavailable \(.*\); using the expiry rule$/m);
    } finally {
      await proxy.stop();
      await broken.stop();
    }
  });

  it('profiles: shortlived is issued, stored and reused; an unknown profile warns and shows invalidProfile', async () => {
    const out = join(env.dir, 'short', 'fullchain.pem');
    const r = await issue(['-d', 'short.example', '--profile', 'shortlived', '--out', out]);
    assertSuccess(r);
    const days = await lifetimeDays(out);
    assert.ok(days > 5 && days < 7, `about 6 days, got ${days}`);
    const cfgPath = `${out}.renewal.toml`;
    assert.equal(parse(readFileSync(cfgPath, 'utf8')).profile, 'shortlived');
    assertSuccess(await runCli(['renew', '--renewal-config', cfgPath, '--server-ca', env.pebble.caPemPath, '--force']));
    const renewedDays = await lifetimeDays(out);
    assert.ok(renewedDays > 5 && renewedDays < 7, `renewal used the stored profile, got ${renewedDays} days`);

    const bad = await issue(['-d', 'bad-profile.example', '--profile', 'no-such-profile', '--out', join(env.dir, 'bp.pem')]);
    assertFailure(bad, 1, /ACME error urn:ietf:params:acme:error:invalidProfile/);
    assert.match(bad.stderr, /does not list profile 'no-such-profile' \(offered: .*shortlived.*\); requesting it anyway/);
  });

  it('a renewal that fails half-way leaves chain, key and sidecar byte-for-byte unchanged', async () => {
    const out = join(env.dir, 'safe', 'fullchain.pem');
    assertSuccess(await issue(['-d', 'safe.example', '--out', out]));
    const cfgPath = `${out}.renewal.toml`;
    const files = [out, `${out}.key.pem`, cfgPath];
    const before = snapshot(files);
    // the challenge fails: our http-01 server listens where Pebble does not look
    const { freePort } = await import('../../testkit/src/index.js');
    const failChallenge = await runCli(['renew', '--renewal-config', cfgPath, '--server-ca', env.pebble.caPemPath, '--force',
      '--http-port', String(await freePort()), '--poll-timeout', '20']);
    assertFailure(failChallenge, 1, /ACME error|timed out/);
    assert.equal(snapshot(files), before);
    // the server refuses at finalize (Pebble does not issue for Ed25519 keys); a new key type was asked for
    const failFinalize = await runCli(['renew', '--renewal-config', cfgPath, '--server-ca', env.pebble.caPemPath, '--force', '--cert-key-type', 'ed25519']);
    assertFailure(failFinalize, 1, /ACME error/);
    assert.equal(snapshot(files), before);
    // and asking for a new key type that works replaces key and chain together
    assertSuccess(await runCli(['renew', '--renewal-config', cfgPath, '--server-ca', env.pebble.caPemPath, '--force', '--cert-key-type', 'rsa:2048']));
    const text = await verifyChain(env, out, `${out}.key.pem`);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.equal(parse(readFileSync(cfgPath, 'utf8')).cert_key_type, 'rsa:2048');
  });

  it('dns-persist-01 through a hook (plain and wildcard), record left in place for the next issuance', async () => {
    const hook = join(env.dir, 'persist-hook.cjs');
    writeFileSync(hook, PERSIST_HOOK);
    chmodSync(hook, 0o755);
    const hookLog = join(env.dir, 'persist-hook.log');
    const hookEnv = { env: { CHALLTESTSRV: env.pebble.challtestsrvUrl, HOOK_LOG: hookLog } };
    const accountUrl = readFileSync(`${key}.account-url`, 'utf8');
    const out = join(env.dir, 'persist', 'fullchain.pem');
    const args = ['issue', ...env.server, '--account-key', key, '--challenge', 'dns-persist-01', '--dns-hook', hook];
    assertSuccess(await runCli([...args, '-d', 'persist.example', '--out', out], hookEnv));
    await verifyChain(env, out, `${out}.key.pem`);
    const lines = readFileSync(hookLog, 'utf8').trim().split('\n');
    assert.deepEqual(lines, [`add dns-persist-01 _validation-persist.persist.example. pebble.letsencrypt.org; accounturi=${accountUrl}`]);

    const wild = join(env.dir, 'persist-wild', 'fullchain.pem');
    assertSuccess(await runCli([...args, '-d', '*.wild-persist.example', '-d', 'wild-persist.example', '--out', wild], hookEnv));
    assert.match(await verifyChain(env, wild, `${wild}.key.pem`), /DNS:\*\.wild-persist\.example/);
    assert.match(readFileSync(hookLog, 'utf8'), /_validation-persist\.wild-persist\.example\. pebble\.letsencrypt\.org; accounturi=\S+; policy=wildcard/);
    assert.doesNotMatch(readFileSync(hookLog, 'utf8'), /^remove/m, 'the hook is never asked to remove the record');

    // the record stays: a second issuance succeeds with a hook that changes nothing
    const noop = join(env.dir, 'noop-hook.sh');
    writeFileSync(noop, '#!/bin/sh\nexit 0\n');
    chmodSync(noop, 0o755);
    const again = join(env.dir, 'persist2', 'fullchain.pem');
    assertSuccess(await runCli(['issue', ...env.server, '--account-key', key, '--challenge', 'dns-persist-01', '--dns-hook', noop, '-d', 'persist.example', '--out', again]));
    await verifyChain(env, again, `${again}.key.pem`);
  });

  it('dns-persist-01 through the manual prompt', async () => {
    const out = join(env.dir, 'persist-manual', 'fullchain.pem');
    const child = spawn(process.execPath, [cliBin, 'issue', ...env.server, '--account-key', key, '--challenge', 'dns-persist-01',
      '-d', 'manual-persist.example', '--out', out], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let answered = false;
    child.stderr.on('data', async (d: Buffer) => {
      stderr += d.toString();
      const m = /DNS-persist-01 challenge for manual-persist\.example:\nName: (\S+)\nType: TXT\nValue: (.+)\nPress Enter/.exec(stderr);
      if (m && !answered) {
        answered = true;
        assert.equal(m[1], '_validation-persist.manual-persist.example.');
        await env.pebble.setTxt(m[1]!, m[2]!);
        child.stdin.write('\n');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    await verifyChain(env, out, `${out}.key.pem`);
  });
});

