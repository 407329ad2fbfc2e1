/**
 * The zero-edit certbot migration: real certbot 2.1 trees made with --manual-auth-hook,
 * --manual-cleanup-hook (dns-01 and http-01) and --reuse-key against Pebble, imported by
 * `akamu-cli import certbot` and renewed by `akamu-cli renew --renewal-config … --force` with
 * nothing edited: the same hook command lines run (through /bin/sh, as certbot ran them) and see
 * certbot's own CERTBOT_* variables; the deploy hook sees RENEWED_* beside AKAMU_*. And a lineage
 * of certbot's dns-rfc2136 plugin (Debian's python3-certbot-dns-rfc2136) against a real BIND,
 * renewed through akamu's built-in RFC 2136 updater with the key carried over.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { certbotTree, runCertbot, runProgram, serveWebroot, startBind, startPebble, type Bind, type CertbotTree, type Pebble } from '../../testkit/src/index.js';
import { parseTsigKeyFile } from '../src/files/tsig-key.js';
import { copyLineage, setConfKey } from './certbot-fixtures.js';
import { silentLogger } from '../../client/src/log.js';
import { CertbotHooks } from '../src/certbot/hook-runtime.js';
import { shellQuote } from '../src/certbot/deploy-wrapper.js';
import { readRfc2136Credentials } from '../src/certbot/rfc2136.js';
import { assertSuccess, openssl, runCli, serialOf, tempDir } from './helpers.js';

interface HookCall {
  op: string;
  env: Record<string, string>;
  /** The deploy hook: what it found in $RENEWED_LINEAGE. */
  lineage?: { certIsOne: boolean; chainOk: boolean; key: boolean; fullchain: string | null };
}

/**
 * A hook script for both steps: it records the CERTBOT_* / AKAMU_* / RENEWED_* variables it saw
 * (one JSON line in the log named by its second argument), then publishes (auth) or clears
 * (cleanup) the dns-01 TXT record in challtestsrv, or writes / removes the http-01 token file in
 * the webroot named by its third argument.
 */
function hookScript(challtestsrv: string): string {
  return `#!${process.execPath}
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
const [op, log, webroot] = process.argv.slice(2);
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(CERTBOT_|AKAMU_|RENEWED_)/.test(k)));
let lineage;
if (op === 'deploy') {
  // what a certbot deploy hook reads: the lineage folder's four files
  const read = (f) => { try { return readFileSync(process.env.RENEWED_LINEAGE + '/' + f, 'utf8'); } catch { return null; } };
  const [cert, chain, fullchain, privkey] = ['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem'].map(read);
  lineage = { certIsOne: (cert ?? '').split('BEGIN CERTIFICATE').length === 2, chainOk: !!chain && cert + chain === fullchain, key: /PRIVATE KEY/.test(privkey ?? ''), fullchain };
}
appendFileSync(log, JSON.stringify({ op, env, lineage }) + '\\n');
const e = process.env;
if (webroot) {
  const dir = webroot + '/.well-known/acme-challenge';
  if (op === 'auth') { mkdirSync(dir, { recursive: true }); writeFileSync(dir + '/' + e.CERTBOT_TOKEN, e.CERTBOT_VALIDATION); }
  else rmSync(dir + '/' + e.CERTBOT_TOKEN, { force: true });
} else if (op === 'auth' || op === 'cleanup') {
  const host = '_acme-challenge.' + e.CERTBOT_DOMAIN + '.';
  const body = op === 'auth' ? { host, value: e.CERTBOT_VALIDATION } : { host };
  const res = await fetch(${JSON.stringify(challtestsrv)} + (op === 'auth' ? '/set-txt' : '/clear-txt'), { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) { console.error('challtestsrv: HTTP ' + res.status); process.exit(1); }
}
if (op === 'auth') console.log('published ' + e.CERTBOT_DOMAIN + ' ' + e.CERTBOT_VALIDATION);
`;
}

const calls = (log: string): HookCall[] =>
  existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as HookCall) : [];

