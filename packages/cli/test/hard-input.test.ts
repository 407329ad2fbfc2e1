/**
 * Hostile input, end to end: input files that are FIFOs, devices or huge; outputs that cannot take
 * a file; identifiers that are not DNS names; the EAB key from a file or the environment; error
 * text with terminal escapes, newlines and megabytes. Each is refused at once with one error line
 * and nothing ordered, or (EAB) works without the key on the command line.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../testkit/src/index.js';
import { EAB, setupWithAccount, setupWithEab, runCli, tempDir, assertFailure, assertSuccess, type Env, type AccountEnv } from './helpers.js';

/** A server nothing listens on: a run that got as far as the network would fail differently. */
const NOWHERE = ['--server', 'http://127.0.0.1:9/dir'];
/** Safety net only: every refusal here is immediate; a run that blocks would hit this. */
const LIMIT = { timeoutMs: 30_000 };

function fifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

/** A sparse file of `size` bytes (no disk used). */
function sparse(path: string, size: number, head = ''): string {
  writeFileSync(path, head);
  truncateSync(path, size);
  return path;
}

function assertNotBlocked(r: { timedOut: boolean; stderr: string }): void {
  assert.equal(r.timedOut, false, `the run blocked; stderr: ${r.stderr}`);
}

describe('bounded input files', () => {
  const dir = tempDir();
  const issue = (extra: string[]) => runCli(['issue', ...NOWHERE, '-d', 'a.example', '--out', join(dir, 'out', 'c.pem'), ...extra], LIMIT);

  it('--account-key /dev/zero and a FIFO as the key are refused at once', async () => {
    const z = await issue(['--account-key', '/dev/zero']);
    assertNotBlocked(z);
    assertFailure(z, 1, /^error: cannot read account key \/dev\/zero: is not a regular file \(a character device\)$/);
    const f = fifo(join(dir, 'key.fifo'));
    const r = await issue(['--account-key', f]);
    assertNotBlocked(r);
    assertFailure(r, 1, new RegExp(`^error: cannot read account key ${f}: is not a regular file \\(a FIFO\\)$`));
    const c = await issue(['--account-key', join(dir, 'absent.pem'), '--cert-key', f]);
    assertNotBlocked(c);
    // a pinned key is a file akamu may replace: the set's path check refuses the FIFO before it is read
    assertFailure(c, 2, /key\.fifo is a FIFO, not a regular file; refusing to replace it$/);
    assert.equal(existsSync(join(dir, 'out')), false, 'nothing written');
    assert.equal(existsSync(join(dir, 'absent.pem')), false, 'no account key generated');
  });

  it('a key file over 1 MiB is refused without being read', async () => {
    const big = sparse(join(dir, 'big.pem'), 1024 * 1024 + 1, '-----BEGIN PRIVATE KEY-----\n');
    assertFailure(await issue(['--account-key', big]), 1, /cannot read account key .*big\.pem: is larger than 1 MiB$/);
  });

  it('the account URL sidecar, the renewal config and --server-ca are bounded too', async () => {
    const keyDir = join(dir, 'acct');
    mkdirSync(keyDir);
    const key = join(keyDir, 'account.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    fifo(`${key}.account-url`);
    const s = await issue(['--account-key', key]);
    assertNotBlocked(s);
    assertFailure(s, 1, /cannot read .*account\.pem\.account-url: is not a regular file \(a FIFO\)$/);

    const cfg = fifo(join(dir, 'c.renewal.toml'));
    const r = await runCli(['renew', '--renewal-config', cfg], LIMIT);
    assertNotBlocked(r);
    assertFailure(r, 2, /^error: cannot read --renewal-config \S+: is not a regular file \(a FIFO\)$/);
    const bigCfg = sparse(join(dir, 'big.renewal.toml'), 2 * 1024 * 1024);
    assertFailure(await runCli(['renew', '--renewal-config', bigCfg], LIMIT), 2, /--renewal-config \S+: is larger than 1 MiB$/);
  });

  it('--server-ca and --cert: devices, FIFOs and chains over 16 MiB are refused', async () => {
    const key = join(dir, 'k2.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    writeFileSync(`${key}.account-url`, 'https://127.0.0.1:9/acct/1');
    const ca = await runCli(['account', 'show', ...NOWHERE, '--server-ca', '/dev/zero', '--account-key', key], LIMIT);
    assertNotBlocked(ca);
    assertFailure(ca, 2, /^error: cannot read --server-ca \/dev\/zero: is not a regular file \(a character device\)$/);
    const caFifo = fifo(join(dir, 'ca.fifo'));
    assertFailure(await runCli(['account', 'show', ...NOWHERE, '--server-ca', caFifo, '--account-key', key], LIMIT), 2, /--server-ca \S+: is not a regular file \(a FIFO\)$/);

    const chain = sparse(join(dir, 'huge-chain.pem'), 16 * 1024 * 1024 + 1, '-----BEGIN CERTIFICATE-----\n');
    assertFailure(await runCli(['revoke', ...NOWHERE, '--cert', chain, '--account-key', key], LIMIT), 2, /^error: cannot read --cert \S+: is larger than 16 MiB$/);
    const certFifo = fifo(join(dir, 'cert.fifo'));
    const rv = await runCli(['revoke', ...NOWHERE, '--cert', certFifo, '--account-key', key], LIMIT);
    assertNotBlocked(rv);
    assertFailure(rv, 2, /--cert \S+: is not a regular file \(a FIFO\)$/);
    // renew --cert: a FIFO where the certificate should be is refused, not taken for "no certificate yet"
    const rn = await runCli(['renew', ...NOWHERE, '--account-key', key, '-d', 'a.example', '--out', join(dir, 'r.pem'), '--cert', certFifo], LIMIT);
    assertNotBlocked(rn);
    assertFailure(rn, 2, /^error: cannot read certificate \S+cert\.fifo: is not a regular file \(a FIFO\)$/);
  });

  it('certbot files that are FIFOs are skipped with a warning, not waited for', async () => {
    const tree = join(dir, 'certbot');
    mkdirSync(join(tree, 'renewal'), { recursive: true });
    mkdirSync(join(tree, 'accounts', 'acme.test', 'directory', 'abc'), { recursive: true });
    fifo(join(tree, 'renewal', 'x.example.conf'));
    fifo(join(tree, 'accounts', 'acme.test', 'directory', 'abc', 'private_key.json'));
    const r = await runCli(['import', 'certbot', '--certbot-dir', tree, '--list'], LIMIT);
    assertNotBlocked(r);
    assertSuccess(r);
    assert.match(r.stderr, /^Warning: skipping renewal config \S+x\.example\.conf: is not a regular file \(a FIFO\)$/m);
    assert.match(r.stderr, /^Warning: skipping account abc \(\S+\): cannot read private_key\.json: is not a regular file \(a FIFO\)$/m);
  });
});

describe('outputs, identifiers and EAB against Pebble: refused before ordering', () => {
  let env: AccountEnv;
  before(async () => {
    env = await setupWithAccount();
  });
  after(async () => env.pebble.stop());
  const issue = (extra: string[]) =>
    runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(env.pebble.httpPort), ...extra], LIMIT);

  it('issue --out <existing directory> and --out \'\' order nothing and leave no orphan key', async () => {
    const outDir = join(env.dir, 'is-a-dir');
    mkdirSync(outDir);
    const before = env.pebble.requestCount();
    assertFailure(await issue(['-d', 'a.example', '--out', outDir]), 2, new RegExp(`^error: --out ${outDir} is a directory; give a file name$`));
    assertFailure(await issue(['-d', 'a.example', '--out', `${join(env.dir, 'sub')}/`]), 2, /^error: --out \S+\/ names a directory; give a file name$/);
    assertFailure(await issue(['-d', 'a.example', '--out', '']), 2, /^error: --out must not be empty$/);
    const fresh = join(env.dir, 'fresh-account.pem');
    assertFailure(await runCli(['issue', ...env.server, '--account-key', fresh, '-d', 'a.example', '--out', outDir], LIMIT), 2, /is a directory/);
    mkdirSync(join(env.dir, 'cfg-dir.pem.renewal.toml'));
    assertFailure(await issue(['-d', 'a.example', '--out', join(env.dir, 'cfg-dir.pem')]), 2, /^error: renewal config \S+cfg-dir\.pem\.renewal\.toml is a directory/);
    assert.equal(env.pebble.requestCount(), before, 'nothing was sent to the CA');
    assert.equal(existsSync(`${outDir}.key.pem`), false, 'no orphan certificate key');
    assert.equal(existsSync(fresh), false, 'no account key generated');
    assert.deepEqual(readdirSync(outDir), [], 'nothing written inside the directory');
  });

  it('-d values that are not DNS names are refused with the reason, before ordering', async () => {
    const out = join(env.dir, 'names.pem');
    const before = env.pebble.requestCount();
    const cases: [string, RegExp][] = [
      ['999.1.1.1', /^error: invalid domain '999\.1\.1\.1': it is not an IP address, and its last label is all digits$/],
      ['xn--zz.example.com', /^error: invalid domain 'xn--zz\.example\.com': 'xn--zz' is not a valid A-label \(punycode\)$/],
      [`${'a'.repeat(64)}.example.com`, /: label 'a{64}' is longer than 63 characters \(64\)$/],
      [`${Array.from({ length: 4 }, () => 'b'.repeat(63)).join('.')}.example`, /: longer than 253 characters \(263\)$/],
    ];
    for (const [name, reason] of cases) assertFailure(await issue(['-d', 'ok.example', '-d', name, '--out', out]), 2, reason);
    assert.equal(env.pebble.requestCount(), before, 'nothing was sent to the CA');
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(`${out}.key.pem`), false);
  });

  it('an ACME error with several lines still prints one line per failed authorization', async () => {
    // nothing answers on the port Pebble's VA connects to: both authorizations fail
    const r = await runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(await freePort()), '-d', 'one.example', '-d', 'two.example',
      '--out', join(env.dir, 'fail.pem')], LIMIT);
    assertFailure(r, 1, /^error: authorization for (one|two)\.example failed: ACME error urn:ietf:params:acme:error:\w+: /);
    assert.match(r.stderr, /\nauthorization for (one|two)\.example failed: ACME error urn:ietf:params:acme:error:\w+: .+\n$/);
  });
});

