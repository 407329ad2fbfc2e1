/**
 * One run at a time per certificate (`<out>.lock`), against Pebble: two renewals at once place
 * exactly one order and the second stops at once; stale locks are taken over, live ones respected.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setupWithAccount, runCli, assertSuccess, assertFailure, snapshot, type AccountEnv, type RunResult } from './helpers.js';
import { setState } from './cert-set-check.js';

/** dns-01 hook: publishes the record, then (on add) waits until the file $HOOK_RELEASE exists. */
const BLOCKING_HOOK = `#!/usr/bin/env node
import { existsSync } from 'node:fs';
const [op] = process.argv.slice(2);
const body = op === 'add' ? { host: process.env.AKAMU_RECORD_NAME, value: process.env.AKAMU_TXT } : { host: process.env.AKAMU_RECORD_NAME };
const res = await fetch(process.env.CHALLTESTSRV + (op === 'add' ? '/set-txt' : '/clear-txt'), { method: 'POST', body: JSON.stringify(body) });
if (!res.ok) process.exit(1);
while (op === 'add' && !existsSync(process.env.HOOK_RELEASE)) await new Promise((r) => setTimeout(r, 20));
`;

const BUSY = /^error: another akamu-cli run \(pid \d+, since \S+\) is working on \S+; nothing was done \(lock file \S+\.lock\)$/;

describe('one run at a time per certificate', () => {
  let env: AccountEnv;
  let out: string;
  let cfg: string;
  let release: string;
  let hookEnv: { env: Record<string, string> };
  before(async () => {
    env = await setupWithAccount();
    const hook = join(env.dir, 'blocking-hook.mjs');
    writeFileSync(hook, BLOCKING_HOOK);
    chmodSync(hook, 0o755);
    release = join(env.dir, 'release');
    hookEnv = { env: { CHALLTESTSRV: env.pebble.challtestsrvUrl, HOOK_RELEASE: release } };
    out = join(env.dir, 'site', 'fullchain.pem');
    cfg = `${out}.renewal.toml`;
    writeFileSync(release, '');
    assertSuccess(await runCli(['issue', ...env.server, '--account-key', env.key, '-d', 'lock.example', '--challenge', 'dns-01', '--dns-hook', hook, '--out', out], hookEnv));
  });
  after(async () => env.pebble.stop());

  const orders = () => (env.pebble.logText().match(/order-plz/g) ?? []).length;
  const renew = (extra: string[] = []) => runCli(['renew', '--renewal-config', cfg, '--server-ca', env.pebble.caPemPath, ...extra], hookEnv);

  it('two renew --force started together: exactly one order, the other stops at once with exit 1', async () => {
    for (let trial = 0; trial < 3; trial++) {
      rmSync(release, { force: true });
      const before = orders();
      const runs = [renew(['--force']), renew(['--force'])];
      // the winner waits in its hook until released, so the first to end is the one that lost the lock
      const [loserIndex, loser] = await Promise.race(runs.map((p, i) => p.then((r): [number, RunResult] => [i, r])));
      assertFailure(loser, 1, BUSY);
      assert.equal(loser.stdout, '', 'the loser printed no result');
      writeFileSync(release, '');
      assertSuccess(await runs[1 - loserIndex]!);
      assert.equal(orders(), before + 1, `trial ${trial}: exactly one order`);
      const state = await setState(out);
      assert.ok(state.consistent, state.problem);
      assert.deepEqual(state.leftovers, [], 'the lock is gone');
    }
  });

  it('a second run while the first is inside its order orders nothing and changes nothing', async () => {
    rmSync(release, { force: true });
    const ordersBefore = orders();
    const first = renew(['--force']);
    try {
      // wait until the first run's order is placed: it is then in its dns-01 hook, holding the lock
      while (orders() === ordersBefore) await new Promise((r) => setTimeout(r, 20));
      const holder = JSON.parse(readFileSync(`${out}.lock`, 'utf8')) as { pid: number };
      const files = [out, `${out}.key.pem`, cfg, `${out}.lock`];
      const snap = snapshot(files);
      const second = await renew(['--force']);
      assertFailure(second, 1, BUSY);
      assert.match(second.stderr, new RegExp(`pid ${holder.pid},`));
      assert.equal(orders(), ordersBefore + 1, 'the second run ordered nothing');
      assert.equal(snapshot(files), snap, 'and touched nothing');
    } finally {
      writeFileSync(release, '');
    }
    assertSuccess(await first);
  });

  it('a stale lock (its process is gone) is taken over; a live one is respected', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => dead.on('exit', () => resolve(dead.pid!)));
    const lock = `${out}.lock`;
    writeFileSync(lock, JSON.stringify({ pid: deadPid, host: hostname(), since: '2020-01-01T00:00:00.000Z', token: 'feedface' }));
    const r = await runCli(['-v', 'renew', '--renewal-config', cfg, '--server-ca', env.pebble.caPemPath], { env: { ...hookEnv.env, AKAMU_LOG: 'info' } });
    assertSuccess(r);
    assert.match(r.stderr, new RegExp(`removed the stale lock \\S+ of pid ${deadPid}, which is gone`));
    assert.equal(existsSync(lock), false);

    // a pid that is alive (this test process) holds it: the run stops
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const procStart = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), since: '2020-01-01T00:00:00.000Z', procStart, token: 'c0ffee' }));
    const before = orders();
    assertFailure(await renew(['--force']), 1, BUSY);
    assert.ok(existsSync(lock), 'a live lock is left alone');
    // the same pid with another start time is a reused pid: stale
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), since: '2020-01-01T00:00:00.000Z', procStart: '1', token: 'c0ffee' }));
    assertSuccess(await renew());
    assert.equal(existsSync(lock), false);
    assert.equal(orders(), before);
  });

  it('a lock file planted as a symbolic link is refused, not followed', async () => {
    const lock = `${out}.lock`;
    const victim = join(env.dir, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, lock);
    try {
      const before = orders();
      assertFailure(await renew(['--force']), 1, /the lock file \S+ is a symbolic link; remove it/);
      assert.equal(readFileSync(victim, 'utf8'), 'precious');
      assert.equal(orders(), before);
    } finally {
      unlinkSync(lock);
    }
  });
});
