/**
 * Crash safety of the certificate set (key, chain, renewal config) against Pebble: the process is
 * killed (SIGKILL, through the test-only AKAMU_TEST_FAILPOINT) at every step of the commit and of
 * the repair, and at random steps of many renewals that write a new key; after each kill the next
 * plain run must find a consistent set or repair it, and leave no temporary file behind.
 *
 * AKAMU_CRASH_TRIALS and AKAMU_CRASH_SEED change the randomized run (default 50 trials, seed 0xA4A3).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrivateKey } from 'akamu-client';
import { commitSteps, recoverySteps } from '../src/files/set-commit.js';
import { setupWithAccount, runCli, assertSuccess, assertFailure, type AccountEnv, type RunResult } from './helpers.js';
import { setState, type SetState } from './cert-set-check.js';
import { seededRandom } from '../../testkit/src/index.js';

/** Deterministic PRNG (the test kit's mulberry32). */
const prng = seededRandom;

// alternating types make the config part of what is checked (its cert_key_type must be the key's)
const KEY_TYPES = ['ec:P-256', 'ec:P-384'];
/** A renewal writes three files: the new key, the chain, the config. */
const STEPS = commitSteps(3);
/** Steps at or after this one are past the commit point: the next run completes the commit. */
const COMMIT_POINT = STEPS.indexOf('set-journal-committed');

function assertKilled(r: RunResult, step: string): void {
  assert.equal(r.signal, 'SIGKILL', `killed at ${step}; exit ${r.code}, stderr: ${r.stderr}`);
}

