/**
 * `--webroot DIR`: http-01 answered by token files that a web server (here a small static server on
 * the port Pebble's VA connects to) serves from DIR. End to end against Pebble with the built CLI,
 * plus the solver's path-safety rules in-process.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { spawn } from 'node:child_process';
import { cliBin, serveWebroot, tempDir } from '../../testkit/src/index.js';
import { waitUntil } from '../../testkit/src/processes.js';
import { silentLogger, type ChallengeContext } from 'akamu-client';
import { WebrootSolver } from '../src/webroot.js';
import * as toml from 'smol-toml';
import { parseRenewalConfig, renderRenewalConfig, renewalConfigFromOptions } from '../src/files/renewal-config.js';
import { setupWithAccount, runCli, assertFailure, assertSuccess, verifyChain, type AccountEnv } from './helpers.js';

interface Served { token: string; fileMode: number; dirModes: number[]; body: string }

/** A static server for `root` on `port` that records the mode of each token file it serves. */
async function recordingServer(root: string, port: number): Promise<{ served: Served[]; close(): Promise<void> }> {
  const served: Served[] = [];
  const server = http.createServer((req, res) => {
    const m = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    const file = join(root, '.well-known', 'acme-challenge', m[1]!);
    readFile(file, 'utf8').then((body) => {
      served.push({
        token: m[1]!, body,
        fileMode: statSync(file).mode & 0o777,
        dirModes: [join(root, '.well-known'), join(root, '.well-known', 'acme-challenge')].map((d) => statSync(d).mode & 0o777),
      });
      res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    }, () => res.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    served,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('issue --webroot', () => {
  let env: AccountEnv;
  before(async () => {
    env = await setupWithAccount();
  });
  after(async () => env.pebble.stop());

  const issue = (extra: string[]) => runCli(['issue', ...env.server, '--account-key', env.key, ...extra]);

  it('writes the tokens (0644, directories 0755) for the web server, removes them afterwards, records webroot', async () => {
    const root = join(env.dir, 'www');
    mkdirSync(root);
    const web = await recordingServer(root, env.pebble.httpPort);
    const out = join(env.dir, 'wr', 'fullchain.pem');
    let r;
    try {
      r = await issue(['-d', 'wr.example.com', '-d', 'www.wr.example.com', '--webroot', root, '--out', out]);
    } finally {
      await web.close();
    }
    assertSuccess(r);
    assert.match(await verifyChain(env, out, `${out}.key.pem`), /DNS:wr\.example\.com/);
    assert.ok(web.served.length >= 2, `the web server served the tokens (${web.served.length})`);
    for (const s of web.served) {
      assert.equal(s.fileMode, 0o644, 'token file mode');
      assert.deepEqual(s.dirModes, [0o755, 0o755], 'created directories are 0755');
      assert.match(s.body, new RegExp(`^${s.token}\\.[A-Za-z0-9_-]+$`), 'the key authorization');
    }
    assert.deepEqual(readdirSync(root), [], 'tokens and the directories this run created are gone');
    const cfg = parse(readFileSync(`${out}.renewal.toml`, 'utf8'));
    assert.equal(cfg.webroot, root);
    assert.equal(cfg.challenge_type, 'http-01');
  });

  it('keeps directories it did not create; removes its tokens after a failed validation', async () => {
    const root = join(env.dir, 'www-fail');
    mkdirSync(join(root, '.well-known', 'acme-challenge'), { recursive: true });
    writeFileSync(join(root, '.well-known', 'acme-challenge', 'keep-me'), 'x');
    // nothing serves the webroot: Pebble's VA cannot connect, the authorization fails
    const r = await issue(['-d', 'wrfail.example.com', '--webroot', root, '--out', join(env.dir, 'wrfail', 'c.pem'), '--poll-timeout', '30']);
    assertFailure(r, 1, /wrfail\.example\.com/);
    assert.deepEqual(readdirSync(join(root, '.well-known', 'acme-challenge')), ['keep-me'], 'only the token was removed');
  });

  it('renews from the renewal config with the stored webroot', async () => {
    const root = join(env.dir, 'www-renew');
    mkdirSync(root);
    const out = join(env.dir, 'wrr', 'fullchain.pem');
    let web = await serveWebroot(root, env.pebble.httpPort);
    try {
      assertSuccess(await issue(['-d', 'wrr.example.com', '--webroot', root, '--out', out]));
    } finally {
      await web.close();
    }
    const first = readFileSync(out, 'utf8');
    web = await serveWebroot(root, env.pebble.httpPort);
    try {
      const r = await runCli(['renew', '--renewal-config', `${out}.renewal.toml`, '--server-ca', env.pebble.caPemPath, '--force']);
      assertSuccess(r);
    } finally {
      await web.close();
    }
    assert.notEqual(readFileSync(out, 'utf8'), first, 'a new chain was written');
    assert.deepEqual(readdirSync(root), []);

    // a per-name webroot in the config wins over webroot; an explicit --webroot replaces both
    const cfgPath = `${out}.renewal.toml`;
    writeFileSync(cfgPath, `${readFileSync(cfgPath, 'utf8')}\n[webroot_map]\n"wrr.example.com" = ${JSON.stringify(join(env.dir, 'gone'))}\n`);
    const renew = (extra: string[]) => runCli(['renew', '--renewal-config', cfgPath, '--server-ca', env.pebble.caPemPath, '--force', ...extra]);
    const before = env.pebble.requestCount();
    assertFailure(await renew([]), 2, /^error: webroot_map entry \S+gone: no such file or directory$/);
    // renew reads the directory first (for ARI); the webroots are checked before anything is ordered
    assert.ok(env.pebble.requestCount() - before <= 1, 'nothing ordered (at most the directory was read)');
    web = await serveWebroot(root, env.pebble.httpPort);
    try {
      assertSuccess(await renew(['--webroot', root]));
    } finally {
      await web.close();
    }
    assert.equal(parse(readFileSync(cfgPath, 'utf8')).webroot_map, undefined, 'the new config has no webroot_map');
  });

  it('SIGINT while the CA validates: the token and the directories this run created are removed, exit 130', async () => {
    const root = join(env.dir, 'www-int');
    mkdirSync(root);
    // the "web server" sees the token, then never answers: the run waits for the validation
    let seen = '';
    const held = new Set<http.ServerResponse>();
    const server = http.createServer((req, res) => {
      seen = req.url ?? '';
      held.add(res);
    });
    await new Promise<void>((resolve) => server.listen(env.pebble.httpPort, '127.0.0.1', () => resolve()));
    try {
      const child = spawn(process.execPath, [cliBin, 'issue', ...env.server, '--account-key', env.key, '-d', 'wrint.example.com',
        '--webroot', root, '--out', join(env.dir, 'wrint', 'c.pem')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      await waitUntil('the CA to ask for the token', () => seen.startsWith('/.well-known/acme-challenge/'));
      const token = seen.split('/').pop()!;
      assert.ok(existsSync(join(root, '.well-known', 'acme-challenge', token)), 'the token file is there while the CA validates');
      child.kill('SIGINT');
      assert.equal(await done, 130, stderr);
      assert.match(stderr, /^error: interrupted by SIGINT$/m);
      assert.deepEqual(readdirSync(root), [], 'token and created directories removed');
    } finally {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses, before ordering: a missing webroot, a .well-known link leading outside it, wildcards', async () => {
    const before = env.pebble.requestCount();
    assertFailure(await issue(['-d', 'x.example.com', '--webroot', join(env.dir, 'nope'), '--out', join(env.dir, 'n1.pem')]), 2,
      /--webroot \S+nope: no such file or directory$/);
    const root = join(env.dir, 'www-link');
    const outside = join(env.dir, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    symlinkSync(outside, join(root, '.well-known'));
    assertFailure(await issue(['-d', 'x.example.com', '--webroot', root, '--out', join(env.dir, 'n2.pem')]), 2,
      /\.well-known leads outside the webroot .*refusing to write there$/);
    assert.deepEqual(readdirSync(outside), [], 'nothing was created outside the webroot');
    assertFailure(await issue(['-d', '*.example.com', '--webroot', root, '--out', join(env.dir, 'n3.pem')]), 2,
      /http-01 cannot validate wildcard identifiers: \*\.example\.com; use --challenge dns-01$/);
    assert.equal(env.pebble.requestCount(), before, 'nothing was sent to the CA');
  });
});

describe('WebrootSolver', () => {
  const ctx = (value: string, token: string): ChallengeContext => ({
    authorization: { url: 'https://ca/authz/1', status: 'pending', identifier: { type: 'dns', value }, challenges: [] },
    challenge: { type: 'http-01', url: `https://ca/chall/${token}`, status: 'pending', token },
    identifier: { type: 'dns', value },
    keyAuthorization: `${token}.thumb`,
    accountUrl: 'https://ca/acct/1',
    thumbprint: 'thumb',
    directory: { newNonce: '', newAccount: '', newOrder: '' } as ChallengeContext['directory'],
  });

  it('never writes through a link planted at the token name; removes only its own files', async () => {
    const root = tempDir('akamu-webroot-unit-');
    const victim = join(tempDir('akamu-victim-'), 'victim');
    writeFileSync(victim, 'precious');
    mkdirSync(join(root, '.well-known', 'acme-challenge'), { recursive: true });
    symlinkSync(victim, join(root, '.well-known', 'acme-challenge', 'tokA'));
    const s = new WebrootSolver({ webroot: root, log: silentLogger });
    s.check([{ type: 'dns', value: 'a.example' }]);
    await s.start();
    const c = ctx('a.example', 'tokA');
    await s.prepare(c);
    const file = join(root, '.well-known', 'acme-challenge', 'tokA');
    assert.ok(!lstatSync(file).isSymbolicLink(), 'the link was replaced by a file');
    assert.equal(readFileSync(file, 'utf8'), 'tokA.thumb');
    assert.equal(readFileSync(victim, 'utf8'), 'precious', 'the link target is untouched');
    await s.cleanup(c);
    await s.stop();
    assert.ok(!existsSync(file));
    assert.ok(existsSync(join(root, '.well-known', 'acme-challenge')), 'directories it did not create stay');
  });

  it('webroot_map: a directory per name, the default for the rest; an unlisted name without a default is refused', async () => {
    const a = tempDir('akamu-webroot-a-');
    const b = tempDir('akamu-webroot-b-');
    const s = new WebrootSolver({ webroot: b, map: { 'A.Example.': a }, log: silentLogger });
    s.check([{ type: 'dns', value: 'a.example' }, { type: 'dns', value: 'b.example' }]);
    await s.start();
    await s.prepare(ctx('a.example', 'tok1'));
    await s.prepare(ctx('b.example', 'tok2'));
    assert.equal(readFileSync(join(a, '.well-known', 'acme-challenge', 'tok1'), 'utf8'), 'tok1.thumb');
    assert.equal(readFileSync(join(b, '.well-known', 'acme-challenge', 'tok2'), 'utf8'), 'tok2.thumb');
    await s.cleanup(ctx('a.example', 'tok1'));
    await s.cleanup(ctx('b.example', 'tok2'));
    await s.stop();
    assert.deepEqual([readdirSync(a), readdirSync(b)], [[], []], 'the directories it created are removed');
    const onlyMap = new WebrootSolver({ map: { 'a.example': a }, log: silentLogger });
    assert.throws(() => onlyMap.check([{ type: 'dns', value: 'a.example' }, { type: 'dns', value: 'c.example' }]),
      /no webroot for c\.example: add it to webroot_map or pass --webroot DIR/);
  });

  it('refuses a token that is not base64url (it could name another path)', async () => {
    const root = tempDir('akamu-webroot-tok-');
    const s = new WebrootSolver({ webroot: root, log: silentLogger });
    s.check([{ type: 'dns', value: 'a.example' }]);
    await s.start();
    await assert.rejects(s.prepare(ctx('a.example', '../../etc/x')), /has no usable token/);
    await s.stop();
    assert.deepEqual(readdirSync(root), []);
  });
});

describe('renewal config: webroot, webroot_map, preferred_chain', () => {
  const base = { server: 'https://ca/dir', accountKey: '/a.pem', out: '/c.pem', certKey: '/c.pem.key.pem', identifiers: [{ type: 'dns', value: 'a.example' }] };
  it('round-trips; webroot_map is a TOML table keyed by name, written after the plain keys', async () => {
    const text = await renderRenewalConfig(renewalConfigFromOptions({
      ...base, webroot: '/var/www/html', webrootMap: { 'a.example': '/var/www/a', 'b.example': '/var/www/b' }, preferredChain: 'ISRG Root X1',
    }));
    assert.match(text, /^webroot = "\/var\/www\/html"$/m);
    assert.match(text, /^preferred_chain = "ISRG Root X1"$/m);
    assert.match(text, /^\[webroot_map\]\n"a\.example" = "\/var\/www\/a"\n"b\.example" = "\/var\/www\/b"\n\n\[\[domains\]\]/m);
    const cfg = parseRenewalConfig(text, 'x.toml', toml);
    assert.deepEqual([cfg.webroot, { ...cfg.webroot_map }, cfg.preferred_chain], ['/var/www/html', { 'a.example': '/var/www/a', 'b.example': '/var/www/b' }, 'ISRG Root X1']);
    const plain = await renderRenewalConfig(renewalConfigFromOptions({ ...base, webrootMap: {} }));
    assert.doesNotMatch(plain, /webroot/, 'an empty map is not written');
  });
  it('a webroot_map that is not a table of strings names the file and the field', () => {
    const head = 'server = "s"\naccount_key = "a"\ncert_path = "c"\ncert_key_path = "k"\n';
    const tail = '\n[[domains]]\nvalue = "a.example"\n';
    assert.throws(() => parseRenewalConfig(`${head}webroot_map = "/var/www"${tail}`, 'r.toml', toml), /^UsageError: r\.toml: 'webroot_map' must be a table of strings$/);
    assert.throws(() => parseRenewalConfig(`${head}${tail}[webroot_map]\n"a.example" = 1\n`, 'r.toml', toml), /'webroot_map' must be a table of strings/);
  });
});
