/**
 * The CLI as a process that is interrupted: SIGINT or SIGTERM during a dns-01 hook issuance stops
 * the run, the hook's `remove` runs, the hook and its children end, nothing is written, and the
 * exit status is 130 or 143. A closed stdout (`| head -1`) never aborts the work.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { cliBin } from '../../testkit/src/index.js';
import { setupWithAccount, setup, assertFailure, verifyChain, type AccountEnv, type Env } from './helpers.js';

/** `add` records its pid, starts a child of its own and waits for it; `remove` records the record it removes. */
const SLOW_HOOK = [
  '#!/bin/sh',
  'case "$1" in',
  '  add) echo $$ > "$MARKS/add.pid"; sleep 60 & echo $! > "$MARKS/sleep.pid"; wait ;;',
  '  remove) echo "$AKAMU_RECORD_NAME" >> "$MARKS/removed" ;;',
  'esac',
  '',
].join('\n');

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

/** True while the process exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (ok()) return;
    await delay(20);
  }
  assert.fail(`gave up waiting for ${what}`);
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
      const hook = join(marks, 'hook.sh');
      writeFileSync(hook, SLOW_HOOK);
      chmodSync(hook, 0o755);
      const outDir = join(env.dir, `out-${sig}`);
      const out = join(outDir, 'fullchain.pem');
      const cli = startCli(['issue', ...env.server, '--account-key', env.key, '-d', `sig-${sig.toLowerCase()}.example`,
        '--challenge', 'dns-01', '--dns-hook', hook, '--out', out], { MARKS: marks });
      const sleepPidFile = join(marks, 'sleep.pid');
      await until('the hook\'s add to start', () => existsSync(sleepPidFile) && readFileSync(sleepPidFile, 'utf8').trim() !== '');
      const hookPids = [Number(readFileSync(join(marks, 'add.pid'), 'utf8')), Number(readFileSync(sleepPidFile, 'utf8'))];
      assert.ok(hookPids.every(alive), 'the hook and its child run');

      cli.kill(sig);
      const r = await cli.done;
      assertFailure({ ...r, timedOut: false }, status, new RegExp(`^error: interrupted by ${sig}$`));
      assert.equal(readFileSync(join(marks, 'removed'), 'utf8'), `_acme-challenge.sig-${sig.toLowerCase()}.example.\n`, 'the hook\'s remove ran');
      await until('the hook and its child to end', () => !hookPids.some(alive));
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
