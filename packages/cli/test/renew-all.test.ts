/** `renew --all DIR` against Pebble (issue 12, item 3): the built CLI end to end, and renewAll() in-process with an injected clock and sleep. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { cliBin } from '../../testkit/src/index.js';
import { renewAll } from '../src/commands/renew-all.js';
import { findRenewalConfigs } from '../src/files/find-configs.js';
import { ariCachePath, parseAriCache } from '../src/files/ari-cache.js';
import { createLogger, logConfig } from '../src/log.js';
import type { RenewOptions } from '../src/program.js';
import type { Runtime } from '../src/runtime.js';
import { setupWithAccount, runCli, assertFailure, assertSuccess, serialOf, openssl, snapshot, type AccountEnv } from './helpers.js';

/** Appends `<event> <AKAMU_CERT_PATH> <AKAMU_REASON>` to HOOK_LOG; with RELEASE set, waits for that file between start and end. */
const HOOK = `#!/usr/bin/env node
const fs = require('node:fs');
if (!process.env.HOOK_LOG) process.exit(0);
const log = (what) => fs.appendFileSync(process.env.HOOK_LOG, what + ' ' + process.env.AKAMU_CERT_PATH + ' ' + process.env.AKAMU_REASON + '\\n');
log('start');
const release = process.env.RELEASE;
const deadline = Date.now() + 30000;
const wait = () => {
  if (!release || fs.existsSync(release) || Date.now() > deadline) { log('end'); return; }
  setTimeout(wait, 25);
};
wait();
`;

