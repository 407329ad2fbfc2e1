/**
 * `akamu-cli import certbot` against real certbot 2.1 installations (built in the test by Debian's
 * certbot against two Pebbles, see certbot-fixtures.ts), plus unit tests of the certbot readers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { buildCertbotFixture, type CertbotFixture } from './certbot-fixtures.js';
import { serveWebroot } from '../../testkit/src/index.js';
import { runCli, tempDir, openssl, assertFailure, assertSuccess, mode, snapshot, verifyChain, serialOf } from './helpers.js';
import { parseConfigObj, configBool, configList, configString, ConfigObjError } from '../src/certbot/configobj.js';
import { mapChallenge } from '../src/certbot/challenge-map.js';
import { accountMatchesServer, privateKeyFromJwk, serverKey } from '../src/certbot/accounts.js';
import { decodeLineageName, readRenewalConf } from '../src/certbot/lineages.js';

const DNS_HOOK = `#!/usr/bin/env node
// akamu DNS hook for the tests: publishes the TXT record through challtestsrv
const [op] = process.argv.slice(2);
const body = op === 'add' ? { host: process.env.AKAMU_RECORD_NAME, value: process.env.AKAMU_TXT } : { host: process.env.AKAMU_RECORD_NAME };
fetch(process.env.CHALLTESTSRV + (op === 'add' ? '/set-txt' : '/clear-txt'), { method: 'POST', body: JSON.stringify(body) })
  .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
`;

const spki = (pem: string | Buffer): string =>
  createPublicKey(createPrivateKey(pem)).export({ format: 'der', type: 'spki' }).toString('base64');

const tomlOf = (path: string): Record<string, unknown> => JSON.parse(JSON.stringify(parse(readFileSync(path, 'utf8')))) as Record<string, unknown>;

const domainsOf = (cfg: Record<string, unknown>): string[] =>
  (cfg.domains as { type: string; value: string }[]).map((d) => `${d.type}:${d.value}`).sort();

describe('import certbot (real certbot trees)', () => {
  let fx: CertbotFixture;
  let work: string;
  let serverA: string;
  /** Paths of the main import (used by the renew checks at the end). */
  let imported: { key: string; certDir: string } | undefined;

  before(async () => {
    fx = await buildCertbotFixture();
    work = tempDir('akamu-import-');
    serverA = fx.pebbleA.directoryUrl;
  });
  after(async () => fx?.stop());

  const imp = (args: string[], env?: Record<string, string>) =>
    runCli(['import', 'certbot', '--certbot-dir', fx.dir, ...args], env ? { env } : {});

  it('--list shows both accounts and every lineage, and exits 0', async () => {
    const r = await imp(['--list']);
    assertSuccess(r);
    assert.match(r.stdout, new RegExp(`^Accounts found in ${fx.dir}:$`, 'm'));
    for (const a of [fx.accountA, fx.accountB]) {
      assert.ok(r.stdout.includes(`  CA: ${a.server}  ID: ${a.id}  URL: ${a.url}  created: `), `account line for ${a.id}:\n${r.stdout}`);
    }
    assert.match(r.stdout, /\n\nRenewals found:\n/);
    const line = (name: string) => r.stdout.split('\n').find((l) => l.startsWith(`  domain: ${name}  `)) ?? assert.fail(`no line for ${name}:\n${r.stdout}`);
    assert.match(line('std.example.com'), new RegExp(`server: ${serverA}  challenge: standalone \\(→ http-01\\)  names: std\\.example\\.com, www\\.std\\.example\\.com  key: ec:P-256`));
    assert.match(line('wild.example'), /challenge: manual \(→ dns-01\)  names: \*\.wild\.example, wild\.example  key: rsa:3072/);
    assert.match(line('web.example.com'), /challenge: webroot \(→ http-01\).*  webroot: /);
    // [[webroot_map]] entries, in whatever order certbot wrote them
    assert.match(line('web.example.com'), /webroot: (.+, )?web\.example\.com=\/\S+\/html(,|$)/);
    assert.match(line('web.example.com'), /webroot: (.+, )?www\.web\.example\.com=\/\S+\/html(,|$)/);
    assert.match(line('nginx.example.com'), /challenge: nginx \(→ http-01\)/);
    assert.match(line('cf.example.com'), /challenge: dns-cloudflare \(→ dns-01\)/);
    assert.match(line('sni.example.com'), /challenge: tls-sni-01 \(→ tls-alpn-01\)/);
    assert.match(line('other.example.com'), new RegExp(`server: ${fx.pebbleB.directoryUrl}  challenge: standalone`));
    assert.equal(r.stderr, '', 'a clean tree gives no warnings');
    // --list needs no --account-key and writes nothing
    assert.deepEqual(readdirSync(work), []);
  });

  it('--dry-run prints the plan and writes nothing, not even directories', async () => {
    const out = join(work, 'dry');
    const key = join(out, 'acct.pem');
    const certDir = join(out, 'certs');
    const r = await imp(['--server', serverA, '--account-key', key, '--cert-dir', certDir, '--dry-run']);
    assertSuccess(r);
    assert.match(r.stdout, new RegExp(`^\\[dry-run\\] Would write account key to ${key}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^\\[dry-run\\] Would write account URL to ${key}\\.account-url$`, 'm'));
    // live/ symlinks were followed into archive/: the renewed lineage is at generation 2
    assert.match(r.stdout, new RegExp(`^\\[dry-run\\] Would copy ${fx.dir}/archive/std\\.example\\.com/fullchain2\\.pem → ${certDir}/std\\.example\\.com\\.pem$`, 'm'));
    assert.match(r.stdout, new RegExp(`^\\[dry-run\\] Would copy ${fx.dir}/archive/std\\.example\\.com/privkey2\\.pem → ${certDir}/std\\.example\\.com\\.pem\\.key\\.pem$`, 'm'));
    assert.match(r.stdout, new RegExp(`^\\[dry-run\\] Would write renewal config to ${certDir}/wild\\.example\\.pem\\.renewal\\.toml$`, 'm'));
    assert.equal((r.stdout.match(/Would write renewal config/g) ?? []).length, 6);
    assert.doesNotMatch(r.stdout, /other\.example\.com/, "the other account's certificate is not part of this import");
    assert.doesNotMatch(r.stderr, /requires a DNS hook/, 'hook warnings are not given in a dry run');
    assert.equal(existsSync(out), false, 'nothing was created');
  });

  it('refuses an existing --account-key (also in --dry-run) before anything is written', async () => {
    const out = join(work, 'exists');
    mkdirSync(out);
    const key = join(out, 'acct.pem');
    writeFileSync(key, 'precious');
    const certDir = join(out, 'certs');
    for (const extra of [[], ['--dry-run']]) {
      const r = await imp(['--server', serverA, '--account-key', key, '--cert-dir', certDir, ...extra]);
      assertFailure(r, 2, new RegExp(`${key} already exists; remove it or choose a different --account-key path`));
      assert.equal(r.stdout, '');
    }
    assert.equal(readFileSync(key, 'utf8'), 'precious');
    assert.deepEqual(readdirSync(out), ['acct.pem'], 'no sidecar, no cert dir');

    // a stale sidecar without its key is not overwritten either
    const key2 = join(out, 'other.pem');
    writeFileSync(`${key2}.account-url`, 'https://old.example/acct/1');
    assertFailure(await imp(['--server', serverA, '--account-key', key2, '--cert-dir', certDir]), 2, /other\.pem\.account-url already exists/);
    assert.equal(existsSync(key2), false);
  });

  it('usage errors: missing --account-key, several accounts without --server, unknown server, missing --cert-dir, bad values', async () => {
    const out = join(work, 'usage');
    const key = join(out, 'acct.pem');
    assertFailure(await imp(['--cert-dir', join(out, 'c')]), 2, /--account-key <FILE> is required/);

    const several = await imp(['--account-key', key, '--cert-dir', join(out, 'c')]);
    assertFailure(several, 2, /use --server <URL> to select an account/);
    assert.match(several.stderr, /Multiple certbot accounts found\. Specify --server to select one:/);
    assert.ok(several.stderr.includes(`ID: ${fx.accountA.id}`) && several.stderr.includes(`ID: ${fx.accountB.id}`), several.stderr);

    assertFailure(await imp(['--server', 'https://127.0.0.1:1/dir', '--account-key', key, '--cert-dir', join(out, 'c')]), 1,
      /no certbot accounts found; check --certbot-dir and --server/);
    assertFailure(await imp(['--server', serverA, '--account-key', key]), 2, /--cert-dir <DIR> is required when importing certificates/);
    assertFailure(await imp(['--server', serverA, '--account-key', key, '--cert-dir', join(out, 'c'), '--dns-challenge', 'dns-02']), 2,
      /--dns-challenge must be dns-01 or dns-persist-01/);
    assertFailure(await runCli(['import', 'certbot', '--certbot-dir', join(out, 'nope'), '--list']), 2, /cannot read certbot directory .*nope: no such file; check --certbot-dir/);
    assert.equal(existsSync(out), false, 'nothing was written by any failed run');
  });

  it('imports one account (--server) with every certificate: key, URL sidecar, chain, key and renewal config, all 0600', async () => {
    const out = join(work, 'main');
    const key = join(out, 'acct.pem');
    const certDir = join(out, 'certs');
    const r = await imp(['--server', serverA, '--account-key', key, '--cert-dir', certDir]);
    assertSuccess(r);
    imported = { key, certDir };

    // the account
    assert.match(r.stdout, new RegExp(`^Account key written to ${key}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^Account URL written to ${key}\\.account-url$`, 'm'));
    assert.match(readFileSync(key, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    const jwk = JSON.parse(readFileSync(join(fx.accountA.dir, 'private_key.json'), 'utf8')) as Record<string, string>;
    assert.equal(spki(readFileSync(key)), createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'spki' }).toString('base64'),
      'the PEM holds certbot\'s account key');
    assert.equal(readFileSync(`${key}.account-url`, 'utf8'), fx.accountA.url, 'the URL from regr.json, no newline');
    assert.equal(mode(key), 0o600);
    assert.equal(mode(`${key}.account-url`), 0o600);

    // the certificates
    const names = ['cf.example.com', 'nginx.example.com', 'sni.example.com', 'std.example.com', 'web.example.com', 'wild.example'];
    assert.deepEqual(readdirSync(certDir).sort(), names.flatMap((n) => [`${n}.pem`, `${n}.pem.key.pem`, `${n}.pem.renewal.toml`]).sort());
    for (const n of names) {
      const chain = join(certDir, `${n}.pem`);
      const cfgPath = `${chain}.renewal.toml`;
      for (const p of [chain, `${chain}.key.pem`, cfgPath]) assert.equal(mode(p), 0o600, p);
      assert.ok(r.stdout.includes(`  ${n}  →  ${cfgPath}\n    To renew: akamu-cli renew --renewal-config ${cfgPath}\n`), `renew command for ${n}:\n${r.stdout}`);
      // the chain is certbot's current fullchain, the key its current private key (as PKCS#8)
      assert.equal(readFileSync(chain, 'utf8'), readFileSync(join(fx.dir, 'live', n, 'fullchain.pem'), 'utf8'));
      assert.match(readFileSync(`${chain}.key.pem`, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
      assert.equal(spki(readFileSync(`${chain}.key.pem`)), spki(readFileSync(join(fx.dir, 'live', n, 'privkey.pem'))));
      const certPub = await openssl(['x509', '-in', chain, '-noout', '-pubkey']);
      assert.equal(certPub.trim(), (await openssl(['pkey', '-in', `${chain}.key.pem`, '-pubout'])).trim(), `${n}: key matches certificate`);
    }
    assert.match(r.stdout, /\n\nImport complete: 1 account, 6 certificate\(s\)\.\n$/);
    assert.equal(existsSync(join(certDir, 'other.example.com.pem')), false, "the other CA's certificate stays out");

    const cfg = (n: string) => tomlOf(join(certDir, `${n}.pem.renewal.toml`));
    const common = (n: string) => ({
      server: serverA,
      account_key: key,
      account_key_type: 'rsa:2048',
      cert_path: join(certDir, `${n}.pem`),
      cert_key_path: join(certDir, `${n}.pem.key.pem`),
      tls_port: 443,
      poll_timeout: 120,
      eab_alg: 'HS256',
      contacts: [],
    });
    const { domains: stdDomains, ...std } = cfg('std.example.com');
    assert.deepEqual(std, { ...common('std.example.com'), cert_key_type: 'ec:P-256', challenge_type: 'http-01', http_port: fx.pebbleA.httpPort });
    assert.deepEqual(domainsOf({ domains: stdDomains }), ['dns:std.example.com', 'dns:www.std.example.com']);

    const { domains: wildDomains, ...wild } = cfg('wild.example');
    assert.deepEqual(wild, { ...common('wild.example'), cert_key_type: 'rsa:3072', challenge_type: 'dns-01', http_port: 80 });
    assert.deepEqual(domainsOf({ domains: wildDomains }), ['dns:*.wild.example', 'dns:wild.example'], 'domains from the SANs, wildcard included');

    const web = cfg('web.example.com');
    assert.equal(web.challenge_type, 'http-01');
    assert.equal(web.http_port, 80, 'webroot has no http01_port');
    assert.deepEqual(domainsOf(web), ['dns:web.example.com', 'dns:www.web.example.com']);
    assert.equal(cfg('nginx.example.com').challenge_type, 'http-01');
    assert.equal(cfg('nginx.example.com').http_port, 80);
    assert.equal(cfg('cf.example.com').challenge_type, 'dns-01');
    assert.equal(cfg('sni.example.com').challenge_type, 'tls-alpn-01');
    assert.equal(cfg('sni.example.com').http_port, fx.pebbleA.httpPort);
    for (const n of names) assert.equal(cfg(n).dns_hook, undefined);

    // warnings and notes on stderr
    assert.match(r.stderr, /^Warning for wild\.example: challenge type 'dns-01' requires a DNS hook script\. Re-import with --dns-hook <CMD> or add dns_hook to the renewal config before renewing\.$/m);
    assert.match(r.stderr, /^Warning for cf\.example\.com: challenge type 'dns-01' requires a DNS hook script/m);
    assert.equal((r.stderr.match(/requires a DNS hook/g) ?? []).length, 2);
    assert.match(r.stderr, /^Note for sni\.example\.com: tls-sni-01 is deprecated; mapped to tls-alpn-01$/m);
    assert.match(r.stderr, /^Note: skipping other\.example\.com: it belongs to another certbot account/m);
  });

  it('-d filters lineages (wildcards compared as written); --dns-hook and --dns-challenge go into the config', async () => {
    const out = join(work, 'filtered');
    const key = join(out, 'acct.pem');
    const certDir = join(out, 'certs');
    const hook = '/etc/akamu/hooks/dns-update.sh';
    const r = await imp(['--server', `${serverA}/`, '--account-key', key, '--cert-dir', certDir, '-d', '*.wild.example', '-d', 'web.example.com',
      '--dns-challenge', 'dns-persist-01', '--dns-hook', hook]);
    assertSuccess(r);
    assert.deepEqual(readdirSync(certDir).filter((f) => f.endsWith('.toml')).sort(), ['web.example.com.pem.renewal.toml', 'wild.example.pem.renewal.toml']);
    const wild = tomlOf(join(certDir, 'wild.example.pem.renewal.toml'));
    assert.equal(wild.challenge_type, 'dns-persist-01');
    assert.equal(wild.dns_hook, hook);
    assert.equal(tomlOf(join(certDir, 'web.example.com.pem.renewal.toml')).dns_hook, undefined, 'no DNS hook for an http-01 certificate');
    assert.doesNotMatch(r.stderr, /requires a DNS hook/);
    assert.match(r.stdout, /Import complete: 1 account, 2 certificate\(s\)\./);

    const none = await imp(['--server', serverA, '--account-key', join(out, 'acct2.pem'), '-d', 'nothing.example']);
    assertSuccess(none);
    assert.match(none.stderr, /Warning: no certbot certificate found for nothing\.example/);
    assert.match(none.stdout, /No renewal configurations found to import\.\n\nImport complete: 1 account, 0 certificate\(s\)\./);
  });

  it('unreadable or malformed entries give warnings; everything else still imports', async () => {
    // a copy of the installation, as if it had always lived there (confs name their own paths)
    const tree = join(work, 'damaged', 'letsencrypt');
    cpSync(fx.dir, tree, { recursive: true, verbatimSymlinks: true });
    for (const f of readdirSync(join(tree, 'renewal'))) {
      const p = join(tree, 'renewal', f);
      writeFileSync(p, readFileSync(p, 'utf8').split(fx.dir).join(tree));
    }
    const accountsB = join(tree, 'accounts', ...fx.accountB.server.split('/'));
    // account B: regr.json is not JSON
    writeFileSync(join(accountsB, fx.accountB.id, 'regr.json'), '{"body": {}, "uri": ');
    // a third account (same CA as B) whose regr.json is missing
    const third = join(accountsB, '0123456789abcdef0123456789abcdef');
    cpSync(join(accountsB, fx.accountB.id), third, { recursive: true });
    rmSync(join(third, 'regr.json'));
    // account A: regr.json as older certbot versions wrote it, with the contacts in the body
    const accountA = join(tree, 'accounts', ...fx.accountA.server.split('/'), fx.accountA.id);
    writeFileSync(join(accountA, 'regr.json'), JSON.stringify({
      body: { contact: ['mailto:x@example.com'], key: {}, status: 'valid' }, uri: fx.accountA.url, terms_of_service: 'https://example.com/tos',
    }));
    // nginx.example.com: live/fullchain.pem points at an archive file that is gone
    rmSync(join(tree, 'archive', 'nginx.example.com', 'fullchain2.pem'));
    // a renewal conf that is not ConfigObj
    writeFileSync(join(tree, 'renewal', 'garbage.example.conf'), 'version = 2.1.0\n[renewalparams\nserver = x\n');

    const list = await runCli(['import', 'certbot', '--certbot-dir', tree, '--list']);
    assertSuccess(list);
    assert.ok(list.stdout.includes(`  CA: ${fx.accountB.server}  ID: ${fx.accountB.id}  URL: (no URL)`), list.stdout);
    assert.ok(list.stdout.includes(`ID: 0123456789abcdef0123456789abcdef  URL: (no URL)`), list.stdout);
    assert.match(list.stdout, /domain: nginx\.example\.com .*\(not importable: certificate chain \S+ is a broken symlink\)/);

    const out = join(work, 'damaged-out');
    const key = join(out, 'acct.pem');
    const certDir = join(out, 'certs');
    const r = await runCli(['import', 'certbot', '--certbot-dir', tree, '--server', serverA, '--account-key', key, '--cert-dir', certDir, '--dns-hook', '/bin/true']);
    assertSuccess(r);
    assert.match(r.stderr, new RegExp(`^Warning: cannot parse ${accountsB}/${fx.accountB.id}/regr\\.json: `, 'm'));
    assert.match(r.stderr, new RegExp(`^Warning: cannot read ${third}/regr\\.json: no such file$`, 'm'));
    assert.match(r.stderr, /^Warning: skipping certificate nginx\.example\.com \(\S+\): certificate chain \S+live\/nginx\.example\.com\/fullchain\.pem is a broken symlink$/m);
    assert.match(r.stderr, /^Warning: skipping renewal config \S+garbage\.example\.conf: line 2: malformed section header/m);
    assert.match(r.stdout, /Import complete: 1 account, 5 certificate\(s\)\./);
    assert.equal(existsSync(join(certDir, 'nginx.example.com.pem')), false);
    assert.equal(existsSync(join(certDir, 'nginx.example.com.pem.renewal.toml')), false);
    assert.equal(readFileSync(`${key}.account-url`, 'utf8'), fx.accountA.url);
    assert.deepEqual(tomlOf(join(certDir, 'std.example.com.pem.renewal.toml')).contacts, ['mailto:x@example.com'], 'contacts from regr.json');

    // account B (bad regr.json) can still be imported: key without URL, and a warning saying so
    const onlyB = join(work, 'damaged-b');
    rmSync(third, { recursive: true });
    const rb = await runCli(['import', 'certbot', '--certbot-dir', tree, '--server', fx.pebbleB.directoryUrl, '--account-key', join(onlyB, 'acct.pem'), '--cert-dir', join(onlyB, 'certs')]);
    assertSuccess(rb);
    assert.match(rb.stderr, new RegExp(`Warning: no account URL found in regr\\.json for account ${fx.accountB.id}; you may need to re-register with the CA\\.`));
    assert.equal(existsSync(join(onlyB, 'acct.pem')), true);
    assert.equal(existsSync(join(onlyB, 'acct.pem.account-url')), false);
    assert.deepEqual(readdirSync(join(onlyB, 'certs')).sort(), ['other.example.com.pem', 'other.example.com.pem.key.pem', 'other.example.com.pem.renewal.toml']);
  });

  it('renew --renewal-config <imported config> --force succeeds against the same Pebble', async () => {
    assert.ok(imported, 'the import test ran first');
    const { certDir } = imported;
    const env = { pebble: fx.pebbleA, dir: work, server: [] };
    const hook = join(work, 'hook.mjs');
    writeFileSync(hook, DNS_HOOK);
    chmodSync(hook, 0o755);
    const cases: { name: string; extra: string[]; names: RegExp[] }[] = [
      { name: 'std.example.com', extra: ['--http-port', String(fx.pebbleA.httpPort)], names: [/DNS:std\.example\.com/, /DNS:www\.std\.example\.com/] },
      { name: 'wild.example', extra: ['--dns-hook', hook], names: [/DNS:\*\.wild\.example/, /DNS:wild\.example/] },
      // a webroot lineage renews through its webroot (served here as certbot's web server would)
      { name: 'web.example.com', extra: [], names: [/DNS:web\.example\.com/, /DNS:www\.web\.example\.com/] },
    ];
    for (const c of cases) {
      const chain = join(certDir, `${c.name}.pem`);
      const serialBefore = serialOf(await openssl(['x509', '-in', chain, '-noout', '-serial']));
      const before = snapshot([chain]);
      const webroot = tomlOf(`${chain}.renewal.toml`).webroot as string | undefined;
      const web = webroot !== undefined ? await serveWebroot(webroot, fx.pebbleA.httpPort) : undefined;
      const r = await runCli(['renew', '--renewal-config', `${chain}.renewal.toml`, '--force', '--server-ca', fx.pebbleA.caPemPath, ...c.extra],
        { env: { CHALLTESTSRV: fx.pebbleA.challtestsrvUrl } }).finally(() => web?.close());
      assertSuccess(r);
      if (c.name === 'web.example.com') assert.ok(webroot, 'the webroot lineage keeps its webroot');
      assert.notEqual(snapshot([chain]), before, `${c.name}: a new chain was written`);
      const text = await verifyChain(env, chain, `${chain}.key.pem`);
      assert.notEqual(serialOf(text), serialBefore, `${c.name}: a new certificate`);
      for (const n of c.names) assert.match(text, n);
      assert.equal(mode(chain), 0o600);
    }
  });
});

