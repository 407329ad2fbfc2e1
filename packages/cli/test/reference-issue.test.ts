/**
 * End to end against Pebble: issuance and renewal as the command reference promises them (issue 11,
 * items 7, 8, 9, 12, 14): every failed authorization reported, the renewal config's contacts and
 * dns_hook, `renew --cert` that does not exist, and the checks made before anything is ordered.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { cliBin, freePort, runProgram, type Pebble } from '../../testkit/src/index.js';
import { setupWithAccount, runCli, assertFailure, assertSuccess, type AccountEnv, type RunResult } from './helpers.js';

/** newOrder requests Pebble has served. */
const ordersPlaced = (pebble: Pebble): number => pebble.logText().split('\n').filter((l) => /POST \/order-plz -> calling handler\(\)/.test(l)).length;

const listenOn = (port: number): Promise<Server> => new Promise((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(port, () => resolve(s));
});

describe('issuance and renewal as the reference promises', () => {
  let env: AccountEnv;
  before(async () => {
    env = await setupWithAccount();
  });
  after(async () => env.pebble.stop());

  const issue = (extra: string[], opts: { env?: Record<string, string> } = {}) =>
    runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(env.pebble.httpPort), '--tls-port', String(env.pebble.tlsPort), ...extra], opts);
  const config = (out: string): Record<string, unknown> => parse(readFileSync(`${out}.renewal.toml`, 'utf8')) as Record<string, unknown>;

  /** Runs `run` and asserts that the CA saw no request at all. */
  async function nothingSent(run: () => Promise<RunResult>): Promise<RunResult> {
    const before = env.pebble.requestCount();
    const r = await run();
    assert.equal(env.pebble.requestCount(), before, `nothing was sent to the CA; stderr: ${r.stderr}`);
    return r;
  }

  it('every failed authorization is reported, one line each, also those that fail after the order turned invalid', async () => {
    // the CA's validation requests land here: one name fails at once (the order turns invalid), the
    // other only later, while the first failure is already known
    const va = createHttpServer((req, res) => {
      const slow = (req.headers.host ?? '').startsWith('second-fail.');
      setTimeout(() => res.writeHead(404).end(), slow ? 1500 : 0);
    });
    await new Promise<void>((resolve) => va.listen(env.pebble.httpPort, '127.0.0.1', resolve));
    try {
      const r = await runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(await freePort()),
        '-d', 'first-fail.example', '-d', 'second-fail.example', '--out', join(env.dir, 'fails', 'c.pem')]);
      assertFailure(r, 1, /^error: authorization for (first|second)-fail\.example failed: ACME error urn:ietf:params:acme:error:unauthorized: /);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 2, r.stderr);
      const names = lines.map((l) => /authorization for (\S+) failed: ACME error urn:ietf:params:acme:error:unauthorized: .*returned 404$/.exec(l)?.[1]);
      assert.deepEqual(names.sort(), ['first-fail.example', 'second-fail.example'], r.stderr);
    } finally {
      va.closeAllConnections();
      await new Promise<void>((resolve) => va.close(() => resolve()));
    }
  });

  it('dns_hook is stored only for DNS-based challenge types', async () => {
    const hook = join(env.dir, 'noop-hook.sh');
    writeFileSync(hook, '#!/bin/sh\nexit 0\n');
    chmodSync(hook, 0o755);
    const out = join(env.dir, 'hook-http', 'c.pem');
    const r = await issue(['-d', 'hook-http.example', '--dns-hook', hook, '--out', out]);
    assertSuccess(r);
    assert.match(r.stderr, /--dns-hook is only used with DNS challenges; ignored for http-01/);
    assert.equal(config(out).dns_hook, undefined, 'an http-01 config calls no hook');
    assert.equal(config(out).challenge_type, 'http-01');
  });

  it('issue --contact: the new account gets them and the renewal config holds them; --agree-tos drops the terms note', async () => {
    const key = join(env.dir, 'contacts', 'new.pem');
    const out = join(env.dir, 'contacts', 'c.pem');
    const r = await runCli(['issue', ...env.server, '--account-key', key, '--http-port', String(env.pebble.httpPort),
      '--contact', 'mailto:a@example.com', '--contact', 'mailto:b@example.com', '-d', 'contacts.example', '--out', out]);
    assertSuccess(r);
    assert.match(r.stdout, /^Registered new account: https:\/\/\S+$/m);
    assert.match(r.stderr, /^Note: the new account agreed to the terms of service at \S+$/m, 'without --agree-tos the terms are named');
    assert.deepEqual(config(out).contacts, ['mailto:a@example.com', 'mailto:b@example.com']);
    const show = await runCli(['account', 'show', ...env.server, '--account-key', key]);
    assert.match(show.stdout, /^Contact: mailto:a@example\.com\nContact: mailto:b@example\.com$/m);

    const agreed = await runCli(['issue', ...env.server, '--account-key', join(env.dir, 'contacts', 'agreed.pem'), '--agree-tos',
      '--http-port', String(env.pebble.httpPort), '-d', 'agreed.example', '--out', join(env.dir, 'contacts', 'agreed.pem.chain')]);
    assertSuccess(agreed);
    assert.doesNotMatch(agreed.stderr, /terms of service/);
  });

  it('the renewal config holds the contacts of an existing account, and renewals keep them', async () => {
    const key = join(env.dir, 'existing', 'k.pem');
    assertSuccess(await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos', '--contact', 'mailto:ops@example.com']));
    const out = join(env.dir, 'existing', 'c.pem');
    assertSuccess(await runCli(['issue', ...env.server, '--account-key', key, '--http-port', String(env.pebble.httpPort), '-d', 'existing.example', '--out', out]));
    assert.deepEqual(config(out).contacts, ['mailto:ops@example.com']);
    assertSuccess(await runCli(['renew', '--renewal-config', `${out}.renewal.toml`, '--server-ca', env.pebble.caPemPath, '--force']));
    assert.deepEqual(config(out).contacts, ['mailto:ops@example.com']);
  });

  it('renew --cert FILE that does not exist is an error and orders nothing; a renewal config\'s missing certificate is issued, said once at info', async () => {
    const out = join(env.dir, 'typo', 'c.pem');
    const typo = await nothingSent(() => runCli(['renew', ...env.server, '--account-key', env.key, '-d', 'typo.example',
      '--cert', `${out}.typo`, '--out', out, '--http-port', String(env.pebble.httpPort)]));
    assertFailure(typo, 2, new RegExp(`^error: cannot read --cert ${out}\\.typo: no such file$`));
    assert.equal(existsSync(out), false);

    assertSuccess(await issue(['-d', 'typo.example', '--out', out]));
    rmSync(out);
    const r = await runCli(['renew', '--renewal-config', `${out}.renewal.toml`, '--server-ca', env.pebble.caPemPath], { env: { AKAMU_LOG: 'info' } });
    assertSuccess(r);
    assert.match(r.stdout, /^Certificate written to /m);
    assert.equal(r.stderr.split('\n').filter((l) => l === `INFO  akamu_cli: no certificate at ${out} yet; issuing one`).length, 1, r.stderr);
  });

  describe('checks before anything is ordered', () => {
    it('the --dns-hook program must exist and be executable', async () => {
      const out = join(env.dir, 'hookcheck', 'c.pem');
      const dns = (hook: string) => nothingSent(() => issue(['-d', 'hookcheck.example', '--challenge', 'dns-01', '--dns-hook', hook, '--out', out]));
      assertFailure(await dns(join(env.dir, 'no-such-hook.sh')), 2, /^error: --dns-hook \S+no-such-hook\.sh: no such file$/);
      const notExec = join(env.dir, 'not-exec-hook.sh');
      writeFileSync(notExec, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
      assertFailure(await dns(notExec), 2, /^error: --dns-hook \S+not-exec-hook\.sh: not executable \(chmod \+x it\)$/);
      assertFailure(await dns(env.dir), 2, /: not a regular file$/);
      assertFailure(await dns('akamu-no-such-hook-in-path'), 2, /^error: --dns-hook akamu-no-such-hook-in-path: not found in PATH$/);
      // dns-persist-01 is checked the same way; a hook found through PATH passes
      assertFailure(await nothingSent(() => issue(['-d', 'hookcheck.example', '--challenge', 'dns-persist-01', '--dns-hook', notExec, '--out', out])), 2, /not executable/);
      const bin = join(env.dir, 'bin');
      mkdirSync(bin, { recursive: true });
      const failing = join(bin, 'akamu-test-hook');
      writeFileSync(failing, '#!/bin/sh\necho "no zone" >&2\nexit 1\n', { mode: 0o755 });
      const viaPath = await issue(['-d', 'hookcheck.example', '--challenge', 'dns-01', '--dns-hook', 'akamu-test-hook', '--out', out],
        { env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
      assertFailure(viaPath, 1, /dns hook 'akamu-test-hook' add exited with status 1: no zone/);
      assert.equal(existsSync(out), false);
    });

    it('a busy http-01 or tls-alpn-01 port fails with the reference\'s message and orders nothing', async () => {
      const port = await freePort();
      const busy = await listenOn(port);
      try {
        const out = join(env.dir, 'busy', 'c.pem');
        const http = await nothingSent(() => runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(port), '-d', 'busy.example', '--out', out]));
        assertFailure(http, 1, new RegExp(`^error: Failed to bind port ${port}: Address already in use — another process is listening on port ${port}: stop it or use --http-port$`));
        const tls = await nothingSent(() => runCli(['issue', ...env.server, '--account-key', env.key, '--challenge', 'tls-alpn-01', '--tls-port', String(port), '-d', 'busy.example', '--out', out]));
        assertFailure(tls, 1, new RegExp(`^error: Failed to bind port ${port}: Address already in use — .*--tls-port$`));
        // renew binds once the renewal is due, still before ordering
        const orders = ordersPlaced(env.pebble);
        const renew = await runCli(['renew', ...env.server, '--account-key', env.key, '--http-port', String(port), '-d', 'busy.example', '--out', out]);
        assertFailure(renew, 1, new RegExp(`^error: Failed to bind port ${port}: Address already in use`));
        assert.equal(ordersPlaced(env.pebble), orders, 'no order placed');
        assert.equal(existsSync(out), false);
      } finally {
        busy.close();
      }
    });

    it('a privileged port without the privilege: "Failed to bind port 80: Permission denied", nothing ordered', async (t) => {
      const unprivileged = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
      if (unprivileged <= 80) {
        t.skip(`ip_unprivileged_port_start is ${unprivileged}: every process may bind port 80 here`);
        return;
      }
      const args = ['issue', ...env.server, '--account-key', env.key, '--http-port', '80', '-d', 'privileged.example', '--out', join(env.dir, 'priv', 'c.pem')];
      // root has CAP_NET_BIND_SERVICE: drop it (util-linux setpriv) so the bind is refused as for anyone else
      const run = () => (process.getuid?.() === 0
        ? runProgram('setpriv', ['--bounding-set', '-net_bind_service', '--inh-caps', '-net_bind_service', process.execPath, cliBin, ...args])
        : runCli(args));
      const r = await nothingSent(run);
      assertFailure(r, 1, /^error: Failed to bind port 80: Permission denied — http-01 needs port 80: run with sudo, grant CAP_NET_BIND_SERVICE to node, or redirect port 80 to a high port and pass --http-port <high-port>$/);
    });

    it('an unreadable --cert-key is refused before anything is sent', async () => {
      const dir = join(env.dir, 'certkey-dir');
      mkdirSync(dir, { recursive: true });
      const r = await nothingSent(() => issue(['-d', 'certkey.example', '--cert-key', dir, '--out', join(env.dir, 'certkey', 'c.pem')]));
      assertFailure(r, 2, /certkey-dir is a directory/);
      const garbage = join(env.dir, 'certkey-garbage.pem');
      writeFileSync(garbage, 'not a key\n', { mode: 0o600 });
      assertFailure(await nothingSent(() => issue(['-d', 'certkey.example', '--cert-key', garbage, '--out', join(env.dir, 'certkey', 'c.pem')])), 1, /is not a usable private key/);
    });
  });
});
