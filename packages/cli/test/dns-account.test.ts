/**
 * End to end: dns-account-01 (draft-ietf-acme-dns-account-label-01) against Pebble 2.10, through
 * the DNS hook (publishing into challtestsrv by AKAMU_RECORD_NAME) and through the manual prompt.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dnsAccountLabel } from '../../client/src/challenges/dnsAccount01.js';
import { cliBin } from '../../testkit/src/index.js';
import { assertFailure, assertSuccess, runCli, setupWithAccount, verifyChain, type AccountEnv } from './helpers.js';

/** Publishes into challtestsrv and notes what it was given, one line per call. */
const HOOK = `#!/usr/bin/env node
import { appendFileSync } from 'node:fs';
const [op] = process.argv.slice(2);
const e = process.env;
appendFileSync(e.HOOK_LOG, JSON.stringify({ op, name: e.AKAMU_RECORD_NAME, challenge: e.AKAMU_CHALLENGE, domain: e.AKAMU_DOMAIN, txt: e.AKAMU_TXT }) + '\\n');
const body = op === 'add' ? { host: e.AKAMU_RECORD_NAME, value: e.AKAMU_TXT } : { host: e.AKAMU_RECORD_NAME };
const res = await fetch(e.CHALLTESTSRV + (op === 'add' ? '/set-txt' : '/clear-txt'), { method: 'POST', body: JSON.stringify(body) });
if (!res.ok) { console.error('challtestsrv said ' + res.status); process.exit(1); }
`;

describe('dns-account-01', () => {
  let env: AccountEnv;
  let hook: string;
  before(async () => {
    env = await setupWithAccount();
    hook = join(env.dir, 'hook.mjs');
    writeFileSync(hook, HOOK);
    chmodSync(hook, 0o755);
  });
  after(async () => env?.pebble.stop());

  const accountUrl = () => readFileSync(`${env.key}.account-url`, 'utf8').trim();
  const resolver = () => ['--dns-resolver', `127.0.0.1:${env.pebble.dnsPort}`];

  it('through the hook: AKAMU_RECORD_NAME carries the account label; wildcard and apex share it; cleaned up', async () => {
    const log = join(env.dir, 'hook.log');
    const out = join(env.dir, 'acct', 'fullchain.pem');
    const r = await runCli(['issue', ...env.server, '--account-key', env.key, '-d', 'acct.example', '-d', '*.acct.example',
      '--challenge', 'dns-account-01', '--dns-hook', hook, ...resolver(), '--out', out], { env: { CHALLTESTSRV: env.pebble.challtestsrvUrl, HOOK_LOG: log } });
    assertSuccess(r);
    const text = await verifyChain(env, out, `${out}.key.pem`);
    assert.match(text, /DNS:acct\.example/);
    assert.match(text, /DNS:\*\.acct\.example/);
    const calls = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    const name = `${dnsAccountLabel(accountUrl())}._acme-challenge.acct.example.`;
    assert.match(name, /^_[a-z2-7]{16}\._acme-challenge\.acct\.example\.$/);
    assert.deepEqual(calls.map((c) => `${c.op} ${c.name} ${c.challenge} ${c.domain}`).sort(), [
      `add ${name} dns-account-01 acct.example`, `add ${name} dns-account-01 acct.example`,
      `remove ${name} dns-account-01 acct.example`, `remove ${name} dns-account-01 acct.example`,
    ]);
    assert.match(readFileSync(`${out}.renewal.toml`, 'utf8'), /^challenge_type = "dns-account-01"$/m);
    assert.match(readFileSync(`${out}.renewal.toml`, 'utf8'), new RegExp(`^dns_resolver = "127\\.0\\.0\\.1:${env.pebble.dnsPort}"$`, 'm'));
  });

  it('a record at plain _acme-challenge (the dns-01 name) does not validate dns-account-01', async () => {
    const wrong = join(env.dir, 'wrong-hook.mjs');
    writeFileSync(wrong, HOOK.replace('host: e.AKAMU_RECORD_NAME, value', "host: '_acme-challenge.' + e.AKAMU_DOMAIN + '.', value"));
    chmodSync(wrong, 0o755);
    const r = await runCli(['issue', ...env.server, '--account-key', env.key, '-d', 'plain.example', '--challenge', 'dns-account-01', '--dns-hook', wrong,
      '--no-propagation-check', '--out', join(env.dir, 'plain', 'c.pem')], { env: { CHALLTESTSRV: env.pebble.challtestsrvUrl, HOOK_LOG: join(env.dir, 'wrong.log') } });
    assertFailure(r, 1, /plain\.example/);
  });

  it('IP identifiers are refused before ordering, with the reason', async () => {
    const before = env.pebble.requestCount();
    const r = await runCli(['issue', ...env.server, '--account-key', env.key, '-d', '192.0.2.7', '--challenge', 'dns-account-01', '--dns-hook', hook,
      '--out', join(env.dir, 'ip', 'c.pem')]);
    assertFailure(r, 2, /dns-account-01 cannot validate IP address identifiers: 192\.0\.2\.7/);
    assert.equal(env.pebble.requestCount(), before);
  });

  it('through the manual prompt, answered on stdin', async () => {
    const out = join(env.dir, 'manual', 'fullchain.pem');
    const args = ['issue', ...env.server, '--account-key', env.key, '-d', 'manual-acct.example', '--challenge', 'dns-account-01', ...resolver(), '--out', out];
    const child = spawn(process.execPath, [cliBin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let answered = false;
    const seen: string[] = [];
    child.stderr.on('data', async (d: Buffer) => {
      stderr += d.toString();
      const m = /DNS-account-01 challenge for (\S+):\nName: (\S+)\nType: TXT\nValue: (\S+)\nPress Enter after the TXT record has propagated \(Ctrl-C to abort\)\.\.\./.exec(stderr);
      if (m && !answered) {
        answered = true;
        seen.push(m[1]!, m[2]!);
        await env.pebble.setTxt(m[2]!, m[3]!);
        child.stdin.write('\n');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.deepEqual(seen, ['manual-acct.example', `${dnsAccountLabel(accountUrl())}._acme-challenge.manual-acct.example.`]);
    assert.match(await verifyChain(env, out, `${out}.key.pem`), /DNS:manual-acct\.example/);
  });
});