describe('the EAB key from a file or the environment', () => {
  let env: Env;
  const { kid, hmac } = EAB;
  before(async () => {
    env = await setupWithEab();
  });
  after(async () => env.pebble.stop());
  const register = (name: string, extra: string[], opts: { env?: Record<string, string> } = {}) =>
    runCli(['account', 'register', ...env.server, '--account-key', join(env.dir, name), '--agree-tos', '--eab-kid', kid, ...extra], { ...LIMIT, ...opts });

  it('--eab-key-file registers; the key is not in argv', async () => {
    const file = join(env.dir, 'eab.key');
    writeFileSync(file, `${hmac}\n`, { mode: 0o600 });
    const r = await register('file.pem', ['--eab-key-file', file]);
    assertSuccess(r);
    assert.match(r.stdout, /Registered: https:/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(hmac));
  });

  it('AKAMU_EAB_KEY registers, and a wrong one is the server\'s refusal', async () => {
    const r = await register('env.pem', [], { env: { AKAMU_EAB_KEY: hmac } });
    assertSuccess(r);
    assert.match(r.stdout, /Registered: https:/);
    assertFailure(await register('env-wrong.pem', [], { env: { AKAMU_EAB_KEY: 'A'.repeat(64) } }), 1, /ACME error/);
    assertFailure(await register('env-bad.pem', [], { env: { AKAMU_EAB_KEY: `${hmac}==` } }), 2, /^error: AKAMU_EAB_KEY is not base64url without padding/);
  });

  it('issue takes the key from the environment too (registering inline)', async () => {
    const out = join(env.dir, 'inline', 'c.pem');
    const r = await runCli(['issue', ...env.server, '--account-key', join(env.dir, 'inline.pem'), '--eab-kid', kid, '-d', 'eab-env.example',
      '--http-port', String(env.pebble.httpPort), '--out', out], { ...LIMIT, env: { AKAMU_EAB_KEY: hmac } });
    assertSuccess(r);
    assert.match(r.stdout, /Registered new account: https:/);
    assert.ok(existsSync(out));
  });

  it('--eab-key with --eab-key-file is a usage error; a bad key file is refused before any request', async () => {
    const before = env.pebble.requestCount();
    const file = join(env.dir, 'eab2.key');
    writeFileSync(file, hmac);
    assertFailure(await register('both.pem', ['--eab-key', hmac, '--eab-key-file', file]), 2, /^error: --eab-key and --eab-key-file are mutually exclusive; pass one of them$/);
    const f = fifo(join(env.dir, 'eab.fifo'));
    const r = await register('fifo.pem', ['--eab-key-file', f]);
    assertNotBlocked(r);
    assertFailure(r, 2, /^error: cannot read --eab-key-file \S+: is not a regular file \(a FIFO\)$/);
    writeFileSync(join(env.dir, 'empty.key'), '\n');
    assertFailure(await register('empty.pem', ['--eab-key-file', join(env.dir, 'empty.key')]), 2, /^error: --eab-key-file \S+ must not be empty$/);
    assertFailure(await register('missing.pem', ['--eab-key-file', join(env.dir, 'nope.key')]), 2, /^error: cannot read --eab-key-file \S+: no such file$/);
    assert.equal(env.pebble.requestCount(), before, 'nothing was sent to the CA');
    assert.equal(existsSync(join(env.dir, 'both.pem')), false);
  });
});

