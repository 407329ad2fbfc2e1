/**
 * `install timer DIR` with the built CLI: the units as text, written atomically to a temporary
 * unit directory (never /etc), checked by `systemd-analyze verify` where it is installed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliBin } from '../../testkit/src/index.js';
import { runCli, runProgram } from '../../testkit/src/index.js';
import { setupWithAccount, tempDir, assertFailure, assertSuccess, snapshot } from './helpers.js';

const run = promisify(execFile);

/** `systemd-analyze verify` of unit files: its output, or undefined when systemd-analyze is not installed. */
async function verify(paths: string[]): Promise<{ code: number; output: string } | undefined> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', ['verify', '--man=no', ...paths]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') return undefined;
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The ExecStart the CLI should write for this test run: the launcher (env finds /usr/bin/node here) or node + launcher. */
function execStartOf(service: string): string {
  const m = /^ExecStart=(.*)$/m.exec(service);
  assert.ok(m, service);
  return m[1]!;
}

/** A certificate directory with one renewal config in a subdirectory (what renew --all looks for). */
function certDir(name = 'certs'): string {
  const dir = join(tempDir(), name);
  mkdirSync(join(dir, 'site'), { recursive: true });
  writeFileSync(join(dir, 'site', 'fullchain.pem.renewal.toml'), 'server = "https://ca.test/dir"\n');
  return dir;
}