const tomlOf = (path: string): Record<string, unknown> => JSON.parse(JSON.stringify(parse(readFileSync(path, 'utf8')))) as Record<string, unknown>;

const sorted = (s: string): string => s.split(',').sort().join(',');

describe('zero-edit certbot migration (real certbot trees)', () => {
  let pebble: Pebble;
  let tree: CertbotTree;
  let work: string;
  let script: string;
  const logs = { dns: '', http: '', deploy: '' };
  let webroot: string;
  const hooks = { dnsAuth: '', dnsCleanup: '', deploy: '' };

  before(async () => {
    pebble = await startPebble();
    tree = certbotTree(pebble);
    work = tempDir('akamu-migrate-');
    script = join(work, 'hooks', 'certbot-hook.mjs');
    mkdirSync(join(work, 'hooks'));
    writeFileSync(script, hookScript(pebble.challtestsrvUrl));
    chmodSync(script, 0o755);
    logs.dns = join(work, 'dns-hooks.log');
    logs.http = join(work, 'http-hooks.log');
    logs.deploy = join(work, 'deploy-hooks.log');
    webroot = join(work, 'www');
    mkdirSync(webroot);
    hooks.dnsAuth = `${script} auth "${logs.dns}"`;
    hooks.dnsCleanup = `${script} cleanup "${logs.dns}"`;
    hooks.deploy = `${script} deploy '${logs.deploy}' && echo deployed`;
    const common = ['certonly', '--server', pebble.directoryUrl, '--agree-tos', '-m', 'x@example.com', '--manual'];
    // command lines (arguments, quotes): only a shell runs them as certbot did
    await runCertbot(tree, [...common, '--preferred-challenges', 'dns',
      '--manual-auth-hook', hooks.dnsAuth, '--manual-cleanup-hook', hooks.dnsCleanup,
      '--deploy-hook', hooks.deploy, '--reuse-key', '--cert-name', 'mig.example', '-d', 'mig.example', '-d', '*.mig.example', '-d', 'www.mig.example']);
    await runCertbot(tree, [...common, '--preferred-challenges', 'http', '--http-01-port', String(pebble.httpPort),
      '--manual-auth-hook', `${script} auth "${logs.http}" '${webroot}'`,
      '--manual-cleanup-hook', `${script} cleanup "${logs.http}" '${webroot}'`,
      '--cert-name', 'web.mig.example', '-d', 'web.mig.example'], { webroot });
  });
  after(async () => pebble?.stop());

  const certDir = () => join(work, 'certs');
  const accountKey = () => join(work, 'acct.pem');

  it('--list and --dry-run show the hooks and reuse_key that will be carried over; nothing is written', async () => {
    const r = await runCli(['import', 'certbot', '--certbot-dir', tree.configDir, '--list']);
    assertSuccess(r);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('  domain: mig.example  '));
    assert.ok(at >= 0, r.stdout);
    assert.equal(lines[at + 1], `    carried over: auth hook '${hooks.dnsAuth}', cleanup hook '${hooks.dnsCleanup}', deploy hook '${hooks.deploy}', reuse_key`);
    const web = lines.findIndex((l) => l.startsWith('  domain: web.mig.example  '));
    assert.match(lines[web]!, /challenge: manual \(→ http-01\)/);
    assert.equal(lines[web + 1], `    carried over: auth hook '${script} auth "${logs.http}" '${webroot}'', cleanup hook '${script} cleanup "${logs.http}" '${webroot}''`);

    const dry = await runCli(['import', 'certbot', '--certbot-dir', tree.configDir, '--account-key', accountKey(), '--cert-dir', certDir(), '--dry-run']);
    assertSuccess(dry);
    const wrapper = join(certDir(), 'mig.example.pem.certbot-deploy-hook');
    assert.ok(dry.stdout.includes(`[dry-run] Would carry over for mig.example: auth hook '${hooks.dnsAuth}', cleanup hook '${hooks.dnsCleanup}', `
      + `deploy hook '${hooks.deploy}' (via ${wrapper}), reuse_key\n`), dry.stdout);
    assert.doesNotMatch(dry.stderr, /requires a DNS hook/, 'the certbot auth hook is the DNS hook');
    assert.equal(existsSync(accountKey()), false);
    assert.equal(existsSync(certDir()), false);
  });

  it('import stores the hooks as certbot_auth_hook / certbot_cleanup_hook and reuse_key', async () => {
    const r = await runCli(['import', 'certbot', '--certbot-dir', tree.configDir, '--account-key', accountKey(), '--cert-dir', certDir()]);
    assertSuccess(r);
    assert.match(r.stdout, /^ {4}Carried over: auth hook '.*', cleanup hook '.*', deploy hook '.*' \(via \S+\.certbot-deploy-hook\), reuse_key$/m);
    const cfg = tomlOf(join(certDir(), 'mig.example.pem.renewal.toml'));
    const web = tomlOf(join(certDir(), 'web.mig.example.pem.renewal.toml'));
    assert.equal(cfg.challenge_type, 'dns-01');
    assert.equal(cfg.certbot_auth_hook, hooks.dnsAuth);
    assert.equal(cfg.certbot_cleanup_hook, hooks.dnsCleanup);
    assert.equal(cfg.reuse_key, true);
    assert.equal(cfg.dns_hook, undefined);
    // the deploy hook: a wrapper the operator can read, and a certbot-shaped lineage folder
    const chain = join(certDir(), 'mig.example.pem');
    assert.equal(cfg.deploy_hook, `${chain}.certbot-deploy-hook`);
    assert.equal(statSync(`${chain}.certbot-deploy-hook`).mode & 0o777, 0o700);
    const wrapper = readFileSync(`${chain}.certbot-deploy-hook`, 'utf8');
    assert.ok(wrapper.endsWith(`exec /bin/sh -c '${hooks.deploy.replace(/'/g, `'\\''`)}'\n`), wrapper);
    assert.equal(readlinkSync(join(`${chain}.live`, 'fullchain.pem')), '../mig.example.pem');
    assert.equal(readlinkSync(join(`${chain}.live`, 'privkey.pem')), '../mig.example.pem.key.pem');
    assert.equal(web.deploy_hook, undefined);
    assert.equal(web.challenge_type, 'http-01');
    assert.equal(web.certbot_auth_hook, `${script} auth "${logs.http}" '${webroot}'`);
    assert.equal(web.reuse_key, undefined, 'certbot did not reuse this key');
  });

  it('renew with nothing edited: the same dns-01 hooks run through the shell with certbot\'s variables', async () => {
    const byCertbot = calls(logs.dns);
    const chain = join(certDir(), 'mig.example.pem');
    const serialBefore = serialOf(await openssl(['x509', '-in', chain, '-noout', '-serial']));
    const keyBefore = readFileSync(`${chain}.key.pem`, 'utf8');
    const certbotDeploys = readFileSync(logs.deploy, 'utf8');
    let r;
    for (let attempt = 1; ; attempt++) {
      writeFileSync(logs.dns, '');
      writeFileSync(logs.deploy, certbotDeploys);
      r = await runCli(['renew', '--renewal-config', `${chain}.renewal.toml`, '--force', '--server-ca', pebble.caPemPath],
        { env: { AKAMU_EAB_KEY: 'must-not-leak', CERTBOT_TOKEN: 'inherited' } });
      assertSuccess(r);
      // Pebble 2.10 reuses a valid authorization about once in 100 even at PEBBLE_AUTHZREUSE=0 (its
      // test is rand.Intn(100) > percent); a reused name asks no challenge, so renew again
      if (calls(logs.dns).filter((c) => c.op === 'auth').length === 3 || attempt === 3) break;
    }
    assert.notEqual(serialOf(await openssl(['x509', '-in', chain, '-noout', '-serial'])), serialBefore, 'a new certificate');
    const text = await openssl(['x509', '-in', chain, '-noout', '-text']);
    for (const n of ['DNS:mig.example', 'DNS:*.mig.example', 'DNS:www.mig.example']) assert.ok(text.includes(n), n);
    assert.equal(readFileSync(`${chain}.key.pem`, 'utf8'), keyBefore, 'reuse_key: the key was kept');
    const after = tomlOf(`${chain}.renewal.toml`);
    assert.deepEqual([after.certbot_auth_hook, after.certbot_cleanup_hook, after.deploy_hook, after.reuse_key],
      [hooks.dnsAuth, hooks.dnsCleanup, `${chain}.certbot-deploy-hook`, true], 'the renewed config keeps what was carried over');

    const seen = calls(logs.dns);
    const auth = seen.filter((c) => c.op === 'auth');
    const cleanup = seen.filter((c) => c.op === 'cleanup');
    assert.equal(auth.length, 3);
    assert.equal(cleanup.length, 3);
    assert.ok(seen.slice(0, 3).every((c) => c.op === 'auth'), 'every auth hook before any cleanup hook');
    // what certbot itself gave the same hooks for the same names
    const certbotAuth = byCertbot.filter((c) => c.op === 'auth');
    assert.equal(certbotAuth.length, 3);
    for (const set of [certbotAuth, auth]) {
      assert.deepEqual(set.map((c) => Object.keys(c.env).sort()), set.map(() => ['CERTBOT_ALL_DOMAINS', 'CERTBOT_DOMAIN', 'CERTBOT_REMAINING_CHALLENGES', 'CERTBOT_VALIDATION']));
      assert.deepEqual(set.map((c) => c.env.CERTBOT_REMAINING_CHALLENGES), ['2', '1', '0']);
      assert.deepEqual(set.map((c) => c.env.CERTBOT_DOMAIN).sort(), ['mig.example', 'mig.example', 'www.mig.example']);
      for (const c of set) {
        assert.equal(sorted(c.env.CERTBOT_ALL_DOMAINS!), 'mig.example,mig.example,www.mig.example');
        assert.match(c.env.CERTBOT_VALIDATION!, /^[A-Za-z0-9_-]{43}$/, 'the TXT value');
      }
      assert.equal(new Set(set.map((c) => c.env.CERTBOT_ALL_DOMAINS)).size, 1, 'one list for the whole order');
    }
    // the cleanup hook also gets the auth hook's output, per challenge
    for (const c of cleanup) {
      assert.equal(c.env.CERTBOT_AUTH_OUTPUT, `published ${c.env.CERTBOT_DOMAIN} ${c.env.CERTBOT_VALIDATION}`);
      assert.ok(auth.some((a) => a.env.CERTBOT_VALIDATION === c.env.CERTBOT_VALIDATION));
    }
    assert.equal(new Set(auth.map((c) => c.env.CERTBOT_VALIDATION)).size, 3);

    // the deploy hook: certbot's RENEWED_* beside akamu's AKAMU_*, and a lineage folder to read
    const [certbotDeploy, ...moreByCertbot] = calls(logs.deploy).slice(0, 1);
    assert.equal(moreByCertbot.length, 0);
    const deploys = calls(logs.deploy).slice(1);
    assert.equal(deploys.length, 1, 'akamu ran the deploy hook once');
    const d = deploys[0]!;
    assert.equal(certbotDeploy!.env.RENEWED_LINEAGE, join(tree.configDir, 'live', 'mig.example'));
    assert.equal(d.env.RENEWED_LINEAGE, `${chain}.live`);
    assert.equal(d.env.RENEWED_DOMAINS, certbotDeploy!.env.RENEWED_DOMAINS, 'the names, as certbot lists them');
    assert.equal(d.env.RENEWED_DOMAINS, 'mig.example *.mig.example www.mig.example');
    assert.equal(d.env.AKAMU_CERT_PATH, chain);
    assert.equal(d.env.AKAMU_KEY_PATH, `${chain}.key.pem`);
    assert.equal(d.env.AKAMU_DOMAINS, d.env.RENEWED_DOMAINS);
    assert.equal(d.env.AKAMU_REASON, 'forced');
    assert.equal(d.env.AKAMU_SERIAL, serialOf(await openssl(['x509', '-in', chain, '-noout', '-serial'])).toUpperCase());
    assert.equal(d.env.AKAMU_EAB_KEY, undefined);
    for (const l of [certbotDeploy!.lineage!, d.lineage!]) assert.deepEqual([l.certIsOne, l.chainOk, l.key], [true, true, true]);
    assert.equal(d.lineage!.fullchain, readFileSync(chain, 'utf8'), 'fullchain.pem is the renewed chain');
    assert.match(r.stdout, /^Deploy hook: +\S+\.certbot-deploy-hook succeeded$/m);
  });

  it('renew with nothing edited: the http-01 auth hook places the token, with CERTBOT_TOKEN', async () => {
    const chain = join(certDir(), 'web.mig.example.pem');
    const keyBefore = readFileSync(`${chain}.key.pem`, 'utf8');
    writeFileSync(logs.http, '');
    const server = await serveWebroot(webroot, pebble.httpPort);
    let r;
    try {
      // (a reused authorization asks no challenge: renew again, see above)
      for (let attempt = 1; ; attempt++) {
        writeFileSync(logs.http, '');
        r = await runCli(['renew', '--renewal-config', `${chain}.renewal.toml`, '--force', '--server-ca', pebble.caPemPath]);
        if (r.code !== 0 || calls(logs.http).length > 0 || attempt === 3) break;
      }
    } finally {
      await server.close();
    }
    assertSuccess(r);
    assert.notEqual(readFileSync(`${chain}.key.pem`, 'utf8'), keyBefore, 'no reuse_key: a new key');
    const [auth, cleanup, ...rest] = calls(logs.http);
    assert.equal(rest.length, 0);
    assert.equal(auth!.op, 'auth');
    assert.equal(cleanup!.op, 'cleanup');
    assert.equal(auth!.env.CERTBOT_DOMAIN, 'web.mig.example');
    assert.equal(auth!.env.CERTBOT_ALL_DOMAINS, 'web.mig.example');
    assert.equal(auth!.env.CERTBOT_REMAINING_CHALLENGES, '0');
    assert.match(auth!.env.CERTBOT_TOKEN!, /^[A-Za-z0-9_-]+$/);
    assert.equal(auth!.env.CERTBOT_VALIDATION!.split('.')[0], auth!.env.CERTBOT_TOKEN, 'the key authorization');
    assert.equal(cleanup!.env.CERTBOT_TOKEN, auth!.env.CERTBOT_TOKEN);
    assert.equal(existsSync(join(webroot, '.well-known', 'acme-challenge', auth!.env.CERTBOT_TOKEN!)), false, 'the cleanup hook removed the token');
  });

  it('the hooks never see inherited AKAMU_* variables (secrets) or stale CERTBOT_* ones', () => {
    for (const c of [...calls(logs.dns), ...calls(logs.http)]) {
      assert.deepEqual(Object.keys(c.env).filter((k) => k.startsWith('AKAMU_')), [], JSON.stringify(c));
    }
    for (const c of calls(logs.dns)) assert.equal(c.env.CERTBOT_TOKEN, undefined, 'no CERTBOT_TOKEN for dns-01');
  });

  it('a failing certbot auth hook fails the renewal before anything is triggered, with one error line', async () => {
    const chain = join(certDir(), 'mig.example.pem');
    const cfg = readFileSync(`${chain}.renewal.toml`, 'utf8');
    const broken = join(work, 'broken.renewal.toml');
    writeFileSync(broken, cfg.replace(/^certbot_auth_hook = .*$/m, 'certbot_auth_hook = "echo nope >&2; exit 3"'));
    const before = readFileSync(chain, 'utf8');
    const r = await runCli(['renew', '--renewal-config', broken, '--force', '--server-ca', pebble.caPemPath]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: .*certbot auth hook 'echo nope >&2; exit 3' for (www\.)?mig\.example exited with status 3: nope/m);
    assert.equal(readFileSync(chain, 'utf8'), before, 'the certificate is untouched');
  });
});

describe('zero-edit certbot migration: dns-rfc2136 lineages (certbot-dns-rfc2136 against BIND)', () => {
  let bind: Bind;
  let pebble: Pebble;
  let tree: CertbotTree;
  let work: string;
  let secret: string;
  const certDir = () => join(work, 'certs');

  before(async () => {
    bind = await startBind({ zones: ['rfc.test'], tsigKeys: [{ name: 'certbot-key', algorithm: 'hmac-sha512' }] });
    pebble = await startPebble({ dnsServer: bind.address });
    tree = certbotTree(pebble);
    work = tempDir('akamu-migrate-rfc-');
    secret = bind.keys['certbot-key']!.secret;
    // the plugin's credentials file, as its documentation shows it (0600: certbot warns otherwise)
    const ini = join(work, 'rfc2136.ini');
    writeFileSync(ini, ['# certbot-dns-rfc2136 credentials', `dns_rfc2136_server = ${bind.host}`, `dns_rfc2136_port = ${bind.port}`,
      'dns_rfc2136_name = certbot-key.', `dns_rfc2136_secret = ${secret}`, 'dns_rfc2136_algorithm = HMAC-SHA512', ''].join('\n'), { mode: 0o600 });
    await runCertbot(tree, ['certonly', '--server', pebble.directoryUrl, '--agree-tos', '-m', 'x@example.com',
      '--authenticator', 'dns-rfc2136', '--dns-rfc2136-credentials', ini, '--dns-rfc2136-propagation-seconds', '1',
      '--cert-name', 'rfc.test', '-d', 'www.rfc.test', '-d', '*.rfc.test']);
    // a lineage whose credentials leave the algorithm out: the plugin's default, HMAC-MD5
    const md5 = join(work, 'md5.ini');
    writeFileSync(md5, readFileSync(ini, 'utf8').replace(/^dns_rfc2136_algorithm.*\n/m, ''), { mode: 0o600 });
    copyLineage(tree.configDir, 'rfc.test', 'md5.rfc.test', (lines) => setConfKey(lines, 'dns_rfc2136_credentials', md5));
  });
  after(async () => {
    await pebble?.stop();
    await bind?.stop();
  });

  const noSecret = (text: string, where: string) => {
    assert.ok(!text.includes(secret), `the TSIG secret is never printed (${where})`);
    assert.ok(!text.includes(secret.slice(0, 12)), `not even in part (${where})`);
  };

  it('--list shows the RFC 2136 server and key name, and why an HMAC-MD5 key cannot be carried over; never the secret', async () => {
    const r = await runCli(['import', 'certbot', '--certbot-dir', tree.configDir, '--list']);
    assertSuccess(r);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('  domain: rfc.test  '));
    assert.match(lines[at]!, /challenge: dns-rfc2136 \(→ dns-01\)/);
    assert.equal(lines[at + 1], `    carried over: rfc2136 ${bind.address} (key "certbot-key", hmac-sha512)`);
    const md5 = lines.findIndex((l) => l.startsWith('  domain: md5.rfc.test  '));
    assert.match(lines[md5 + 1]!, /^ {4}carried over: rfc2136: not carried over \(the TSIG key uses certbot's default HMAC-MD5 \(no dns_rfc2136_algorithm\), which akamu does not support \(HMAC-SHA256 and HMAC-SHA512 are\); make a new key with tsig-keygen -a hmac-sha256/);
    noSecret(r.stdout + r.stderr, '--list');
  });

  it('import writes the key in BIND\'s format (0600) beside the certificate and stores dns_rfc2136 and tsig_key, never the secret', async () => {
    const r = await runCli(['import', 'certbot', '--certbot-dir', tree.configDir, '--account-key', join(work, 'acct.pem'), '--cert-dir', certDir()]);
    assertSuccess(r);
    noSecret(r.stdout + r.stderr, 'import');
    const chain = join(certDir(), 'rfc.test.pem');
    const keyFile = `${chain}.tsig.key`;
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const key = parseTsigKeyFile(readFileSync(keyFile, 'utf8'), keyFile);
    assert.deepEqual([key.name, key.algorithm, key.secret.toString('base64')], ['certbot-key', 'hmac-sha512', secret]);
    const text = readFileSync(`${chain}.renewal.toml`, 'utf8');
    noSecret(text, 'renewal config');
    const cfg = tomlOf(`${chain}.renewal.toml`);
    assert.equal(cfg.challenge_type, 'dns-01');
    assert.equal(cfg.dns_rfc2136, bind.address);
    assert.equal(cfg.tsig_key, keyFile);
    assert.match(r.stdout, new RegExp(`^ {4}Carried over: rfc2136 ${bind.address.replace(/\./g, '\\.')} \\(key "certbot-key", hmac-sha512, key file ${keyFile.replace(/[.]/g, '\\.')}\\)$`, 'm'));
    assert.doesNotMatch(r.stderr, /Warning for rfc\.test: .*requires a DNS hook/);
    // the HMAC-MD5 lineage: imported without the updater, with the reason and the DNS hook warning
    const md5 = tomlOf(join(certDir(), 'md5.rfc.test.pem.renewal.toml'));
    assert.equal(md5.dns_rfc2136, undefined);
    assert.equal(existsSync(join(certDir(), 'md5.rfc.test.pem.tsig.key')), false);
    assert.match(r.stderr, /^Note for md5\.rfc\.test: dns-rfc2136 is not carried over: the TSIG key uses certbot's default HMAC-MD5/m);
    assert.match(r.stderr, /^Warning for md5\.rfc\.test: challenge type 'dns-01' requires a DNS hook script/m);
  });

  it('renew with nothing edited publishes through BIND with the imported key', async () => {
    const chain = join(certDir(), 'rfc.test.pem');
    const serialBefore = serialOf(await openssl(['x509', '-in', chain, '-noout', '-serial']));
    const r = await runCli(['renew', '--renewal-config', `${chain}.renewal.toml`, '--force', '--server-ca', pebble.caPemPath]);
    assertSuccess(r);
    noSecret(r.stdout + r.stderr, 'renew');
    assert.notEqual(serialOf(await openssl(['x509', '-in', chain, '-noout', '-serial'])), serialBefore);
    const log = bind.logText();
    // certbot's update and akamu's, both signed with the same key
    assert.ok((log.match(/adding an RR at '_acme-challenge\.www\.rfc\.test' TXT/g) ?? []).length >= 2, log.slice(-2000));
    assert.deepEqual(await bind.dig('_acme-challenge.www.rfc.test'), [], 'removed after validation');
  });
});

describe('certbot carry-over (units)', () => {
  it('certbot hooks: values only in the environment, never read as shell syntax; one at a time, certbot\'s counts', async () => {
    const dir = tempDir('akamu-certbot-hooks-');
    const out = join(dir, 'seen');
    const evil = join(dir, 'pwned');
    const hooks = new CertbotHooks({
      auth: `printf '%s|%s|%s|%s\\n' "$CERTBOT_DOMAIN" "$CERTBOT_VALIDATION" "$CERTBOT_REMAINING_CHALLENGES" "$CERTBOT_ALL_DOMAINS" >> '${out}'; echo "out-$CERTBOT_DOMAIN"`,
      cleanup: `printf 'cleanup|%s|%s\\n' "$CERTBOT_DOMAIN" "$CERTBOT_AUTH_OUTPUT" >> '${out}'`,
      log: silentLogger,
    });
    const value = `$(touch ${evil})\`touch ${evil}\`;touch ${evil}`;
    await Promise.all([
      hooks.auth({ key: 'a', domain: 'a.example', validation: value }),
      hooks.auth({ key: 'b', domain: 'b.example', validation: 'plain' }),
    ]);
    await Promise.all([hooks.cleanup('a'), hooks.cleanup('b'), hooks.cleanup('never-authorized')]);
    assert.equal(existsSync(evil), false, 'the value was not run');
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), [
      `a.example|${value}|1|a.example,b.example`,
      'b.example|plain|0|a.example,b.example',
      'cleanup|a.example|out-a.example',
      'cleanup|b.example|out-b.example',
    ]);
  });

  it('a failing auth hook rejects its own challenge only; the next one still runs', async () => {
    const hooks = new CertbotHooks({ auth: 'test "$CERTBOT_DOMAIN" != bad.example || { echo broken >&2; exit 7; }', log: silentLogger });
    const [bad, good] = await Promise.allSettled([
      hooks.auth({ key: 'x', domain: 'bad.example', validation: 'v' }),
      hooks.auth({ key: 'y', domain: 'good.example', validation: 'v' }),
    ]);
    assert.equal(bad.status, 'rejected');
    assert.match(String((bad as PromiseRejectedResult).reason), /certbot auth hook '.*' for bad\.example exited with status 7: broken/);
    assert.equal(good.status, 'fulfilled');
  });

  it('certbot\'s dns-rfc2136 credentials: HMAC-SHA256/512 map; MD5 (the default), SHA-1, missing fields and bad ports are reported without the secret', async () => {
    const dir = tempDir('akamu-rfc-ini-');
    const secret = Buffer.alloc(32, 7).toString('base64');
    const ini = (lines: string[]) => {
      const p = join(dir, `c${Math.random().toString(16).slice(2)}.ini`);
      writeFileSync(p, lines.join('\n'), { mode: 0o600 });
      return p;
    };
    const base = ['dns_rfc2136_server = 192.0.2.1', 'dns_rfc2136_name = k1.', `dns_rfc2136_secret = ${secret}`];
    const ok = await readRfc2136Credentials(ini([...base, 'dns_rfc2136_algorithm = hmac-sha256']));
    assert.ok(ok.ok);
    assert.deepEqual([ok.server, ok.key.name, ok.key.algorithm, ok.key.secret.toString('base64')], ['192.0.2.1:53', 'k1', 'hmac-sha256', secret]);
    const v6 = await readRfc2136Credentials(ini(['dns_rfc2136_server = 2001:db8::1', 'dns_rfc2136_port = 5353', 'dns_rfc2136_name = k', `dns_rfc2136_secret = ${secret}`, 'dns_rfc2136_algorithm = HMAC-SHA512']));
    assert.ok(v6.ok);
    assert.equal(v6.server, '[2001:db8::1]:5353');
    const problems = await Promise.all([
      ini(base),
      ini([...base, 'dns_rfc2136_algorithm = HMAC-SHA1']),
      ini(['dns_rfc2136_server = 192.0.2.1', `dns_rfc2136_secret = ${secret}`]),
      ini([...base, 'dns_rfc2136_port = 70000', 'dns_rfc2136_algorithm = HMAC-SHA256']),
      ini(['dns_rfc2136_server = 192.0.2.1', 'dns_rfc2136_name = k', 'dns_rfc2136_secret = not*base64', 'dns_rfc2136_algorithm = HMAC-SHA256']),
      join(dir, 'missing.ini'),
    ].map(async (p) => readRfc2136Credentials(p)));
    const why = problems.map((p) => (p.ok ? 'ok' : p.problem));
    assert.match(why[0]!, /certbot's default HMAC-MD5 \(no dns_rfc2136_algorithm\), which akamu does not support/);
    assert.match(why[1]!, /uses HMAC-SHA1, which akamu does not support/);
    assert.match(why[2]!, /has no dns_rfc2136_name$/);
    assert.match(why[3]!, /dns_rfc2136_port '70000' .* is not a port number/);
    assert.match(why[4]!, /dns_rfc2136_secret in .* is not base64/);
    assert.match(why[5]!, /cannot read certbot's dns_rfc2136_credentials .*missing\.ini: no such file/);
    for (const w of why) assert.ok(!w.includes(secret), w);
  });

  it('shellQuote keeps any text exactly', async () => {
    for (const text of [`it's`, `'`, `a b "c" $HOME \`x\` \\ ;|&`, '']) {
      const r = await runProgram('/bin/sh', ['-c', `printf %s ${shellQuote(text)}`]);
      assert.equal(r.stdout, text);
    }
  });
});
