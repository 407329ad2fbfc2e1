/**
 * End to end: the propagation check. A DNS hook that returns at once but publishes its record
 * only later (as many DNS providers' APIs do); the CA's requests, seen through a proxy, show when
 * each challenge was triggered. With the check no challenge is triggered before its record is
 * visible; without it (the control) the challenge comes too early and fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFaultProxy, startPebble, tempDir, type FaultProxy, type Pebble } from '../../testkit/src/index.js';
import { assertFailure, assertSuccess, runCli } from './helpers.js';

/**
 * `add` starts a detached child that publishes into challtestsrv after DELAY_MS and then writes
 * the time it did so (epoch ms) to $MARKS/<record name>; `add` itself returns at once.
 */
const HOOK = `#!/usr/bin/env node
import { spawn } from 'node:child_process';
const [op] = process.argv.slice(2);
const e = process.env;
if (op === 'add') {
  if (e.NEVER) process.exit(0);
  const later = \`
    await new Promise((r) => setTimeout(r, Number(process.env.DELAY_MS)));
    const res = await fetch(process.env.CHALLTESTSRV + '/set-txt', { method: 'POST', body: JSON.stringify({ host: process.env.AKAMU_RECORD_NAME, value: process.env.AKAMU_TXT }) });
    (await import('node:fs')).writeFileSync(process.env.MARKS + '/' + process.env.AKAMU_RECORD_NAME, String(Date.now()));
  \`;
  spawn(process.execPath, ['--input-type=module', '-e', later], { detached: true, stdio: 'ignore', env: e }).unref();
} else {
  await fetch(e.CHALLTESTSRV + '/clear-txt', { method: 'POST', body: JSON.stringify({ host: e.AKAMU_RECORD_NAME }) });
}
`;

describe('propagation check', () => {
  let pebble: Pebble;
  let proxy: FaultProxy;
  let dir: string;
  let hook: string;
  let runs = 0;
  before(async () => {
    pebble = await startPebble();
    proxy = await startFaultProxy(pebble, { rules: [] });
    dir = tempDir('akamu-propagation-');
    hook = join(dir, 'late-hook.mjs');
    writeFileSync(hook, HOOK);
    chmodSync(hook, 0o755);
  });
  after(async () => {
    await proxy?.stop();
    await pebble?.stop();
  });

  /** One issuance with a fresh account through the proxy; the triggers' times and the publish times. */
  async function issue(name: string, extra: string[], env: Record<string, string> = {}, program = hook) {
    const n = ++runs;
    const marks = join(dir, `marks-${n}`);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(marks);
    const firstRequest = proxy.requests.length;
    const r = await runCli(['issue', '--server', proxy.directoryUrl, '--server-ca', pebble.caPemPath, '--account-key', join(dir, `account-${n}.pem`),
      '-d', name, '--challenge', 'dns-01', '--dns-hook', program, '--agree-tos', '--out', join(dir, `cert-${n}`, 'fullchain.pem'), ...extra],
    { env: { CHALLTESTSRV: pebble.challtestsrvUrl, MARKS: marks, DELAY_MS: '1500', ...env } });
    const triggers = proxy.requests.slice(firstRequest).filter((q) => q.cls === 'challenge' && !q.read).map((q) => q.at);
    const mark = join(marks, `_acme-challenge.${name}.`);
    const { setTimeout: delay } = await import('node:timers/promises');
    for (let i = 0; i < (env.NEVER ? 0 : 150) && !existsSync(mark); i++) await delay(20); // the control run ends before its record is published
    const publishedAt = existsSync(mark) ? Number(readFileSync(mark, 'utf8')) : undefined;
    return { r, triggers, publishedAt };
  }
  const resolver = () => ['--dns-resolver', `127.0.0.1:${pebble.dnsPort}`];

  it('with --dns-resolver: the challenge is triggered only after the late record is visible, and validates', async () => {
    const { r, triggers, publishedAt } = await issue('late.example', resolver());
    assertSuccess(r);
    assert.equal(r.stderr, '');
    assert.equal(triggers.length, 1);
    assert.ok(publishedAt !== undefined, 'the hook published');
    assert.ok(triggers[0]! >= publishedAt, `triggered at ${triggers[0]}, published at ${publishedAt}`);
  });

  it('control: with --no-propagation-check the challenge is triggered before the record exists, and fails', async () => {
    const { r, triggers, publishedAt } = await issue('early.example', [...resolver(), '--no-propagation-check']);
    assertFailure(r, 1, /early\.example/);
    assert.equal(triggers.length, 1);
    assert.ok(publishedAt === undefined || triggers[0]! < publishedAt, `triggered at ${triggers[0]}, published at ${publishedAt}`);
  });

  it('--dns-propagation-timeout: a record that never appears fails the run at the timeout, and no challenge is triggered', async () => {
    const started = Date.now();
    const { r, triggers } = await issue('never.example', [...resolver(), '--dns-propagation-timeout', '1'], { NEVER: '1' });
    assertFailure(r, 1, new RegExp(`^error: the TXT record _acme-challenge\\.never\\.example\\. "\\S+" is not visible after 1 s at 127\\.0\\.0\\.1:${pebble.dnsPort} \\(.+\\) — wait longer with --dns-propagation-timeout / --poll-timeout, ask another server with --dns-resolver, or skip the check with --no-propagation-check$`));
    assert.deepEqual(triggers, [], 'nothing was triggered');
    assert.ok(Date.now() - started < 20_000);
  });

  it('--no-propagation-check is kept in the renewal config as dns_propagation_timeout = 0', async () => {
    // a hook that publishes before it returns
    const sync = join(dir, 'sync-hook.mjs');
    writeFileSync(sync, `#!/usr/bin/env node
const e = process.env;
const add = process.argv[2] === 'add';
await fetch(e.CHALLTESTSRV + (add ? '/set-txt' : '/clear-txt'), { method: 'POST', body: JSON.stringify({ host: e.AKAMU_RECORD_NAME, value: e.AKAMU_TXT }) });
`);
    chmodSync(sync, 0o755);
    const n = runs + 1;
    const { r } = await issue('kept.example', ['--no-propagation-check'], { NEVER: '1' }, sync);
    assertSuccess(r);
    const config = readFileSync(join(dir, `cert-${n}`, 'fullchain.pem.renewal.toml'), 'utf8');
    assert.match(config, /^dns_propagation_timeout = 0$/m);
    assert.doesNotMatch(config, /dns_resolver/);
    const bad = await runCli(['issue', '--server', proxy.directoryUrl, '--server-ca', pebble.caPemPath, '--account-key', join(dir, 'x.pem'), '-d', 'x.example',
      '--challenge', 'dns-01', '--dns-hook', hook, '--dns-propagation-timeout', 'soon', '--out', join(dir, 'x', 'c.pem')]);
    assertFailure(bad, 2, /^error: --dns-propagation-timeout must be a number of seconds \(0–86400; 0 turns the check off\), got 'soon'$/);
  });
});