describe('install timer', () => {
  it('--print-only prints a oneshot service running renew --all DIR and an hourly timer; nothing is written', async () => {
    const dir = certDir();
    const units = join(tempDir(), 'units');
    const r = await runCli(['install', 'timer', 'certs', '--print-only', '--unit-dir', units], { cwd: join(dir, '..') });
    assertSuccess(r);
    assert.equal(r.stderr, '');
    assert.equal(existsSync(units), false, 'nothing written');
    const [service, timer] = r.stdout.split(/^# --- .* ---$/m).slice(1);
    assert.match(r.stdout, new RegExp(`^# --- ${units}/akamu-renew\\.service ---$`, 'm'));
    assert.match(r.stdout, new RegExp(`^# --- ${units}/akamu-renew\\.timer ---$`, 'm'));
    assert.match(service!, /^\[Service\]\nType=oneshot\nExecStart=/m);
    assert.match(service!, /^Wants=network-online\.target\nAfter=network-online\.target$/m);
    // the absolute launcher path (or this node and the launcher) and the absolute DIR
    const exec = execStartOf(service!);
    assert.ok(exec === `${cliBin} renew --all ${dir}` || exec === `${process.execPath} ${cliBin} renew --all ${dir}`, exec);
    assert.match(timer!, /^\[Timer\]\nOnCalendar=hourly\nRandomizedDelaySec=\S+\nPersistent=true\n\n\[Install\]\nWantedBy=timers\.target$/m);
    assert.match(r.stdout, /^After writing these units, enable the timer with:\n {2}systemctl daemon-reload\n {2}systemctl enable --now akamu-renew\.timer\n$/m);
  });

  it('system units by default go to /etc/systemd/system (shown with --print-only only)', async () => {
    const r = await runCli(['install', 'timer', certDir(), '--print-only']);
    assertSuccess(r);
    assert.match(r.stdout, /^# --- \/etc\/systemd\/system\/akamu-renew\.service ---$/m);
  });

  it('writes both units; systemd-analyze verify accepts them; a second run leaves them; a different unit needs --force', async () => {
    const dir = certDir('my certs%1');
    const units = join(tempDir(), 'units');
    const args = ['install', 'timer', dir, '--unit-dir', units];
    const r = await runCli(args);
    assertSuccess(r);
    const service = join(units, 'akamu-renew.service');
    const timer = join(units, 'akamu-renew.timer');
    assert.equal(r.stdout, `Written: ${service}\nWritten: ${timer}\nTo enable automatic renewal, run:\n  systemctl daemon-reload\n  systemctl enable --now akamu-renew.timer\n`);
    assert.deepEqual(readdirSync(units).sort(), ['akamu-renew.service', 'akamu-renew.timer'], 'no temporary file left');
    const printed = await runCli([...args, '--print-only']);
    assert.ok(printed.stdout.includes(readFileSync(service, 'utf8').trimEnd()), 'the file is what --print-only shows');
    // the space is quoted and % escaped for systemd, in ExecStart and in the Description
    assert.match(readFileSync(service, 'utf8'), /^ExecStart=.* renew --all "\/\S+\/my certs%%1"$/m);
    assert.match(readFileSync(service, 'utf8'), /^Description=Renew the ACME certificates below \S+\/my certs%%1 \(akamu\)$/m);

    const v = await verify([service, timer]);
    if (v) {
      assert.equal(v.code, 0, v.output);
      assert.equal(v.output, '', 'systemd-analyze verify has nothing to say');
      // and it would notice a broken unit: the check can fail
      const bad = join(tempDir(), 'akamu-renew.service');
      writeFileSync(bad, readFileSync(service, 'utf8').replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/akamu'));
      const broken = await verify([bad]);
      assert.notEqual(broken!.code, 0, 'a unit with a missing binary fails verification');
    } else {
      // no systemd here: the text is checked above and here
      assert.match(readFileSync(timer, 'utf8'), /^OnCalendar=hourly$/m);
    }

    const again = await runCli(args);
    assertSuccess(again);
    assert.match(again.stdout, /^Unchanged: \S+akamu-renew\.service\nUnchanged: \S+akamu-renew\.timer\n/);

    writeFileSync(service, readFileSync(service, 'utf8').replace('Type=oneshot', 'Type=oneshot\nNice=10'));
    const before = snapshot([service, timer]);
    assertFailure(await runCli(args), 2, /^error: \S+akamu-renew\.service already exists with other content; use --force to replace it, or --unit-name NAME for another timer$/);
    assert.equal(snapshot([service, timer]), before, 'both units untouched');
    const forced = await runCli([...args, '--force']);
    assertSuccess(forced);
    assert.match(forced.stdout, /^Replaced: \S+akamu-renew\.service\nUnchanged: \S+akamu-renew\.timer\n/);
    assert.doesNotMatch(readFileSync(service, 'utf8'), /Nice=10/);

    const other = await runCli([...args, '--unit-name', 'akamu-renew-other']);
    assertSuccess(other);
    assert.ok(existsSync(join(units, 'akamu-renew-other.timer')));
  });

  it('--user: user units under $XDG_CONFIG_HOME/systemd/user, enabled with systemctl --user', async () => {
    const config = tempDir();
    const r = await runCli(['install', 'timer', certDir(), '--user'], { env: { XDG_CONFIG_HOME: config } });
    assertSuccess(r);
    const units = join(config, 'systemd', 'user');
    assert.deepEqual(readdirSync(units).sort(), ['akamu-renew.service', 'akamu-renew.timer']);
    assert.match(r.stdout, /^ {2}systemctl --user daemon-reload\n {2}systemctl --user enable --now akamu-renew\.timer\n {2}loginctl enable-linger/m);
    const v = await verify([join(units, 'akamu-renew.service'), join(units, 'akamu-renew.timer')]);
    if (v) assert.equal(v.code, 0, v.output);
  });

  it('bad input: one error line, nothing written', async () => {
    const units = join(tempDir(), 'units');
    assertFailure(await runCli(['install', 'timer', join(tempDir(), 'nope'), '--unit-dir', units]), 2, /^error: cannot read directory \S+nope: no such file$/);
    assertFailure(await runCli(['install', 'timer', certDir(), '--unit-dir', units, '--unit-name', 'x.timer']), 2, /--unit-name 'x\.timer' must be a plain unit name/);
    assertFailure(await runCli(['install', 'timer', certDir(), '--unit-dir', units, '--unit-name', 'a/b']), 2, /must be a plain unit name/);
    assert.equal(existsSync(units), false);
    // an empty directory is allowed (certificates come later), with a note
    const empty = tempDir();
    const r = await runCli(['install', 'timer', empty, '--print-only']);
    assertSuccess(r);
    assert.equal(r.stderr, `Note: no *.renewal.toml below ${empty} yet; the timer renews whatever is issued there later.\n`);
  });

  it("the service's command line renews the directory against Pebble (with --server-ca)", async () => {
    const env = await setupWithAccount();
    try {
      const dir = join(env.dir, 'fleet');
      const out = join(dir, 'one', 'fullchain.pem');
      assertSuccess(await runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(env.pebble.httpPort), '-d', 'timer.example', '--out', out]));
      const units = join(env.dir, 'units');
      assertSuccess(await runCli(['install', 'timer', dir, '--unit-dir', units, '--server-ca', env.pebble.caPemPath]));
      const exec = execStartOf(readFileSync(join(units, 'akamu-renew.service'), 'utf8'));
      assert.ok(exec.endsWith(` renew --all ${dir} --server-ca ${env.pebble.caPemPath}`), exec);
      // what systemd would run (no quoting needed in these paths)
      const [program, ...args] = exec.split(' ');
      const r = await runProgram(program!, args);
      assertSuccess(r);
      assert.match(r.stdout, new RegExp(`^not due +${out}: due at \\S+ \\(ari\\)$`, 'm'));
      assert.match(r.stdout, /^1 certificate in .*: 0 renewed, 1 not due, 0 failed, 0 locked/m);
      assertFailure(await runCli(['install', 'timer', dir, '--print-only', '--server-ca', join(env.dir, 'none.pem')]), 2, /^error: cannot read --server-ca \S+none\.pem: no such file$/);
    } finally {
      await env.pebble.stop();
    }
  });
});
