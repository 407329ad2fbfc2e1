/**
 * End to end: `--dns-rfc2136` against a real BIND 9 that Pebble 2.10 resolves through — dns-01,
 * dns-account-01 and dns-persist-01 records published by signed DNS UPDATE, removed afterwards
 * (persist: kept), the renewal config, and the failures that must order nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dnsAccountLabel } from '../../client/src/challenges/dnsAccount01.js';
import { startBind, type Bind } from '../../testkit/src/index.js';
import { assertFailure, assertSuccess, runCli, setupWithAccount, verifyChain, type AccountEnv } from './helpers.js';

describe('--dns-rfc2136 against BIND 9', () => {
  let bind: Bind;
  let env: AccountEnv;
  let keyFile: string;
  before(async () => {
    bind = await startBind({ zones: ['example.test', { name: 'locked.test', updateKeys: [] }], tsigKeys: [{ name: 'acme-update', algorithm: 'hmac-sha512' }] });
    env = await setupWithAccount({ dnsServer: bind.address });
    keyFile = bind.keys['acme-update']!.file;
  });
  after(async () => {
    await env?.pebble.stop();
    await bind?.stop();
  });

  const issue = (extra: string[]) => runCli(['issue', ...env.server, '--account-key', env.key, ...extra]);
  const accountUrl = () => readFileSync(`${env.key}.account-url`, 'utf8').trim();

  it('dns-01: the zone is found by SOA, Pebble validates through BIND, the records are removed; the renewal config keeps the key path only', async () => {
    const out = join(env.dir, 'rfc', 'fullchain.pem');
    const r = await issue(['-d', 'www.example.test', '-d', '*.example.test', '--challenge', 'dns-01', '--dns-rfc2136', bind.address, '--tsig-key', keyFile, '--out', out]);
    assertSuccess(r);
    assert.equal(r.stderr, '');
    const text = await verifyChain(env, out, `${out}.key.pem`);
    assert.match(text, /DNS:www\.example\.test/);
    assert.match(text, /DNS:\*\.example\.test/);
    assert.match(bind.logText(), /updating zone 'example\.test\/IN': adding an RR at '_acme-challenge\.www\.example\.test' TXT/);
    assert.match(bind.logText(), /updating zone 'example\.test\/IN': deleting an RR at _acme-challenge\.www\.example\.test TXT/);
    assert.deepEqual(await bind.dig('_acme-challenge.www.example.test'), [], 'removed after validation');
    assert.deepEqual(await bind.dig('_acme-challenge.example.test'), []);
    const config = readFileSync(`${out}.renewal.toml`, 'utf8');
    assert.match(config, new RegExp(`^dns_rfc2136 = "${bind.address}"$`, 'm'));
    assert.match(config, new RegExp(`^tsig_key = "${keyFile}"$`, 'm'));
    assert.doesNotMatch(config, new RegExp(bind.keys['acme-update']!.secret.slice(0, 16).replace(/[+/]/g, '\\$&')), 'the secret is never stored');
    assert.doesNotMatch(config, /dns_zone|dns_propagation_timeout/);

    const renewed = await runCli(['renew', '--renewal-config', `${out}.renewal.toml`, '--server-ca', env.pebble.caPemPath, '--force']);
    assertSuccess(renewed);
    assert.deepEqual(await bind.dig('_acme-challenge.www.example.test'), []);
  });

  it('dns-account-01 with --dns-zone: the record name carries the account label', async () => {
    const out = join(env.dir, 'acct', 'fullchain.pem');
    const r = await runCli(['-v', 'issue', ...env.server, '--account-key', env.key, '-d', 'acct.example.test', '--challenge', 'dns-account-01',
      '--dns-rfc2136', bind.address, '--tsig-key', keyFile, '--dns-zone', 'example.test', '--out', out]);
    assertSuccess(r);
    // the propagation check asked the primary the record was sent to, before the challenge was triggered
    const visible = r.stderr.indexOf(`._acme-challenge.acct.example.test. TXT is visible at ${bind.address}`);
    assert.ok(visible > 0, r.stderr);
    assert.ok(visible < r.stderr.indexOf('triggered dns-account-01 for acct.example.test'), 'checked before the trigger');
    assert.doesNotMatch(r.stderr, new RegExp(bind.keys['acme-update']!.secret.slice(0, 16).replace(/[+/]/g, '\\$&')), 'the secret is not logged');
    assert.match(await verifyChain(env, out, `${out}.key.pem`), /DNS:acct\.example\.test/);
    const name = `${dnsAccountLabel(accountUrl())}._acme-challenge.acct.example.test`;
    assert.match(bind.logText(), new RegExp(`adding an RR at '${name.replace(/\./g, '\\.')}' TXT`));
    assert.deepEqual(await bind.dig(name), [], 'removed after validation');
    assert.match(readFileSync(`${out}.renewal.toml`, 'utf8'), /^dns_zone = "example\.test"$/m);
    assert.match(readFileSync(`${out}.renewal.toml`, 'utf8'), /^challenge_type = "dns-account-01"$/m);
  });

  it('dns-persist-01: the record is only added, and stays', async () => {
    const out = join(env.dir, 'persist', 'fullchain.pem');
    const r = await issue(['-d', 'persist.example.test', '--challenge', 'dns-persist-01', '--dns-rfc2136', bind.address, '--tsig-key', keyFile, '--out', out]);
    assertSuccess(r);
    assert.deepEqual(await bind.dig('_validation-persist.persist.example.test'), [`pebble.letsencrypt.org; accounturi=${accountUrl()}`]);
  });

  it('a wrong secret or an unknown key name: one error line, nothing ordered', async () => {
    const before = env.pebble.requestCount();
    const wrong = join(env.dir, 'wrong.key');
    writeFileSync(wrong, readFileSync(keyFile, 'utf8').replace(/secret "[^"]+"/, `secret "${Buffer.alloc(64, 1).toString('base64')}"`), { mode: 0o600 });
    const out = join(env.dir, 'never', 'fullchain.pem');
    assertFailure(await issue(['-d', 'www.example.test', '--challenge', 'dns-01', '--dns-rfc2136', bind.address, '--tsig-key', wrong, '--out', out]), 1,
      new RegExp(`^error: DNS server ${bind.address} rejected TSIG key 'acme-update' \\(hmac-sha512\\): NOTAUTH/BADSIG — the secret does not match the server's$`));
    const renamed = join(env.dir, 'renamed.key');
    writeFileSync(renamed, readFileSync(keyFile, 'utf8').replace('key "acme-update"', 'key "someone-else"'), { mode: 0o600 });
    assertFailure(await issue(['-d', 'www.example.test', '--challenge', 'dns-01', '--dns-rfc2136', bind.address, '--tsig-key', renamed, '--dns-zone', 'example.test', '--out', out]), 1,
      /rejected TSIG key 'someone-else' \(hmac-sha512\): NOTAUTH\/BADKEY — the server knows no key of this name and algorithm$/);
    assertFailure(await issue(['-d', 'www.locked.test', '--challenge', 'dns-01', '--dns-rfc2136', bind.address, '--tsig-key', keyFile, '--out', out]), 1,
      /refused the update of zone locked\.test\. \(probe\) with key 'acme-update': REFUSED — the key may not update this zone/);
    assertFailure(await issue(['-d', 'www.nowhere.invalid', '--challenge', 'dns-01', '--dns-rfc2136', bind.address, '--tsig-key', keyFile, '--out', out]), 1,
      /cannot find the zone of _acme-challenge\.www\.nowhere\.invalid\. at DNS server .*: REFUSED: it serves no zone that contains it$/);
    assert.equal(env.pebble.requestCount(), before, 'nothing was sent to the CA');
  });

  it('bad key files and flag combinations: one usage error line, nothing ordered; a world-readable key is used with a warning', async () => {
    const before = env.pebble.requestCount();
    const out = join(env.dir, 'never', 'fullchain.pem');
    const dns = ['-d', 'www.example.test', '--challenge', 'dns-01', '--out', out];
    const bad = (name: string, text: string): string => {
      const p = join(env.dir, name);
      writeFileSync(p, text, { mode: 0o600 });
      return p;
    };
    assertFailure(await issue([...dns, '--dns-rfc2136', bind.address, '--tsig-key', join(env.dir, 'missing.key')]), 2, /^error: cannot read --tsig-key \S+missing\.key: no such file$/);
    assertFailure(await issue([...dns, '--dns-rfc2136', bind.address, '--tsig-key', bad('garbage.key', 'hello\n')]), 2,
      /^error: --tsig-key \S+garbage\.key: not a BIND key file \(expected: key "name" \{ algorithm hmac-sha256; secret "…"; \};\)$/);
    assertFailure(await issue([...dns, '--dns-rfc2136', bind.address, '--tsig-key', bad('md5.key', 'key "k" { algorithm hmac-md5; secret "AAAA"; };')]), 2,
      /unsupported TSIG algorithm 'hmac-md5'; use hmac-sha256 or hmac-sha512$/);
    assertFailure(await issue([...dns, '--dns-rfc2136', bind.address, '--tsig-key', bad('b64.key', 'key "k" { algorithm hmac-sha256; secret "not base64!"; };')]), 2,
      /the secret of key "k" is not base64$/);
    assertFailure(await issue([...dns, '--dns-rfc2136', bind.address]), 2, /^error: --dns-rfc2136 needs --tsig-key FILE/);
    assertFailure(await issue([...dns, '--tsig-key', keyFile]), 2, /^error: --tsig-key is only used with --dns-rfc2136$/);
    assertFailure(await issue([...dns, '--dns-rfc2136', bind.address, '--tsig-key', keyFile, '--dns-hook', '/bin/true']), 2, /mutually exclusive/);
    assertFailure(await issue([...dns, '--dns-rfc2136', '127.0.0.1:99999', '--tsig-key', keyFile]), 2, /^error: --dns-rfc2136 must be HOST\[:PORT\]/);
    assert.equal(env.pebble.requestCount(), before, 'nothing was sent to the CA');

    const open = join(env.dir, 'open.key');
    copyFileSync(keyFile, open);
    chmodSync(open, 0o644);
    const ok = join(env.dir, 'open', 'fullchain.pem');
    const r = await issue(['-d', 'open.example.test', '--challenge', 'dns-01', '--dns-rfc2136', bind.address, '--tsig-key', open, '--out', ok]);
    assertSuccess(r);
    assert.match(r.stderr, /^WARN {2}akamu_cli: --tsig-key \S+open\.key is readable by every local user \(mode 0644\); chmod 600 it$/m);
  });
});