describe('error text with terminal escapes, newlines and megabytes', () => {
  const dir = tempDir();
  const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f]/;

  it('escapes control characters echoed from a flag', async () => {
    const r = await runCli(['issue', ...NOWHERE, '--account-key', join(dir, 'k.pem'), '-d', '\x1b[2J\x1b]0;owned\x07evil.example', '--out', join(dir, 'c.pem')], LIMIT);
    assertFailure(r, 2, /^error: invalid domain '\\x1b\[2J\\x1b\]0;owned\\x07evil\.example': /);
    assert.doesNotMatch(r.stderr, RAW_CONTROL, 'no raw control character reaches the terminal');
  });

  it('cuts megabytes of file content to an excerpt, and newlines do not make more lines', async () => {
    // a key file whose PEM label is 900 KB long: the parse error quotes it
    const key = join(dir, 'label.pem');
    writeFileSync(key, `-----BEGIN ${'A'.repeat(900_000)}-----\nAAAA\n-----END B-----\n`);
    const r = await runCli(['issue', ...NOWHERE, '--account-key', key, '-d', 'a.example', '--out', join(dir, 'c2.pem')], LIMIT);
    assert.equal(r.code, 1, r.stderr.slice(0, 2000));
    assert.ok(r.stderr.length < 1_000, `a short error (${r.stderr.length} characters)`);
    assert.match(r.stderr, /^error: account key \S+label\.pem is not a usable private key: .*… \(cut from \d+ characters\)\n$/);

    // a certbot renewal conf whose bad line is megabytes long, with escapes and a carriage return
    const tree = join(dir, 'certbot');
    mkdirSync(join(tree, 'renewal'), { recursive: true });
    writeFileSync(join(tree, 'renewal', 'x.example.conf'), `version = 2.1.0\n\x1b]0;pwned\x07\r${'x'.repeat(900_000)}\n`);
    const c = await runCli(['import', 'certbot', '--certbot-dir', tree, '--list'], LIMIT);
    assertSuccess(c);
    const warning = c.stderr.split('\n').find((l) => l.startsWith('Warning: skipping renewal config'));
    assert.ok(warning, c.stderr.slice(0, 2000));
    assert.match(warning, /: line 2: expected 'key = value', got '\\x1b\]0;pwned\\x07\\rx+…'$/);
    assert.ok(warning.length < 300, `an excerpt (${warning.length} characters)`);
    assert.doesNotMatch(c.stderr, RAW_CONTROL);
  });
});