describe('certbot readers (unit)', () => {
  it('ConfigObj: top-level keys, sections, [[subsections]], comments, quotes, trailing-comma lists, booleans', () => {
    const root = parseConfigObj([
      '# renew_before_expiry = 30 days',
      'version = 2.1.0',
      "archive_dir = '/etc/letsencrypt/archive/example.com'",
      'fullchain = "/etc/letsencrypt/live/example.com/fullchain.pem"   # quoted',
      '',
      '# Options used in the renewal process',
      '[renewalparams]',
      'account = 0123abcd',
      'pref_challs = dns-01,',
      'webroot_path = /var/www/a, /var/www/b',
      'empty_list = ,',
      'must_staple = False',
      'reuse_key = True',
      'manual_auth_hook = /usr/local/bin/hook.sh --flag # a comment',
      'server = https://acme-v02.api.letsencrypt.org/directory',
      '  [[webroot_map]]',
      '  example.com = /var/www/a',
      '  "www.example.com" = /var/www/b',
      '[other]',
      "note = '''two",
      "lines'''",
    ].join('\n'));
    assert.equal(configString(root, 'version'), '2.1.0');
    assert.equal(configString(root, 'archive_dir'), '/etc/letsencrypt/archive/example.com');
    assert.equal(configString(root, 'fullchain'), '/etc/letsencrypt/live/example.com/fullchain.pem');
    const p = root.sections.get('renewalparams');
    assert.ok(p);
    assert.deepEqual(p.values.get('pref_challs'), ['dns-01']);
    assert.deepEqual(configList(p, 'pref_challs'), ['dns-01']);
    assert.deepEqual(configList(p, 'webroot_path'), ['/var/www/a', '/var/www/b']);
    assert.deepEqual(p.values.get('empty_list'), []);
    assert.equal(configBool(p, 'must_staple'), false);
    assert.equal(configBool(p, 'reuse_key'), true);
    assert.equal(configString(p, 'manual_auth_hook'), '/usr/local/bin/hook.sh --flag');
    assert.equal(configString(p, 'server'), 'https://acme-v02.api.letsencrypt.org/directory');
    const map = p.sections.get('webroot_map');
    assert.ok(map, '[[webroot_map]] is nested inside [renewalparams]');
    assert.deepEqual(Object.fromEntries(map.values), { 'example.com': '/var/www/a', 'www.example.com': '/var/www/b' });
    assert.equal(root.sections.get('other')?.values.get('note'), 'two\nlines', '[other] is top-level again');
    assert.equal(p.values.has('note'), false);
    assert.equal(configList(p, 'missing').length, 0);
    assert.equal(configBool(p, 'missing'), undefined);
  });

  it('ConfigObj: malformed input names the line', () => {
    assert.throws(() => parseConfigObj('a = 1\n[renewalparams\n'), (e: unknown) => e instanceof ConfigObjError && /^line 2: malformed section header/.test((e as Error).message));
    assert.throws(() => parseConfigObj('a = 1\njust words\n'), /line 2: expected 'key = value'/);
    assert.throws(() => parseConfigObj('[[too deep]]\n'), /line 1: section .* nested too deeply/);
    assert.throws(() => parseConfigObj("x = 'open\n"), /line 1: unterminated quoted value/);
  });

  it('challenge mapping follows the reference table', () => {
    const m = (auth: string | undefined, pref: string[] = [], dns: 'dns-01' | 'dns-persist-01' = 'dns-01') => mapChallenge(auth, pref, dns);
    for (const a of ['standalone', 'webroot', 'nginx', 'apache']) assert.equal(m(a).challenge, 'http-01', a);
    assert.deepEqual([m('manual', ['dns-01']).challenge, m('manual', ['dns-01']).dns], ['dns-01', true]);
    assert.equal(m('manual', ['dns'], 'dns-persist-01').challenge, 'dns-persist-01');
    assert.equal(m('manual', ['http-01']).challenge, 'http-01');
    assert.equal(m('manual').challenge, 'http-01');
    assert.equal(m('dns-cloudflare').challenge, 'dns-01');
    assert.equal(m('dns-route53', [], 'dns-persist-01').challenge, 'dns-persist-01');
    const sni = m('tls-sni-01');
    assert.equal(sni.challenge, 'tls-alpn-01');
    assert.deepEqual(sni.notes, ['tls-sni-01 is deprecated; mapped to tls-alpn-01']);
    assert.match(m('something-else').notes.join(), /unknown certbot authenticator 'something-else'; mapped to http-01/);
    assert.equal(m(undefined).challenge, 'http-01');
  });

  it('JWK → PrivateKey for RSA and EC account keys; garbage is refused', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const k1 = privateKeyFromJwk(rsa);
    assert.equal(k1.keyType, 'rsa:2048');
    assert.equal(k1.rsaBits, 2048);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });
    assert.equal(privateKeyFromJwk(ec).keyType, 'ec:P-384');
    assert.match(privateKeyFromJwk(ec).toPem(), /^-----BEGIN PRIVATE KEY-----/);
    const { d: _d, ...publicOnly } = ec;
    assert.throws(() => privateKeyFromJwk(publicOnly), /not a private key/);
    assert.throws(() => privateKeyFromJwk({ kty: 'oct', k: 'AAAA' }), /unsupported key type 'oct'/);
    assert.throws(() => privateKeyFromJwk([]), /not a JSON object/);
  });

  it('renewal conf: live paths from the conf (or live/<name>/), http01_port, webroot_map, account', () => {
    const full = readRenewalConf('/etc/letsencrypt', '/etc/letsencrypt/renewal/example.com.conf', [
      'cert = /srv/le/live/example.com/cert.pem',
      '[renewalparams]',
      'account = abc',
      'authenticator = webroot',
      'server = https://acme.example/dir',
      'http01_port = 8080',
      'pref_challs = http-01,',
      'webroot_path = /var/www/html,',
      '[[webroot_map]]',
      'example.com = /var/www/html',
    ].join('\n'));
    assert.equal(full.fullchainLink, '/srv/le/live/example.com/fullchain.pem', 'beside the cert the conf names');
    assert.equal(full.privkeyLink, '/srv/le/live/example.com/privkey.pem');
    assert.equal(full.liveDir, '/etc/letsencrypt/live/example.com');
    assert.equal(full.http01Port, 8080);
    assert.equal(full.account, 'abc');
    assert.equal(full.server, 'https://acme.example/dir');
    assert.deepEqual(full.prefChalls, ['http-01']);
    assert.deepEqual(full.webrootMap, { 'example.com': '/var/www/html' });
    const bare = readRenewalConf('/etc/letsencrypt', '/etc/letsencrypt/renewal/_wildcard.example.org.conf', '[renewalparams]\nauthenticator = manual\n');
    assert.equal(bare.name, '_wildcard.example.org');
    assert.equal(bare.fullchainLink, '/etc/letsencrypt/live/_wildcard.example.org/fullchain.pem');
    assert.equal(bare.http01Port, undefined);
    assert.equal(bare.server, undefined);
    assert.throws(() => readRenewalConf('/e', '/e/renewal/x.conf', '[renewalparams]\nhttp01_port = eighty\n'), /http01_port 'eighty' is not a port number/);
  });

  it('account folders match directory URLs; _wildcard. lineage names decode', () => {
    assert.equal(serverKey('https://acme-v02.api.letsencrypt.org/directory'), 'acme-v02.api.letsencrypt.org/directory');
    assert.equal(serverKey('https://127.0.0.1:14000/dir/'), '127.0.0.1:14000/dir');
    assert.equal(serverKey('https://example.com:443/dir'), 'example.com/dir');
    assert.ok(accountMatchesServer({ server: 'acme-v02.api.letsencrypt.org/directory' }, 'https://acme-v02.api.letsencrypt.org/directory'));
    assert.ok(accountMatchesServer({ server: 'localhost:14000/dir' }, 'https://localhost:14000/dir'));
    assert.ok(!accountMatchesServer({ server: 'localhost:14000/dir' }, 'https://localhost:14001/dir'));
    assert.ok(accountMatchesServer({ server: 'acme.example.com' }, 'https://acme.example.com/acme/directory'), 'old layout: host folder only');
    assert.equal(decodeLineageName('_wildcard.example.com'), '*.example.com');
    assert.equal(decodeLineageName('example.com'), 'example.com');
  });
});