describe('crash safety of the certificate set', () => {
  let env: AccountEnv;
  /** The certificate most tests work on; the randomized run also uses `outB`, in a second lane. */
  let out: string;
  let outB: string;
  before(async () => {
    env = await setupWithAccount();
    out = join(env.dir, 'site', 'fullchain.pem');
    outB = join(env.dir, 'site-b', 'fullchain.pem');
    // the lanes validate on different ports: http-01 for one, tls-alpn-01 for the other
    const solve = [['--http-port', String(env.pebble.httpPort)], ['--challenge', 'tls-alpn-01', '--tls-port', String(env.pebble.tlsPort)]];
    for (const [i, [o, name]] of ([[out, 'crash.example'], [outB, 'crash-b.example']] as const).entries()) {
      assertSuccess(await runCli(['issue', ...env.server, '--account-key', env.key, ...solve[i]!, '-d', name, '--out', o]));
    }
  });
  after(async () => env.pebble.stop());

  const orders = () => (env.pebble.logText().match(/order-plz/g) ?? []).length;
  const renew = (extra: string[], failpoint?: string, o = out) =>
    runCli(['renew', '--renewal-config', `${o}.renewal.toml`, '--server-ca', env.pebble.caPemPath, ...extra], failpoint ? { env: { AKAMU_TEST_FAILPOINT: failpoint } } : {});

  /**
   * The next run after a crash. `renew`: a plain renew, which must repair the set (or find it
   * intact), see a fresh certificate that is not due, and so order nothing. `probe`: the same renew
   * against a server that is not there, which repairs and then fails to connect (quicker: no
   * TLS, no ARI). Either way nothing is ordered: "not yet due" ends a renew before any order, and
   * the probe never reaches a server. Returns the state it leaves.
   */
  async function checkRun(kind: 'renew' | 'probe', o = out): Promise<{ state: SetState; run: RunResult }> {
    let run: RunResult;
    if (kind === 'renew') {
      run = await renew([], undefined, o);
      assertSuccess(run);
      assert.match(run.stdout, /Renewal not yet due/, `the set needed no re-issue: ${run.stderr}`);
    } else {
      run = await renew(['--server', 'http://127.0.0.1:1/dir', '--poll-timeout', '2'], undefined, o);
      assertFailure(run, 1, /cannot connect/);
    }
    return { state: await setState(o), run };
  }

  /** Kill a forced renewal (with a new key of `keyType`) at `step`; check what the next run makes of it. */
  async function killAndCheck(step: string, keyType: string, kind: 'renew' | 'probe' = 'renew', o = out) {
    const old = await setState(o);
    assert.ok(old.consistent, `consistent before: ${old.problem}`);
    assertKilled(await renew(['--force', '--cert-key-type', keyType], step, o), step);
    const crashed = await setState(o);
    const { state, run } = await checkRun(kind, o);
    const forward = STEPS.indexOf(step) >= COMMIT_POINT;
    return { old, crashed, state, run, forward };
  }

  it('a kill at every step of the commit: rolled back before the journal, completed after it', async () => {
    for (const [i, step] of STEPS.entries()) {
      const keyType = KEY_TYPES[i % KEY_TYPES.length]!;
      const { old, state, run, forward } = await killAndCheck(step, keyType);
      assert.ok(state.consistent, `after ${step}: ${state.problem}`);
      assert.deepEqual(state.leftovers, [], `after ${step}: nothing left over`);
      if (forward) {
        assert.notEqual(state.hashes.key, old.hashes.key, `${step}: the new key is in place`);
        assert.notEqual(state.hashes.chain, old.hashes.chain, `${step}: the new chain is in place`);
        assert.equal(PrivateKey.fromPem(readFileSync(`${out}.key.pem`)).keyType, keyType);
        // the last rename done, the repair only removes the journal: nothing to say
        const renamesLeft = STEPS.indexOf('set-renamed-2') - STEPS.indexOf(step);
        if (renamesLeft > 0) assert.match(run.stderr, /WARN .*completed the interrupted write of /, step);
        else assert.doesNotMatch(run.stderr, /interrupted/, step);
      } else {
        assert.deepEqual(state.hashes, old.hashes, `${step}: the old set is untouched`);
      }
    }
  });

  it('a kill during the repair is repaired by the run after it', async () => {
    for (const recoverStep of recoverySteps(3)) {
      const old = await setState(out);
      assertKilled(await renew(['--force'], 'set-journal-committed'), 'set-journal-committed');
      assertKilled(await renew([], recoverStep), recoverStep);
      const { state } = await checkRun('renew');
      assert.ok(state.consistent, `after ${recoverStep}: ${state.problem}`);
      assert.deepEqual(state.leftovers, []);
      assert.notEqual(state.hashes.chain, old.hashes.chain, 'the interrupted commit was completed');
    }
  });

  it('randomized: SIGKILL at a random step of the write phase of renewals that write a new key', async () => {
    const trials = Number(process.env.AKAMU_CRASH_TRIALS ?? 50);
    const seed = Number(process.env.AKAMU_CRASH_SEED ?? 0xa4a3);
    const figures = { trials, seed, rolledBack: 0, completed: 0, halfCommittedOnDisk: 0, mismatchedAfterNextRun: 0, leftoversAfterNextRun: 0, tempFilesLeftByKills: 0 };
    // two certificates in two lanes at once (each its own seeded sequence), to halve the wall time
    const lane = async (o: string, laneSeed: number, count: number) => {
      const random = prng(laneSeed);
      for (let t = 0; t < count; t++) await trial(o, random, t);
    };
    const trial = async (o: string, random: () => number, t: number) => {
      // half the kills land past the commit point (in the renames), half before it
      const pool = random() < 0.5 ? STEPS.slice(0, COMMIT_POINT) : STEPS.slice(COMMIT_POINT);
      const step = pool[Math.floor(random() * pool.length)]!;
      const keyType = KEY_TYPES[Math.floor(random() * KEY_TYPES.length)]!;
      // every fifth next run is a full plain renew, the others repair and stop before the network
      const { old, crashed, state, forward } = await killAndCheck(step, keyType, t % 5 === 4 ? 'renew' : 'probe', o);
      if (!crashed.consistent) figures.halfCommittedOnDisk++;
      figures.tempFilesLeftByKills += crashed.leftovers.filter((f) => f.endsWith('.tmp')).length;
      if (!state.consistent) figures.mismatchedAfterNextRun++;
      figures.leftoversAfterNextRun += state.leftovers.length;
      if (forward) figures.completed++;
      else figures.rolledBack++;
      // the outcome is the one the step promises: the whole old set or the whole new one
      if (forward) assert.notEqual(state.hashes.key, old.hashes.key, `${o} trial ${t} (${step})`);
      else assert.deepEqual(state.hashes, old.hashes, `${o} trial ${t} (${step})`);
    };
    await Promise.all([lane(out, seed, Math.ceil(trials / 2)), lane(outB, seed + 1, Math.floor(trials / 2))]);
    console.log(`crash trials: ${JSON.stringify(figures)}`);
    assert.equal(figures.mismatchedAfterNextRun, 0);
    assert.equal(figures.leftoversAfterNextRun, 0);
  });

  it('a key that does not match the chain is renewed even when ARI says not due', async () => {
    const before = orders();
    const stray = await PrivateKey.generate('ec:P-256');
    writeFileSync(`${out}.key.pem`, stray.toPem());
    const r = await renew([]);
    assertSuccess(r);
    assert.match(r.stderr, /WARN .*the certificate key \S+ does not match the certificate \S+; renewing/);
    assert.match(r.stdout, /Certificate written to /);
    // (two newOrders when the CA answers alreadyReplaced: killed trials replaced this certificate already)
    assert.ok(orders() > before, 'it ordered');
    assert.ok((await setState(out)).consistent);
    // and a missing key too
    unlinkSync(`${out}.key.pem`);
    const r2 = await renew([]);
    assertSuccess(r2);
    assert.match(r2.stderr, /the certificate key \S+ is missing/);
    assert.ok((await setState(out)).consistent);
  });

  it('a first issuance killed part-way: the next run completes it or finds nothing at all', async () => {
    // the probe run repairs, then fails to connect: nothing is ordered
    const probe = (o: string) => runCli(['issue', '--server', 'http://127.0.0.1:1/dir', '--account-key', env.key, '-d', 'first.example', '--out', o, '--poll-timeout', '2']);
    const issue = (o: string, step: string) =>
      runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(env.pebble.httpPort), '-d', 'first.example', '--out', o], { env: { AKAMU_TEST_FAILPOINT: step } });
    for (const step of ['set-temp-2-synced', 'set-renamed-0', 'set-renamed-1']) {
      const o = join(env.dir, `first-${step}`, 'fullchain.pem');
      assertKilled(await issue(o, step), step);
      assertFailure(await probe(o), 1, /cannot connect/);
      const state = await setState(o);
      assert.deepEqual(state.leftovers, [], step);
      if (step === 'set-temp-2-synced') assert.ok(state.empty, `${step}: rolled back to nothing (${state.problem})`);
      else assert.ok(state.consistent, `${step}: ${state.problem}`);
      assert.equal(existsSync(`${o}.lock`), false);
    }
  });
});
