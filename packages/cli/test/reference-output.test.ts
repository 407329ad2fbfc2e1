/**
 * End to end against Pebble: the command reference's logging, output and error texts, to the letter
 * (issue 11, items 1–6, 10, 11). Each test fails on the behaviour the issue describes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliBin } from '../../testkit/src/index.js';
import { setupWithAccount, runCli, openssl, assertFailure, assertSuccess, type AccountEnv } from './helpers.js';

describe('logging, output and error texts of the reference', () => {
  let env: AccountEnv;
  before(async () => {
    env = await setupWithAccount();
  });
  after(async () => env.pebble.stop());

  const issueArgs = (name: string, out: string, key = env.key) =>
    ['issue', ...env.server, '--account-key', key, '--http-port', String(env.pebble.httpPort), '-d', name, '--out', out];

  it('RUST_LOG=warn overrides -v: no debug lines', async () => {
    const r = await runCli(['-v', ...issueArgs('quiet.example', join(env.dir, 'quiet', 'c.pem'))], { env: { RUST_LOG: 'warn' } });
    assertSuccess(r);
    assert.equal(r.stderr, '', 'nothing but warnings and errors');
    const loud = await runCli(['-v', ...issueArgs('loud.example', join(env.dir, 'loud', 'c.pem'))]);
    assert.match(loud.stderr, /^DEBUG /m, '-v alone does log debug');
  });

  it('info shows one progress line per step on stderr; the default level shows none', async () => {
    const out = join(env.dir, 'progress', 'c.pem');
    const r = await runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(env.pebble.httpPort),
      '-d', 'progress.example', '-d', 'www.progress.example', '--out', out], { env: { RUST_LOG: 'info' } });
    assertSuccess(r);
    const lines = r.stderr.trimEnd().split('\n');
    const url = readFileSync(`${env.key}.account-url`, 'utf8');
    const serial = /serial=([0-9A-F]+)/.exec(await openssl(['x509', '-in', out, '-noout', '-serial']))![1]!.toLowerCase().replace(/^(00)+/, '');
    const notAfter = new Date(/notAfter=(.+)/.exec(await openssl(['x509', '-in', out, '-noout', '-enddate']))![1]!).toISOString().replace(/\.000Z$/, 'Z');
    const expected = [
      `INFO  akamu_cli: a new ec:P-256 certificate key is generated; it is written to ${out}.key.pem together with the certificate`,
      `INFO  akamu_cli: directory: ${env.pebble.directoryUrl}`,
      `INFO  akamu_cli: account: ${url} (from ${env.key}.account-url)`,
      /^INFO {2}akamu_cli: order placed: https:\/\/\S+ \(2 authorizations\)$/,
      /^INFO {2}akamu_cli: authorization for (www\.)?progress\.example: valid$/,
      /^INFO {2}akamu_cli: authorization for (www\.)?progress\.example: valid$/,
      'INFO  akamu_cli: all authorizations valid; finalizing',
      `INFO  akamu_cli: certificate downloaded: serial ${serial}, not after ${notAfter}`,
      `INFO  akamu_cli: files written: ${out}.key.pem, ${out}, ${out}.renewal.toml`,
    ];
    assert.equal(lines.length, expected.length, r.stderr);
    expected.forEach((e, i) => (typeof e === 'string' ? assert.equal(lines[i], e) : assert.match(lines[i]!, e)));
    assert.notEqual(lines[4], lines[5], 'one line per authorization');
    assert.match(r.stdout, /^Certificate written to /m, 'stdout keeps the results only');

    const quiet = await runCli(issueArgs('progress2.example', join(env.dir, 'progress2', 'c.pem')));
    assertSuccess(quiet);
    assert.equal(quiet.stderr, '');
  });

  it('info also shows a failed authorization as it happens', async () => {
    const { freePort } = await import('../../testkit/src/index.js');
    const r = await runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(await freePort()),
      '-d', 'refused.example', '--out', join(env.dir, 'refused', 'c.pem')], { env: { AKAMU_LOG: 'info' } });
    assertFailure(r, 1, /authorization for refused\.example failed: ACME error urn:ietf:params:acme:error:/);
    assert.match(r.stderr, /^INFO {2}akamu_cli: authorization for refused\.example: invalid$/m);
  });

  it('-v with --server-ca: TLS details (subject, issuer, validity, signature algorithm) of the CA file and of the server; -vv adds the HTTP internals', async () => {
    const r = await runCli(['-v', ...issueArgs('tls.example', join(env.dir, 'tls', 'c.pem'))]);
    assertSuccess(r);
    const ca = await openssl(['x509', '-in', env.pebble.caPemPath, '-noout', '-text']);
    const caAlg = /Signature Algorithm: (\S+)/.exec(ca)![1]!;
    const caSubject = /Subject: (.+)/.exec(ca)![1]!.replace(/ = /g, '=').trim();
    const caLine = r.stderr.split('\n').find((l) => l.startsWith('DEBUG akamu_cli: CA certificate [0] from '));
    assert.ok(caLine, r.stderr);
    assert.match(caLine, new RegExp(`subject=${caSubject} issuer=${caSubject} not_before=\\w{3} +\\d+ [\\d:]+ \\d{4} GMT not_after=\\w{3} +\\d+ [\\d:]+ \\d{4} GMT signature_algorithm=${caAlg}$`));

    const host = new URL(env.pebble.directoryUrl).host;
    const leafText = await openssl(['x509', '-noout', '-text'], await tlsLeafPem(host));
    const serverAlg = /Signature Algorithm: (\S+)/.exec(leafText)![1]!;
    const serverLines = r.stderr.split('\n').filter((l) => l.startsWith(`DEBUG akamu_cli: TLS certificate of ${host}: `));
    assert.equal(serverLines.length, 1, `once per certificate: ${r.stderr}`);
    assert.match(serverLines[0]!, new RegExp(`subject=CN=\\S+ issuer=${caSubject} not_before=.+ GMT not_after=.+ GMT signature_algorithm=${serverAlg}$`));
    assert.doesNotMatch(r.stderr, /^DEBUG http:/m, 'the HTTP internals are -vv');

    const vv = await runCli(['-vv', ...issueArgs('tls2.example', join(env.dir, 'tls2', 'c.pem'))]);
    assertSuccess(vv);
    assert.match(vv.stderr, /^DEBUG http: TLS connection to /m);
    assert.match(vv.stderr, /^DEBUG akamu_cli: TLS certificate of /m);
  });

  it('account show: the reference\'s lines, so `sed \'s/^URL: //\'` works; no Contact line without contacts', async () => {
    const url = readFileSync(`${env.key}.account-url`, 'utf8');
    const bare = await runCli(['account', 'show', ...env.server, '--account-key', env.key]);
    assertSuccess(bare);
    assert.equal(bare.stdout, `URL: ${url}\nStatus: valid\n`);
    const sed = bare.stdout.split('\n').find((l) => l.startsWith('URL: '))!.replace(/^URL: /, '');
    assert.equal(sed, url);

    const key = join(env.dir, 'show', 'k.pem');
    assertSuccess(await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos', '--contact', 'mailto:a@example.com', '--contact', 'mailto:b@example.com']));
    const show = await runCli(['account', 'show', ...env.server, '--account-key', key]);
    assert.equal(show.stdout, `URL: ${readFileSync(`${key}.account-url`, 'utf8')}\nStatus: valid\nContact: mailto:a@example.com\nContact: mailto:b@example.com\n`);
  });

  it('the manual DNS prompt prints the reference\'s lines exactly', { timeout: 60_000 }, async () => {
    const out = join(env.dir, 'prompt', 'c.pem');
    // the propagation check asks challtestsrv (the system's resolvers know no prompt.example)
    const child = spawn(process.execPath, [cliBin, 'issue', ...env.server, '--account-key', env.key, '--challenge', 'dns-01',
      '-d', '*.prompt.example', '--dns-resolver', `127.0.0.1:${env.pebble.dnsPort}`, '--out', out], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let answered = false;
    child.stderr.on('data', async (d: Buffer) => {
      stderr += d.toString();
      const m = /^Value: (\S+)\nPress Enter/m.exec(stderr);
      if (m && !answered) {
        answered = true;
        await env.pebble.setTxt('_acme-challenge.prompt.example.', m[1]!);
        child.stdin.write('\n');
      }
    });
    // a prompt that never matches must fail the test, not hang it
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve)).finally(() => clearTimeout(timer));
    assert.equal(code, 0, stderr);
    const value = /^Value: (\S+)$/m.exec(stderr)![1]!;
    assert.match(value, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(stderr, [
      'DNS-01 challenge for *.prompt.example:',
      'Name: _acme-challenge.prompt.example.',
      'Type: TXT',
      `Value: ${value}`,
      'Press Enter after the TXT record has propagated (Ctrl-C to abort)...',
    ].join('\n'));
  });

  it('error texts of the reference\'s troubleshooting section appear as they are', async () => {
    const key = join(env.dir, 'texts', 'k.pem');
    mkdirSync(join(env.dir, 'texts'), { recursive: true });
    copyFileSync(env.key, key);
    const missing = await runCli(['account', 'show', ...env.server, '--account-key', key]);
    assertFailure(missing, 1, new RegExp(`^error: No such file: ${key}\\.account-url — run 'akamu-cli account register' first`));
    assertFailure(await runCli(['account', 'deregister', ...env.server, '--account-key', key]), 1, /^error: No such file: .*k\.pem\.account-url — /);

    assertFailure(await runCli(['revoke', ...env.server, '--account-key', env.key, '--cert', env.pebble.caPemPath, '--reason', '7']), 2,
      /^error: invalid reason code 7; valid values: 0–6, 8–10$/);

    const hook = join(env.dir, 'texts', 'hook.sh');
    writeFileSync(hook, '#!/bin/sh\necho "update refused by ns1" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    assertFailure(await runCli(['issue', ...env.server, '--account-key', env.key, '--challenge', 'dns-01', '--dns-hook', hook,
      '-d', 'hook-text.example', '--out', join(env.dir, 'texts', 'c.pem')]), 1, new RegExp(`dns hook '${hook}' add exited with status 1: update refused by ns1$`));

    const certbot = join(env.dir, 'texts', 'letsencrypt');
    mkdirSync(join(certbot, 'accounts'), { recursive: true });
    assertFailure(await runCli(['import', 'certbot', '--certbot-dir', certbot, '--account-key', join(env.dir, 'texts', 'imported.pem')]), 1,
      /^error: no certbot accounts found; check --certbot-dir and --server$/);

    // ACME errors read `ACME error <type>: <detail>`: accountDoesNotExist for a key without its account
    writeFileSync(`${key}.account-url`, `${readFileSync(`${env.key}.account-url`, 'utf8').replace(/[^/]+$/, '')}0123456789abcdef`);
    assertFailure(await runCli(['account', 'show', ...env.server, '--account-key', key]), 1,
      /^error: ACME error urn:ietf:params:acme:error:accountDoesNotExist: /);
  });

  it('a second account register with the same key says "Account already registered", and points to account update for other contacts', async () => {
    const key = join(env.dir, 'again', 'k.pem');
    const first = await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos', '--contact', 'mailto:a@example.com']);
    assertSuccess(first);
    const url = readFileSync(`${key}.account-url`, 'utf8');
    const same = await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos', '--contact', 'mailto:a@example.com']);
    assertSuccess(same);
    assert.equal(same.stdout, `Account already registered: ${url}\n`);
    assert.doesNotMatch(same.stdout + same.stderr, /^Registered/m);
    assert.doesNotMatch(same.stderr, /account update/);
    const other = await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos', '--contact', 'mailto:b@example.com']);
    assertSuccess(other);
    assert.equal(other.stdout, `Account already registered: ${url}\n`);
    assert.match(other.stderr, /contacts \(mailto:a@example\.com\) differ from --contact \(mailto:b@example\.com\); use 'akamu-cli account update'/);
    const show = await runCli(['account', 'show', ...env.server, '--account-key', key]);
    assert.match(show.stdout, /^Contact: mailto:a@example\.com$/m, 'the contacts were not changed');
  });

  it('account key-change: a --new-key-type that the existing --new-key does not have is noted as ignored', async () => {
    const key = join(env.dir, 'kc', 'k.pem');
    assertSuccess(await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos']));
    const newKey = join(env.dir, 'kc', 'existing-new.pem');
    const { PrivateKey } = await import('akamu-client');
    writeFileSync(newKey, (await PrivateKey.generate('ec:P-256')).toPem(), { mode: 0o600 });
    const r = await runCli(['account', 'key-change', ...env.server, '--account-key', key, '--new-key', newKey, '--new-key-type', 'ec:P-384']);
    assertSuccess(r);
    assert.match(r.stderr, new RegExp(`^Note: --new-key ${newKey} is a ec:P-256 key; --new-key-type ec:P-384 is ignored$`, 'm'));
    assert.match(await openssl(['pkey', '-in', key, '-noout', '-text']), /prime256v1|P-256/);
    const again = join(env.dir, 'kc', 'existing-new-2.pem');
    writeFileSync(again, (await PrivateKey.generate('ec:P-256')).toPem(), { mode: 0o600 });
    const sameType = await runCli(['account', 'key-change', ...env.server, '--account-key', key, '--new-key', again, '--new-key-type', 'ec:P-256']);
    assertSuccess(sameType);
    assert.equal(sameType.stderr, '');
  });

  it('account key-change refused by the server: the new key this run generated is removed, nothing printed on stdout', async () => {
    const key = join(env.dir, 'kc2', 'k.pem');
    assertSuccess(await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos']));
    const oldKey = readFileSync(key, 'utf8');
    const newKey = join(env.dir, 'kc2', 'new.pem');
    // Pebble accepts no EdDSA signature: the change is refused (badSignatureAlgorithm, in the reference's words)
    const r = await runCli(['account', 'key-change', ...env.server, '--account-key', key, '--new-key', newKey, '--new-key-type', 'ed25519']);
    assertFailure(r, 1, /^error: Unsupported algorithm: EdDSA/);
    assert.equal(r.stdout, '', 'nothing claimed on stdout');
    assert.equal(existsSync(newKey), false, 'the generated key is gone');
    assert.equal(readFileSync(key, 'utf8'), oldKey);
    assertSuccess(await runCli(['account', 'show', ...env.server, '--account-key', key]));
    // and a successful change prints the generated key only with the change
    const ok = await runCli(['account', 'key-change', ...env.server, '--account-key', key, '--new-key', newKey]);
    assertSuccess(ok);
    assert.equal(ok.stdout, `Generated new ec:P-256 key → ${newKey}\nKey changed. New key written to ${key}\nAccount URL unchanged: ${readFileSync(`${key}.account-url`, 'utf8')}\n`);
  });
});

/** The server's TLS leaf certificate as PEM (openssl s_client, trusting nothing: only the certificate is wanted). */
async function tlsLeafPem(host: string): Promise<string> {
  const { runOpenssl } = await import('../../testkit/src/index.js');
  const r = await runOpenssl(['s_client', '-connect', host, '-servername', 'localhost'], '');
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(r.stdout);
  assert.ok(m, r.stderr);
  return m[0];
}
