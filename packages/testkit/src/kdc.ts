/**
 * A throwaway MIT Kerberos realm for the tests: its own krb5.conf and kdc.conf in a temp dir, a
 * database made with `kdb5_util create -s`, principals with random keys (`kadmin.local addprinc
 * -randkey`), keytabs exported with `ktadd -k`, and `krb5kdc` in the foreground on a free loopback
 * port (TCP and UDP), stopped by its PID. Nothing outside the temp dir is read or written: every
 * Kerberos program and library call is pointed at the realm's files by `env` (KRB5_CONFIG, …).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './pebble.js';
import { runProgram, tempDir } from './util.js';

export interface KdcOptions {
  /** Client principals to create (without realm); default `['acmeclient']`. */
  principals?: string[];
  /** Realm name; default `ACME.TEST`. */
  realm?: string;
}

export interface Kdc {
  realm: string;
  /** Path of the realm's krb5.conf (what KRB5_CONFIG names). */
  krb5Config: string;
  /** Port of the KDC on 127.0.0.1 (TCP and UDP). */
  port: number;
  /** For child processes: KRB5_CONFIG (and KRB5_KDC_PROFILE, KRB5CCNAME pointing at nothing shared). */
  env: Record<string, string>;
  /** Host names that have an `HTTP/<host>` service principal: localhost, 127.0.0.1, os.hostname(). */
  serviceHosts: string[];
  /** A keytab holding every `HTTP/<host>` service principal, for acceptors. */
  serviceKeytab: string;
  /** Path of a keytab holding `principal` (`name` or `name@REALM`); the principal's keys are kept. */
  keytab(principal: string): Promise<string>;
  /** Adds a principal with a random key. */
  addPrincipal(name: string): Promise<void>;
  /** Gives a principal new random keys: keytabs exported before no longer work. */
  rekey(name: string): Promise<void>;
  /** Deletes a principal: its keytabs name a principal the KDC does not know. */
  removePrincipal(name: string): Promise<void>;
  /** True once the KDC process is gone (stop() was called). */
  readonly stopped: boolean;
  stop(): Promise<void>;
}

/** True when the MIT KDC programs are installed (krb5-kdc, krb5-admin-server). */
export function kdcAvailable(): boolean {
  return ['krb5kdc', 'kdb5_util', 'kadmin.local'].every((p) => findSbin(p) !== undefined);
}

/**
 * For `test(name, { skip: kerberosSkip() }, …)`: a reason to skip when the KDC programs are
 * missing outside CI; in CI (CI=true) never, so a missing package fails the run instead.
 */
export function kerberosSkip(): string | false {
  if (process.env.CI === 'true' || kdcAvailable()) return false;
  return 'MIT Kerberos KDC not installed (apt-get install krb5-kdc krb5-admin-server krb5-user libkrb5-dev)';
}

function findSbin(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}

function sbin(name: string): string {
  const p = findSbin(name);
  if (!p) throw new Error(`${name} not found: install the Debian packages krb5-kdc krb5-admin-server krb5-user`);
  return p;
}

const running = new Set<ChildProcess>();
let exitHook = false;

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Starts a fresh realm and its KDC (~0.2 s). */
export async function startKdc(opts: KdcOptions = {}): Promise<Kdc> {
  const realm = opts.realm ?? 'ACME.TEST';
  const dir = tempDir('akamu-kdc-');
  const port = await freePort(true);
  const serviceHosts = [...new Set(['localhost', '127.0.0.1', hostname()])];
  const krb5Config = join(dir, 'krb5.conf');
  const kdcConf = join(dir, 'kdc.conf');
  writeFileSync(krb5Config, [
    '[libdefaults]',
    `  default_realm = ${realm}`,
    '  dns_lookup_kdc = false',
    '  dns_lookup_realm = false',
    '  dns_canonicalize_hostname = false',
    '  rdns = false',
    '  udp_preference_limit = 1',
    '  kdc_timesync = 0',
    '  ignore_acceptor_hostname = false',
    '',
    '[realms]',
    `  ${realm} = {`,
    `    kdc = 127.0.0.1:${port}`,
    '  }',
    '',
    '[domain_realm]',
    ...serviceHosts.map((h) => `  ${h} = ${realm}`),
    '',
  ].join('\n'));
  writeFileSync(kdcConf, [
    '[kdcdefaults]',
    `  kdc_ports = ${port}`,
    `  kdc_tcp_ports = ${port}`,
    '',
    '[realms]',
    `  ${realm} = {`,
    `    database_name = ${join(dir, 'principal')}`,
    `    key_stash_file = ${join(dir, 'stash')}`,
    `    acl_file = ${join(dir, 'kadm5.acl')}`,
    '    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal',
    '    max_life = 1h',
    '  }',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'kadm5.acl'), '');
  const env: Record<string, string> = {
    KRB5_CONFIG: krb5Config,
    KRB5_KDC_PROFILE: kdcConf,
    // a shared ccache (the operator's) is never touched by a test
    KRB5CCNAME: `FILE:${join(dir, 'ccache')}`,
  };

  const run = async (file: string, args: string[]): Promise<string> => {
    const r = await runProgram(sbin(file), args, { env, timeoutMs: 30_000 });
    // kadmin.local reports some failures on stderr with exit 0: look at both
    if (r.code !== 0 || /error|not found|cannot/i.test(r.stderr)) {
      throw new Error(`${file} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    }
    return r.stdout;
  };
  const kadmin = (query: string): Promise<string> => run('kadmin.local', ['-r', realm, '-q', query]);

  await run('kdb5_util', ['create', '-s', '-r', realm, '-P', randomBytes(18).toString('base64url')]);
  for (const h of serviceHosts) await kadmin(`addprinc -randkey HTTP/${h}`);
  for (const p of opts.principals ?? ['acmeclient']) await kadmin(`addprinc -randkey ${p}`);
  const serviceKeytab = join(dir, 'http.keytab');
  await kadmin(`ktadd -norandkey -k ${serviceKeytab} ${serviceHosts.map((h) => `HTTP/${h}`).join(' ')}`);

  const child = spawn(sbin('krb5kdc'), ['-n', '-r', realm, '-P', join(dir, 'kdc.pid')], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => { stderr += b.toString(); });
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => { for (const c of running) c.kill('SIGKILL'); });
  }
  for (let i = 0; !(await tcpOpen(port)); i++) {
    if (child.exitCode !== null || i > 500) {
      child.kill('SIGKILL');
      throw new Error(`krb5kdc did not start on port ${port}: ${stderr.trim()}`);
    }
    await delay(10);
  }

  let keytabs = 0;
  let stopped = false;
  return {
    realm, krb5Config, port, env, serviceHosts, serviceKeytab,
    get stopped() { return stopped; },
    async keytab(principal) {
      const path = join(dir, `kt-${++keytabs}.keytab`);
      await kadmin(`ktadd -norandkey -k ${path} ${principal}`);
      return path;
    },
    async addPrincipal(name) { await kadmin(`addprinc -randkey ${name}`); },
    async rekey(name) { await kadmin(`cpw -randkey ${name}`); },
    async removePrincipal(name) { await kadmin(`delprinc -force ${name}`); },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
    },
  };
}
