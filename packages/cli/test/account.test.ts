/** End to end: `akamu-cli account …` against Pebble 2.10, driving the built CLI. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setup, runCli, openssl, assertFailure, assertSuccess, mode, snapshot, type Env } from './helpers.js';

describe('account commands', () => {
  let env: Env;
  before(async () => {
    env = await setup({ nonceReject: 5 }); // Pebble's default rejection rate: every command must cope
  });
  after(async () => env.pebble.stop());

  it('register → show → update → key-change → deregister', async () => {
    const key = join(env.dir, 'acct', 'account.pem');
    const reg = await runCli(['account', 'register', ...env.server, '--account-key', key,
      '--contact', 'mailto:admin@example.com', '--contact', 'mailto:ops@example.com', '--agree-tos']);
    assertSuccess(reg);
    assert.match(reg.stdout, new RegExp(`Generated new ec:P-256 key → ${key}`));
    const url = /^Registered: (https:\/\/\S+)$/m.exec(reg.stdout)?.[1];
    assert.ok(url, reg.stdout);
    assert.equal(mode(key), 0o600);
    assert.equal(mode(`${key}.account-url`), 0o600);
    assert.equal(readFileSync(`${key}.account-url`, 'utf8'), url, 'sidecar holds the URL without a newline');
    assert.match(readFileSync(key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);

    // registering again with the same key finds the same account
    const again = await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos']);
    assertSuccess(again);
    assert.equal(again.stdout, `Account already registered: ${url}\n`);
    assert.doesNotMatch(again.stdout, /Generated/);

    const show = await runCli(['account', 'show', ...env.server, '--account-key', key]);
    assertSuccess(show);
    assert.equal(show.stdout, `URL: ${url}\nStatus: valid\nContact: mailto:admin@example.com\nContact: mailto:ops@example.com\n`);

    const upd = await runCli(['account', 'update', ...env.server, '--account-key', key, '--contact', 'mailto:new@example.com']);
    assertSuccess(upd);
    assert.equal(upd.stdout, `Updated account: ${url}\n  Contact: mailto:new@example.com\n`);
    const show2 = await runCli(['account', 'show', ...env.server, '--account-key', key]);
    assert.match(show2.stdout, /^Contact: mailto:new@example.com$/m);
    assert.doesNotMatch(show2.stdout, /admin@example.com/);

    // key change: keep a copy of the old key (and sidecar) to prove the server no longer accepts it
    const oldCopy = join(env.dir, 'acct', 'old.pem');
    copyFileSync(key, oldCopy);
    copyFileSync(`${key}.account-url`, `${oldCopy}.account-url`);
    const newKey = join(env.dir, 'acct', 'next.pem');
    const kc = await runCli(['account', 'key-change', ...env.server, '--account-key', key, '--new-key', newKey, '--new-key-type', 'ec:P-384']);
    assertSuccess(kc);
    assert.match(kc.stdout, new RegExp(`Key changed. New key written to ${key}\nAccount URL unchanged: ${url}`));
    assert.equal(readFileSync(key, 'utf8'), readFileSync(newKey, 'utf8'), 'account key file now holds the new key');
    assert.equal(mode(key), 0o600);
    assert.match(await openssl(['pkey', '-in', key, '-noout', '-text']), /384 bit|P-384|secp384r1/);
    assert.equal(readFileSync(`${key}.account-url`, 'utf8'), url, 'sidecar unchanged');
    const showNew = await runCli(['account', 'show', ...env.server, '--account-key', key]);
    assertSuccess(showNew);
    const showOld = await runCli(['account', 'show', ...env.server, '--account-key', oldCopy]);
    assertFailure(showOld, 1, /ACME error urn:ietf:params:acme:error:(accountDoesNotExist|unauthorized|malformed|badSignatureAlgorithm)/);

    const dereg = await runCli(['account', 'deregister', ...env.server, '--account-key', key]);
    assertSuccess(dereg);
    assert.equal(dereg.stdout, `Deactivated: ${url}\n`);
    assert.equal(existsSync(`${key}.account-url`), false, 'sidecar removed');
    assertFailure(await runCli(['account', 'show', ...env.server, '--account-key', key]), 1, /account register/);
  });

  it('refuses to register without --agree-tos when the server has terms of service', async () => {
    const key = join(env.dir, 'no-tos.pem');
    const r = await runCli(['account', 'register', ...env.server, '--account-key', key]);
    assertFailure(r, 2, /terms of service.*--agree-tos/);
    assert.equal(existsSync(key), false, 'no key written');
  });

  it('rejects garbage and unreadable account keys without touching them', async () => {
    const garbage = join(env.dir, 'garbage.pem');
    const { writeFileSync, mkdirSync } = await import('node:fs');
    writeFileSync(garbage, 'this is not a key\n', { mode: 0o644 });
    const before = snapshot([garbage, `${garbage}.account-url`]);
    assertFailure(await runCli(['account', 'register', ...env.server, '--account-key', garbage, '--agree-tos']), 1, /garbage\.pem is not a usable private key/);
    assertFailure(await runCli(['account', 'show', ...env.server, '--account-key', garbage]), 1, /not a usable private key/);
    assert.equal(snapshot([garbage, `${garbage}.account-url`]), before);
    const dir = join(env.dir, 'a-directory.pem');
    mkdirSync(dir);
    assertFailure(await runCli(['account', 'show', ...env.server, '--account-key', dir]), 1, /cannot read account key .*is a directory/);
  });

  it('rejects an unknown key type with the list of valid ones (usage error)', async () => {
    const r = await runCli(['account', 'register', ...env.server, '--account-key', join(env.dir, 'x.pem'), '--key-type', 'dsa:1024', '--agree-tos']);
    assertFailure(r, 2, /unknown key type 'dsa:1024'.*ec:P-256/);
  });

  it('reports a directory URL that is not ACME, and an unreachable server, in one line', async () => {
    const key = join(env.dir, 'k.pem');
    const notAcme = await runCli(['account', 'register', '--server', `${env.pebble.managementUrl}/roots/0`, '--server-ca', env.pebble.caPemPath, '--account-key', key, '--agree-tos']);
    assertFailure(notAcme, 1, /is not an ACME directory/);
    const untrusted = await runCli(['account', 'register', ...env.server.filter((a, i, all) => a !== '--server-ca' && all[i - 1] !== '--server-ca'), '--account-key', key, '--agree-tos']);
    assertFailure(untrusted, 1, /: TLS: .* — pass --server-ca with the CA that issued the server certificate$/);
    const { freePort } = await import('../../testkit/src/index.js');
    const port = await freePort();
    const down = await runCli(['account', 'register', '--server', `https://127.0.0.1:${port}/dir`, '--account-key', key, '--agree-tos']);
    assertFailure(down, 1, /connect|refused/i);
    assert.equal(existsSync(key), false);
  });

  it('prints the version', async () => {
    const r = await runCli(['--version']);
    assertSuccess(r);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