const ariRequests = (env: AccountEnv): number => (env.pebble.logText().match(/GET \/draft-ietf-acme-ari-03\/renewalInfo\//g) ?? []).length;

/** A Runtime for renewAll() in-process; log lines collected. */
function testRuntime(lines: string[]): Runtime {
  return {
    log: createLogger(logConfig(0, {}), 'akamu_cli', (l) => lines.push(l)),
    emit: () => {},
    note: (l) => lines.push(l),
    prompt: () => Promise.reject(new Error('no prompt in tests')),
    signal: new AbortController().signal,
  };
}

describe('renew --all', () => {
  let env: AccountEnv;
  let hook: string;
  let n = 0;
  before(async () => {
    env = await setupWithAccount();
    hook = join(env.dir, 'deploy-hook');
    writeFileSync(hook, HOOK);
    chmodSync(hook, 0o755);
  });
  after(async () => env.pebble.stop());

  /** Issue `name` into `<fleet>/<name>/fullchain.pem` with the deploy hook stored. */
  const issueInto = async (fleet: string, name: string, extra: string[] = []): Promise<string> => {
    const out = join(fleet, name, 'fullchain.pem');
    assertSuccess(await runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(env.pebble.httpPort), '-d', `${name}.example`,
      '--out', out, '--deploy-hook', hook, ...extra]));
    return out;
  };
  const freshFleet = () => join(env.dir, `fleet-${++n}`);
  const renewAllCli = (dir: string, extra: string[] = [], vars: Record<string, string> = {}) =>
    runCli(['renew', '--all', dir, '--server-ca', env.pebble.caPemPath, ...extra], { env: vars });

  it('a mix of due, not due, failing and locked certificates: one line each, the counts, exit 1; hooks only for the renewed', async () => {
    const fleet = freshFleet();
    const due = await issueInto(fleet, 'due');
    const notDue = await issueInto(fleet, 'notdue');
    const failing = await issueInto(fleet, 'failing');
    const locked = await issueInto(fleet, 'locked');
    // due: revoked, so Pebble's ARI window is in the past
    assertSuccess(await runCli(['revoke', ...env.server, '--account-key', env.key, '--cert', due, '--reason', '4']));
    // failing: no certificate yet (so it is issued), and its http-01 answer is served where Pebble does not look
    rmSync(failing);
    const cfgPath = `${failing}.renewal.toml`;
    writeFileSync(cfgPath, readFileSync(cfgPath, 'utf8').replace(/^http_port = \d+$/m, 'http_port = 0').replace(/^poll_timeout = \d+$/m, 'poll_timeout = 20'));
    // locked: another live run (this test process) holds its lock
    writeFileSync(`${locked}.lock`, `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), token: 'test' })}\n`);
    const untouched = snapshot([notDue, locked, `${locked}.key.pem`]);
    const serialBefore = serialOf(await openssl(['x509', '-in', due, '-noout', '-serial']));

    const log = join(env.dir, `hook-${n}.log`);
    const r = await renewAllCli(fleet, [], { HOOK_LOG: log });
    assertFailure(r, 1, /^error: 1 of 4 certificates failed$/);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 5, r.stdout);
    const serialAfter = serialOf(await openssl(['x509', '-in', due, '-noout', '-serial']));
    assert.notEqual(serialAfter, serialBefore);
    assert.match(lines[0]!, new RegExp(`^renewed  ${due}: ari; serial ${serialAfter}, not after \\S+Z$`));
    assert.match(lines[1]!, new RegExp(`^failed   ${failing}: .+`));
    assert.match(lines[2]!, new RegExp(`^locked   ${locked}: another akamu-cli run \\(pid ${process.pid}, since .*\\) is working on ${locked}; nothing was done`));
    assert.match(lines[3]!, new RegExp(`^not due  ${notDue}: due at \\S+Z \\(ari\\)$`));
    assert.match(lines[4]!, new RegExp(`^4 certificates in ${fleet}: 1 renewed, 1 not due, 1 failed, 1 locked \\(\\d+\\.\\d s\\)$`));
    assert.equal(snapshot([notDue, locked, `${locked}.key.pem`]), untouched);
    assert.equal(existsSync(failing), false, 'the failed issuance wrote nothing');
    // the deploy hook ran once: for the renewed certificate, with its reason
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), [`start ${due} ari`, `end ${due} ari`]);
    // the CA was asked once per certificate checked, and the answers are kept beside them
    const entry = parseAriCache(readFileSync(ariCachePath(notDue), 'utf8'));
    assert.equal(entry?.server, env.pebble.directoryUrl);

    rmSync(`${locked}.lock`);
    rmSync(join(fleet, 'failing'), { recursive: true });
    const again = await renewAllCli(fleet, [], { HOOK_LOG: log });
    assertSuccess(again);
    assert.match(again.stdout, /^3 certificates in .*: 0 renewed, 3 not due, 0 failed, 0 locked/m);
  });

  it('ARI answers are cached beside each certificate: the second run asks the CA nothing; a corrupt entry is fetched again', async () => {
    const fleet = freshFleet();
    const a = await issueInto(fleet, 'cache-a');
    const b = await issueInto(fleet, 'cache-b');
    const before = ariRequests(env);
    const first = await renewAllCli(fleet);
    assertSuccess(first);
    assert.equal(ariRequests(env) - before, 2, 'one ARI request per certificate');
    assert.doesNotMatch(first.stdout, /ARI cached/);
    const second = await renewAllCli(fleet);
    assertSuccess(second);
    assert.equal(ariRequests(env) - before, 2, 'no ARI request on the second run');
    assert.match(second.stdout, new RegExp(`^not due  ${a}: due at \\S+ \\(ari, ARI cached\\)$`, 'm'));
    assert.match(second.stdout, new RegExp(`^not due  ${b}: due at \\S+ \\(ari, ARI cached\\)$`, 'm'));
    // the same decision either way
    const dueAt = (out: string) => /due at (\S+)/.exec(out.split('\n').find((l) => l.includes(a))!)![1];
    assert.equal(dueAt(second.stdout), dueAt(first.stdout));

    writeFileSync(ariCachePath(b), '{"version": 1, "server": ');
    const third = await renewAllCli(fleet);
    assertSuccess(third);
    assert.equal(ariRequests(env) - before, 3, 'the corrupt entry was fetched again, the good one not');
    assert.ok(parseAriCache(readFileSync(ariCachePath(b), 'utf8')), 'and replaced by a good one');
  });

  it('after its Retry-After (injected clock) the answer is fetched again; a changed chain is not judged by the old entry', async () => {
    const fleet = freshFleet();
    const a = await issueInto(fleet, 'clock-a');
    const lines: string[] = [];
    const opts = { all: fleet, serverCa: env.pebble.caPemPath, domain: [], force: false } as unknown as RenewOptions;
    const before = ariRequests(env);
    const r1 = await renewAll(opts, testRuntime(lines));
    assert.equal(r1.certificates[0]!.status, 'not-due');
    assert.equal(r1.certificates[0]!.ariCached, false);
    const entry = parseAriCache(readFileSync(ariCachePath(a), 'utf8'))!;
    const validUntil = Date.parse(entry.validUntil);
    // just before the Retry-After: cached
    const r2 = await renewAll(opts, testRuntime(lines), { now: () => new Date(validUntil - 1000) });
    assert.equal(r2.certificates[0]!.ariCached, true);
    assert.equal(ariRequests(env) - before, 1);
    // at it: asked again, and kept with a new Retry-After
    const later = new Date(validUntil + 1000);
    const r3 = await renewAll(opts, testRuntime(lines), { now: () => later });
    assert.equal(r3.certificates[0]!.ariCached, false);
    assert.equal(ariRequests(env) - before, 2);
    assert.equal(parseAriCache(readFileSync(ariCachePath(a), 'utf8'))!.fetchedAt, later.toISOString());
    assert.equal(r3.requests, 2, 'the run sent the directory GET and one ARI GET');
    // a renewed chain (another certificate at the same path) is asked about, whatever the entry says
    assertSuccess(await runCli(['renew', '--renewal-config', `${a}.renewal.toml`, '--server-ca', env.pebble.caPemPath, '--force']));
    const r4 = await renewAll(opts, testRuntime(lines), { now: () => later });
    assert.equal(r4.certificates[0]!.ariCached, false);
    assert.equal(ariRequests(env) - before, 3);
  });

  it('--concurrency bounds the certificates worked on at once', async () => {
    const fleet = freshFleet();
    for (let i = 0; i < 5; i++) await issueInto(fleet, `conc-${i}`);
    const log = join(env.dir, `hook-${n}.log`);
    const release = join(env.dir, `release-${n}`);
    const child = spawn(process.execPath, [cliBin, 'renew', '--all', fleet, '--server-ca', env.pebble.caPemPath, '--force', '--concurrency', '2',
      '--http-port', String(env.pebble.httpPort)], { env: { ...process.env, HOOK_LOG: log, RELEASE: release }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    const starts = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('start')).length : 0);
    const until = Date.now() + 60_000;
    while (starts() < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.equal(starts(), 2, `two renewals at once reach their deploy hook: ${stderr}`);
    // while both hooks hold their slots, no third certificate is started
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(starts(), 2, 'no third at once');
    writeFileSync(release, '');
    assert.equal(await exited, 0, stderr);
    let running = 0;
    let most = 0;
    for (const l of readFileSync(log, 'utf8').trim().split('\n')) {
      running += l.startsWith('start') ? 1 : -1;
      most = Math.max(most, running);
    }
    assert.equal(most, 2);
    assert.match(stdout, /^5 certificates in .*: 5 renewed, 0 not due, 0 failed, 0 locked/m);
    assert.equal((stdout.match(/^renewed {2}.*: forced; serial/gm) ?? []).length, 5);
  });

  it('--random-delay sleeps a random time first, through the injected sleep', async () => {
    const fleet = freshFleet();
    await issueInto(fleet, 'delay');
    const slept: number[] = [];
    let requestsWhenSleeping = -1;
    const opts = { all: fleet, serverCa: env.pebble.caPemPath, domain: [], force: false, randomDelay: '600' } as unknown as RenewOptions;
    const before = env.pebble.requestCount();
    const r = await renewAll(opts, testRuntime([]), {
      random: () => 0.25,
      sleep: async (ms) => {
        slept.push(ms);
        requestsWhenSleeping = env.pebble.requestCount() - before;
      },
    });
    assert.deepEqual(slept, [150_000]);
    assert.equal(r.randomDelayMs, 150_000);
    assert.equal(requestsWhenSleeping, 0, 'the sleep comes before any request');
    assert.equal(r.counts.notDue, 1);
    const none: number[] = [];
    await renewAll({ ...opts, randomDelay: undefined } as unknown as RenewOptions, testRuntime([]), { sleep: async (ms) => { none.push(ms); } });
    assert.deepEqual(none, [], 'no delay asked for: no sleep');
  });

  it('finds every *.renewal.toml below DIR once, through link loops; refuses flags of one certificate', async () => {
    const dir = join(env.dir, 'walk');
    mkdirSync(join(dir, 'a', 'deep'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    for (const f of ['a/x.pem.renewal.toml', 'a/deep/y.pem.renewal.toml', 'b/z.pem.renewal.toml', 'b/not-a-config.toml']) writeFileSync(join(dir, f), '');
    symlinkSync('..', join(dir, 'a', 'deep', 'up'));
    symlinkSync(dir, join(dir, 'b', 'top'));
    symlinkSync(join(dir, 'missing'), join(dir, 'dangling'));
    const found = await findRenewalConfigs(dir, () => {});
    assert.deepEqual(found, [join(dir, 'a/deep/y.pem.renewal.toml'), join(dir, 'a/x.pem.renewal.toml'), join(dir, 'b/z.pem.renewal.toml')]);

    assertFailure(await runCli(['renew', '--all', dir, '--out', '/tmp/x.pem']), 2, /--out names one certificate; it cannot be used with --all/);
    assertFailure(await runCli(['renew', '--all', join(dir, 'nope')]), 2, /renew --all .*nope: no such file/);
    assertFailure(await runCli(['renew', '--all', dir, '--concurrency', '0']), 2, /--concurrency must be a whole number from 1 to 64, got '0'/);
    assertFailure(await runCli(['renew', '--renewal-config', 'x.toml', '--concurrency', '2']), 2, /--concurrency is only used with --all/);
    // an empty directory is fine
    const empty = join(env.dir, 'empty');
    mkdirSync(empty);
    const r = await runCli(['renew', '--all', empty]);
    assertSuccess(r);
    assert.equal(r.stdout, `0 certificates in ${empty}: 0 renewed, 0 not due, 0 failed, 0 locked (0.0 s)\n`);
  });
});
