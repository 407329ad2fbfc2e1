/** End to end against Pebble with the built CLI: --deploy-hook, --failure-hook and --hook-timeout (issue 12, item 2). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { setupWithAccount, runCli, openssl, assertFailure, assertSuccess, serialOf, snapshot, type AccountEnv } from './helpers.js';

/** A hook that records its argv and every AKAMU_* variable (one JSON line per run), then exits with HOOK_EXIT. */
const RECORDING_HOOK = `#!/usr/bin/env node
const fs = require('node:fs');
const vars = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('AKAMU_')));
fs.appendFileSync(process.env.HOOK_LOG, JSON.stringify({ argv: process.argv.slice(2), vars }) + '\\n');
if (process.env.HOOK_STDERR) process.stderr.write(process.env.HOOK_STDERR);
process.exit(Number(process.env.HOOK_EXIT ?? 0));
`;

interface HookRun {
  argv: string[];
  vars: Record<string, string>;
}

function runsIn(log: string): HookRun[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as HookRun);
}

describe('deploy and failure hooks', () => {
  let env: AccountEnv;
  let hook: string;
  let n = 0;
  before(async () => {
    env = await setupWithAccount();
    hook = join(env.dir, 'record-hook');
    writeFileSync(hook, RECORDING_HOOK);
    chmodSync(hook, 0o755);
  });
  after(async () => env.pebble.stop());

  /** A fresh output path and hook log. */
  const fresh = () => {
    n++;
    return { out: join(env.dir, `c${n}`, 'fullchain.pem'), log: join(env.dir, `hook-${n}.log`), name: `h${n}.example` };
  };
  const issue = (out: string, name: string, extra: string[], envVars: Record<string, string> = {}) =>
    runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(env.pebble.httpPort), '-d', name, '-d', `www.${name}`, '--out', out, ...extra],
      { env: { AKAMU_EAB_KEY: 'secret-never-for-hooks', ...envVars } });
  const renew = (out: string, extra: string[], envVars: Record<string, string> = {}) =>
    runCli(['renew', '--renewal-config', `${out}.renewal.toml`, '--server-ca', env.pebble.caPemPath, ...extra], { env: envVars });

  it('runs after issue and renew with exactly the documented environment, never when nothing was due, and round-trips through the renewal config', async () => {
    const { out, log, name } = fresh();
    const r = await issue(out, name, ['--deploy-hook', hook, '--profile', 'shortlived'], { HOOK_LOG: log });
    assertSuccess(r);
    assert.match(r.stdout, new RegExp(`Deploy hook: {6}${hook} succeeded`));
    const [first, ...more] = runsIn(log);
    assert.equal(more.length, 0, 'one run');
    const text = await openssl(['x509', '-in', out, '-noout', '-serial', '-enddate']);
    const notAfter = new Date(/notAfter=(.+)/.exec(text)![1]!).toISOString().replace(/\.\d{3}Z$/, 'Z');
    assert.deepEqual(first, {
      argv: [],
      vars: {
        AKAMU_CERT_PATH: out,
        AKAMU_KEY_PATH: `${out}.key.pem`,
        AKAMU_DOMAINS: `${name} www.${name}`,
        AKAMU_SERIAL: serialOf(text).toUpperCase(),
        AKAMU_NOT_AFTER: notAfter,
        AKAMU_PROFILE: 'shortlived',
        AKAMU_REASON: 'issued',
      },
    }, 'no other AKAMU_* variable (AKAMU_EAB_KEY is not inherited)');

    const cfg = parse(readFileSync(`${out}.renewal.toml`, 'utf8')) as Record<string, unknown>;
    assert.equal(cfg.deploy_hook, hook);
    assert.equal(cfg.failure_hook, undefined);
    assert.equal(cfg.hook_timeout, undefined, 'written only when given');

    // not due: the hook does not run
    const notDue = await renew(out, [], { HOOK_LOG: log });
    assertSuccess(notDue);
    assert.match(notDue.stdout, /Renewal not yet due/);
    assert.equal(runsIn(log).length, 1, 'no run when nothing was due');

    // forced: the stored hook runs with reason forced and the new certificate's facts
    const forced = await renew(out, ['--force'], { HOOK_LOG: log });
    assertSuccess(forced);
    const runs = runsIn(log);
    assert.equal(runs.length, 2);
    assert.equal(runs[1]!.vars.AKAMU_REASON, 'forced');
    const serial = serialOf(await openssl(['x509', '-in', out, '-noout', '-serial']));
    assert.equal(runs[1]!.vars.AKAMU_SERIAL, serial.toUpperCase());
    assert.notEqual(runs[1]!.vars.AKAMU_SERIAL, first!.vars.AKAMU_SERIAL);

    // due by ARI (revoked: Pebble's window moves into the past): reason ari
    assertSuccess(await runCli(['revoke', ...env.server, '--account-key', env.key, '--cert', out, '--reason', '4']));
    assertSuccess(await renew(out, [], { HOOK_LOG: log }));
    assert.equal(runsIn(log)[2]?.vars.AKAMU_REASON, 'ari');
  });

  it('is executed directly: shell metacharacters in CMD are not interpreted', async () => {
    const { out, name } = fresh();
    const marker = join(env.dir, 'pwned');
    const cmd = `${hook}; touch ${marker}`;
    const r = await issue(out, name, ['--deploy-hook', cmd]);
    // the whole string is one program path, which does not exist: refused before anything is ordered
    assertFailure(r, 2, new RegExp(`^error: --deploy-hook ${hook.replace(/[/.]/g, '\\$&')}; touch .*: no such file`));
    assert.equal(existsSync(marker), false, 'no shell ran the command line');
    assert.equal(existsSync(out), false, 'nothing ordered');
    const bare = await issue(out, name, ['--deploy-hook', 'systemctl reload nginx']);
    assertFailure(bare, 2, /--deploy-hook systemctl reload nginx: not found in PATH \(the hook is one program, run without a shell and without arguments: put a command line in a script\)/);
  });

  it('a failing deploy hook: exit 1 with its stderr, the new certificate stays in place, the failure hook is told', async () => {
    const { out, log, name } = fresh();
    const failLog = join(env.dir, `fail-${n}.log`);
    const failHook = join(env.dir, 'record-failure');
    writeFileSync(failHook, RECORDING_HOOK.replace('process.env.HOOK_LOG', 'process.env.FAIL_LOG').replace("process.exit(Number(process.env.HOOK_EXIT ?? 0))", 'process.exit(0)'));
    chmodSync(failHook, 0o755);
    const r = await issue(out, name, ['--deploy-hook', hook, '--failure-hook', failHook], { HOOK_LOG: log, FAIL_LOG: failLog, HOOK_EXIT: '3', HOOK_STDERR: 'nginx: config test failed' });
    assertFailure(r, 1, new RegExp(`^error: deploy hook '${hook.replace(/[/.]/g, '\\$&')}' exited with status 3: nginx: config test failed \\(the new certificate is in place: ${out.replace(/[/.]/g, '\\$&')}\\)$`));
    assert.match(r.stdout, /Certificate written to /, 'the issuance is reported');
    await openssl(['x509', '-in', out, '-noout']);
    const [fail] = runsIn(failLog);
    assert.equal(fail!.vars.AKAMU_FAILED, 'deploy-hook');
    assert.match(fail!.vars.AKAMU_ERROR!, /exited with status 3: nginx: config test failed/);
    assert.equal(fail!.vars.AKAMU_DOMAINS, `${name} www.${name}`);
    assert.equal(fail!.vars.AKAMU_CERT_PATH, out);
    const cfg = parse(readFileSync(`${out}.renewal.toml`, 'utf8')) as Record<string, unknown>;
    assert.equal(cfg.failure_hook, failHook);
  });

  it('the failure hook runs when a renewal fails (and the deploy hook does not)', async () => {
    const { out, log, name } = fresh();
    const failLog = join(env.dir, `fail-${n}.log`);
    assertSuccess(await issue(out, name, ['--deploy-hook', hook, '--failure-hook', hook], { HOOK_LOG: log }));
    assert.equal(runsIn(log).length, 1);
    const before = snapshot([out, `${out}.key.pem`]);
    // the http-01 answer is served on an ephemeral port: nothing listens where Pebble's VA connects
    const r = await renew(out, ['--force', '--http-port', '0', '--poll-timeout', '20'], { HOOK_LOG: failLog });
    assertFailure(r, 1, /^error: /);
    assert.equal(snapshot([out, `${out}.key.pem`]), before, 'the old certificate is untouched');
    const runs = runsIn(failLog);
    assert.equal(runs.length, 1, `one failure hook run: ${r.stderr}`);
    assert.equal(runs[0]!.vars.AKAMU_FAILED, 'renew');
    assert.equal(runs[0]!.vars.AKAMU_CERT_PATH, out);
    assert.equal(runs[0]!.vars.AKAMU_DOMAINS, `${name} www.${name}`);
    assert.ok(runs[0]!.vars.AKAMU_ERROR, 'the error is given');
    assert.equal(runs[0]!.vars.AKAMU_REASON, undefined, 'a failure hook gets no deploy variables');
  });

  it('--hook-timeout kills a hook that runs too long (and is stored)', async () => {
    const { out, name } = fresh();
    const slow = join(env.dir, 'slow-hook');
    writeFileSync(slow, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(slow, 0o755);
    const started = Date.now();
    const r = await issue(out, name, ['--deploy-hook', slow, '--hook-timeout', '1']);
    assertFailure(r, 1, /^error: deploy hook '.*slow-hook' timed out after 1 s and was killed by SIGTERM \(the new certificate is in place/);
    assert.ok(Date.now() - started < 25_000, 'killed, not waited for');
    const cfg = parse(readFileSync(`${out}.renewal.toml`, 'utf8')) as Record<string, unknown>;
    assert.equal(cfg.hook_timeout, 1);
    assert.equal(cfg.deploy_hook, slow);
    assertFailure(await issue(out, name, ['--deploy-hook', slow, '--hook-timeout', '0']), 2, /--hook-timeout must be a positive number of seconds, got '0'/);
  });
});
