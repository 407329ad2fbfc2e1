/**
 * The CLI as a process that is interrupted: SIGINT or SIGTERM during a dns-01 hook issuance stops
 * the run, the hook's `remove` runs, the hook and its children end, nothing is written, and the
 * exit status is 130 or 143. A closed stdout (`| head -1`) never aborts the work.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cliBin } from '../../testkit/src/index.js';
import { processAlive, waitUntil, writeSlowDnsHook } from '../../testkit/src/processes.js';
import { setupWithAccount, setup, assertFailure, verifyChain, type AccountEnv, type Env } from './helpers.js';

interface Child {
  pid: number;
  kill(sig: NodeJS.Signals): void;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function startCli(args: string[], env: Record<string, string>, opts: { closeStdout?: boolean } = {}): Child {
  const child = spawn(process.execPath, [cliBin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  // the reader of stdout goes away at once, as `head -1` does after its line
  if (opts.closeStdout) child.stdout.destroy();
  else child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { pid: child.pid!, kill: (sig) => child.kill(sig), done };
}

describe('signals during issuance', () => {
  let env: AccountEnv;
  before(async () => {
    env = await setupWithAccount();
  });
  after(async () => env.pebble.stop());

  for (const [sig, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${sig} while the dns-01 hook's add runs: remove runs, the hook ends, nothing is written, exit ${status}`, async () => {
      const marks = join(env.dir, `marks-${sig}`);
      mkdirSync(marks);
      const hook = writeSlowDnsHook(marks);
      const outDir = join(env.dir, `out-${sig}`);
      const out = join(outDir, 'fullchain.pem');
      const cli = startCli(['issue', ...env.server, '--account-key', env.key, '-d', `sig-${sig.toLowerCase()}.example`,
        '--challenge', 'dns-01', '--dns-hook', hook.path, '--out', out], hook.env);
      const { hookPid, childPid } = await hook.added();
      assert.ok(processAlive(hookPid) && processAlive(childPid), 'the hook and its child run');

      cli.kill(sig);
      const r = await cli.done;
      assertFailure({ ...r, timedOut: false }, status, new RegExp(`^error: interrupted by ${sig}$`));
      assert.equal(hook.removed(), `_acme-challenge.sig-${sig.toLowerCase()}.example.\n`, 'the hook\'s remove ran');
      await waitUntil('the hook and its child to end', () => !processAlive(hookPid) && !processAlive(childPid));
      assert.deepEqual(readdirSync(outDir), [], 'nothing written, no temp file left');
    });
  }
});

describe('a closed stdout', () => {
  let env: Env;
  before(async () => {
    env = await setup();
  });
  after(async () => env.pebble.stop());

  it('does not abort the work: a new account and a certificate, exit 0, no stack trace', async () => {
    const key = join(env.dir, 'epipe-account.pem');
    const out = join(env.dir, 'epipe', 'fullchain.pem');
    const cli = startCli(['issue', ...env.server, '--account-key', key, '-d', 'epipe.example', '--http-port', String(env.pebble.httpPort), '--out', out],
      {}, { closeStdout: true });
    const r = await cli.done;
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|^\s+at /m, 'no error and no stack trace');
    assert.ok(existsSync(`${key}.account-url`), 'the account was registered and its sidecar written');
    await verifyChain(env, out, `${out}.key.pem`);
    assert.ok(existsSync(`${out}.renewal.toml`));
  });
});
